package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/reqlog"
)

func TestNoAllowedOriginsAllowsNone(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		want    string
	}{
		{"none configured", nil, ""},
		{"listed", []string{"https://app.example.com"}, "https://app.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{GraphQL: &nextSpy{}, AllowedOrigins: tt.origins, Logger: slog.New(slog.DiscardHandler)})
			pre := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
			pre.Header.Set("Origin", "https://app.example.com")
			pre.Header.Set("Access-Control-Request-Method", "POST")
			get := httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D", nil)
			get.Header.Set("Origin", "https://app.example.com")
			for _, req := range []*http.Request{pre, get} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.want {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", req.Method, got, tt.want)
				}
			}
		})
	}
}

type refuseAll struct{ reason string }

func (v refuseAll) Verify(ctx context.Context, token string) (property.Caller, error) {
	return property.Anonymous, errors.New(v.reason)
}

func TestRefusedTokenReasonIsTruncated(t *testing.T) {
	// A reason quoting an unverified claim (here a megabyte-long issuer).
	reason := "invalid token: issued by " + strings.Repeat("x", 1<<20)
	var logs bytes.Buffer
	h := New(Options{GraphQL: &nextSpy{}, Verifier: refuseAll{reason}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	req := httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D&pad="+strings.Repeat("p", 4096), nil)
	req.Header.Set("Authorization", "Bearer abc")
	h.ServeHTTP(httptest.NewRecorder(), req)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if len(line) > 4*reqlog.MaxValueLen+400 {
			t.Errorf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
	if !strings.Contains(logs.String(), "issued by xxx") {
		t.Errorf("the reason is gone from the log: %s", logs.String())
	}
}
