package dynamo_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// oldLambdaWrite changes one field the way the old Lambdas' ORM does after
// the upgrade: an UpdateItem of the field and updatedAt, with no condition
// and no knowledge of version, index attributes or fingerprint. A nil value
// removes the field (the ORM's None).
func oldLambdaWrite(tb testing.TB, db *dynamodb.Client, table, id, field string, value types.AttributeValue) {
	tb.Helper()
	now := &types.AttributeValueMemberS{Value: time.Now().UTC().Format(legacyTimeStored)}
	in := &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + id}, "SK": &types.AttributeValueMemberS{Value: "METADATA"},
		},
		ExpressionAttributeNames:  map[string]string{"#f": field, "#u": "updatedAt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": now},
		UpdateExpression:          aws.String("SET #u = :u REMOVE #f"),
	}
	if value != nil {
		in.ExpressionAttributeValues[":v"] = value
		in.UpdateExpression = aws.String("SET #f = :v, #u = :u")
	}
	if _, err := db.UpdateItem(context.Background(), in); err != nil {
		tb.Fatalf("old Lambda's write of %s: %v", id, err)
	}
}

// repairEnv holds five properties created through the API in Denver.
type repairEnv struct {
	*legacyEnv
	ids []string
}

func newRepairEnv(tb testing.TB, clientOpts ...func(*dynamodb.Options)) *repairEnv {
	tb.Helper()
	e := &repairEnv{legacyEnv: &legacyEnv{table: testenv.Table(tb), calls: &testenv.Calls{}}}
	e.db = testenv.Client(tb)
	s, err := dynamo.New(testenv.Client(tb, append(clientOpts, e.calls.Option)...), dynamo.Options{Table: e.table, Cursors: testenv.Cursors(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	e.store = s
	for i := range 5 {
		p, err := s.Create(context.Background(), legacyAgent, property.CreateInput{Title: "Denver home", Price: 300000 + float64(i),
			Address: "1 Colfax Ave", City: "Denver", State: "CO"})
		if err != nil {
			tb.Fatal(err)
		}
		e.ids = append(e.ids, p.ID)
	}
	return e
}

func mustBackfill(tb testing.TB, db *dynamodb.Client, table string, opt dynamo.BackfillOptions) dynamo.BackfillReport {
	tb.Helper()
	rep, err := dynamo.Backfill(context.Background(), db, table, opt)
	if err != nil || !rep.Complete || rep.Failed != 0 {
		tb.Fatalf("backfill %+v: %+v, %v", opt, rep, err)
	}
	return rep
}

func TestRepair(t *testing.T) {
	ctx := context.Background()
	e := newRepairEnv(t)
	priced, renamed, moved, pictured, untouched := e.ids[0], e.ids[1], e.ids[2], e.ids[3], e.ids[4]
	if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Repaired+rep.Tidied != 0 {
		t.Fatalf("repair of items the API wrote: %+v, want nothing to do", rep)
	}

	oldLambdaWrite(t, e.db, e.table, priced, "price", &types.AttributeValueMemberN{Value: "1.50"})
	oldLambdaWrite(t, e.db, e.table, renamed, "title", &types.AttributeValueMemberS{Value: "Renamed by the old Lambdas"})
	oldLambdaWrite(t, e.db, e.table, moved, "city", nil)
	oldLambdaWrite(t, e.db, e.table, pictured, "images", &types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberS{Value: "properties/" + pictured + "/a1b2c3d4-0000-4000-8000-000000000001.jpg"}}})

	// Before the repair: the stale price key lists the item at its old
	// price, and a client holding the version could overwrite the change
	// unknowingly.
	if got := legacyListIDs(t, e.store, property.ListQuery{First: 10, Order: property.OrderPriceAsc, Filter: property.Filter{MaxPrice: legacyPtr(2.0)}}); len(got) != 0 {
		t.Fatalf("the price key was already right before the repair (%q): the test proves nothing", got)
	}
	versions := map[string]int{}
	for _, id := range e.ids {
		versions[id] = mustGetLegacy(t, e.store, id).Version
	}

	t.Run("a plain run changes nothing", func(t *testing.T) {
		// A plain run scans only items that lack something (here: the
		// priced one, without one fingerprint attribute): it reports a
		// stale one and leaves it to the repair, which must not bless the
		// stale price key by completing its fingerprint.
		_, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.table),
			Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + priced}, "SK": &types.AttributeValueMemberS{Value: "METADATA"},
			},
			UpdateExpression: aws.String("REMOVE fpd")})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		before := legacyDump(t, e.db, e.table)
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Log: &out})
		if rep.Stale != 1 || rep.Repaired+rep.Tidied != 0 {
			t.Errorf("report %+v: want 1 stale, nothing written", rep)
		}
		if !strings.Contains(out.String(), "property "+priced+" changed by another writer (psk, price no longer match its fields): run with -repair") {
			t.Errorf("log does not name the price change:\n%s", out.String())
		}
		if got := legacyDump(t, e.db, e.table); !reflect.DeepEqual(got, before) {
			t.Error("a run without -repair changed the table")
		}
	})

	t.Run("dry run", func(t *testing.T) {
		var out strings.Builder
		before := legacyDump(t, e.db, e.table)
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true, DryRun: true, Out: &out})
		if rep.Repaired != 4 || !strings.Contains(out.String(), "would repair property "+renamed+" (title changed):") {
			t.Errorf("dry run %+v:\n%s", rep, out.String())
		}
		if got := legacyDump(t, e.db, e.table); !reflect.DeepEqual(got, before) {
			t.Error("the dry run changed the table")
		}
	})

	t.Run("repair", func(t *testing.T) {
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true})
		if rep.Repaired != 4 || rep.Tidied != 0 {
			t.Fatalf("report %+v: want 4 repaired", rep)
		}
		for _, id := range e.ids {
			want := versions[id] + 1
			if id == untouched {
				want = versions[id]
			}
			p := mustGetLegacy(t, e.store, id)
			if p.Version != want {
				t.Errorf("%s at version %d, want %d", id, p.Version, want)
			}
			mustORM(t, legacyRaw(t, e.db, e.table, id))
			if id == untouched {
				continue
			}
			// A client holding the version it read before the old write now
			// gets CONFLICT instead of overwriting unseen changes.
			_, err := e.store.Update(ctx, legacyAgent, property.UpdateInput{ID: id, ExpectedVersion: versions[id], Zip: legacyPtr("80202")})
			if perr, ok := legacyConflict(err); !ok || perr.Current.Version != want {
				t.Errorf("update of %s at the old version: %v, want CONFLICT at version %d", id, err, want)
			}
		}
		if got := legacyListIDs(t, e.store, property.ListQuery{First: 10, Order: property.OrderPriceAsc, Filter: property.Filter{MaxPrice: legacyPtr(2.0)}}); !slices.Equal(got, []string{priced}) {
			t.Errorf("listing at the new price: %q, want %s", got, priced)
		}
		denver := legacyListIDs(t, e.store, property.ListQuery{First: 10, Filter: property.Filter{City: legacyPtr("Denver")}})
		if slices.Contains(denver, moved) || len(denver) != 4 {
			t.Errorf("Denver listing %q: want the 4 that still have the city", denver)
		}
		if p := mustGetLegacy(t, e.store, pictured); len(p.Images) != 1 || !strings.HasSuffix(p.Images[0].Key, ".jpg") {
			t.Errorf("images after the repair: %+v", p.Images)
		}
		raw := legacyRaw(t, e.db, e.table, pictured)
		if _, isMap := raw["imageSet"].(*types.AttributeValueMemberM); !isMap {
			t.Error("images not stored as a map under imageSet")
		}
		if got := legacyAVText(raw["images"]); !strings.HasPrefix(got, "L[") || !strings.HasSuffix(got, `.jpg"]`) {
			t.Errorf("images = %s, want the old Lambdas' list of one key", got)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		var counter updateItemCounter
		before := legacyDump(t, e.db, e.table)
		rep := mustBackfill(t, testenv.Client(t, counter.calls.Option), e.table, dynamo.BackfillOptions{Repair: true})
		if rep.Repaired+rep.Tidied+rep.Stale != 0 || counter.n() != 0 {
			t.Errorf("second repair: %+v, %d writes; want nothing", rep, counter.n())
		}
		if got := legacyDump(t, e.db, e.table); !reflect.DeepEqual(got, before) {
			t.Error("second repair changed the table")
		}
	})

	t.Run("API writes after the repair need no repair", func(t *testing.T) {
		p := mustGetLegacy(t, e.store, renamed)
		if _, err := e.store.Update(ctx, legacyAgent, property.UpdateInput{ID: renamed, ExpectedVersion: p.Version,
			Title: legacyPtr("Renamed again"), City: legacyPtr("Boulder"), Price: legacyPtr(7.0)}); err != nil {
			t.Fatal(err)
		}
		if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Repaired != 0 {
			t.Errorf("repair after an API update: %+v, want nothing", rep)
		}
	})
}

// TestRepairConcurrentWriters: an old Lambda and an API client write the
// item between the repair's read and its write. Neither write is lost, and
// what the repair derives matches the fields as they end up.
func TestRepairConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	var (
		e     *repairEnv
		mu    sync.Mutex
		raced = map[string]bool{}
	)
	// Before the repair's first write of an item, someone else writes it.
	hook := beforeUpdate("writeFirst", func(_ context.Context, id string) {
		mu.Lock()
		first := !raced[id]
		raced[id] = true
		mu.Unlock()
		switch {
		case first && id == e.ids[0]:
			oldLambdaWrite(t, e.db, e.table, id, "price", &types.AttributeValueMemberN{Value: "2.25"})
		case first && id == e.ids[1]:
			p := mustGetLegacy(t, e.store, id)
			if _, err := e.store.Update(ctx, legacyAgent, property.UpdateInput{ID: id, ExpectedVersion: p.Version, Zip: legacyPtr("80203")}); err != nil {
				t.Errorf("API update during the repair: %v", err)
			}
		}
	})
	e = newRepairEnv(t)
	for _, id := range e.ids[:2] {
		oldLambdaWrite(t, e.db, e.table, id, "price", &types.AttributeValueMemberN{Value: "1.25"})
	}
	versions := map[string]int{}
	for _, id := range e.ids {
		versions[id] = mustGetLegacy(t, e.store, id).Version
	}
	rep := mustBackfill(t, testenv.Client(t, hook), e.table, dynamo.BackfillOptions{Repair: true, Segments: 2})
	if rep.Repaired != 2 || rep.Changed != 2 {
		t.Errorf("report %+v: want 2 repaired, both after a concurrent change", rep)
	}

	// The old Lambda's second price stands, and the price key is its.
	p := mustGetLegacy(t, e.store, e.ids[0])
	if p.Price != 2.25 || p.Version != versions[e.ids[0]]+1 {
		t.Errorf("old Lambda's race: %+v; want price 2.25 at version %d", p, versions[e.ids[0]]+1)
	}
	// The API's zip stands, its version bump and the repair's too.
	q := mustGetLegacy(t, e.store, e.ids[1])
	if q.Zip != "80203" || q.Price != 1.25 || q.Version != versions[e.ids[1]]+2 {
		t.Errorf("API's race: %+v; want zip 80203, price 1.25, version %d", q, versions[e.ids[1]]+2)
	}
	got := legacyListIDs(t, e.store, property.ListQuery{First: 10, Order: property.OrderPriceAsc, Filter: property.Filter{MaxPrice: legacyPtr(3.0)}})
	if !slices.Equal(got, []string{e.ids[1], e.ids[0]}) {
		t.Errorf("cheap listing %q, want %s (1.25) then %s (2.25)", got, e.ids[1], e.ids[0])
	}
	if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Repaired != 0 {
		t.Errorf("next scheduled repair: %+v, want nothing", rep)
	}
}
