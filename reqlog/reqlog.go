// Package reqlog collects the attributes of one request's log line (request
// id, operation, property id) from wherever they become known, so the edge
// logs each request once with everything that concerns it.
package reqlog

import (
	"context"
	"log/slog"
	"sync"
	"unicode/utf8"
)

// MaxValueLen bounds, in bytes, a string value recorded for a log line:
// these values come from requests (ids, operation names, the reasons a
// token was refused, which quote its unverified claims), and a client must
// not be able to make one log line as large as its request.
const MaxValueLen = 200

// Truncate cuts s to at most MaxValueLen bytes, on a character boundary,
// marking the cut with "…".
func Truncate(s string) string {
	if len(s) <= MaxValueLen {
		return s
	}
	cut := MaxValueLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// String is slog.String with the value truncated.
func String(key, value string) slog.Attr { return slog.String(key, Truncate(value)) }

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
// A later value for the same key replaces the earlier one. String values
// are truncated.
func Add(ctx context.Context, attrs ...slog.Attr) {
	b, ok := ctx.Value(key{}).(*bag)
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, a := range attrs {
		if a.Value.Kind() == slog.KindString {
			a = String(a.Key, a.Value.String())
		}
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
