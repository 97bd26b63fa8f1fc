package dynamo_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// The listing tests load their properties once per table, concurrently,
// and then read that table through stores of their own, each with its own
// counters, so that subtests can run in parallel.

// listingOrders are every order a listing has.
var listingOrders = []property.Order{
	property.OrderCreatedDesc, property.OrderCreatedAsc, property.OrderPriceAsc, property.OrderPriceDesc,
}

// listingLoadWorkers is how many creates a loader runs at once.
const listingLoadWorkers = 16

// listingClock hands out creation times so that every per consecutive calls
// share one millisecond: many properties get equal timestamps. It starts
// off UTC and below the millisecond, as a store must not care.
type listingClock struct {
	per int64
	n   atomic.Int64
}

var listingEpoch = time.Date(2025, 6, 1, 5, 0, 0, 123456789, time.FixedZone("UTC-7", -7*3600))

func (c *listingClock) Now() time.Time {
	i := c.n.Add(1) - 1
	return listingEpoch.Add(time.Duration(i/c.per) * time.Millisecond)
}

// loadListing creates n properties, the i-th from gen(i), on a fresh table
// with listingLoadWorkers concurrent creates; every 4 share a timestamp.
// It returns the table and the properties as created, by i.
func loadListing(tb testing.TB, n int, gen func(i int) property.CreateInput) (string, []*property.Property) {
	tb.Helper()
	table := testenv.Table(tb)
	clk := &listingClock{per: 4}
	s, err := dynamo.New(testenv.Client(tb), dynamo.Options{Table: table, Cursors: testenv.Cursors(tb), Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	props := make([]*property.Property, n)
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
	)
	for range listingLoadWorkers {
		wg.Go(func() {
			for i := range next {
				in := gen(i)
				err := in.Validate()
				if err == nil {
					props[i], err = s.Create(ctx, property.Anonymous, in)
				}
				if err != nil {
					failed.Store(true)
					errOnce.Do(func() { firstErr = fmt.Errorf("create %d: %w", i, err) })
				}
			}
		})
	}
	for i := 0; i < n && !failed.Load(); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		tb.Fatalf("load %d properties: %v", n, firstErr)
	}
	return table, props
}

// itemsRead sums the items DynamoDB read (ScannedCount) in the Query calls
// of one client: what a listing costs, filtered out or not.
type itemsRead struct{ n atomic.Int64 }

func (r *itemsRead) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countItemsRead",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if q, ok := out.Result.(*dynamodb.QueryOutput); ok && err == nil {
					r.n.Add(int64(q.ScannedCount))
				}
				return out, md, err
			}), middleware.After)
	})
}

// take returns the items read since the last take.
func (r *itemsRead) take() int { return int(r.n.Swap(0)) }

// listingStore is a store on an existing table that counts its calls and
// the items its queries read. opt's Table defaults to table and its
// Cursors to the test codec.
type listingStore struct {
	*dynamo.Store
	calls *testenv.Calls
	read  *itemsRead
}

func newListingStore(tb testing.TB, table string, opt dynamo.Options) listingStore {
	tb.Helper()
	ls := listingStore{calls: &testenv.Calls{}, read: &itemsRead{}}
	opt.Table = table
	if opt.Cursors == nil {
		opt.Cursors = testenv.Cursors(tb)
	}
	var err error
	if ls.Store, err = dynamo.New(testenv.Client(tb, ls.calls.Option, ls.read.option), opt); err != nil {
		tb.Fatal(err)
	}
	return ls
}

// listingMatches reports whether p belongs to f's listing, decided here
// independently of the store: city and state ignore case, prices count in
// cents with both bounds included.
func listingMatches(p *property.Property, f property.Filter) bool {
	switch {
	case f.City != nil && !strings.EqualFold(strings.TrimSpace(*f.City), p.City),
		f.State != nil && !strings.EqualFold(strings.TrimSpace(*f.State), p.State),
		f.MinPrice != nil && property.Cents(p.Price) < property.Cents(*f.MinPrice),
		f.MaxPrice != nil && property.Cents(p.Price) > property.Cents(*f.MaxPrice),
		f.OwnerID != nil && p.OwnerID != *f.OwnerID:
		return false
	}
	return true
}

// expectListing is the listing of ps for o and f: the matching properties
// by creation time or price in cents, ties broken by id, descending orders
// the exact reverse of ascending ones.
func expectListing(ps []*property.Property, o property.Order, f property.Filter) []*property.Property {
	var out []*property.Property
	for _, p := range ps {
		if listingMatches(p, f) {
			out = append(out, p)
		}
	}
	byPrice := o == property.OrderPriceAsc || o == property.OrderPriceDesc
	slices.SortFunc(out, func(a, b *property.Property) int {
		var c int
		if byPrice {
			c = cmp.Compare(property.Cents(a.Price), property.Cents(b.Price))
		} else {
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		return cmp.Or(c, strings.Compare(a.ID, b.ID))
	})
	if o == property.OrderCreatedDesc || o == property.OrderPriceDesc {
		slices.Reverse(out)
	}
	return out
}

func listingIDs(ps []*property.Property) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// cloneFilter deep-copies f: ListQuery.Validate trims its strings in
// place, and parallel subtests must not share them.
func cloneFilter(f property.Filter) property.Filter {
	c := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	n := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	return property.Filter{City: c(f.City), State: c(f.State), MinPrice: n(f.MinPrice), MaxPrice: n(f.MaxPrice), OwnerID: c(f.OwnerID)}
}

// listingQuery returns a validated query, as the resolvers pass it.
func listingQuery(tb testing.TB, first int, o property.Order, f property.Filter, after string) property.ListQuery {
	tb.Helper()
	q := property.ListQuery{First: first, Order: o, Filter: cloneFilter(f), After: after}
	if err := q.Validate(); err != nil {
		tb.Fatalf("validate %+v: %v", q, err)
	}
	return q
}

// checkSameProperty fails unless got, read from a listing, is want as
// created: in particular city and state exactly as entered.
func checkSameProperty(tb testing.TB, got, want *property.Property) {
	tb.Helper()
	if got.ID != want.ID || got.Title != want.Title || got.City != want.City || got.State != want.State ||
		got.Price != want.Price || !got.CreatedAt.Equal(want.CreatedAt) || got.Version != want.Version {
		tb.Errorf("listed %+v, want %+v", *got, *want)
	}
}

// checkOnlyQueries fails if a listing made any DynamoDB call but Query.
func checkOnlyQueries(tb testing.TB, counts map[string]int) {
	tb.Helper()
	for op, n := range counts {
		if op != "Query" {
			tb.Errorf("%d %s call(s); a listing may only Query", n, op)
		}
	}
}

func f64(v float64) *float64 { return &v }
func str(v string) *string   { return &v }

// Matrix data: 7 cities (three spellings of Springfield, two of
// Shelbyville), 5 states (two spellings of OR), 11 prices with duplicates
// and neighbours of the range bounds below; the moduli are coprime, so
// every combination occurs.
var (
	matrixCities = []string{"Springfield", "SPRINGFIELD", "springfield", "Shelbyville", "shelbyville", "Capital City", "Ogdenville"}
	matrixStates = []string{"IL", "or", "OR", "Ky", "WA"}
	matrixPrices = []float64{0, 5, 99.99, 100, 100, 1234.56, 250000, 250000.01, 999999999.99, 100, 42}
)

func matrixInput(i int) property.CreateInput {
	return property.CreateInput{
		Title: fmt.Sprintf("Home %d", i), Description: "A fine place.", Price: matrixPrices[i%len(matrixPrices)],
		Address: fmt.Sprintf("%d Main St", i), City: matrixCities[i%len(matrixCities)],
		State: matrixStates[i%len(matrixStates)], Zip: "62701",
	}
}

// matrixFilters are the filters of the matrix: none, a city (a key
// condition), a city and a price range (a key condition when ordering by
// price, a filter expression otherwise) and a state (a filter expression).
// City and state are spelled unlike any stored spelling.
var matrixFilters = []struct {
	name string
	f    property.Filter
}{
	{"no filter", property.Filter{}},
	{"city", property.Filter{City: str(" springFIELD ")}},
	{"city and price range", property.Filter{City: str("SHELBYVILLE"), MinPrice: f64(100), MaxPrice: f64(250000)}},
	{"state", property.Filter{State: str("oR")}},
}

// keyOnly reports whether o and f are served by a key condition alone, so
// that nothing read is dropped and each page costs exactly one Query.
func keyOnly(o property.Order, f property.Filter) bool {
	byPrice := o == property.OrderPriceAsc || o == property.OrderPriceDesc
	return f.State == nil && f.OwnerID == nil && (byPrice || f.MinPrice == nil && f.MaxPrice == nil)
}

const matrixSize = 300

// TestListMatrix walks every order × filter with pages of 1, 7 and 100
// over one table of 300 properties with duplicate prices and timestamps
// and compares each walk with the listing computed here. first = 1 runs on
// every combination, unfiltered ones included: the whole matrix is about
// 3,000 requests, which DynamoDB Local answers in about 5 s on 2 cores.
func TestListMatrix(t *testing.T) {
	table, ps := loadListing(t, matrixSize, matrixInput)
	byID := make(map[string]*property.Property, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	t.Run("fixture has ties", func(t *testing.T) {
		// Guard against a fixture that would not exercise the tie-break.
		created := expectListing(ps, property.OrderCreatedAsc, property.Filter{})
		sameTime := 0
		for i := 1; i < len(created); i++ {
			if created[i].CreatedAt.Equal(created[i-1].CreatedAt) {
				sameTime++
			}
		}
		if sameTime < matrixSize/2 {
			t.Errorf("%d neighbours share a timestamp, want at least %d", sameTime, matrixSize/2)
		}
		for _, f := range matrixFilters[1:] {
			if n := len(expectListing(ps, property.OrderCreatedAsc, f.f)); n < 10 || n > matrixSize/2 {
				t.Errorf("filter %s matches %d properties, want 10 to %d", f.name, n, matrixSize/2)
			}
		}
	})

	for _, o := range listingOrders {
		for _, mf := range matrixFilters {
			want := listingIDs(expectListing(ps, o, mf.f))
			for _, first := range []int{1, 7, 100} {
				t.Run(fmt.Sprintf("%s/%s/first=%d", o, mf.name, first), func(t *testing.T) {
					t.Parallel()
					s := newListingStore(t, table, dynamo.Options{})
					walkMatrix(t, s, o, mf.f, first, want, byID)
				})
			}
		}
	}
}

// walkMatrix reads every page of one listing and checks it against want.
func walkMatrix(t *testing.T, s listingStore, o property.Order, f property.Filter, first int, want []string, byID map[string]*property.Property) {
	ctx := context.Background()
	wantPages := max(1, (len(want)+first-1)/first)
	var (
		got   []string
		seen  = map[string]bool{}
		after string
	)
	for page := 1; ; page++ {
		if page > wantPages {
			t.Fatalf("page %d: hasNextPage was true on page %d of %d (%d items, first %d)", page, page-1, wantPages, len(want), first)
		}
		s.calls.Reset()
		p, err := s.List(ctx, listingQuery(t, first, o, f, after))
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		counts := s.calls.Counts()
		checkOnlyQueries(t, counts)
		if keyOnly(o, f) && counts["Query"] != 1 {
			t.Errorf("page %d: %d Query calls, want 1 (no filter expression applies)", page, counts["Query"])
		}
		if got, want := len(p.Cursors), len(p.Items); got != want {
			t.Fatalf("page %d: %d cursors for %d items", page, got, want)
		}
		if p.HasNextPage && len(p.Items) != first {
			t.Errorf("page %d: %d items with hasNextPage, want a full page of %d", page, len(p.Items), first)
		}
		if len(p.Items) > first {
			t.Errorf("page %d: %d items, more than first = %d", page, len(p.Items), first)
		}
		if !p.HasNextPage && len(p.Items) == 0 && len(want) > 0 {
			t.Errorf("page %d: empty last page; the page before it should have said hasNextPage false", page)
		}
		if n := len(p.Items); n > 0 && p.EndCursor != p.Cursors[n-1] {
			t.Errorf("page %d: endCursor is not the last item's cursor", page)
		}
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Errorf("page %d: %s listed twice", page, it.ID)
			}
			seen[it.ID] = true
			got = append(got, it.ID)
			if w, ok := byID[it.ID]; ok {
				checkSameProperty(t, it, w)
			} else {
				t.Errorf("page %d: unknown id %s", page, it.ID)
			}
		}
		if first == 7 && len(p.Items) > 1 {
			// Every item's cursor resumes right after that item.
			i := len(p.Items) / 2
			next, err := s.List(ctx, listingQuery(t, 2, o, f, p.Cursors[i]))
			if err != nil {
				t.Fatalf("page %d: after item %d: %v", page, i, err)
			}
			at := len(got) - len(p.Items) + i + 1
			if w := want[at:min(at+2, len(want))]; !slices.Equal(listingIDs(next.Items), w) {
				t.Errorf("page %d: after item %d: got %v, want %v", page, i, listingIDs(next.Items), w)
			}
		}
		if !p.HasNextPage {
			if page != wantPages {
				t.Errorf("hasNextPage false on page %d, want on page %d", page, wantPages)
			}
			break
		}
		after = p.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk listed %d ids, want %d; first difference at %d:\n got %v\nwant %v",
			len(got), len(want), firstDifference(got, want), got, want)
	}
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestListReadCap walks filtered listings with a read cap far below what
// a full page needs: pages come back short, yet the walk lists every
// match once and in order, no request reads more than the cap, and each
// request makes progress.
func TestListReadCap(t *testing.T) {
	table, ps := loadListing(t, matrixSize, matrixInput)
	const readCap = 10
	tests := []struct {
		name string
		o    property.Order
		f    property.Filter
	}{
		{"state, newest first", property.OrderCreatedDesc, property.Filter{State: str("OR")}},
		{"city and state, oldest first", property.OrderCreatedAsc, property.Filter{City: str("springfield"), State: str("or")}},
		{"price range by time", property.OrderCreatedDesc, property.Filter{MinPrice: f64(100), MaxPrice: f64(250000)}},
		{"state by price", property.OrderPriceAsc, property.Filter{State: str("Ky")}},
		{"city and state by price", property.OrderPriceDesc, property.Filter{City: str("ogdenville"), State: str("wa")}},
	}
	for _, tt := range tests {
		want := listingIDs(expectListing(ps, tt.o, tt.f))
		// The items in the index partition the query reads.
		partition := matrixSize
		if tt.f.City != nil {
			partition = len(expectListing(ps, tt.o, property.Filter{City: tt.f.City}))
		}
		for _, first := range []int{3, 20} {
			t.Run(fmt.Sprintf("%s/first=%d", tt.name, first), func(t *testing.T) {
				t.Parallel()
				if len(want) == 0 {
					t.Fatal("filter matches nothing; the test needs matches")
				}
				s := newListingStore(t, table, dynamo.Options{ReadCap: readCap})
				ctx := context.Background()
				var (
					got   []string
					after string
					cut   int
				)
				maxRequests := partition/readCap + len(want)/first + 2
				for req := 1; ; req++ {
					if req > maxRequests {
						t.Fatalf("still not done after %d requests; requests make too little progress", maxRequests)
					}
					p, err := s.List(ctx, listingQuery(t, first, tt.o, tt.f, after))
					if err != nil {
						t.Fatalf("request %d: %v", req, err)
					}
					checkOnlyQueries(t, s.calls.Counts())
					read := s.read.take()
					if read > readCap {
						t.Errorf("request %d read %d items, cap %d", req, read, readCap)
					}
					got = append(got, listingIDs(p.Items)...)
					if !p.HasNextPage {
						break
					}
					if p.EndCursor == "" {
						t.Fatalf("request %d: hasNextPage without endCursor", req)
					}
					// A page the cap stopped (short, or full without the
					// look-ahead item that proves more follow) resumes after
					// the last item read, which need not be one it returns.
					if n := len(p.Items); n < first || p.EndCursor != p.Cursors[n-1] {
						cut++
						if read != readCap {
							t.Errorf("request %d: %d of %d items, endCursor past the last one, after reading %d items; only the cap (%d) may stop a page early",
								req, n, first, read, readCap)
						}
					}
					after = p.EndCursor
				}
				if cut == 0 {
					t.Errorf("the cap never cut a page; the test does not exercise it")
				}
				if !slices.Equal(got, want) {
					t.Errorf("walk listed %d ids, want %d; first difference at %d", len(got), len(want), firstDifference(got, want))
				}
			})
		}
	}
}

// rareInput is 500 properties of which only number rareIndex is in
// Vermont and costs 777.77.
const (
	rareSize  = 500
	rareIndex = 250
)

func rareInput(i int) property.CreateInput {
	in := matrixInput(i)
	if i == rareIndex {
		in.State, in.Price = "vt", 777.77
	}
	return in
}

// TestListFindsRareMatch lists with filters that match one property in
// 500: one request finds it, and under a small read cap every request
// reads new items until the walk finds it.
func TestListFindsRareMatch(t *testing.T) {
	table, ps := loadListing(t, rareSize, rareInput)
	needle := ps[rareIndex]
	tests := []struct {
		name string
		o    property.Order
		f    property.Filter
	}{
		{"state, newest first", property.OrderCreatedDesc, property.Filter{State: str("VT")}},
		{"price range, oldest first", property.OrderCreatedAsc, property.Filter{MinPrice: f64(777.77), MaxPrice: f64(777.77)}},
		{"state, cheapest first", property.OrderPriceAsc, property.Filter{State: str(" Vt ")}},
		{"state, dearest first", property.OrderPriceDesc, property.Filter{State: str("vT")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listingIDs(expectListing(ps, tt.o, tt.f)); !slices.Equal(got, []string{needle.ID}) {
				t.Fatalf("fixture: filter matches %v, want only %s", got, needle.ID)
			}
			ctx := context.Background()
			t.Run("one request", func(t *testing.T) {
				s := newListingStore(t, table, dynamo.Options{})
				p, err := s.List(ctx, listingQuery(t, 20, tt.o, tt.f, ""))
				if err != nil {
					t.Fatal(err)
				}
				checkOnlyQueries(t, s.calls.Counts())
				if got := listingIDs(p.Items); !slices.Equal(got, []string{needle.ID}) || p.HasNextPage {
					t.Errorf("page %v hasNextPage %v, want [%s] false", got, p.HasNextPage, needle.ID)
				}
				if got := s.read.take(); got != rareSize {
					t.Errorf("read %d items, want each of the %d once", got, rareSize)
				}
			})
			t.Run("read cap 50", func(t *testing.T) {
				const readCap = 50
				s := newListingStore(t, table, dynamo.Options{ReadCap: readCap})
				var (
					found []string
					after string
					read  int
				)
				for req := 1; ; req++ {
					if req > rareSize/readCap+2 {
						t.Fatalf("still not done after %d requests", req-1)
					}
					p, err := s.List(ctx, listingQuery(t, 20, tt.o, tt.f, after))
					if err != nil {
						t.Fatalf("request %d: %v", req, err)
					}
					n := s.read.take()
					read += n
					if n > readCap {
						t.Errorf("request %d read %d items, cap %d", req, n, readCap)
					}
					if p.HasNextPage && n == 0 {
						t.Fatalf("request %d read nothing yet says hasNextPage", req)
					}
					found = append(found, listingIDs(p.Items)...)
					if !p.HasNextPage {
						break
					}
					after = p.EndCursor
				}
				if !slices.Equal(found, []string{needle.ID}) {
					t.Errorf("walk found %v, want [%s]", found, needle.ID)
				}
				// Each item read exactly once over the walk: every cursor
				// resumed right after the last item its request read.
				if read != rareSize {
					t.Errorf("walk read %d items, want each of the %d once", read, rareSize)
				}
			})
		})
	}
}

// TestListRejectsBadCursors checks that a cursor works only with its own
// order and filter, unaltered, before it expires and under a key the
// store still knows, and that a refused cursor costs no DynamoDB call.
func TestListRejectsBadCursors(t *testing.T) {
	table, _ := loadListing(t, 6, func(i int) property.CreateInput {
		in := matrixInput(i)
		in.City, in.State, in.Price = "Springfield", "or", float64(100+i)
		return in
	})
	ctx := context.Background()
	checkRefused := func(t *testing.T, s listingStore, q property.ListQuery) {
		t.Helper()
		s.calls.Reset()
		_, err := s.List(ctx, q)
		if got, want := property.ErrorCode(err), property.EINVALID; got != want {
			t.Fatalf("code %q, want %q (%v)", got, want, err)
		}
		if got, want := errField(err), "after"; got != want {
			t.Errorf("field %q, want %q", got, want)
		}
		if n := len(s.calls.Counts()); n != 0 {
			t.Errorf("refused cursor made DynamoDB calls: %v", s.calls.Counts())
		}
	}
	// cursorOf returns the cursor after the first item of q's listing.
	cursorOf := func(t *testing.T, s listingStore, o property.Order, f property.Filter) string {
		t.Helper()
		p, err := s.List(ctx, listingQuery(t, 1, o, f, ""))
		if err != nil || !p.HasNextPage {
			t.Fatalf("first page of %s %+v: %+v, %v", o, f, p, err)
		}
		return p.EndCursor
	}

	t.Run("tampered", func(t *testing.T) {
		s := newListingStore(t, table, dynamo.Options{})
		for _, o := range listingOrders {
			c := cursorOf(t, s, o, property.Filter{})
			raw, err := base64.RawURLEncoding.DecodeString(c)
			if err != nil {
				t.Fatalf("cursor is not unpadded URL-safe base64: %v", err)
			}
			for i := range raw {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					b := slices.Clone(raw)
					b[i] ^= mask
					q := listingQuery(t, 3, o, property.Filter{}, base64.RawURLEncoding.EncodeToString(b))
					checkRefused(t, s, q)
				}
			}
		}
	})

	t.Run("garbage", func(t *testing.T) {
		s := newListingStore(t, table, dynamo.Options{})
		for _, after := range []string{"x", "garbage!", strings.Repeat("A", 100), base64.RawURLEncoding.EncodeToString([]byte("2025-06-01T12:00:00.123Z#0b9f6c2e-6f0e-4c8a-9a53-3b1e0f2a7c11"))} {
			checkRefused(t, s, listingQuery(t, 3, property.OrderCreatedDesc, property.Filter{}, after))
		}
	})

	t.Run("other order or filter", func(t *testing.T) {
		s := newListingStore(t, table, dynamo.Options{})
		type query struct {
			name string
			o    property.Order
			f    property.Filter
		}
		var queries []query
		for _, o := range listingOrders {
			for _, mf := range matrixFilters {
				queries = append(queries, query{fmt.Sprintf("%s %s", o, mf.name), o, mf.f})
			}
			queries = append(queries,
				query{fmt.Sprintf("%s other city", o), o, property.Filter{City: str("Shelbyville")}},
				query{fmt.Sprintf("%s min one cent more", o), o, property.Filter{City: str("SHELBYVILLE"), MinPrice: f64(100.01), MaxPrice: f64(250000)}},
				query{fmt.Sprintf("%s max only", o), o, property.Filter{MaxPrice: f64(250000)}},
				query{fmt.Sprintf("%s city and state", o), o, property.Filter{City: str("springfield"), State: str("OR")}},
				query{fmt.Sprintf("%s owner", o), o, property.Filter{OwnerID: str("user-1")}},
			)
		}
		cursors := make([]string, len(queries))
		for i, q := range queries {
			// Filters that match nothing still issue no cursor; seal one
			// through a listing that does, where possible.
			p, err := s.List(ctx, listingQuery(t, 1, q.o, q.f, ""))
			if err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			cursors[i] = p.EndCursor
		}
		for i, from := range queries {
			if cursors[i] == "" {
				continue
			}
			for j, to := range queries {
				if i == j {
					continue
				}
				t.Run(from.name+" -> "+to.name, func(t *testing.T) {
					checkRefused(t, s, listingQuery(t, 3, to.o, to.f, cursors[i]))
				})
			}
		}
	})

	t.Run("same filter spelled otherwise", func(t *testing.T) {
		s := newListingStore(t, table, dynamo.Options{})
		c := cursorOf(t, s, property.OrderPriceAsc, property.Filter{City: str("Springfield"), State: str("OR")})
		p, err := s.List(ctx, listingQuery(t, 10, property.OrderPriceAsc, property.Filter{City: str("  SPRINGFIELD"), State: str("or ")}, c))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(p.Items), 5; got != want {
			t.Errorf("%d items after the first, want %d", got, want)
		}
	})

	t.Run("expired", func(t *testing.T) {
		const ttl = 10 * time.Minute
		base, err := cursor.New([]string{"listing-expiry-secret-0123456789"}, ttl)
		if err != nil {
			t.Fatal(err)
		}
		var now atomic.Int64
		now.Store(listingEpoch.UnixNano())
		codec := base.WithClock(func() time.Time { return time.Unix(0, now.Load()) })
		s := newListingStore(t, table, dynamo.Options{Cursors: codec})
		c := cursorOf(t, s, property.OrderCreatedDesc, property.Filter{})
		q := listingQuery(t, 3, property.OrderCreatedDesc, property.Filter{}, c)

		now.Add(int64(ttl - time.Second))
		if _, err := s.List(ctx, q); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		now.Add(int64(2 * time.Second))
		checkRefused(t, s, q)
	})

	t.Run("key rotation", func(t *testing.T) {
		const oldKey, newKey = "listing-old-secret-0123456789", "listing-new-secret-0123456789"
		codec := func(secrets ...string) *cursor.Codec {
			c, err := cursor.New(secrets, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		before := newListingStore(t, table, dynamo.Options{Cursors: codec(oldKey)})
		during := newListingStore(t, table, dynamo.Options{Cursors: codec(newKey, oldKey)})
		after := newListingStore(t, table, dynamo.Options{Cursors: codec(newKey)})
		o := property.OrderCreatedAsc

		whole, err := before.List(ctx, listingQuery(t, 10, o, property.Filter{}, ""))
		if err != nil {
			t.Fatal(err)
		}
		oldCursor := cursorOf(t, before, o, property.Filter{})
		p, err := during.List(ctx, listingQuery(t, 2, o, property.Filter{}, oldCursor))
		if err != nil {
			t.Fatalf("old key during rotation: %v", err)
		}
		if got, want := listingIDs(p.Items), listingIDs(whole.Items[1:3]); !slices.Equal(got, want) {
			t.Errorf("old key during rotation: got %v, want %v", got, want)
		}
		// The rotated store seals with the new key, which the old key alone
		// cannot open but the new key alone can.
		checkRefused(t, before, listingQuery(t, 2, o, property.Filter{}, p.EndCursor))
		p2, err := after.List(ctx, listingQuery(t, 2, o, property.Filter{}, p.EndCursor))
		if err != nil {
			t.Fatalf("new key after rotation: %v", err)
		}
		if got, want := listingIDs(p2.Items), listingIDs(whole.Items[3:5]); !slices.Equal(got, want) {
			t.Errorf("new key after rotation: got %v, want %v", got, want)
		}
		checkRefused(t, after, listingQuery(t, 2, o, property.Filter{}, oldCursor))
	})
}

// errField returns the Field of err's *property.Error, or "".
func errField(err error) string {
	var e *property.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// TestListPriceBoundsInCents checks that a price bound counts in cents on
// every path: a bound a float's rounding puts a hair off a cent (valid
// input) matches the same properties as a filter expression, when ordering
// by time, as it does as a key condition, when ordering by price.
func TestListPriceBoundsInCents(t *testing.T) {
	prices := []float64{0.29, 0.3, 0.31}
	table, ps := loadListing(t, 3*len(prices), func(i int) property.CreateInput {
		in := matrixInput(i)
		in.Price = prices[i%len(prices)]
		return in
	})
	above, below := math.Nextafter(0.3, 1), math.Nextafter(0.3, 0)
	s := newListingStore(t, table, dynamo.Options{})
	for _, tt := range []struct {
		name string
		f    property.Filter
		n    int
	}{
		{"min a hair above a cent", property.Filter{MinPrice: &above}, 6},
		{"max a hair below a cent", property.Filter{MaxPrice: &below}, 6},
		{"min and max a hair either side of one cent", property.Filter{MinPrice: &below, MaxPrice: &above}, 3},
	} {
		for _, o := range listingOrders {
			t.Run(fmt.Sprintf("%s/%s", tt.name, o), func(t *testing.T) {
				want := listingIDs(expectListing(ps, o, tt.f))
				if len(want) != tt.n {
					t.Fatalf("fixture: %d matches, want %d", len(want), tt.n)
				}
				p, err := s.List(context.Background(), listingQuery(t, 20, o, tt.f, ""))
				if err != nil {
					t.Fatal(err)
				}
				if got := listingIDs(p.Items); !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// listingBefore reports whether a comes before b in order o, by the
// creation time or price and the id they had when they were read.
func listingBefore(o property.Order, a, b *property.Property) bool {
	var c int
	if o == property.OrderPriceAsc || o == property.OrderPriceDesc {
		c = cmp.Compare(property.Cents(a.Price), property.Cents(b.Price))
	} else {
		c = a.CreatedAt.Compare(b.CreatedAt)
	}
	c = cmp.Or(c, strings.Compare(a.ID, b.ID))
	if o == property.OrderCreatedDesc || o == property.OrderPriceDesc {
		c = -c
	}
	return c < 0
}

// TestListCursorOutlivesItsItem checks that a cursor is a position, not a
// reference: after its item is deleted or moved by a new price, resuming
// from it lists exactly the properties now after that position.
func TestListCursorOutlivesItsItem(t *testing.T) {
	table, _ := loadListing(t, 24, matrixInput)
	s := newListingStore(t, table, dynamo.Options{})
	ctx := context.Background()
	repriced := 0
	changes := []struct {
		name   string
		change func(t *testing.T, p *property.Property)
	}{
		{"deleted", func(t *testing.T, p *property.Property) {
			if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}},
		{"repriced", func(t *testing.T, p *property.Property) {
			// A price no property has yet: high, so the item moves.
			repriced++
			in := property.UpdateInput{ID: p.ID, ExpectedVersion: p.Version, Price: f64(888888888 + float64(repriced))}
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(ctx, property.Anonymous, in); err != nil {
				t.Fatalf("update: %v", err)
			}
		}},
	}
	for _, ch := range changes {
		for _, o := range listingOrders {
			t.Run(ch.name+"/"+string(o), func(t *testing.T) {
				before, err := s.List(ctx, listingQuery(t, 100, o, property.Filter{}, ""))
				if err != nil {
					t.Fatal(err)
				}
				const k = 2
				victim, c := before.Items[k], before.Cursors[k]
				ch.change(t, victim)
				// Indexes are eventually consistent; DynamoDB Local applies
				// index writes with the item, so the listing is current.
				now, err := s.List(ctx, listingQuery(t, 100, o, property.Filter{}, ""))
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, p := range now.Items {
					if listingBefore(o, victim, p) {
						want = append(want, p.ID)
					}
				}
				got, err := s.List(ctx, listingQuery(t, 100, o, property.Filter{}, c))
				if err != nil {
					t.Fatalf("resume after the changed item: %v", err)
				}
				if !slices.Equal(listingIDs(got.Items), want) {
					t.Errorf("resumed with %v, want %v", listingIDs(got.Items), want)
				}
				i := slices.IndexFunc(now.Items, func(p *property.Property) bool { return p.ID == victim.ID })
				if i >= 0 && now.Items[i].Price == victim.Price {
					t.Errorf("fixture: the change neither removed the item nor changed its price")
				}
			})
		}
	}
}
