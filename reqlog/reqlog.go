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

type seedKey struct{}

// Seed returns ctx carrying attributes that every bag New makes under it
// starts with: what is known before the request reaches the HTTP chain
// (in Lambda, API Gateway's and Lambda's request ids).
func Seed(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	seed, _ := ctx.Value(seedKey{}).([]slog.Attr)
	return context.WithValue(ctx, seedKey{}, append(append([]slog.Attr(nil), seed...), attrs...))
}

// New returns ctx with an attribute bag holding the attributes seeded into
// ctx, if any.
func New(ctx context.Context) context.Context {
	seed, _ := ctx.Value(seedKey{}).([]slog.Attr)
	ctx = context.WithValue(ctx, key{}, &bag{})
	Add(ctx, seed...)
	return ctx
}

// RequestID is the request's id ("requestId"), or "" when none was
// recorded.
func RequestID(ctx context.Context) string {
	for _, a := range Attrs(ctx) {
		if a.Key == "requestId" {
			return a.Value.String()
		}
	}
	return ""
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
