package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorsSayWhatToDo: each refusal a client can fix names the fix: both
// versions on a stale write, "request the first page again" for a cursor
// that does not open, the body limit in bytes.
func TestErrorsSayWhatToDo(t *testing.T) {
	h := newAPI(t, map[string]string{"MAX_BODY_BYTES": "2048"})
	id := mustCreate(t, h, createInput("Versions", 100))
	mustData(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "v2"}})
	mustData(t, h, listQuery, map[string]any{"first": 1})

	for _, tc := range []struct {
		name   string
		r      func() *response
		code   string
		status int
		want   string
	}{
		{"stale update", func() *response {
			return gql(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "v3"}})
		}, "CONFLICT", 200, "expectedVersion is 1, but the property is at version 2"},
		{"stale delete", func() *response {
			return gql(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1}})
		}, "CONFLICT", 200, "send expectedVersion 2"},
		{"altered cursor", func() *response {
			return gql(t, h, listQuery, map[string]any{"first": 1, "after": "AQ" + strings.Repeat("x", 60)})
		}, "BAD_USER_INPUT", 200, "Request the first page again (without after)"},
		{"body too large", func() *response {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"`+strings.Repeat(" ", 4096)+`{__typename}"}`))
			req.Header.Set("Content-Type", "application/json")
			return do(t, h, req)
		}, "BAD_REQUEST", 413, "larger than the limit of 2048 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			if r.code() != tc.code || r.Status != tc.status {
				t.Fatalf("status %d code %q, want %d %q: %s", r.Status, r.code(), tc.status, tc.code, r.Raw)
			}
			if msg := r.Errors[0].Message; !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want it to say %q", msg, tc.want)
			}
		})
	}
}
