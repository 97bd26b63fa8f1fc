package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimitInFlight(t *testing.T) {
	for _, n := range []int{1, 3} {
		var running, most atomic.Int32
		release := make(chan struct{})
		h := limitInFlight(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cur := running.Add(1)
			for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
			}
			<-release
			running.Add(-1)
			w.WriteHeader(http.StatusNoContent)
		}), n)
		const requests = 8
		var wg sync.WaitGroup
		codes := make(chan int, requests)
		for range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
				codes <- rec.Code
			}()
		}
		// Let every request reach the limiter, then check that only n run.
		deadline := time.Now().Add(5 * time.Second)
		for running.Load() < int32(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		if got := running.Load(); got != int32(n) {
			t.Errorf("n=%d: %d requests running, want %d", n, got, n)
		}
		close(release)
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusNoContent {
				t.Errorf("n=%d: status %d, want 204", n, c)
			}
		}
		if got := most.Load(); got > int32(n) {
			t.Errorf("n=%d: %d requests ran at once", n, got)
		}
	}
}

func TestLimitInFlightClientGone(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	var ran atomic.Int32
	h := limitInFlight(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		<-block
	}), 1)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil))
	for ran.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(ctx))
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting request whose client is gone did not return")
	}
	if got := ran.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1 (the waiting request must not run)", got)
	}
}
