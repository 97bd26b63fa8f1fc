package main

import (
	"net"
	"net/http"
	"sync/atomic"

	"golang.org/x/net/netutil"
)

// limitInFlight lets at most n requests run h at once; the others wait for
// a turn, or until their client gives up. The local server needs it when
// DynamoDB stalls under an open-model load (`make load`): without it every
// request sent meanwhile enters the handler and holds its goroutines,
// buffers and a connection to the engine, and the process grew past 100 MB.
// A waiting request holds only its connection's. Lambda serves one request
// per container and does not use it.
func limitInFlight(h http.Handler, n int) http.Handler {
	turns := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case turns <- struct{}{}:
		case <-r.Context().Done():
			return // the client is gone: nobody to answer
		}
		defer func() { <-turns }()
		h.ServeHTTP(w, r)
	})
}

// connLimit bounds the connections the local server holds open. Under an
// open-model load that DynamoDB cannot keep up with, limitInFlight alone
// still let every client's connection in: each waiting request held its
// goroutine, its connection's buffers and its parsed request, and 512 of
// them took the process from 36 to 50 MB (docs/BENCHMARKS.md, issue 12).
// Beyond the limit a client waits in the kernel's accept queue instead,
// which costs the process nothing; while the limit is reached every answer
// closes its connection, so that those queued get their turn instead of
// waiting behind kept-alive ones.
type connLimit struct {
	n    int
	open atomic.Int64
}

// listener accepts at most c.n connections at once.
func (c *connLimit) listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, c.n)
}

// track is the server's ConnState hook, counting open connections.
func (c *connLimit) track(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// handler closes each connection after its answer while all c.n are open.
func (c *connLimit) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.open.Load() >= int64(c.n) {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}
