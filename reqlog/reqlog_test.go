package reqlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/propertyhq/property/reqlog"
)

// checkAttrs fails tb unless got equals want, in order.
func checkAttrs(tb testing.TB, got, want []slog.Attr) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("Attrs = %v, want %v", got, want)
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			tb.Errorf("Attrs[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name string
		adds [][]slog.Attr
		want []slog.Attr
	}{
		{"nothing", nil, nil},
		{"in order",
			[][]slog.Attr{{slog.String("requestId", "r1")}, {slog.String("operation", "Q"), slog.Int("n", 1)}},
			[]slog.Attr{slog.String("requestId", "r1"), slog.String("operation", "Q"), slog.Int("n", 1)}},
		{"later value replaces earlier in place",
			[][]slog.Attr{{slog.String("a", "1")}, {slog.String("b", "2")}, {slog.String("a", "3")}},
			[]slog.Attr{slog.String("a", "3"), slog.String("b", "2")}},
		{"replaced within one call",
			[][]slog.Attr{{slog.String("a", "1"), slog.Int("a", 2)}},
			[]slog.Attr{slog.Int("a", 2)}},
		{"replaced by another kind",
			[][]slog.Attr{{slog.String("n", "one")}, {slog.Int("n", 1)}},
			[]slog.Attr{slog.Int("n", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := reqlog.New(context.Background())
			for _, attrs := range tt.adds {
				reqlog.Add(ctx, attrs...)
			}
			checkAttrs(t, reqlog.Attrs(ctx), tt.want)
		})
	}
}

func TestWithoutBag(t *testing.T) {
	ctx := context.Background()
	reqlog.Add(ctx, slog.String("a", "1"))
	reqlog.PropertyID(ctx, "p1")
	if got := reqlog.Attrs(ctx); len(got) != 0 {
		t.Errorf("Attrs without a bag = %v, want none", got)
	}
}

func TestBagIsPerRequest(t *testing.T) {
	t.Run("derived contexts share the bag", func(t *testing.T) {
		ctx := reqlog.New(context.Background())
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		reqlog.PropertyID(child, "p1")
		checkAttrs(t, reqlog.Attrs(ctx), []slog.Attr{slog.String("propertyId", "p1")})
	})
	t.Run("separate requests do not", func(t *testing.T) {
		a := reqlog.New(context.Background())
		b := reqlog.New(context.Background())
		reqlog.Add(a, slog.String("requestId", "a"))
		if got := reqlog.Attrs(b); len(got) != 0 {
			t.Errorf("Attrs(b) = %v, want none", got)
		}
	})
}

func TestAttrsReturnsACopy(t *testing.T) {
	ctx := reqlog.New(context.Background())
	reqlog.Add(ctx, slog.String("a", "1"), slog.String("b", "2"))
	got := reqlog.Attrs(ctx)
	got[0] = slog.String("a", "changed")
	_ = append(got[:1], slog.String("c", "appended"))
	checkAttrs(t, reqlog.Attrs(ctx), []slog.Attr{slog.String("a", "1"), slog.String("b", "2")})
}

// TestConcurrentAdd shows that resolvers running in parallel may record
// attributes at once; run with -race.
func TestConcurrentAdd(t *testing.T) {
	const n = 50
	ctx := reqlog.New(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqlog.Add(ctx, slog.Int(fmt.Sprintf("k%d", i), i), slog.Int("shared", i))
			_ = reqlog.Attrs(ctx)
		}()
	}
	wg.Wait()
	got := reqlog.Attrs(ctx)
	if want := n + 1; len(got) != want {
		t.Fatalf("len(Attrs) = %d, want %d", len(got), want)
	}
	seen := map[string]bool{}
	for _, a := range got {
		if seen[a.Key] {
			t.Errorf("key %q recorded twice", a.Key)
		}
		seen[a.Key] = true
	}
	for i := range n {
		if k := fmt.Sprintf("k%d", i); !seen[k] {
			t.Errorf("key %q missing", k)
		}
	}
}

func TestSeed(t *testing.T) {
	tests := []struct {
		name  string
		seeds [][]slog.Attr
		adds  []slog.Attr
		want  []slog.Attr
		id    string
	}{
		{name: "no seed", adds: []slog.Attr{slog.String("requestId", "r1")},
			want: []slog.Attr{slog.String("requestId", "r1")}, id: "r1"},
		{name: "seeds first, in order",
			seeds: [][]slog.Attr{{slog.String("apiRequestId", "a1")}, {slog.String("lambdaRequestId", "l1")}},
			adds:  []slog.Attr{slog.String("requestId", "a1")},
			want:  []slog.Attr{slog.String("apiRequestId", "a1"), slog.String("lambdaRequestId", "l1"), slog.String("requestId", "a1")},
			id:    "a1"},
		{name: "a later value replaces a seed",
			seeds: [][]slog.Attr{{slog.String("requestId", "seeded")}},
			adds:  []slog.Attr{slog.String("requestId", "chosen")},
			want:  []slog.Attr{slog.String("requestId", "chosen")}, id: "chosen"},
		{name: "no request id", seeds: [][]slog.Attr{{slog.String("apiRequestId", "a1")}},
			want: []slog.Attr{slog.String("apiRequestId", "a1")}, id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			for _, s := range tt.seeds {
				ctx = reqlog.Seed(ctx, s...)
			}
			ctx = reqlog.New(ctx)
			reqlog.Add(ctx, tt.adds...)
			checkAttrs(t, reqlog.Attrs(ctx), tt.want)
			if got := reqlog.RequestID(ctx); got != tt.id {
				t.Errorf("RequestID = %q, want %q", got, tt.id)
			}
		})
	}
	t.Run("two bags from one seed are apart", func(t *testing.T) {
		seeded := reqlog.Seed(context.Background(), slog.String("a", "1"))
		one, two := reqlog.New(seeded), reqlog.New(seeded)
		reqlog.Add(one, slog.String("b", "2"))
		checkAttrs(t, reqlog.Attrs(two), []slog.Attr{slog.String("a", "1")})
	})
}
