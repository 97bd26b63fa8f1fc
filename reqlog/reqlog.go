// Package reqlog collects the attributes of one request's log line (request
// id, operation, property id) from wherever they become known, so the edge
// logs each request once with everything that concerns it.
package reqlog

import (
	"context"
	"log/slog"
	"sync"
)

type bag struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

type key struct{}

// New returns ctx with an empty attribute bag.
func New(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, &bag{})
}

// Add records attributes for the request's log lines; a no-op without a bag.
// A later value for the same key replaces the earlier one.
func Add(ctx context.Context, attrs ...slog.Attr) {
	b, ok := ctx.Value(key{}).(*bag)
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, a := range attrs {
		for i := range b.attrs {
			if b.attrs[i].Key == a.Key {
				b.attrs[i] = a
				continue next
			}
		}
		b.attrs = append(b.attrs, a)
	}
}

// Attrs returns the attributes recorded so far.
func Attrs(ctx context.Context) []slog.Attr {
	b, ok := ctx.Value(key{}).(*bag)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]slog.Attr(nil), b.attrs...)
}

// PropertyID records the id of the property a request concerns.
func PropertyID(ctx context.Context, id string) { Add(ctx, slog.String("propertyId", id)) }
