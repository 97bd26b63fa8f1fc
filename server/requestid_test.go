package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestIDKeptOrReplaced(t *testing.T) {
	tests := []struct {
		name, id string
		kept     bool
	}{
		{"API Gateway id", "Jx3vBgYvIAMEb5Q=", true},
		{"uuid", "c0a8d1e2-3f4b-4c5d-8e9f-0123456789ab", true},
		{"every allowed character", "AZaz09._=+/-", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"one character", "x", true},
		{"empty", "", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"quote", `a"b`, false},
		{"colon", "a:b", false},
		{"non-ASCII", "café", false},
	}
	h := requestLog(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validRequestID(tt.id); got != tt.kept {
				t.Errorf("validRequestID(%q) = %v, want %v", tt.id, got, tt.kept)
			}
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			req.Header.Set("X-Request-Id", tt.id)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if tt.kept && got != tt.id {
				t.Errorf("X-Request-Id = %q, want the client's %q", got, tt.id)
			}
			if !tt.kept && (got == tt.id || !validRequestID(got)) {
				t.Errorf("X-Request-Id = %q, want a fresh id instead of %q", got, tt.id)
			}
		})
	}
}
