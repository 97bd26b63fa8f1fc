package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
)

// benchListSize is how many properties BenchmarkList loads, once per run.
const benchListSize = 10_000

// benchListInput spreads prices widely (few ties) and reuses the matrix's
// cities and states: "springfield" holds 3/7 of the properties, "or" 2/5.
func benchListInput(i int) property.CreateInput {
	in := matrixInput(i)
	in.Price = float64((i*7919)%1_000_000) + 0.5
	return in
}

// BenchmarkList reads page 1 and page 50 (first 20) of listings over 10,000
// properties. A cursor is a key DynamoDB resumes from, not an offset it
// skips, so page 50 must cost what page 1 costs. items-read/op is what
// DynamoDB read (ScannedCount) for one page: first+1 on the key-condition
// paths, more where a filter expression drops items; queries/op counts the
// Query calls of one page.
//
//	go test -run '^$' -bench 'BenchmarkList$' -benchtime 1000x -count 3 ./dynamo
func BenchmarkList(b *testing.B) {
	table, _ := loadListing(b, benchListSize, benchListInput)
	const first = 20
	cases := []struct {
		name string
		o    property.Order
		f    property.Filter
	}{
		{"newest", property.OrderCreatedDesc, property.Filter{}},
		{"city_price_asc", property.OrderPriceAsc, property.Filter{City: str("Springfield")}},
		// A filter expression, for comparison: 2 of 5 properties match.
		{"state_newest", property.OrderCreatedDesc, property.Filter{State: str("OR")}},
	}
	ctx := context.Background()
	for _, bc := range cases {
		for _, page := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/page=%d", bc.name, page), func(b *testing.B) {
				s := newListingStore(b, table, dynamo.Options{})
				after := ""
				for range page - 1 {
					p, err := s.List(ctx, listingQuery(b, first, bc.o, bc.f, after))
					if err != nil || !p.HasNextPage {
						b.Fatalf("walk to page %d: %+v, %v", page, p, err)
					}
					after = p.EndCursor
				}
				q := listingQuery(b, first, bc.o, bc.f, after)
				// Warm the engine's JIT and the connection the same way for
				// every page, so that the first sub-benchmark pays no more.
				for range 50 {
					if _, err := s.List(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				s.read.take()
				s.calls.Reset()
				b.ReportAllocs()
				for b.Loop() {
					p, err := s.List(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					if len(p.Items) != first || !p.HasNextPage {
						b.Fatalf("page %d: %d items, hasNextPage %v; want a full page with more after it", page, len(p.Items), p.HasNextPage)
					}
				}
				b.ReportMetric(float64(s.read.take())/float64(b.N), "items-read/op")
				b.ReportMetric(float64(s.calls.Counts()["Query"])/float64(b.N), "queries/op")
			})
		}
	}
}
