package graph_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/graph"
)

// uncached makes q a document the query cache has not seen, with a comment
// numbered across every run of every benchmark.
func uncached(q string) string { return fmt.Sprintf("%s # %d", q, seq.Add(1)) }

var seq atomic.Int64

// BenchmarkFragmentChain measures refusing a chain of n fragments that each
// spread the next twice (2^n selections once expanded): the time should
// grow with n, not with 2^n.
func BenchmarkFragmentChain(b *testing.B) {
	h := newServer(graph.Options{}, fakeStore{})
	for _, n := range []int{16, 20, 24, 28, 56, 112} {
		q := fragmentChain(n, false)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := post(b, h, q, nil); r.code() != apierr.ComplexityLimit {
					b.Fatal(r.raw)
				}
			}
		})
	}
}

// BenchmarkFragmentChainAccepted runs a chain just under the cost limit
// (2^13 selections once expanded) through validation and execution.
func BenchmarkFragmentChainAccepted(b *testing.B) {
	h := newServer(graph.Options{}, fakeStore{})
	q := fragmentChain(13, false)
	b.ReportAllocs()
	for b.Loop() {
		if r := post(b, h, uncached(q), nil); r.code() != "" {
			b.Fatal(r.raw)
		}
	}
}

// BenchmarkSelections measures a document of n __typename selections: up to
// the cap it is validated and answered (the worst case validation can be
// made to do), beyond it refused before validation.
func BenchmarkSelections(b *testing.B) {
	h := newServer(graph.Options{ComplexityLimit: 1_000_000}, fakeStore{})
	for _, n := range []int{100, graph.DefaultMaxSelections, 5400} {
		q := "{" + strings.Repeat(" __typename", n) + " }"
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				post(b, h, uncached(q), nil)
			}
		})
	}
}

// BenchmarkNestedSelections measures the other shape of the worst case:
// same-named fields whose sub-selections validation must compare with each
// other, n selections in all, just within the cap.
func BenchmarkNestedSelections(b *testing.B) {
	h := newServer(graph.Options{ComplexityLimit: 1_000_000}, fakeStore{})
	n := graph.DefaultMaxSelections
	inner := "{" + strings.Repeat(" id", 14) + " }"
	q := "{" + strings.Repeat(` a: property(id: "x") `+inner, n/15) + " }"
	b.ReportAllocs()
	for b.Loop() {
		post(b, h, uncached(q), nil)
	}
}
