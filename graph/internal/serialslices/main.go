// Command serialslices is the last step of `go generate` in graph/: it makes
// gqlgen's generated code marshal list elements one after the other instead
// of in a goroutine each.
//
// gqlgen (v0.17.98) marshals every list of objects with
// graphql.MarshalSliceConcurrently, which starts one goroutine per element
// (20 per page of properties, 20 more for its nodes) and has no setting to
// turn that off (exec.worker_limit only bounds how many run at once). Our
// elements need no I/O (every field is at hand or, for image URLs, signed
// locally), so the goroutines only add cost: creating them, growing their
// stacks, waking idle Ps. Profiles of a page of 20 put that at about a sixth
// of the request's CPU. This rewrites each call to graph.marshalSliceSerially
// (graph/slice.go), which has the same signature and the same per-element
// field context and panic recovery.
//
// It fails when it finds no call to rewrite: a gqlgen that no longer
// generates one needs this step looked at again.
//
//	go run ./internal/serialslices generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	serial     = "marshalSliceSerially("
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: serialslices FILE")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "serialslices:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := bytes.Count(src, []byte(concurrent))
	if n == 0 {
		if bytes.Contains(src, []byte(serial)) {
			return nil // already rewritten
		}
		return fmt.Errorf("%s has no call to %s: see this command's comment", path, concurrent[:len(concurrent)-1])
	}
	out := bytes.ReplaceAll(src, []byte(concurrent), []byte(serial))
	return os.WriteFile(path, out, 0o644)
}
