package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/propertyhq/property/graph"
)

// BenchmarkFragmentChain measures refusing a chain of n fragments that each
// spread the next twice (2^n selections once expanded): the time should
// grow with n, not with 2^n.
func BenchmarkFragmentChain(b *testing.B) {
	h := newServer(graph.Options{}, fakeStore{})
	for _, n := range []int{16, 20, 24, 28, 56, 112} {
		q := fragmentChain(n, false)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if r := post(b, h, q, nil); r.code() != graph.CodeComplexityLimit {
					b.Fatal(r.raw)
				}
			}
		})
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
			for b.Loop() {
				post(b, h, q, nil)
			}
		})
	}
}
