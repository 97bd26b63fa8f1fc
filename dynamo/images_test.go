package dynamo_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
)

// keyListAV is keys as the old Lambdas store images.
func keyListAV(keys ...string) types.AttributeValue {
	l := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
	for _, k := range keys {
		l.Value = append(l.Value, &types.AttributeValueMemberS{Value: k})
	}
	return l
}

var testPNG = property.ImageRequest{ContentType: "image/png", ContentLength: 10}

func mustCreatePictured(tb testing.TB, s *dynamo.Store, n int) *property.Property {
	tb.Helper()
	imgs := make([]property.ImageRequest, n)
	for i := range imgs {
		imgs[i] = testPNG
	}
	p, err := s.Create(context.Background(), legacyAgent, property.CreateInput{Title: "Pictured", Price: 10, Address: "1 Main St",
		City: "Chicago", State: "IL", Images: imgs})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestRepairImages: the old Lambdas add keys to and remove keys from the
// list under images after the API wrote the item. The repair derives the
// image map again from the list (new keys at the end of the order, removed
// keys dropped) and bumps the version.
func TestRepairImages(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{Uploads: true})
	changed, emptied, untouched := mustCreatePictured(t, e.store, 3), mustCreatePictured(t, e.store, 2), mustCreatePictured(t, e.store, 2)
	mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{}) // the legacy fixtures, out of the way

	k := imageKeys(changed)
	added := "properties/" + changed.ID + "/" + uuid.NewString() + ".jpg"
	oldLambdaWrite(t, e.db, e.table, changed.ID, "images", keyListAV(k[0], k[2], added))
	oldLambdaWrite(t, e.db, e.table, emptied.ID, "images", nil)
	// Until the repair the API reads its map.
	if got := imageKeys(mustGetLegacy(t, e.store, changed.ID)); !slices.Equal(got, k) {
		t.Fatalf("before the repair the API reads %q, want its map %q", got, k)
	}

	t.Run("dry run", func(t *testing.T) {
		var out strings.Builder
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true, DryRun: true, Out: &out})
		if rep.Repaired != 2 || !strings.Contains(out.String(), "would repair property "+changed.ID+" (images changed):") ||
			!strings.Contains(out.String(), "images=list(3)") {
			t.Errorf("dry run %+v:\n%s", rep, out.String())
		}
	})

	t.Run("repair", func(t *testing.T) {
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true})
		if rep.Repaired != 2 {
			t.Fatalf("report %+v: want 2 repaired", rep)
		}
		for _, tc := range []struct {
			p       *property.Property
			keys    []string
			version int
		}{
			{changed, []string{k[0], k[2], added}, 2},
			{emptied, []string{}, 2},
			{untouched, imageKeys(untouched), 1},
		} {
			p := mustGetLegacy(t, e.store, tc.p.ID)
			if !slices.Equal(imageKeys(p), tc.keys) || p.Version != tc.version {
				t.Errorf("%s: images %q at version %d, want %q at version %d", tc.p.ID, imageKeys(p), p.Version, tc.keys, tc.version)
			}
			if got := mustORM(t, legacyRaw(t, e.db, e.table, tc.p.ID))["images"]; tc.p != emptied && got != ormList(append([]string(nil), tc.keys...)...) {
				t.Errorf("%s: old model reads %s, want %q", tc.p.ID, got, tc.keys)
			}
		}
		if p := mustGetLegacy(t, e.store, changed.ID); p.Images[2].ContentType != "image/jpeg" {
			t.Errorf("the old Lambdas' image reads as %+v", p.Images[2])
		}
		_, _, err := e.store.AddImages(ctx, legacyAgent, property.AddImagesInput{ID: changed.ID, ExpectedVersion: legacyPtr(1), Images: []property.ImageRequest{testPNG}})
		if perr, ok := legacyConflict(err); !ok || perr.Current.Version != 2 {
			t.Errorf("add at the version before the old write: %v, want CONFLICT at version 2", err)
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Repaired+rep.Tidied+rep.Stale != 0 {
			t.Errorf("second repair: %+v, want nothing", rep)
		}
	})

	t.Run("API changes after the repair", func(t *testing.T) {
		p, fresh, err := e.store.AddImages(ctx, legacyAgent, property.AddImagesInput{ID: changed.ID, ExpectedVersion: legacyPtr(2), Images: []property.ImageRequest{testPNG}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.RemoveImage(ctx, legacyAgent, property.RemoveImageInput{ID: changed.ID, Key: added, ExpectedVersion: legacyPtr(p.Version)}); err != nil {
			t.Fatal(err)
		}
		want := []string{k[0], k[2], fresh[0].Key}
		if got := mustORM(t, legacyRaw(t, e.db, e.table, changed.ID))["images"]; got != ormList(append([]string(nil), want...)...) {
			t.Errorf("old model reads %s, want %q", got, want)
		}
		if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Repaired != 0 {
			t.Errorf("repair after API image changes: %+v, want nothing", rep)
		}
	})
}

// TestRemoveImageRaces: an old Lambda changes the list under images between
// the removal's read and its write. The write's condition (the element at
// the index read is still the key) catches it; the removal plans again from
// the item its failed write returned, without another read, and neither
// change is lost.
func TestRemoveImageRaces(t *testing.T) {
	ctx := context.Background()
	var race func(id string)
	hook := beforeUpdate("oldLambdaFirst", func(_ context.Context, id string) {
		if r := race; r != nil {
			race = nil
			r(id)
		}
	})
	e := newLegacyEnv(t, dynamo.Options{Uploads: true}, hook)
	for _, tc := range []struct {
		name string
		// list is what the old Lambda stores, from the keys as created.
		list func(id string, k []string) []string
		// want is the old model's list after the removal of k[1].
		want func(list []string) []string
	}{
		{"a key put in front", func(id string, k []string) []string {
			return append([]string{"properties/" + id + "/" + uuid.NewString() + ".jpg"}, k...)
		}, func(l []string) []string { return []string{l[0], l[1], l[3]} }},
		{"the same key taken out", func(_ string, k []string) []string { return []string{k[0], k[2]} },
			func(l []string) []string { return l }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCreatePictured(t, e.store, 3)
			k := imageKeys(p)
			var list []string
			race = func(id string) {
				list = tc.list(id, k)
				oldLambdaWrite(t, e.db, e.table, id, "images", keyListAV(list...))
			}
			e.calls.Reset()
			q, err := e.store.RemoveImage(ctx, legacyAgent, property.RemoveImageInput{ID: p.ID, Key: k[1], ExpectedVersion: legacyPtr(1)})
			if err != nil {
				t.Fatal(err)
			}
			if race != nil {
				t.Fatal("no race happened: the test proves nothing")
			}
			if got := e.calls.Counts(); got["GetItem"] != 1 || got["UpdateItem"] != 2 {
				t.Errorf("calls %v, want 1 GetItem and 2 UpdateItem", got)
			}
			if want := []string{k[0], k[2]}; q.Version != 2 || !slices.Equal(imageKeys(q), want) {
				t.Errorf("answered %q at version %d, want %q at 2", imageKeys(q), q.Version, want)
			}
			want := tc.want(list)
			if got := mustORM(t, legacyRaw(t, e.db, e.table, p.ID))["images"]; got != ormList(append([]string(nil), want...)...) {
				t.Errorf("old model reads %s, want %q", got, want)
			}
		})
	}
}

// TestRemoveImageRoundTrips pins the removal's cost: a read for the list
// index, then one write; an unknown key or a stale version is answered from
// the read alone.
func TestRemoveImageRoundTrips(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{Uploads: true})
	p := mustCreatePictured(t, e.store, 2)
	for _, tc := range []struct {
		name string
		in   property.RemoveImageInput
		code string
		want map[string]int
	}{
		{"unknown key", property.RemoveImageInput{ID: p.ID, Key: "properties/" + p.ID + "/" + uuid.NewString()}, property.EINVALID, map[string]int{"GetItem": 1}},
		{"stale version", property.RemoveImageInput{ID: p.ID, Key: p.Images[0].Key, ExpectedVersion: legacyPtr(7)}, property.ECONFLICT, map[string]int{"GetItem": 1}},
		{"removed", property.RemoveImageInput{ID: p.ID, Key: p.Images[0].Key, ExpectedVersion: legacyPtr(1)}, "", map[string]int{"GetItem": 1, "UpdateItem": 1}},
		{"unknown property", property.RemoveImageInput{ID: uuid.NewString(), Key: p.Images[0].Key}, property.ENOTFOUND, map[string]int{"GetItem": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.calls.Reset()
			_, err := e.store.RemoveImage(ctx, legacyAgent, tc.in)
			if got := property.ErrorCode(err); got != tc.code {
				t.Errorf("code %q, want %q (%v)", got, tc.code, err)
			}
			if got := e.calls.Counts(); !equalCounts(got, tc.want) {
				t.Errorf("calls %v, want %v", got, tc.want)
			}
		})
	}
}
