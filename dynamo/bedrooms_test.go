package dynamo_test

import (
	"context"
	"errors"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
)

// TestBedrooms follows the field added to prove the table of fields
// (fields.go): stored, updated, returned, in the CONFLICT payload, absent
// when not given, and set on a legacy item by the upgrading write.
func TestBedrooms(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{})
	stored := func(id string) string { return legacyAVText(legacyRaw(t, e.db, e.table, id)["bedrooms"]) }

	without := mustCreate(t, e.store, sample("No count", 100))
	if without.Bedrooms != nil {
		t.Errorf("created without bedrooms: Bedrooms = %d, want nil", *without.Bedrooms)
	}
	if got := mustGet(t, e.store, without.ID); got.Bedrooms != nil {
		t.Errorf("read without bedrooms: Bedrooms = %d, want nil", *got.Bedrooms)
	}
	if _, had := legacyRaw(t, e.db, e.table, without.ID)["bedrooms"]; had {
		t.Errorf("a property without bedrooms stores the attribute: %s", stored(without.ID))
	}

	in := sample("Three", 100)
	in.Bedrooms = ptr(3)
	p := mustCreate(t, e.store, in)
	for _, tt := range []struct {
		name string
		got  *property.Property
	}{{"create", p}, {"read", mustGet(t, e.store, p.ID)}} {
		if tt.got.Bedrooms == nil || *tt.got.Bedrooms != 3 {
			t.Errorf("%s: Bedrooms = %v, want 3", tt.name, tt.got.Bedrooms)
		}
	}
	if got, want := stored(p.ID), "N:3"; got != want {
		t.Errorf("stored bedrooms = %s, want %s", got, want)
	}

	p = mustUpdate(t, e.store, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Bedrooms: ptr(0)})
	if p.Bedrooms == nil || *p.Bedrooms != 0 || p.Version != 2 {
		t.Errorf("updated to 0 bedrooms: Bedrooms = %v, version %d", p.Bedrooms, p.Version)
	}
	p = mustUpdate(t, e.store, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 2, Title: ptr("Renamed")})
	if p.Bedrooms == nil || *p.Bedrooms != 0 {
		t.Errorf("an update of the title changed bedrooms to %v", p.Bedrooms)
	}
	if got, want := stored(p.ID), "N:0"; got != want {
		t.Errorf("stored bedrooms = %s, want %s", got, want)
	}

	_, err := e.store.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Bedrooms: ptr(5)})
	var perr *property.Error
	if !errors.As(err, &perr) || perr.Code != property.ECONFLICT || perr.Current == nil {
		t.Fatalf("stale update: %v, want CONFLICT with the current property", err)
	}
	if b := perr.Current.Bedrooms; b == nil || *b != 0 {
		t.Errorf("CONFLICT's current bedrooms = %v, want 0", b)
	}

	// A legacy item: the normal write fails, the upgrading write sets it.
	up, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyLoft, ExpectedVersion: 1, Bedrooms: ptr(4)})
	if err != nil {
		t.Fatalf("update of a legacy item: %v", err)
	}
	if up.Bedrooms == nil || *up.Bedrooms != 4 || up.Version != 2 {
		t.Errorf("legacy item updated: Bedrooms = %v, version %d", up.Bedrooms, up.Version)
	}
	if got, want := stored(legacyLoft), "N:4"; got != want {
		t.Errorf("legacy item's stored bedrooms = %s, want %s", got, want)
	}
}
