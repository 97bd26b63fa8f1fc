//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
)

// A binary built with -tags pprof serves net/http/pprof on PPROF_ADDR
// (e.g. 127.0.0.1:6061), to profile the real process under load:
//
//	go build -tags 'lambda.norpc pprof' -o api ./lambda
//	load -mode cpu -api ./api -rows property -api-env PPROF_ADDR=127.0.0.1:6061 ...
//	go tool pprof -top 'http://127.0.0.1:6061/debug/pprof/profile?seconds=10'
//
// Never in the deployed build: `make build` does not set the tag.
func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof", slog.String("error", err.Error()))
		}
	}()
}
