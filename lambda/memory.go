package main

import (
	"runtime/debug"
)

// localMemoryLimit is the soft limit of the Go runtime's memory in the local
// server unless GOMEMLIMIT sets one. With the binary's own pages (about
// 14 MB resident) it keeps the process within the 40 MB `make load` checks
// even when DynamoDB stalls and hundreds of requests queue
// (docs/BENCHMARKS.md, issue 12): the live heap then reaches about 14 MB,
// and without a limit the collector lets the heap grow to twice that. In
// Lambda serverless.yml sets GOMEMLIMIT for the function's memory.
const localMemoryLimit = 24 << 20

// limitLocalMemory applies localMemoryLimit unless getenv("GOMEMLIMIT") is
// set (the runtime has then applied it already).
func limitLocalMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(localMemoryLimit)
	}
}
