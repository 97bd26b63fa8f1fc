package property

import (
	"context"
	"sync"
)

// Reads counts the items one request has read from storage, so that every
// listing field and alias of the request draws on one read cap. Safe for
// concurrent use: gqlgen resolves sibling fields in parallel.
type Reads struct {
	mu sync.Mutex
	n  int
}

type readsKey struct{}

// WithReads returns ctx carrying a fresh read count for one request.
func WithReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, readsKey{}, &Reads{})
}

// ReadsFrom returns the request's read count, or nil outside a request.
func ReadsFrom(ctx context.Context) *Reads {
	r, _ := ctx.Value(readsKey{}).(*Reads)
	return r
}

// Reserve takes up to want reads from what is left of limit and returns how
// many it took (0 once the request has read limit items).
func (r *Reads) Reserve(limit, want int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := max(min(want, limit-r.n), 0)
	r.n += got
	return got
}

// Release gives back reserved reads that were not made.
func (r *Reads) Release(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n -= max(n, 0)
}

// Count returns the reads reserved so far.
func (r *Reads) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
