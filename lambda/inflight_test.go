package main

import (
	"context"
	"net"
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

// TestConnLimit holds two idle connections open against connLimit{n: 2}:
// a third client waits in the accept queue, unanswered, until one of them
// closes; its answer, given while two connections are open, closes its
// connection; once the others are gone, an answer keeps it alive.
func TestConnLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := &connLimit{n: 2}
	srv := &http.Server{
		Handler: conns.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})),
		ConnState: conns.track,
	}
	go func() { _ = srv.Serve(conns.listener(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "http://" + ln.Addr().String() + "/"
	waitOpen := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); conns.open.Load() != n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections open, want %d", conns.open.Load(), n)
			}
		}
	}

	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	waitOpen(2)

	type answer struct {
		closes bool
		err    error
	}
	third := make(chan answer, 1)
	go func() {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
		resp, err := c.Get(url)
		if err != nil {
			third <- answer{err: err}
			return
		}
		resp.Body.Close()
		third <- answer{closes: resp.Close}
	}()
	select {
	case a := <-third:
		t.Fatalf("a third connection was served while two were open (%+v)", a)
	case <-time.After(100 * time.Millisecond):
	}
	if got := conns.open.Load(); got != 2 {
		t.Fatalf("%d connections open, want 2 (the third waits to be accepted)", got)
	}
	idle[0].Close()
	a := <-third
	if a.err != nil {
		t.Fatal(a.err)
	}
	if !a.closes {
		t.Error("an answer given with both connections open keeps its connection alive")
	}

	idle[1].Close()
	waitOpen(0)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Close {
		t.Error("an answer given below the limit closes its connection")
	}
}
