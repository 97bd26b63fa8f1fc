package dynamo_test

// The old Lambdas' model, read the way their ORM (PynamoDB) reads an item,
// so tests can prove that every item this API writes stays readable by the
// old system, which is the rollback during the cutover.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
)

// ormAttr is one attribute of the old model: its DynamoDB type ("S", "N"
// or "L"), the type of a list's elements, whether it is a
// UTCDateTimeAttribute, whether the model needs it.
type ormAttr struct {
	name     string
	typ      string
	of       string
	datetime bool
	required bool
}

// ormModel is the old Lambdas' property model (testdata/legacy/README.md):
// text as UnicodeAttribute (S), price as NumberAttribute (N), timestamps as
// UTCDateTimeAttribute (S in the ORM's format), images as
// ListAttribute(of=UnicodeAttribute) (an L of S keys); description, zip and
// images are null=True and updatedAt came later.
var ormModel = []ormAttr{
	{name: "PK", typ: "S", required: true},
	{name: "SK", typ: "S", required: true},
	{name: "id", typ: "S", required: true},
	{name: "title", typ: "S"},
	{name: "description", typ: "S"},
	{name: "price", typ: "N"},
	{name: "address", typ: "S"},
	{name: "city", typ: "S"},
	{name: "state", typ: "S"},
	{name: "zip", typ: "S"},
	{name: "createdAt", typ: "S", datetime: true},
	{name: "updatedAt", typ: "S", datetime: true},
	{name: "images", typ: "L", of: "S"},
}

// ormFormat is the format string the ORM names in its errors.
const ormFormat = "%Y-%m-%dT%H:%M:%S.%f+0000"

// ormDecode reads item as the ORM does: each declared attribute that is
// present and not NULL must have the declared type (else
// AttributeDeserializationError); a number is decoded as JSON; a datetime
// by the ORM's fast parser (left-padded with zeros to 31 characters, then
// fixed positions and a literal +0000); a typed list element by element (a
// NULL element is None, any other must have the element type); attributes
// the model does not declare are ignored. The values come back as Python
// would print them (a list of text as ['a', 'b']).
func ormDecode(item map[string]types.AttributeValue) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range ormModel {
		av, ok := item[a.name]
		if _, null := av.(*types.AttributeValueMemberNULL); !ok || null {
			if a.required {
				return nil, fmt.Errorf("attribute %s is required", a.name)
			}
			continue
		}
		switch a.typ {
		case "S":
			s, ok := av.(*types.AttributeValueMemberS)
			if !ok {
				return nil, fmt.Errorf("cannot deserialize %s attribute from type: S", a.name)
			}
			out[a.name] = s.Value
			if a.datetime {
				t, err := ormParseTime(s.Value)
				if err != nil {
					return nil, err
				}
				out[a.name] = t.Format("2006-01-02 15:04:05.999999-07:00")
			}
		case "N":
			n, ok := av.(*types.AttributeValueMemberN)
			if !ok {
				return nil, fmt.Errorf("cannot deserialize %s attribute from type: N", a.name)
			}
			var v json.Number
			dec := json.NewDecoder(strings.NewReader(n.Value))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil || dec.More() {
				return nil, fmt.Errorf("%s: %q is not a JSON number", a.name, n.Value)
			}
			out[a.name] = v.String()
		case "L":
			l, ok := av.(*types.AttributeValueMemberL)
			if !ok {
				return nil, fmt.Errorf("cannot deserialize %s attribute from type: L", a.name)
			}
			elems := make([]string, len(l.Value))
			for i, e := range l.Value {
				if _, null := e.(*types.AttributeValueMemberNULL); null {
					elems[i] = "None"
					continue
				}
				s, ok := e.(*types.AttributeValueMemberS)
				if !ok || a.of != "S" {
					return nil, fmt.Errorf("cannot deserialize %s[%d] attribute from type: %s", a.name, i, a.of)
				}
				elems[i] = "'" + s.Value + "'"
			}
			out[a.name] = "[" + strings.Join(elems, ", ") + "]"
		}
	}
	return out, nil
}

// ormList is keys as ormDecode prints a list of text.
func ormList(keys ...string) string {
	for i, k := range keys {
		keys[i] = "'" + k + "'"
	}
	return "[" + strings.Join(keys, ", ") + "]"
}

// ormParseTime is the ORM's UTCDateTimeAttribute parser.
func ormParseTime(s string) (time.Time, error) {
	bad := fmt.Errorf("Datetime string '%s' does not match format '%s'", s, ormFormat)
	if len(s) < 31 {
		s = strings.Repeat("0", 31-len(s)) + s
	}
	if len(s) != 31 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		s[19] != '.' || s[26:31] != "+0000" {
		return time.Time{}, bad
	}
	var f [7]int
	for i, r := range [][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 26}} {
		v, err := strconv.Atoi(s[r[0]:r[1]])
		if err != nil || v < 0 {
			return time.Time{}, bad
		}
		f[i] = v
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*1000, time.UTC)
	// Python's datetime() refuses what Go would normalise (a 13th month).
	if t.Year() != f[0] || int(t.Month()) != f[1] || t.Day() != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, bad
	}
	return t, nil
}

// mustORM decodes item with ormDecode or fails the test.
func mustORM(tb testing.TB, item map[string]types.AttributeValue) map[string]string {
	tb.Helper()
	if item == nil {
		tb.Fatal("no item")
	}
	got, err := ormDecode(item)
	if err != nil {
		tb.Fatalf("the old model cannot read the item: %v\n%s", err, legacyItemText(item))
	}
	return got
}

// The decoder itself: it reads what the ORM wrote and refuses what the ORM
// refuses, so the round trips below can fail.
func TestORMDecoder(t *testing.T) {
	fx := legacyFixtures(t)
	for name, it := range fx {
		t.Run("fixture "+name, func(t *testing.T) {
			got := mustORM(t, it)
			if got["id"] == "" || got["createdAt"] == "" {
				t.Errorf("decoded %v", got)
			}
		})
	}
	loft := fx["loft-chicago"]
	with := func(name string, av types.AttributeValue) map[string]types.AttributeValue {
		out := map[string]types.AttributeValue{}
		for k, v := range loft {
			out[k] = v
		}
		if av == nil {
			delete(out, name)
		} else {
			out[name] = av
		}
		return out
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want string // "" means it decodes
	}{
		{"this API's earlier timestamps", with("createdAt", s("2023-03-14T09:26:53.589Z")), "does not match format '%Y-%m-%dT%H:%M:%S.%f+0000'"},
		{"another zone", with("updatedAt", s("2024-01-15T10:30:00.000000+0100")), "does not match format"},
		{"milliseconds only", with("updatedAt", s("2024-01-15T10:30:00.000+0000")), "does not match format"},
		{"a 13th month", with("updatedAt", s("2024-13-15T10:30:00.000000+0000")), "does not match format"},
		{"price as text", with("price", s("425000")), "cannot deserialize price attribute from type: N"},
		{"price not a number", with("price", &types.AttributeValueMemberN{Value: "4e"}), "not a JSON number"},
		{"title as a number", with("title", &types.AttributeValueMemberN{Value: "1"}), "cannot deserialize title"},
		{"no id", with("id", nil), "id is required"},
		{"NULL id", with("id", &types.AttributeValueMemberNULL{Value: true}), "id is required"},
		{"an attribute it does not declare", with("psk", &types.AttributeValueMemberM{}), ""},
		{"a NULL optional field", with("zip", &types.AttributeValueMemberNULL{Value: true}), ""},
		{"no updatedAt", with("updatedAt", nil), ""},
		{"a year before 1000, unpadded", with("updatedAt", s("999-01-15T10:30:00.000000+0000")), ""},
		{"images as a map", with("images", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": s("k")}}), "cannot deserialize images attribute from type: L"},
		{"images as a string set", with("images", &types.AttributeValueMemberSS{Value: []string{"k"}}), "cannot deserialize images attribute from type: L"},
		{"an image key as a number", with("images", &types.AttributeValueMemberL{Value: []types.AttributeValue{s("k"), &types.AttributeValueMemberN{Value: "7"}}}), "cannot deserialize images[1] attribute from type: S"},
		{"an image as a map", with("images", &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{}}}), "cannot deserialize images[0]"},
		{"an empty image list", with("images", &types.AttributeValueMemberL{}), ""},
		{"no images", with("images", nil), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ormDecode(tc.item)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestORMRoundTrip: an item created, updated and backfilled by this API is
// read by the old model, with the values the API answers.
func TestORMRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{})
	pyTime := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999-07:00") }

	t.Run("created and updated by the API", func(t *testing.T) {
		p, err := e.store.Create(ctx, legacyAgent, property.CreateInput{Title: "New loft", Price: 1234.5,
			Address: "1 Main St", City: "Chicago", State: "IL"})
		if err != nil {
			t.Fatal(err)
		}
		got := mustORM(t, legacyRaw(t, e.db, e.table, p.ID))
		for name, want := range map[string]string{"id": p.ID, "title": "New loft", "price": "1234.5", "city": "Chicago",
			"createdAt": pyTime(p.CreatedAt), "updatedAt": pyTime(p.UpdatedAt)} {
			if got[name] != want {
				t.Errorf("old model reads %s = %q, want %q", name, got[name], want)
			}
		}
		p, err = e.store.Update(ctx, legacyAgent, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Price: legacyPtr(99.99), Title: legacyPtr("Renamed")})
		if err != nil {
			t.Fatal(err)
		}
		got = mustORM(t, legacyRaw(t, e.db, e.table, p.ID))
		if got["price"] != "99.99" || got["title"] != "Renamed" || got["updatedAt"] != pyTime(p.UpdatedAt) {
			t.Errorf("old model reads %v after the update, want %+v", got, p)
		}
	})

	t.Run("a legacy item updated by the API", func(t *testing.T) {
		before := mustORM(t, legacyRaw(t, e.db, e.table, legacyLoft))
		p, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyLoft, ExpectedVersion: 1, Zip: legacyPtr("60611")})
		if err != nil {
			t.Fatal(err)
		}
		got := mustORM(t, legacyRaw(t, e.db, e.table, legacyLoft))
		// Untouched fields read as before, createdAt to the microsecond.
		for _, name := range []string{"title", "description", "price", "city", "state", "createdAt"} {
			if got[name] != before[name] {
				t.Errorf("%s read %q by the old model before, %q after", name, before[name], got[name])
			}
		}
		if got["zip"] != "60611" || got["updatedAt"] != pyTime(p.UpdatedAt) {
			t.Errorf("old model reads %v, want zip 60611 and updatedAt %v", got, p.UpdatedAt)
		}
	})

	t.Run("backfilled", func(t *testing.T) {
		before := map[string]map[string]string{}
		for _, id := range []string{legacyBungalow, legacyCondo, legacyStudio, legacyHouse} {
			before[id] = mustORM(t, legacyRaw(t, e.db, e.table, id))
		}
		rep, err := dynamo.Backfill(ctx, e.db, e.table, dynamo.BackfillOptions{Owner: legacyOwner})
		if err != nil || rep.Failed != 0 || rep.Upgraded != 4 {
			t.Fatalf("backfill: %+v, %v; want 4 upgraded", rep, err)
		}
		for id, was := range before {
			raw := legacyRaw(t, e.db, e.table, id)
			if _, ok := raw["version"]; !ok {
				t.Fatalf("%s was not backfilled", id)
			}
			got := mustORM(t, raw)
			for name, v := range was {
				if got[name] != v {
					t.Errorf("%s: %s read %q by the old model before the backfill, %q after", id, name, v, got[name])
				}
			}
			if id == legacyHouse && got["updatedAt"] != got["createdAt"] {
				// It had none; the API reads it as createdAt and now stores
				// that, so it cannot move with a later update.
				t.Errorf("house: updatedAt %q, want createdAt %q", got["updatedAt"], got["createdAt"])
			}
		}
	})
}

// TestEarlierFormatTidied: items this API stored in its earlier timestamp
// format are read, and the backfill rewrites their timestamps in the ORM's
// format without a new version or a change to the indexes.
func TestEarlierFormatTidied(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{})
	p, err := e.store.Create(ctx, legacyAgent, property.CreateInput{Title: "Old API item", Price: 500, Address: "2 Main St", City: "Austin", State: "TX"})
	if err != nil {
		t.Fatal(err)
	}
	// As the earlier API version wrote it: timestamps "....000Z", no
	// fingerprint.
	raw := legacyRaw(t, e.db, e.table, p.ID)
	old := p.CreatedAt.UTC().Format(legacyTimeOurs)
	raw["createdAt"], raw["updatedAt"] = &types.AttributeValueMemberS{Value: old}, &types.AttributeValueMemberS{Value: old}
	for _, a := range []string{"fpt", "fpd", "fpp", "fpa", "fpc", "fps", "fpz"} {
		delete(raw, a)
	}
	legacyPut(t, e.db, e.table, []map[string]types.AttributeValue{raw})
	if _, err := ormDecode(raw); err == nil {
		t.Fatal("the old model reads the earlier format: the test proves nothing")
	}
	if got := mustGetLegacy(t, e.store, p.ID); !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("earlier format read as %v, want %v", got.CreatedAt, p.CreatedAt)
	}
	csk := legacyAVText(raw["csk"])

	rep, err := dynamo.Backfill(ctx, e.db, e.table, dynamo.BackfillOptions{})
	if err != nil || rep.Tidied != 1 || rep.Failed != 0 || rep.Repaired != 0 {
		t.Fatalf("backfill: %+v, %v; want 1 tidied", rep, err)
	}
	after := legacyRaw(t, e.db, e.table, p.ID)
	got := mustORM(t, after)
	if want := p.CreatedAt.UTC().Format("2006-01-02 15:04:05.999999-07:00"); got["createdAt"] != want {
		t.Errorf("createdAt read by the old model as %q, want %q", got["createdAt"], want)
	}
	if legacyAVText(after["version"]) != "N:1" || legacyAVText(after["csk"]) != csk || after["fpt"] == nil {
		t.Errorf("tidied item: version %s, csk %s (was %s), fpt %v", legacyAVText(after["version"]), legacyAVText(after["csk"]), csk, after["fpt"])
	}
	if p2 := mustGetLegacy(t, e.store, p.ID); !p2.CreatedAt.Equal(p.CreatedAt) || p2.Version != 1 {
		t.Errorf("after the backfill: %+v", p2)
	}
	// It lists first, as the newest: its sort key did not change.
	ids := legacyListIDs(t, e.store, property.ListQuery{First: 1, Order: property.OrderCreatedDesc})
	if len(ids) == 0 || ids[0] != p.ID {
		t.Errorf("listing: %q, want %s first", ids, p.ID)
	}
	rep, err = dynamo.Backfill(ctx, e.db, e.table, dynamo.BackfillOptions{})
	if err != nil || rep.Tidied != 0 || rep.Upgraded != 0 {
		t.Errorf("second run: %+v, %v; want nothing to do", rep, err)
	}
}

// imageKeys are p's image keys in the order the API answers them.
func imageKeys(p *property.Property) []string {
	keys := make([]string, len(p.Images))
	for i, img := range p.Images {
		keys[i] = img.Key
	}
	return keys
}

// TestORMImages: every write that changes images leaves images the old
// model's list of keys (ListAttribute(of=UnicodeAttribute)), in the order the
// API answers them, and the API reads the same images back: created,
// images added, an image removed, a legacy item upgraded, items backfilled,
// and items this API stored with its earlier layout (its map under images).
func TestORMImages(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{Uploads: true})
	png := property.ImageRequest{ContentType: "image/png", ContentLength: 10}
	// same checks that the old model reads images as want and the API
	// answers the same keys in the same order.
	same := func(t *testing.T, id string, want []string) {
		t.Helper()
		got := mustORM(t, legacyRaw(t, e.db, e.table, id))
		if w := ormList(append([]string(nil), want...)...); got["images"] != w {
			t.Errorf("old model reads images %s, want %s", got["images"], w)
		}
		if keys := imageKeys(mustGetLegacy(t, e.store, id)); !slices.Equal(keys, want) {
			t.Errorf("API reads images %q, want %q", keys, want)
		}
	}

	p, err := e.store.Create(ctx, legacyAgent, property.CreateInput{Title: "Pictured", Price: 10, Address: "1 Main St",
		City: "Chicago", State: "IL", Images: []property.ImageRequest{png, png}})
	if err != nil {
		t.Fatal(err)
	}
	keys := imageKeys(p)
	t.Run("created", func(t *testing.T) { same(t, p.ID, keys) })

	t.Run("created without images", func(t *testing.T) {
		q, err := e.store.Create(ctx, legacyAgent, property.CreateInput{Title: "Bare", Price: 10, Address: "1 Main St", City: "Chicago", State: "IL"})
		if err != nil {
			t.Fatal(err)
		}
		same(t, q.ID, []string{})
	})

	t.Run("images added", func(t *testing.T) {
		for v := 1; v <= 2; v++ {
			q, added, err := e.store.AddImages(ctx, legacyAgent, property.AddImagesInput{ID: p.ID, ExpectedVersion: legacyPtr(v), Images: []property.ImageRequest{png, png}})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, imageKeys(&property.Property{Images: added})...)
			if !slices.Equal(imageKeys(q), keys) {
				t.Fatalf("answered %q, want %q", imageKeys(q), keys)
			}
		}
		same(t, p.ID, keys)
	})

	t.Run("images removed", func(t *testing.T) {
		// The middle one, the first, the last: the rest keep their order.
		for _, i := range []int{3, 0, 3} {
			q := mustGetLegacy(t, e.store, p.ID)
			if _, err := e.store.RemoveImage(ctx, legacyAgent, property.RemoveImageInput{ID: p.ID, Key: keys[i], ExpectedVersion: legacyPtr(q.Version)}); err != nil {
				t.Fatal(err)
			}
			keys = slices.Delete(keys, i, i+1)
			same(t, p.ID, keys)
		}
	})

	t.Run("legacy item upgraded", func(t *testing.T) {
		legacyKeys := []string{
			"properties/" + legacyLoft + "/0d6c1f4e-5a7b-4c1e-9b8e-3f2a1d0c9e8b.jpg",
			"properties/" + legacyLoft + "/7e2b9a10-44c3-4f5d-8a61-2b7c8d9e0f1a.png",
		}
		same(t, legacyLoft, legacyKeys)
		q, added, err := e.store.AddImages(ctx, legacyAdmin, property.AddImagesInput{ID: legacyLoft, ExpectedVersion: legacyPtr(1), Images: []property.ImageRequest{png}})
		if err != nil || q.Version != 2 {
			t.Fatalf("add to a legacy item: %+v, %v", q, err)
		}
		want := append(legacyKeys, added[0].Key)
		same(t, legacyLoft, want)
		if _, err := e.store.RemoveImage(ctx, legacyAdmin, property.RemoveImageInput{ID: legacyLoft, Key: want[0]}); err != nil {
			t.Fatal(err)
		}
		same(t, legacyLoft, want[1:])
	})

	t.Run("backfilled", func(t *testing.T) {
		before := map[string]string{}
		for _, id := range []string{legacyBungalow, legacyCondo, legacyStudio, legacyHouse} {
			before[id] = mustORM(t, legacyRaw(t, e.db, e.table, id))["images"]
		}
		mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{})
		for id, was := range before {
			raw := legacyRaw(t, e.db, e.table, id)
			if _, ok := raw["imageSet"]; !ok {
				t.Fatalf("%s was not backfilled: %s", id, legacyItemText(raw))
			}
			if got := mustORM(t, raw)["images"]; got != was {
				t.Errorf("%s: the old model read images %q before the backfill, %q after", id, was, got)
			}
		}
		if before[legacyStudio] != ormList("properties/"+legacyStudio+"/c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f") {
			t.Errorf("studio's images read as %q: the test proves nothing", before[legacyStudio])
		}
	})
}

// earlierImageLayout rewrites id as this API stored it before images became
// the old model's list: its image map under images, no imageSet.
func earlierImageLayout(tb testing.TB, e *legacyEnv, id string) map[string]types.AttributeValue {
	tb.Helper()
	raw := legacyRaw(tb, e.db, e.table, id)
	raw["images"] = raw["imageSet"]
	delete(raw, "imageSet")
	legacyPut(tb, e.db, e.table, []map[string]types.AttributeValue{raw})
	if _, err := ormDecode(raw); err == nil {
		tb.Fatal("the old model reads the earlier layout: the test proves nothing")
	}
	return raw
}

// TestEarlierImageLayout: items this API stored with its image map under
// images are read as before; the backfill moves them to the layout the old
// model reads without a new version, and an image change on one not yet
// backfilled does the same in its write.
func TestEarlierImageLayout(t *testing.T) {
	ctx := context.Background()
	e := newLegacyEnv(t, dynamo.Options{Uploads: true})
	png := property.ImageRequest{ContentType: "image/png", ContentLength: 10}
	var ps []*property.Property
	for range 3 {
		p, err := e.store.Create(ctx, legacyAgent, property.CreateInput{Title: "Earlier", Price: 10, Address: "1 Main St",
			City: "Chicago", State: "IL", Images: []property.ImageRequest{png, png, png}})
		if err != nil {
			t.Fatal(err)
		}
		earlierImageLayout(t, e, p.ID)
		if got := mustGetLegacy(t, e.store, p.ID); !slices.Equal(imageKeys(got), imageKeys(p)) || got.Version != 1 {
			t.Fatalf("earlier layout read as %+v, want %q at version 1", got, imageKeys(p))
		}
		ps = append(ps, p)
	}

	t.Run("image added", func(t *testing.T) {
		e.calls.Reset()
		q, added, err := e.store.AddImages(ctx, legacyAgent, property.AddImagesInput{ID: ps[0].ID, ExpectedVersion: legacyPtr(1), Images: []property.ImageRequest{png}})
		if err != nil || q.Version != 2 {
			t.Fatalf("add: %+v, %v", q, err)
		}
		// The image write fails its condition (no imageSet) and the
		// upgrading write follows: once per item.
		if got := e.calls.Counts()["UpdateItem"]; got != 2 {
			t.Errorf("%d UpdateItem calls, want 2", got)
		}
		want := append(imageKeys(ps[0]), added[0].Key)
		if got := mustORM(t, legacyRaw(t, e.db, e.table, ps[0].ID))["images"]; got != ormList(want...) {
			t.Errorf("old model reads images %s, want %q", got, want)
		}
	})

	t.Run("image removed", func(t *testing.T) {
		key := imageKeys(ps[1])[1]
		q, err := e.store.RemoveImage(ctx, legacyAgent, property.RemoveImageInput{ID: ps[1].ID, Key: key, ExpectedVersion: legacyPtr(1)})
		if err != nil || q.Version != 2 {
			t.Fatalf("remove: %+v, %v", q, err)
		}
		want := slices.Delete(imageKeys(ps[1]), 1, 2)
		if got := mustORM(t, legacyRaw(t, e.db, e.table, ps[1].ID))["images"]; got != ormList(want...) {
			t.Errorf("old model reads images %s, want %q", got, want)
		}
	})

	t.Run("backfilled", func(t *testing.T) {
		p := ps[2]
		rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{})
		if rep.Tidied != 1 || rep.Repaired+rep.Stale != 0 {
			t.Errorf("report %+v: want the one item tidied", rep)
		}
		raw := legacyRaw(t, e.db, e.table, p.ID)
		if got := mustORM(t, raw)["images"]; got != ormList(imageKeys(p)...) {
			t.Errorf("old model reads images %s, want %q", got, imageKeys(p))
		}
		if got := mustGetLegacy(t, e.store, p.ID); got.Version != 1 || !slices.Equal(imageKeys(got), imageKeys(p)) {
			t.Errorf("after the backfill: %+v", got)
		}
		if rep := mustBackfill(t, e.db, e.table, dynamo.BackfillOptions{Repair: true}); rep.Tidied+rep.Repaired+rep.Upgraded != 0 {
			t.Errorf("next run: %+v, want nothing to do", rep)
		}
	})
}
