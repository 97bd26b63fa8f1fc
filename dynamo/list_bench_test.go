package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
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
// skips, so page 50 must cost what page 1 costs.
//
// Metrics: items-read/op is what DynamoDB read (ScannedCount) for one page,
// first+1 on the key-condition paths and more where a filter expression
// drops items; queries/op counts the Query calls of one page. The
// interleaved sub-benchmarks take turns reading pages 1, 2, 50 and one
// near the end, and report the median latency of each and two ratios:
// page 50 against page 1, and the deep page against page 2 (both resumed
// from a cursor). Interleaving keeps a busy machine from skewing the
// ratios as much as it skews separate ns/op figures taken a minute apart;
// ns/op of an interleaved sub-benchmark covers all four requests.
//
// sdk_newest makes the same newest-first queries with the bare SDK. It
// shows that DynamoDB Local's own latency grows with the depth of
// ExclusiveStartKey (about 0.1 µs per item before it) although the items
// read do not: an artefact of the local engine, which DynamoDB's B-tree
// seek does not share. The store adds nothing that grows with the page.
//
//	go test -run '^$' -bench 'BenchmarkList$' -benchtime 1000x ./dynamo
func BenchmarkList(b *testing.B) {
	table, _ := loadListing(b, benchListSize, benchListInput)
	const first = 20
	cases := []struct {
		name string
		o    property.Order
		f    property.Filter
		deep int // a page near the end of the listing
	}{
		{"newest", property.OrderCreatedDesc, property.Filter{}, 450},
		{"city_price_asc", property.OrderPriceAsc, property.Filter{City: str("Springfield")}, 200},
		// A filter expression, for comparison: 2 of 5 properties match.
		{"state_newest", property.OrderCreatedDesc, property.Filter{State: str("OR")}, 180},
	}
	ctx := context.Background()
	// list reads one page and checks that it is full with more after it.
	list := func(b *testing.B, s listingStore, q property.ListQuery) {
		p, err := s.List(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != first || !p.HasNextPage {
			b.Fatalf("%d items, hasNextPage %v; want a full page with more after it", len(p.Items), p.HasNextPage)
		}
	}
	// pageQuery returns the query for page n, walking there from page 1,
	// then warms the engine's JIT and the connection with it, so that no
	// sub-benchmark pays more for coming first.
	pageQuery := func(b *testing.B, s listingStore, o property.Order, f property.Filter, n int) property.ListQuery {
		after := ""
		for range n - 1 {
			p, err := s.List(ctx, listingQuery(b, first, o, f, after))
			if err != nil || !p.HasNextPage {
				b.Fatalf("walk to page %d: %+v, %v", n, p, err)
			}
			after = p.EndCursor
		}
		q := listingQuery(b, first, o, f, after)
		for range 50 {
			list(b, s, q)
		}
		return q
	}
	for _, bc := range cases {
		for _, page := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/page=%d", bc.name, page), func(b *testing.B) {
				s := newListingStore(b, table, dynamo.Options{})
				q := pageQuery(b, s, bc.o, bc.f, page)
				s.read.take()
				s.calls.Reset()
				b.ReportAllocs()
				for b.Loop() {
					list(b, s, q)
				}
				b.ReportMetric(float64(s.read.take())/float64(b.N), "items-read/op")
				b.ReportMetric(float64(s.calls.Counts()["Query"])/float64(b.N), "queries/op")
			})
		}
		b.Run(bc.name+"/interleaved", func(b *testing.B) {
			s := newListingStore(b, table, dynamo.Options{})
			pages := []int{1, 2, 50, bc.deep}
			qs := make([]property.ListQuery, len(pages))
			for i, n := range pages {
				qs[i] = pageQuery(b, s, bc.o, bc.f, n)
			}
			reportInterleaved(b, pages, func(i int) { list(b, s, qs[i]) })
		})
	}

	// The same newest-first pages as bare SDK Query calls, resumed from
	// DynamoDB's own LastEvaluatedKey: what the engine alone costs.
	b.Run("sdk_newest/interleaved", func(b *testing.B) {
		client := testenv.Client(b)
		expr, err := expression.NewBuilder().
			WithKeyCondition(expression.Key("lpk").Equal(expression.Value("ALL"))).Build()
		if err != nil {
			b.Fatal(err)
		}
		query := func(limit int32, start map[string]types.AttributeValue) *dynamodb.QueryOutput {
			out, err := client.Query(ctx, &dynamodb.QueryInput{
				TableName: aws.String(table), IndexName: aws.String("byCreated"),
				KeyConditionExpression:    expr.KeyCondition(),
				ExpressionAttributeNames:  expr.Names(),
				ExpressionAttributeValues: expr.Values(),
				ScanIndexForward:          aws.Bool(false),
				ExclusiveStartKey:         start,
				Limit:                     aws.Int32(limit),
			})
			if err != nil {
				b.Fatal(err)
			}
			return out
		}
		pages := []int{1, 2, 50, 450}
		starts := make([]map[string]types.AttributeValue, len(pages))
		var start map[string]types.AttributeValue
		for n := 1; n <= pages[len(pages)-1]; n++ {
			if i := slices.Index(pages, n); i >= 0 {
				starts[i] = start
				for range 50 {
					query(first+1, start)
				}
			}
			start = query(first, start).LastEvaluatedKey
		}
		reportInterleaved(b, pages, func(i int) {
			if out := query(first+1, starts[i]); len(out.Items) != first+1 {
				b.Fatalf("page %d: %d items, want %d", pages[i], len(out.Items), first+1)
			}
		})
	})
}

// reportInterleaved runs read(i) for every page i in turn, b.N times,
// rotating which page goes first so that none gains from the others, and
// reports each page's median latency, page 50 against page 1 and the last
// (deep) page against page 2.
func reportInterleaved(b *testing.B, pages []int, read func(i int)) {
	b.Helper()
	ds := make([][]time.Duration, len(pages))
	turn := 0
	for b.Loop() {
		for j := range pages {
			i := (turn + j) % len(pages)
			start := time.Now()
			read(i)
			ds[i] = append(ds[i], time.Since(start))
		}
		turn++
	}
	m := make([]float64, len(pages))
	for i, n := range pages {
		m[i] = float64(medianDuration(ds[i]).Nanoseconds())
		b.ReportMetric(m[i], fmt.Sprintf("page%d-median-ns", n))
	}
	last := len(pages) - 1
	b.ReportMetric(m[slices.Index(pages, 50)]/m[slices.Index(pages, 1)], "page50/page1")
	b.ReportMetric(m[last]/m[slices.Index(pages, 2)], fmt.Sprintf("page%d/page2", pages[last]))
}

func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}
