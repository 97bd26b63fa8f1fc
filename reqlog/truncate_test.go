package reqlog_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/propertyhq/property/reqlog"
)

func TestTruncate(t *testing.T) {
	long := strings.Repeat("a", reqlog.MaxValueLen+1)
	tests := []struct {
		name, in string
		cut      bool
	}{
		{"short", "abc", false},
		{"at the limit", long[1:], false},
		{"one over", long, true},
		{"megabyte", strings.Repeat("x", 1<<20), true},
		{"multi-byte at the cut", strings.Repeat("é", reqlog.MaxValueLen), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reqlog.Truncate(tt.in)
			if len(got) > reqlog.MaxValueLen {
				t.Errorf("len = %d, over %d", len(got), reqlog.MaxValueLen)
			}
			if !utf8.ValidString(got) {
				t.Errorf("%q is not valid UTF-8", got)
			}
			if cut := got != tt.in; cut != tt.cut {
				t.Errorf("cut = %v, want %v", cut, tt.cut)
			}
			if tt.cut && !strings.HasSuffix(got, "…") {
				t.Errorf("%q does not mark the cut", got)
			}
		})
	}
}

func TestAddTruncatesStrings(t *testing.T) {
	ctx := reqlog.New(context.Background())
	id := strings.Repeat("9", 10_000)
	reqlog.PropertyID(ctx, id)
	reqlog.Add(ctx, slog.Int("n", 7))
	attrs := reqlog.Attrs(ctx)
	if got := attrs[0].Value.String(); got != reqlog.Truncate(id) {
		t.Errorf("propertyId has %d bytes, want it truncated to %d", len(got), len(reqlog.Truncate(id)))
	}
	if got := attrs[1].Value.Int64(); got != 7 {
		t.Errorf("n = %d, want 7", got)
	}
}
