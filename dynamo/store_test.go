package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// creator is the part of the store the helpers below need.
type creator interface {
	Create(context.Context, property.Caller, property.CreateInput) (*property.Property, error)
}

func mustCreate(tb testing.TB, s creator, in property.CreateInput) *property.Property {
	tb.Helper()
	return mustCreateAs(tb, s, property.Anonymous, in)
}

// mustCreateAs validates in, as the resolvers do, and creates it for caller.
func mustCreateAs(tb testing.TB, s creator, caller property.Caller, in property.CreateInput) *property.Property {
	tb.Helper()
	if err := in.Validate(); err != nil {
		tb.Fatalf("validate: %v", err)
	}
	p, err := s.Create(context.Background(), caller, in)
	if err != nil {
		tb.Fatalf("create: %v", err)
	}
	return p
}

// mustUpdate validates in and applies it for caller.
func mustUpdate(tb testing.TB, s *dynamo.Store, caller property.Caller, in property.UpdateInput) *property.Property {
	tb.Helper()
	if err := in.Validate(); err != nil {
		tb.Fatalf("validate: %v", err)
	}
	p, err := s.Update(context.Background(), caller, in)
	if err != nil {
		tb.Fatalf("update: %v", err)
	}
	return p
}

func mustGet(tb testing.TB, s *dynamo.Store, id string) *property.Property {
	tb.Helper()
	p, err := s.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("get %s: %v", id, err)
	}
	return p
}

// mustList returns every property q's listing holds, walking all pages.
func mustList(tb testing.TB, s *dynamo.Store, q property.ListQuery) []*property.Property {
	tb.Helper()
	var all []*property.Property
	for range 100 {
		page, err := s.List(context.Background(), q)
		if err != nil {
			tb.Fatalf("list: %v", err)
		}
		all = append(all, page.Items...)
		if !page.HasNextPage {
			return all
		}
		q.After = page.EndCursor
	}
	tb.Fatalf("list: still more pages after 100")
	return nil
}

func sample(title string, price float64) property.CreateInput {
	return property.CreateInput{Title: title, Description: "A fine place.", Price: price,
		Address: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}
}

func ptr[T any](v T) *T { return &v }

// field returns the Field of err's *property.Error, or "".
func field(err error) string {
	var e *property.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newStore returns a store on a fresh table whose clock is now.
func newStore(tb testing.TB, now func() time.Time, opts ...func(*dynamodb.Options)) *dynamo.Store {
	tb.Helper()
	s, err := dynamo.New(testenv.Client(tb, opts...), dynamo.Options{Table: testenv.Table(tb), Cursors: testenv.Cursors(tb), Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// start is an instant off UTC with nanoseconds, so that a store that forgot
// to convert to UTC or to truncate to milliseconds shows.
var start = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+5", 5*3600))

// stamp is what the store should record for t.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// diff lists how got differs from want, field by field.
func diff(got, want *property.Property) []string {
	var d []string
	eq := func(name string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	eq("ID", got.ID, want.ID)
	eq("Title", got.Title, want.Title)
	eq("Description", got.Description, want.Description)
	eq("Price", got.Price, want.Price)
	eq("Address", got.Address, want.Address)
	eq("City", got.City, want.City)
	eq("State", got.State, want.State)
	eq("Zip", got.Zip, want.Zip)
	eq("OwnerID", got.OwnerID, want.OwnerID)
	eq("Version", got.Version, want.Version)
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"UpdatedAt", got.UpdatedAt, want.UpdatedAt}} {
		if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC {
			d = append(d, fmt.Sprintf("%s = %v, want %v", tm.name, tm.got, tm.want))
		}
	}
	if !slices.Equal(got.Images, want.Images) {
		d = append(d, fmt.Sprintf("Images = %v, want %v", got.Images, want.Images))
	}
	return d
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t)
	p := mustCreate(t, s, sample("Loft", 1234.5))
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Title != "Loft" || got.Version != 1 || got.Price != 1234.5 {
		t.Fatalf("got %+v", got)
	}
	title := "Bigger loft"
	up, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: &title})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if up.Version != 2 || up.Title != title {
		t.Fatalf("updated %+v", up)
	}
	_, err = s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: &title})
	if got, want := property.ErrorCode(err), property.ECONFLICT; got != want {
		t.Fatalf("stale update: code %q, want %q (%v)", got, want, err)
	}
	if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.Get(ctx, p.ID)
	if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
		t.Fatalf("get after delete: code %q, want %q", got, want)
	}
	page, err := s.List(ctx, property.ListQuery{First: 10, Order: property.OrderCreatedDesc})
	if err != nil || len(page.Items) != 0 || page.HasNextPage {
		t.Fatalf("list after delete: %+v %v", page, err)
	}
}

func TestCreate(t *testing.T) {
	c := &clock{t: start}
	s := newStore(t, c.Now)
	tests := []struct {
		name   string
		caller property.Caller
		in     property.CreateInput
	}{
		{"plain", property.Anonymous, sample("Loft", 1234.5)},
		{"trimmed", property.Anonymous, property.CreateInput{Title: "  Loft\t", Description: "\n A fine place. ", Price: 99.99,
			Address: " 1 Main St ", City: " Springfield", State: "IL ", Zip: " 62701 "}},
		{"price normalised to cents", property.Anonymous, sample("Cheap", 0.1+0.2)},
		{"signed in", property.Caller{Subject: "user-1"}, sample("Owned", 500000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if err := in.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			// What Validate leaves is what the store keeps.
			want := &property.Property{
				Title: in.Title, Description: in.Description, Price: in.Price, Address: in.Address,
				City: in.City, State: in.State, Zip: in.Zip, OwnerID: tt.caller.Subject, Version: 1,
				CreatedAt: stamp(start), UpdatedAt: stamp(start),
			}
			p, err := s.Create(context.Background(), tt.caller, in)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if !property.ValidID(p.ID) {
				t.Errorf("id %q is not a canonical UUID", p.ID)
			}
			want.ID = p.ID
			for _, d := range diff(p, want) {
				t.Errorf("created: %s", d)
			}
			for _, d := range diff(mustGet(t, s, p.ID), want) {
				t.Errorf("stored: %s", d)
			}
		})
	}
	t.Run("ids are fresh", func(t *testing.T) {
		a, b := mustCreate(t, s, sample("Twin", 1)), mustCreate(t, s, sample("Twin", 1))
		if a.ID == b.ID {
			t.Errorf("two creates got the same id %s", a.ID)
		}
	})
}

func TestUpdate(t *testing.T) {
	c := &clock{t: start}
	s := newStore(t, c.Now)
	tests := []struct {
		name    string
		advance time.Duration
		in      property.UpdateInput
		apply   func(*property.Property)
	}{
		{"title", 1500*time.Millisecond + 7, property.UpdateInput{Title: ptr("  Bigger loft ")},
			func(p *property.Property) { p.Title = "Bigger loft" }},
		{"in the same millisecond", 0, property.UpdateInput{Description: ptr("Even finer.")},
			func(p *property.Property) { p.Description = "Even finer." }},
		{"price", time.Hour, property.UpdateInput{Price: ptr(0.1 + 0.2)},
			func(p *property.Property) { p.Price = 0.3 }},
		{"city and state", time.Millisecond, property.UpdateInput{City: ptr("Shelbyville"), State: ptr("KY")},
			func(p *property.Property) { p.City, p.State = "Shelbyville", "KY" }},
		{"every field", 24 * time.Hour, property.UpdateInput{
			Title: ptr("T"), Description: ptr("D"), Price: ptr(1.0), Address: ptr("A"), City: ptr("C"), State: ptr("S"), Zip: ptr("Z"),
		}, func(p *property.Property) {
			p.Title, p.Description, p.Price, p.Address, p.City, p.State, p.Zip = "T", "D", 1, "A", "C", "S", "Z"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustCreate(t, s, sample("Loft", 1234.5))
			c.Add(tt.advance)
			in := tt.in
			in.ID, in.ExpectedVersion = before.ID, 1
			got := mustUpdate(t, s, property.Anonymous, in)

			want := *before
			tt.apply(&want)
			want.Version = before.Version + 1
			want.UpdatedAt = stamp(c.Now())
			for _, d := range diff(got, &want) {
				t.Errorf("updated: %s", d)
			}
			for _, d := range diff(mustGet(t, s, before.ID), &want) {
				t.Errorf("stored: %s", d)
			}
			if got.UpdatedAt.Before(before.UpdatedAt) {
				t.Errorf("updatedAt %v is before the previous %v", got.UpdatedAt, before.UpdatedAt)
			}
		})
	}

	t.Run("listings follow the changed fields", func(t *testing.T) {
		p := mustCreate(t, s, sample("Mover", 10))
		mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, City: ptr("Capital City"), Price: ptr(777.77)})
		queries := []struct {
			name string
			q    property.ListQuery
			want bool
		}{
			{"new city", property.ListQuery{Filter: property.Filter{City: ptr("capital city")}}, true},
			{"old city", property.ListQuery{Filter: property.Filter{City: ptr("Springfield")}}, false},
			{"new price", property.ListQuery{Order: property.OrderPriceAsc, Filter: property.Filter{MinPrice: ptr(777.77), MaxPrice: ptr(777.77)}}, true},
			{"old price", property.ListQuery{Order: property.OrderPriceAsc, Filter: property.Filter{MinPrice: ptr(10.0), MaxPrice: ptr(10.0)}}, false},
		}
		for _, q := range queries {
			q.q.First = property.MaxPageSize
			if err := q.q.Validate(); err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			found := slices.ContainsFunc(mustList(t, s, q.q), func(x *property.Property) bool { return x.ID == p.ID })
			if found != q.want {
				t.Errorf("%s: listed = %v, want %v", q.name, found, q.want)
			}
		}
	})
}

func TestWriteErrors(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t)
	unknown := property.NewID()

	t.Run("unknown id", func(t *testing.T) {
		_, err := s.Get(ctx, unknown)
		if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
			t.Errorf("get: code %q, want %q (%v)", got, want, err)
		}
		_, err = s.Update(ctx, property.Anonymous, property.UpdateInput{ID: unknown, ExpectedVersion: 1, Title: ptr("x")})
		if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
			t.Errorf("update: code %q, want %q (%v)", got, want, err)
		}
		for _, v := range []*int{nil, ptr(1)} {
			_, err = s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: unknown, ExpectedVersion: v})
			if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
				t.Errorf("delete at version %v: code %q, want %q (%v)", v, got, want, err)
			}
		}
	})

	t.Run("stale update", func(t *testing.T) {
		p := mustCreate(t, s, sample("Loft", 100))
		mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: ptr("Second")})
		cur := mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 2, Title: ptr("Third")})
		for _, stale := range []int{1, 2, 4} {
			_, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: stale, Title: ptr("Lost")})
			checkConflict(t, err, cur)
		}
		if got, want := mustGet(t, s, p.ID).Title, "Third"; got != want {
			t.Errorf("title after stale updates = %q, want %q", got, want)
		}
	})

	t.Run("stale delete", func(t *testing.T) {
		p := mustCreate(t, s, sample("Loft", 100))
		cur := mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: ptr("Second")})
		_, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(1)})
		checkConflict(t, err, cur)
		if got, want := mustGet(t, s, p.ID).Version, 2; got != want {
			t.Errorf("after a stale delete: version = %d, want %d", got, want)
		}
	})

	t.Run("delete at the current version", func(t *testing.T) {
		p := mustCreate(t, s, sample("Loft", 100))
		mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: ptr("Second")})
		if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(2)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err := s.Get(ctx, p.ID)
		if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
			t.Errorf("get after delete: code %q, want %q", got, want)
		}
		_, err = s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(2)})
		if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
			t.Errorf("second delete: code %q, want %q", got, want)
		}
		_, err = s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 2, Title: ptr("Ghost")})
		if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
			t.Errorf("update after delete: code %q, want %q", got, want)
		}
	})
}

// checkConflict checks that err is a CONFLICT carrying the stored property.
func checkConflict(tb testing.TB, err error, stored *property.Property) {
	tb.Helper()
	if got, want := property.ErrorCode(err), property.ECONFLICT; got != want {
		tb.Fatalf("code %q, want %q (%v)", got, want, err)
	}
	var e *property.Error
	if !errors.As(err, &e) || e.Current == nil {
		tb.Fatalf("conflict without the current property: %#v", err)
	}
	for _, d := range diff(e.Current, stored) {
		tb.Errorf("current: %s", d)
	}
}

func TestInvalidIDCostsNoCall(t *testing.T) {
	ctx := context.Background()
	var calls testenv.Calls
	s := testenv.Store(t, calls.Option)
	valid := mustCreate(t, s, sample("Loft", 100)).ID
	ids := map[string]string{
		"empty":      "",
		"garbage":    "not-an-id",
		"upper case": strings.ToUpper(valid),
		"braces":     "{" + valid + "}",
		"urn":        "urn:uuid:" + valid,
		"no dashes":  strings.ReplaceAll(valid, "-", ""),
		"padded":     " " + valid,
		"key syntax": valid + "#METADATA",
	}
	ops := map[string]func(id string) error{
		"get": func(id string) error { _, err := s.Get(ctx, id); return err },
		"update": func(id string) error {
			_, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: id, ExpectedVersion: 1, Title: ptr("x")})
			return err
		},
		"delete": func(id string) error {
			_, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: id})
			return err
		},
	}
	for idName, id := range ids {
		for opName, op := range ops {
			t.Run(opName+"/"+idName, func(t *testing.T) {
				calls.Reset()
				err := op(id)
				if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
					t.Errorf("code %q, want %q (%v)", got, want, err)
				}
				if got := calls.Counts(); len(got) != 0 {
					t.Errorf("DynamoDB calls = %v, want none", got)
				}
			})
		}
	}
	if got, want := mustGet(t, s, valid).Title, "Loft"; got != want {
		t.Errorf("the valid property changed: title %q, want %q", got, want)
	}
}

func TestOneCallPerOperation(t *testing.T) {
	ctx := context.Background()
	var calls testenv.Calls
	s := testenv.Store(t, calls.Option)
	for i := range 25 {
		mustCreate(t, s, sample(fmt.Sprintf("Home %d", i), float64(100+i)))
	}
	first, err := s.List(ctx, property.ListQuery{First: 20, Order: property.OrderCreatedDesc})
	if err != nil || !first.HasNextPage {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	key := "key-1"
	keyed := sample("Keyed", 1)
	keyed.ClientMutationID = &key
	mustCreate(t, s, keyed)

	tests := []struct {
		name string
		op   func(p *property.Property) error
		code string
		want map[string]int
	}{
		{"get", func(p *property.Property) error { _, err := s.Get(ctx, p.ID); return err }, "", map[string]int{"GetItem": 1}},
		{"create", func(*property.Property) error {
			_, err := s.Create(ctx, property.Anonymous, sample("New", 1))
			return err
		}, "",
			map[string]int{"PutItem": 1}},
		{"create replayed", func(*property.Property) error { _, err := s.Create(ctx, property.Anonymous, keyed); return err }, "",
			map[string]int{"PutItem": 1}},
		{"update", func(p *property.Property) error {
			_, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: ptr("x")})
			return err
		}, "", map[string]int{"UpdateItem": 1}},
		{"update stale", func(p *property.Property) error {
			_, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 7, Title: ptr("x")})
			return err
		}, property.ECONFLICT, map[string]int{"UpdateItem": 1}},
		{"delete", func(p *property.Property) error {
			_, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID})
			return err
		}, "", map[string]int{"DeleteItem": 1}},
		{"delete at version", func(p *property.Property) error {
			_, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(1)})
			return err
		}, "", map[string]int{"DeleteItem": 1}},
		{"delete stale", func(p *property.Property) error {
			_, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(7)})
			return err
		}, property.ECONFLICT, map[string]int{"DeleteItem": 1}},
		{"list first page", func(*property.Property) error {
			_, err := s.List(ctx, property.ListQuery{First: 20, Order: property.OrderCreatedDesc})
			return err
		}, "", map[string]int{"Query": 1}},
		{"list next page", func(*property.Property) error {
			_, err := s.List(ctx, property.ListQuery{First: 20, After: first.EndCursor, Order: property.OrderCreatedDesc})
			return err
		}, "", map[string]int{"Query": 1}},
		{"list by price", func(*property.Property) error {
			_, err := s.List(ctx, property.ListQuery{First: 20, Order: property.OrderPriceDesc})
			return err
		}, "", map[string]int{"Query": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCreate(t, s, sample("Target", 5))
			calls.Reset()
			err := tt.op(p)
			if got, want := property.ErrorCode(err), tt.code; got != want {
				t.Errorf("code %q, want %q (%v)", got, want, err)
			}
			if got := calls.Counts(); !equalCounts(got, tt.want) {
				t.Errorf("DynamoDB calls = %v, want %v", got, tt.want)
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// race runs f n times at once and returns the errors in no order.
func race(n int, f func(i int) error) []error {
	var (
		wg    sync.WaitGroup
		ready = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			errs[i] = f(i)
		}()
	}
	close(ready)
	wg.Wait()
	return errs
}

func TestConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t)
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d writers", n), func(t *testing.T) {
			p := mustCreate(t, s, sample("Contested", 100))
			const expected = 2
			mustUpdate(t, s, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Zip: ptr("62702")})
			titles := make([]string, n)
			errs := race(n, func(i int) error {
				titles[i] = fmt.Sprintf("Writer %d", i)
				_, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: expected, Title: &titles[i]})
				return err
			})
			winner, conflicts := -1, 0
			for i, err := range errs {
				switch property.ErrorCode(err) {
				case "":
					if winner >= 0 {
						t.Errorf("writers %d and %d both won", winner, i)
					}
					winner = i
				case property.ECONFLICT:
					conflicts++
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if got, want := conflicts, n-1; got != want {
				t.Errorf("conflicts = %d, want %d", got, want)
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			final := mustGet(t, s, p.ID)
			if got, want := final.Version, expected+1; got != want {
				t.Errorf("final version = %d, want %d", got, want)
			}
			if got, want := final.Title, titles[winner]; got != want {
				t.Errorf("final title = %q, want the winner's %q", got, want)
			}
		})
	}
}

func TestIdempotentCreate(t *testing.T) {
	ctx := context.Background()
	count := func(tb testing.TB, s *dynamo.Store) int {
		tb.Helper()
		return len(mustList(tb, s, property.ListQuery{First: property.MaxPageSize, Order: property.OrderCreatedDesc}))
	}
	withKey := func(in property.CreateInput, key string) property.CreateInput {
		in.ClientMutationID = &key
		return in
	}
	alice := property.Caller{Subject: "a"}

	t.Run("replay returns the property as it is now", func(t *testing.T) {
		s := testenv.Store(t)
		first := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k1"))
		// Validate trims, so input differing only in spaces is the same input.
		again := mustCreateAs(t, s, alice, withKey(sample("  Loft ", 100.00), "k1"))
		for _, d := range diff(again, first) {
			t.Errorf("replay: %s", d)
		}
		updated := mustUpdate(t, s, alice, property.UpdateInput{ID: first.ID, ExpectedVersion: 1, Title: ptr("Renamed")})
		later := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k1"))
		for _, d := range diff(later, updated) {
			t.Errorf("replay after update: %s", d)
		}
		if got, want := count(t, s), 1; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
	})

	t.Run("other input is invalid", func(t *testing.T) {
		s := testenv.Store(t)
		first := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k1"))
		for name, in := range map[string]property.CreateInput{
			"price": sample("Loft", 101),
			"title": sample("Attic", 100),
			"city":  func() property.CreateInput { in := sample("Loft", 100); in.City = "Ogdenville"; return in }(),
		} {
			in := withKey(in, "k1")
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := s.Create(ctx, alice, in)
			if got, want := property.ErrorCode(err), property.EINVALID; got != want {
				t.Errorf("%s: code %q, want %q (%v)", name, got, want, err)
			}
			if got, want := field(err), "clientMutationId"; got != want {
				t.Errorf("%s: field %q, want %q", name, got, want)
			}
		}
		for _, d := range diff(mustGet(t, s, first.ID), first) {
			t.Errorf("stored: %s", d)
		}
		if got, want := count(t, s), 1; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
	})

	t.Run("two callers get two properties", func(t *testing.T) {
		s := testenv.Store(t)
		a := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k1"))
		b := mustCreateAs(t, s, property.Caller{Subject: "b"}, withKey(sample("Loft", 100), "k1"))
		if a.ID == b.ID {
			t.Errorf("both callers got property %s", a.ID)
		}
		if a.OwnerID != "a" || b.OwnerID != "b" {
			t.Errorf("owners = %q, %q; want a, b", a.OwnerID, b.OwnerID)
		}
		if got, want := count(t, s), 2; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
	})

	t.Run("other keys create other properties", func(t *testing.T) {
		s := testenv.Store(t)
		a := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k1"))
		b := mustCreateAs(t, s, alice, withKey(sample("Loft", 100), "k2"))
		c := mustCreateAs(t, s, alice, sample("Loft", 100))
		if a.ID == b.ID || a.ID == c.ID || b.ID == c.ID {
			t.Errorf("ids %s, %s, %s are not distinct", a.ID, b.ID, c.ID)
		}
		if got, want := count(t, s), 3; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
	})

	t.Run("20 concurrent creates make one property", func(t *testing.T) {
		s := testenv.Store(t)
		const n = 20
		ids := make([]string, n)
		errs := race(n, func(i int) error {
			in := withKey(sample("Rush", 100), "k1")
			if err := in.Validate(); err != nil {
				return err
			}
			p, err := s.Create(ctx, alice, in)
			if err == nil {
				ids[i] = p.ID
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("create %d: %v", i, err)
			}
			if ids[i] != ids[0] {
				t.Errorf("create %d got id %q, create 0 got %q", i, ids[i], ids[0])
			}
		}
		if got, want := count(t, s), 1; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
		if got, want := mustGet(t, s, ids[0]).Version, 1; got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
}

// orderOf returns the properties in the order o lists them: by creation
// time or by price in cents, ties broken by id, descending orders being the
// exact reverse of ascending ones.
func orderOf(ps []*property.Property, o property.Order) []string {
	ps = slices.Clone(ps)
	byPrice := o == property.OrderPriceAsc || o == property.OrderPriceDesc
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if byPrice {
			if ca, cb := property.Cents(a.Price), property.Cents(b.Price); ca != cb {
				return ca < cb
			}
		} else if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	if o == property.OrderCreatedDesc || o == property.OrderPriceDesc {
		slices.Reverse(ps)
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

var orders = []property.Order{property.OrderCreatedDesc, property.OrderCreatedAsc, property.OrderPriceAsc, property.OrderPriceDesc}

// populate creates n properties with many equal timestamps and prices, so
// that the order's tie-break by id is exercised.
func populate(tb testing.TB, n int) (*dynamo.Store, []*property.Property) {
	tb.Helper()
	c := &clock{t: start}
	s := newStore(tb, c.Now)
	prices := []float64{5, 1234.56, 40, 1234.56, 999999999.99, 0, 5}
	var ps []*property.Property
	for i := range n {
		if i%3 == 0 {
			c.Add(time.Millisecond)
		}
		ps = append(ps, mustCreate(tb, s, sample(fmt.Sprintf("Home %d", i), prices[i%len(prices)])))
	}
	return s, ps
}

func TestListWalksEveryPage(t *testing.T) {
	tests := []struct {
		n       int
		sizes   []int
		hasNext []bool
	}{
		{45, []int{20, 20, 5}, []bool{true, true, false}},
		{40, []int{20, 20}, []bool{true, false}},
		{20, []int{20}, []bool{false}},
		{0, []int{0}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d properties", tt.n), func(t *testing.T) {
			s, ps := populate(t, tt.n)
			for _, o := range orders {
				t.Run(string(o), func(t *testing.T) {
					var (
						ids     []string
						sizes   []int
						hasNext []bool
						after   string
					)
					for len(sizes) <= len(tt.sizes) {
						page, err := s.List(context.Background(), property.ListQuery{First: 20, After: after, Order: o})
						if err != nil {
							t.Fatalf("page %d: %v", len(sizes)+1, err)
						}
						if got, want := len(page.Cursors), len(page.Items); got != want {
							t.Fatalf("page %d: %d cursors for %d items", len(sizes)+1, got, want)
						}
						if n := len(page.Cursors); n > 0 && page.EndCursor != page.Cursors[n-1] {
							t.Errorf("page %d: end cursor is not the last item's cursor", len(sizes)+1)
						}
						for _, p := range page.Items {
							ids = append(ids, p.ID)
						}
						sizes, hasNext = append(sizes, len(page.Items)), append(hasNext, page.HasNextPage)
						if !page.HasNextPage {
							break
						}
						after = page.EndCursor
					}
					if !slices.Equal(sizes, tt.sizes) || !slices.Equal(hasNext, tt.hasNext) {
						t.Errorf("pages of %v with hasNextPage %v, want %v with %v", sizes, hasNext, tt.sizes, tt.hasNext)
					}
					if want := orderOf(ps, o); !slices.Equal(ids, want) {
						t.Errorf("ids in the wrong order or not each once:\n got %v\nwant %v", ids, want)
					}
				})
			}
		})
	}
}

func TestListResumesAfterAnyCursor(t *testing.T) {
	s, ps := populate(t, 12)
	ctx := context.Background()
	for _, o := range orders {
		t.Run(string(o), func(t *testing.T) {
			want := orderOf(ps, o)
			page, err := s.List(ctx, property.ListQuery{First: len(ps), Order: o})
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range page.Cursors {
				next, err := s.List(ctx, property.ListQuery{First: 3, After: c, Order: o})
				if err != nil {
					t.Fatalf("after item %d: %v", i, err)
				}
				var got []string
				for _, p := range next.Items {
					got = append(got, p.ID)
				}
				if w := want[i+1 : min(i+4, len(want))]; !slices.Equal(got, w) {
					t.Errorf("after item %d: got %v, want %v", i, got, w)
				}
			}
		})
	}
}

func TestListRejectsForeignCursors(t *testing.T) {
	s, _ := populate(t, 5)
	ctx := context.Background()
	cursorOf := func(q property.ListQuery) string {
		t.Helper()
		q.First = 1
		page, err := s.List(ctx, q)
		if err != nil || !page.HasNextPage || page.EndCursor == "" {
			t.Fatalf("list %+v: %+v, %v", q, page, err)
		}
		return page.EndCursor
	}
	springfield := property.Filter{City: ptr("springfield")}
	created := cursorOf(property.ListQuery{Order: property.OrderCreatedDesc})
	inCity := cursorOf(property.ListQuery{Order: property.OrderCreatedDesc, Filter: springfield})
	tampered := []byte(created)
	tampered[len(tampered)/2] ^= 1

	tests := []struct {
		name string
		q    property.ListQuery
	}{
		{"garbage", property.ListQuery{After: "garbage", Order: property.OrderCreatedDesc}},
		{"base64 garbage", property.ListQuery{After: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Order: property.OrderCreatedDesc}},
		{"tampered", property.ListQuery{After: string(tampered), Order: property.OrderCreatedDesc}},
		{"other direction", property.ListQuery{After: created, Order: property.OrderCreatedAsc}},
		{"other order", property.ListQuery{After: created, Order: property.OrderPriceAsc}},
		{"filter added", property.ListQuery{After: created, Order: property.OrderCreatedDesc, Filter: springfield}},
		{"filter removed", property.ListQuery{After: inCity, Order: property.OrderCreatedDesc}},
		{"other city", property.ListQuery{After: inCity, Order: property.OrderCreatedDesc, Filter: property.Filter{City: ptr("Shelbyville")}}},
		{"other price bound", property.ListQuery{After: created, Order: property.OrderCreatedDesc, Filter: property.Filter{MinPrice: ptr(0.0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.First = 10
			_, err := s.List(ctx, q)
			if got, want := property.ErrorCode(err), property.EINVALID; got != want {
				t.Fatalf("code %q, want %q (%v)", got, want, err)
			}
			if got, want := field(err), "after"; got != want {
				t.Errorf("field %q, want %q", got, want)
			}
		})
	}
	t.Run("own cursor works", func(t *testing.T) {
		for _, q := range []property.ListQuery{
			{After: created, Order: property.OrderCreatedDesc},
			{After: inCity, Order: property.OrderCreatedDesc, Filter: property.Filter{City: ptr(" SPRINGFIELD ")}},
		} {
			q.First = 10
			if err := q.Validate(); err != nil {
				t.Fatal(err)
			}
			page, err := s.List(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if got, want := len(page.Items), 4; got != want {
				t.Errorf("%+v: %d items, want %d", q, got, want)
			}
		}
	})
}
