package graph

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

func TestMarshalSliceSerially(t *testing.T) {
	tests := []struct {
		name    string
		length  int
		panicAt int // -1: none
		want    string
	}{
		{"empty", 0, -1, `[]`},
		{"one", 1, -1, `["0"]`},
		{"in order", 5, -1, `["0","1","2","3","4"]`},
		{"a panic nulls its element only", 4, 2, `["0","1",null,"3"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
				func(ctx context.Context, err any) error { return errors.New("internal") })
			ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{}})
			var order []int // unsynchronised: serial calls only (go test -race)
			got := marshalSliceSerially(ctx, tt.length, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
				order = append(order, i)
				if idx := graphql.GetFieldContext(ctx).Index; idx == nil || *idx != i {
					t.Errorf("element %d: field context index %v", i, idx)
				}
				if i == tt.panicAt {
					panic("boom")
				}
				return graphql.MarshalString(strconv.Itoa(i))
			})
			var b []byte
			w := &bufWriter{&b}
			got.MarshalGQL(w)
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
			for i, v := range order {
				if v != i {
					t.Fatalf("elements marshalled in order %v, want 0..%d", order, tt.length-1)
				}
			}
			errs := graphql.GetErrors(ctx)
			if want := map[bool]int{true: 1, false: 0}[tt.panicAt >= 0]; len(errs) != want {
				t.Fatalf("errors = %v, want %d", errs, want)
			}
			if len(errs) == 1 {
				if p := errs[0].Path.String(); p != "["+strconv.Itoa(tt.panicAt)+"]" {
					t.Errorf("error path %q, want [%d]", p, tt.panicAt)
				}
			}
		})
	}
}

type bufWriter struct{ b *[]byte }

func (w *bufWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }
