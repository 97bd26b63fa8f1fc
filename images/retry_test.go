package images_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/images"
)

// TestBounds: an S3 that fails or hangs is given exactly MaxAttempts
// attempts of at most Timeout each, and the caller gets a retryable
// (EUNAVAILABLE) error, so the time budget in the README holds.
func TestBounds(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request)
		attempts int
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}, 2},
		{"no answer", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, 3},
		{"one attempt", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				tt.handler(w, r)
			}))
			t.Cleanup(srv.Close)
			b := mustBucket(t, images.Options{
				Endpoint: srv.URL, Timeout: 200 * time.Millisecond,
				MaxAttempts: tt.attempts, MaxBackoff: time.Millisecond,
			})
			err := b.Delete(context.Background(), "properties/x/y")
			if got := property.ErrorCode(err); got != property.EUNAVAILABLE {
				t.Errorf("error %v has code %q, want %q", err, got, property.EUNAVAILABLE)
			}
			if got := int(requests.Load()); got != tt.attempts {
				t.Errorf("%d requests, want %d (MaxAttempts)", got, tt.attempts)
			}
		})
	}
}
