package dynamo_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// Legacy items of unusual shapes (testdata/shapes): each lacks a field, or
// has it empty, and must be served, changed, deleted and backfilled.
const (
	shapeNoCity       = "ca0f54ad-353d-57a1-8533-a97d9d22caa4"
	shapeEmptyCity    = "d0d8c4e8-31af-5d2f-ae61-45387fb84c3a"
	shapeNoState      = "9b97f00a-10bc-5b1b-b2ce-b3cd754b60cb"
	shapeNoPrice      = "245453fd-ad9b-5375-84bf-7da17686310c"
	shapeNoTitle      = "9c03460c-3020-5401-9302-41e963aea581"
	shapeNoTimestamps = "bbae7b4d-fda8-5094-b122-f2cd4d6822d1"
	shapeOnlyUpdated  = "3998b545-05ce-581d-92bb-df78832bc0a9"
)

var shapeIDs = []string{shapeNoCity, shapeEmptyCity, shapeNoState, shapeNoPrice, shapeNoTitle, shapeNoTimestamps, shapeOnlyUpdated}

// newShapesEnv is a table holding the shapes and a store on it.
func newShapesEnv(tb testing.TB) *legacyEnv {
	tb.Helper()
	e := &legacyEnv{table: testenv.Table(tb), calls: &testenv.Calls{}}
	e.db = testenv.Client(tb)
	s, err := dynamo.New(testenv.Client(tb, e.calls.Option), dynamo.Options{Table: e.table, Cursors: testenv.Cursors(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	e.store = s
	files, err := filepath.Glob(filepath.Join("testdata", "shapes", "*.json"))
	if err != nil || len(files) != len(shapeIDs) {
		tb.Fatalf("%d shape fixtures, want %d: %v", len(files), len(shapeIDs), err)
	}
	var items []map[string]types.AttributeValue
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		it, err := legacyItemFromJSON(data)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		items = append(items, it)
	}
	legacyPut(tb, e.db, e.table, items)
	return e
}

// shapeAnswers is what the API answers for each shape (the README's table).
func checkShapeAnswer(t *testing.T, p *property.Property) {
	t.Helper()
	epoch := time.Unix(0, 0).UTC()
	var bad bool
	switch p.ID {
	case shapeNoCity, shapeEmptyCity:
		bad = p.City != "" || p.State != "IL"
	case shapeNoState:
		bad = p.State != "" || p.City != "Chicago"
	case shapeNoPrice:
		bad = p.Price != 0
	case shapeNoTitle:
		bad = p.Title != ""
	case shapeNoTimestamps:
		bad = !p.CreatedAt.Equal(epoch) || !p.UpdatedAt.Equal(epoch) && p.Version == 1
	case shapeOnlyUpdated:
		bad = !p.CreatedAt.Equal(time.Date(2022, 7, 11, 8, 0, 0, 0, time.UTC))
	}
	if bad {
		t.Errorf("%s answered as %+v", p.ID, *p)
	}
}

func TestLegacyShapesRead(t *testing.T) {
	e := newShapesEnv(t)
	for _, id := range shapeIDs {
		checkShapeAnswer(t, mustGetLegacy(t, e.store, id))
	}
}

// Before any backfill: the update that upgrades the item, then a delete.
func TestLegacyShapesUpdateAndDelete(t *testing.T) {
	ctx := context.Background()
	e := newShapesEnv(t)
	for _, id := range shapeIDs {
		t.Run(id, func(t *testing.T) {
			before := mustGetLegacy(t, e.store, id)
			p, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: id, ExpectedVersion: 1, Zip: legacyPtr("60602")})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if p.Version != 2 || p.Zip != "60602" || !p.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("updated: %+v; want version 2, zip 60602, createdAt %v kept", p, before.CreatedAt)
			}
			checkShapeAnswer(t, p)
			raw := legacyRaw(t, e.db, e.table, id)
			shapeCheckStored(t, raw)
			// A field the item lacked and the update did not set stays absent.
			for _, f := range []string{"city", "state", "price", "title"} {
				if _, had := shapeFixture(t, id)[f]; !had {
					if _, has := raw[f]; has {
						t.Errorf("the update wrote %s = %s, which the item lacked", f, legacyAVText(raw[f]))
					}
				}
			}
			// Once more: the created time stays put although updatedAt moves.
			p, err = e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: id, ExpectedVersion: 2, Title: legacyPtr("Renamed")})
			if err != nil || !p.CreatedAt.Equal(before.CreatedAt) {
				t.Fatalf("second update: %+v, %v; want createdAt %v", p, err, before.CreatedAt)
			}
			if _, err := e.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: id, ExpectedVersion: legacyPtr(3)}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if raw := legacyRaw(t, e.db, e.table, id); raw != nil {
				t.Errorf("still stored after the delete")
			}
		})
	}
	// Deleting a legacy item as it is, without an upgrade.
	e2 := newShapesEnv(t)
	for _, id := range shapeIDs {
		if _, err := e2.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: id, ExpectedVersion: legacyPtr(1)}); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
}

func shapeFixture(tb testing.TB, id string) map[string]types.AttributeValue {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "shapes", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if strings.Contains(string(data), id) {
			it, err := legacyItemFromJSON(data)
			if err != nil {
				tb.Fatal(err)
			}
			return it
		}
	}
	tb.Fatalf("no fixture for %s", id)
	return nil
}

// shapeCheckStored checks an upgraded item: no index attribute is empty,
// cpk and skey exist exactly when city and state are not blank, and the old
// model reads it.
func shapeCheckStored(t *testing.T, raw map[string]types.AttributeValue) {
	t.Helper()
	for _, a := range []string{"lpk", "cpk", "opk", "csk", "psk", "skey"} {
		if s, ok := raw[a].(*types.AttributeValueMemberS); ok && s.Value == "" {
			t.Errorf("empty %s stored", a)
		}
	}
	for _, pair := range [][2]string{{"city", "cpk"}, {"state", "skey"}} {
		s, _ := raw[pair[0]].(*types.AttributeValueMemberS)
		_, hasKey := raw[pair[1]]
		if want := s != nil && strings.TrimSpace(s.Value) != ""; hasKey != want {
			t.Errorf("%s = %v but %s present: %v", pair[0], s, pair[1], hasKey)
		}
	}
	for _, a := range []string{"lpk", "csk", "psk"} {
		if _, ok := raw[a]; !ok {
			t.Errorf("no %s: the item would miss from unfiltered listings", a)
		}
	}
	mustORM(t, raw)
}

func TestLegacyShapesBackfill(t *testing.T) {
	ctx := context.Background()
	e := newShapesEnv(t)
	rep, err := dynamo.Backfill(ctx, e.db, e.table, dynamo.BackfillOptions{Owner: legacyOwner})
	if err != nil || rep.Failed != 0 || rep.Upgraded != int64(len(shapeIDs)) || !rep.Complete {
		t.Fatalf("backfill: %+v, %v; want all %d upgraded", rep, err, len(shapeIDs))
	}
	for _, id := range shapeIDs {
		shapeCheckStored(t, legacyRaw(t, e.db, e.table, id))
		checkShapeAnswer(t, mustGetLegacy(t, e.store, id))
	}
	rep, err = dynamo.Backfill(ctx, e.db, e.table, dynamo.BackfillOptions{Owner: legacyOwner})
	if err != nil || rep.Upgraded+rep.Tidied+rep.Owned+rep.Failed+rep.Stale != 0 {
		t.Errorf("second run: %+v, %v; want nothing to do", rep, err)
	}

	sorted := func(ids []string) []string { return slices.Sorted(slices.Values(ids)) }
	without := func(drop ...string) []string {
		var out []string
		for _, id := range shapeIDs {
			if !slices.Contains(drop, id) {
				out = append(out, id)
			}
		}
		return sorted(out)
	}
	for _, order := range []property.Order{property.OrderCreatedDesc, property.OrderCreatedAsc, property.OrderPriceAsc, property.OrderPriceDesc} {
		for name, tc := range map[string]struct {
			f    property.Filter
			want []string
		}{
			"unfiltered": {property.Filter{}, sorted(shapeIDs)},
			"city":       {property.Filter{City: legacyPtr("chicago")}, without(shapeNoCity, shapeEmptyCity)},
			"state":      {property.Filter{State: legacyPtr("il")}, without(shapeNoState)},
			"owner":      {property.Filter{OwnerID: legacyPtr(legacyOwner)}, sorted(shapeIDs)},
		} {
			got := legacyListIDs(t, e.store, property.ListQuery{First: 3, Order: order, Filter: tc.f})
			if !slices.Equal(sorted(got), tc.want) {
				t.Errorf("%s listing in %s: %q, want %q", name, order, got, tc.want)
			}
		}
	}
	// Price order puts the item without a price first, at 0.
	if got := legacyListIDs(t, e.store, property.ListQuery{First: 10, Order: property.OrderPriceAsc}); got[0] != shapeNoPrice {
		t.Errorf("cheapest: %s, want the one without a price", got[0])
	}
	// Oldest first: the one without timestamps, at 1970.
	if got := legacyListIDs(t, e.store, property.ListQuery{First: 10, Order: property.OrderCreatedAsc}); got[0] != shapeNoTimestamps {
		t.Errorf("oldest: %s, want the one without timestamps", got[0])
	}

	for _, id := range shapeIDs {
		p, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: id, ExpectedVersion: 1, Zip: legacyPtr("60603")})
		if err != nil || p.Version != 2 {
			t.Errorf("update %s after the backfill: %+v, %v", id, p, err)
			continue
		}
		shapeCheckStored(t, legacyRaw(t, e.db, e.table, id))
		if _, err := e.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: id, ExpectedVersion: legacyPtr(2)}); err != nil {
			t.Errorf("delete %s after the backfill: %v", id, err)
		}
	}
}
