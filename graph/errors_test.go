package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/reqlog"
)

const requestID = "req-42"

// withRequest gives every request what the HTTP chain would: a log bag with
// a request id, and caller.
func withRequest(h http.Handler, caller property.Caller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := reqlog.New(r.Context())
		reqlog.Add(ctx, slog.String("requestId", requestID))
		h.ServeHTTP(w, r.WithContext(property.NewContext(ctx, caller)))
	})
}

// logLines decodes the JSON log lines in buf.
func logLines(tb testing.TB, buf *bytes.Buffer) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// The presenter gives each domain code its extensions.code, keeps the
// details a client needs, and replaces anything internal by a sentence that
// leaks nothing, logged once with the request id.
func TestPresenter(t *testing.T) {
	const secret = "db-7.internal:8000"
	current := &property.Property{ID: "p1", Title: "Flat", OwnerID: "alice", Version: 3,
		Images: []property.Image{{Key: "properties/p1/i1"}}}
	tests := []struct {
		name    string
		store   fakeStore
		query   string
		code    string
		message string
		// ext are extensions besides code the error must carry.
		ext map[string]any
		// logged is the message of the one error line expected, or "".
		logged string
	}{
		{name: "invalid names its field", store: fakeStore{err: fmt.Errorf("list: %w", property.Invalid("after", "after is not a cursor of this listing."))},
			code: apierr.BadUserInput, message: "after is not a cursor of this listing.", ext: map[string]any{"field": "after"}},
		{name: "invalid input before the store", query: `{ properties(first: 0) { nodes { id } } }`,
			code: apierr.BadUserInput, ext: map[string]any{"field": "first"}},
		{name: "not found", store: fakeStore{err: property.NotFound("x")}, code: apierr.NotFound, message: `Property "x" not found.`},
		{name: "unauthenticated", store: fakeStore{err: property.Errorf(property.EUNAUTHENTICATED, "Sign in.")}, code: apierr.Unauthenticated, message: "Sign in."},
		{name: "forbidden", store: fakeStore{err: property.Errorf(property.EFORBIDDEN, "Not yours.")}, code: apierr.Forbidden, message: "Not yours."},
		{name: "conflict carries the current property", store: fakeStore{err: property.Conflict(current)}, code: apierr.Conflict,
			ext: map[string]any{"currentVersion": 3.0}},
		{name: "unavailable is retryable", store: fakeStore{err: property.Unavailable(errors.New("throttled by " + secret))},
			code: apierr.ServiceUnavailable, message: "The service is temporarily unavailable; please retry.",
			ext: map[string]any{"retryable": true, "requestId": requestID}, logged: "operation failed"},
		{name: "internal leaks nothing", store: fakeStore{err: errors.New("dial tcp " + secret)},
			code: apierr.Internal, message: "Internal error.", ext: map[string]any{"requestId": requestID}, logged: "operation failed"},
		{name: "panic is internal", store: fakeStore{panic: "boom at " + secret},
			code: apierr.Internal, message: "Internal error.", ext: map[string]any{"requestId": requestID}, logged: "panic in resolver"},
		{name: "gqlgen's validation code is kept", query: `{ nope }`, code: apierr.GraphQLValidationFailed},
		{name: "gqlgen's parse code is kept", query: `{`, code: apierr.GraphQLParseFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := graph.NewHandler(&graph.Resolver{Store: tt.store}, graph.Options{
				MaxAliases: graph.DefaultMaxAliases, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			q := tt.query
			if q == "" {
				q = `{ properties { nodes { id } } }`
			}
			r := post(t, withRequest(h, property.Anonymous), q, nil)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%s)", got, tt.code, r.raw)
			}
			if len(r.Errors) != 1 {
				t.Fatalf("%d errors, want 1: %s", len(r.Errors), r.raw)
			}
			e := r.Errors[0]
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message = %q, want %q", e.Message, tt.message)
			}
			for k, want := range tt.ext {
				if got := e.Extensions[k]; got != want {
					t.Errorf("extensions.%s = %v, want %v", k, got, want)
				}
			}
			if strings.Contains(r.raw, secret) || strings.Contains(r.raw, "goroutine") {
				t.Errorf("the answer leaks the cause: %s", r.raw)
			}
			lines := logLines(t, &logs)
			if tt.logged == "" {
				if len(lines) != 0 {
					t.Errorf("a client's error was logged: %v", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %v", len(lines), lines)
			}
			if got := lines[0]["msg"]; got != tt.logged {
				t.Errorf("logged %q, want %q", got, tt.logged)
			}
			if got := lines[0]["requestId"]; got != requestID {
				t.Errorf("log line's requestId = %v, want %q", got, requestID)
			}
			if !strings.Contains(logs.String(), secret) {
				t.Errorf("the log line lacks the cause: %s", logs.String())
			}
		})
	}
}

// A CONFLICT's extensions.current is shaped like the schema's Property.
func TestConflictCurrent(t *testing.T) {
	at := "2026-01-02T03:04:05.5Z"
	created, _ := time.Parse(time.RFC3339Nano, at)
	current := &property.Property{ID: "p1", Title: "Flat", Price: 12.5, Version: 3, CreatedAt: created, UpdatedAt: created,
		Images: []property.Image{{Key: "properties/p1/i1", ContentType: "image/png", Size: 9}}}
	h := graph.NewHandler(&graph.Resolver{Store: fakeStore{err: property.Conflict(current)}, Images: signer{}}, graph.Options{})
	r := post(t, h, `{ properties { nodes { id } } }`, nil)
	got, _ := json.Marshal(r.Errors[0].Extensions["current"])
	want := `{"address":"","bedrooms":null,"city":"","createdAt":"` + at + `","description":"","id":"p1",` +
		`"images":[{"key":"properties/p1/i1","url":"https://images.test/properties/p1/i1"}],"ownerId":"",` +
		`"price":12.5,"state":"","title":"Flat","updatedAt":"` + at + `","version":3,"zip":""}`
	if string(got) != want {
		t.Errorf("current =\n%s\nwant\n%s", got, want)
	}
}

// signer stands in for the bucket: it signs nothing and names every image.
type signer struct{}

func (signer) SignUpload(context.Context, property.Image) (property.Upload, error) {
	return property.Upload{}, nil
}

func (signer) URL(_ context.Context, key string) (string, error) {
	return "https://images.test/" + key, nil
}
