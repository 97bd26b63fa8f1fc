package main

import "net/http"

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
