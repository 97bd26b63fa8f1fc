package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	tests := []struct {
		name, src, want string
		wantErr         bool
	}{
		{"rewrites every call",
			"a := graphql.MarshalSliceConcurrently(ctx, 1)\nb := graphql.MarshalSliceConcurrently(ctx, 2)\n",
			"a := marshalSliceSerially(ctx, 1)\nb := marshalSliceSerially(ctx, 2)\n", false},
		{"already rewritten: unchanged", "a := marshalSliceSerially(ctx, 1)\n", "a := marshalSliceSerially(ctx, 1)\n", false},
		{"nothing to rewrite: an error", "package graph\n", "package graph\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "generated.go")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			err := rewrite(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Contains(string(got), concurrent) {
				t.Errorf("a call to %s is left", concurrent)
			}
		})
	}
}
