package dynamo

// Items of the platform's old Lambdas.
//
// Before this API, four Python Lambdas wrote properties into the same table
// through an ORM: the same PK/SK and field names, but no version, no index
// attributes, no normalised city or state, no owner, timestamps in the ORM's
// format (2024-01-15T10:30:00.000000+0000) and images as a list of object
// keys. Such a "legacy" item is recognised by its missing version.
//
// Every decode of an item goes through item.UnmarshalDynamoDBAttributeValue,
// which reads a legacy item as version 1 with its images in a map, so Get,
// List, and the ALL_OLD item of a failed condition all understand it.
//
// Writes never see a legacy item in our normal one-round-trip path: every
// update's condition names the version (or requires one), so it fails, and
// its ALL_OLD item is enough to build a second write that applies the change
// and brings the item to our shape at once, conditioned on the item being
// exactly as read. Deletes accept a missing version as version 1 in their
// condition and stay at one round trip. Backfill (below) upgrades every
// legacy item ahead of time, so the second round trip is a migration cost,
// not a permanent one.

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
)

// legacyTimeLayouts are the timestamp formats read besides ours: the ORM's
// UTC datetime attribute, then any RFC 3339 time.
var legacyTimeLayouts = []string{"2006-01-02T15:04:05.000000-0700", time.RFC3339Nano}

// parseStoredTime reads a stored timestamp in our format or a legacy one, at our
// millisecond precision in UTC.
func parseStoredTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err == nil {
		return t, nil
	}
	for _, layout := range legacyTimeLayouts {
		if lt, lerr := time.Parse(layout, s); lerr == nil {
			return lt.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, err
}

// times returns the item's creation and update times. A missing one reads as
// the other, both missing as the Unix epoch (documented in the README).
func (it *item) times() (created, updated time.Time, err error) {
	if it.CreatedAt != "" {
		if created, err = parseStoredTime(it.CreatedAt); err != nil {
			return created, updated, fmt.Errorf("item %s: createdAt %q: %w", it.ID, it.CreatedAt, err)
		}
	}
	if it.UpdatedAt != "" {
		if updated, err = parseStoredTime(it.UpdatedAt); err != nil {
			return created, updated, fmt.Errorf("item %s: updatedAt %q: %w", it.ID, it.UpdatedAt, err)
		}
	}
	switch {
	case it.CreatedAt == "" && it.UpdatedAt == "":
		created = time.Unix(0, 0).UTC()
		updated = created
	case it.CreatedAt == "":
		created = updated
	case it.UpdatedAt == "":
		updated = created
	}
	return created, updated, nil
}

// storedItem has item's fields without its methods, so the unmarshaler below
// can decode into it without calling itself.
type storedItem item

// UnmarshalDynamoDBAttributeValue decodes a stored item, ours or legacy. A
// legacy item (no version) reads as version 1, its list of image keys as our
// image map, and keeps its attributes as read for the condition of the write
// that upgrades it.
func (it *item) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("item is a %T, not a map", av)
	}
	raw := m.Value
	var keys []string
	if imgs, ok := raw["images"]; ok {
		if _, isMap := imgs.(*types.AttributeValueMemberM); !isMap {
			var err error
			if keys, err = legacyImageKeys(imgs); err != nil {
				return err
			}
			raw = withoutAttr(raw, "images")
		}
	}
	var s storedItem
	if err := attributevalue.UnmarshalMap(raw, &s); err != nil {
		return err
	}
	*it = item(s)
	if _, ok := m.Value["version"]; !ok {
		it.legacy, it.Version, it.stored = true, 1, m.Value
		if it.ID == "" {
			it.ID = strings.TrimPrefix(it.PK, pkPrefix)
		}
	}
	if keys != nil {
		it.Images = legacyImageMap(keys)
	}
	return nil
}

func withoutAttr(m map[string]types.AttributeValue, name string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		if k != name {
			out[k] = v
		}
	}
	return out
}

// legacyImageKeys reads the old Lambdas' images attribute: a list of object
// keys in upload order (a string set or NULL is accepted too).
func legacyImageKeys(av types.AttributeValue) ([]string, error) {
	keys := []string{}
	switch v := av.(type) {
	case *types.AttributeValueMemberNULL:
	case *types.AttributeValueMemberSS:
		keys = append(keys, v.Value...)
		sort.Strings(keys) // a set has no order; keep reads stable
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				return nil, fmt.Errorf("images[%d] is a %T, not an object key", i, e)
			}
			keys = append(keys, s.Value)
		}
	default:
		return nil, fmt.Errorf("images is a %T, neither a map nor a list of keys", av)
	}
	return keys, nil
}

var legacyImageNS = uuid.MustParse("3c0f5a8e-8d0b-4f7e-a1a4-6a9f4f0d2b51")

// legacyImageMap turns a list of keys into our image map. The entry is
// named like ours (the key's last element) when that is a plain name;
// otherwise (say "<uuid>.jpg", whose dot would read as a path in an update
// expression) by a name derived from the key, the same on every read.
// Content type comes from the extension; the size is unknown (0).
func legacyImageMap(keys []string) map[string]image {
	imgs := make(map[string]image, len(keys))
	for i, key := range keys {
		if key == "" {
			continue
		}
		id := property.ImageID(key)
		if !plainName(id) {
			id = uuid.NewSHA1(legacyImageNS, []byte(key)).String()
		}
		imgs[id] = image{Key: key, Order: int64(i), ContentType: contentTypeOf(key)}
	}
	return imgs
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func contentTypeOf(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	}
	return "application/octet-stream"
}

// shaped returns a copy of it in our shape: our timestamps, an image map and
// the index attributes. Version and owner are left as they are.
func (it *item) shaped() (item, error) {
	out := *it
	out.legacy, out.stored = false, nil
	created, updated, err := it.times()
	if err != nil {
		return out, err
	}
	out.CreatedAt, out.UpdatedAt = formatTime(created), formatTime(updated)
	out.Images = make(map[string]image, len(it.Images))
	for k, v := range it.Images {
		out.Images[k] = v
	}
	out.indexAttributes()
	return out, nil
}

// attrSetting is one attribute an upgrade writes; the same list builds the
// update expression and the dry run's description.
type attrSetting struct {
	name  string
	value any
}

// shapeSettings are the attributes that bring a shaped item to our shape;
// withFields adds the domain fields (for an upgrade that also changes them).
func shapeSettings(it *item, withFields bool) []attrSetting {
	var out []attrSetting
	if withFields {
		out = append(out,
			attrSetting{"title", it.Title}, attrSetting{"description", it.Description}, attrSetting{"price", it.Price},
			attrSetting{"address", it.Address}, attrSetting{"city", it.City}, attrSetting{"state", it.State}, attrSetting{"zip", it.Zip})
	}
	out = append(out,
		attrSetting{"version", it.Version}, attrSetting{"createdAt", it.CreatedAt}, attrSetting{"updatedAt", it.UpdatedAt},
		attrSetting{"images", it.Images}, attrSetting{"lpk", it.ListPK}, attrSetting{"cpk", it.CityPK},
		attrSetting{"skey", it.StateKey}, attrSetting{"csk", it.CreatedKey}, attrSetting{"psk", it.PriceKey})
	if it.OwnerID != "" {
		out = append(out, attrSetting{"ownerId", it.OwnerID}, attrSetting{"opk", it.OwnerPK})
	}
	return append(out, attrSetting{"wtok", it.WriteToken})
}

func updateOf(settings []attrSetting) expression.UpdateBuilder {
	var upd expression.UpdateBuilder
	for _, s := range settings {
		upd = upd.Set(expression.Name(s.name), expression.Value(s.value))
	}
	return upd
}

// legacyWatched are the attributes an upgrade reads: its condition requires
// each to be as read (or still absent).
var legacyWatched = []string{"title", "description", "price", "address", "city", "state", "zip",
	"createdAt", "updatedAt", "images", "ownerId"}

// unchangedLegacy is the condition of a write that upgrades old: the item is
// still legacy, not being deleted, and exactly as read in every attribute
// the upgrade derives from, so neither our API (which sets a version) nor a
// still-running old Lambda can be overwritten.
func unchangedLegacy(old *item) expression.ConditionBuilder {
	cond := expression.AttributeNotExists(expression.Name("version")).
		And(expression.AttributeNotExists(expression.Name("deleting")))
	for _, name := range legacyWatched {
		if v, ok := old.stored[name]; ok {
			cond = cond.And(expression.Name(name).Equal(expression.Value(v)))
		} else {
			cond = cond.And(expression.AttributeNotExists(expression.Name(name)))
		}
	}
	return cond
}

// versionIs is the condition "at version v". A legacy item has no version
// and reads as version 1, so at 1 a missing version matches too: deletes
// need no upgrade and stay at one round trip.
func versionIs(v int) expression.ConditionBuilder {
	cond := expression.Name("version").Equal(expression.Value(v))
	if v == 1 {
		cond = cond.Or(expression.AttributeNotExists(expression.Name("version")))
	}
	return cond
}

// updateChange is Update's change applied to an item in memory, for the
// write that upgrades a legacy item.
func updateChange(in property.UpdateInput) func(*item) error {
	return func(it *item) error {
		for _, f := range []struct {
			dst *string
			v   *string
		}{
			{&it.Title, in.Title}, {&it.Description, in.Description}, {&it.Address, in.Address},
			{&it.City, in.City}, {&it.State, in.State}, {&it.Zip, in.Zip},
		} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if in.Price != nil {
			it.Price = *in.Price
		}
		return nil
	}
}

// addImagesChange is AddImages' change in memory, with its limit.
func addImagesChange(added []property.Image, base int64, maxImages int) func(*item) error {
	return func(it *item) error {
		if len(it.Images)+len(added) > maxImages {
			return property.Invalid("images", "A property has at most %d images; this one has %d.", maxImages, len(it.Images))
		}
		for i, img := range added {
			it.Images[property.ImageID(img.Key)] = image{Key: img.Key, Order: base + int64(i), ContentType: img.ContentType, Size: img.Size}
		}
		return nil
	}
}

// removeImageChange is RemoveImage's change in memory.
func removeImageChange(key string) func(*item) error {
	return func(it *item) error {
		id := property.ImageID(key)
		if _, ok := it.Images[id]; !ok {
			return property.Invalid("key", "The property has no image with that key.")
		}
		delete(it.Images, id)
		return nil
	}
}

// legacyAttempts bounds the upgrading writes one change makes while the
// item keeps changing under it.
const legacyAttempts = 3

// updateLegacy applies change to old, a legacy item whose normal update
// failed its condition, in one UpdateItem that also brings it to our shape:
// version 2, the index attributes, our timestamps and the image map. The
// write is conditioned on the item being exactly as old shows it, so it
// cannot overwrite anyone. If the item was meanwhile upgraded by someone else
// (the backfill) at the expected version, normal repeats the normal write.
func (s *Store) updateLegacy(ctx context.Context, caller property.Caller, id, token string, old *item,
	expected *int, change func(*item) error, normal func() (*property.Property, error)) (*property.Property, error) {
	for range legacyAttempts {
		versionOK := expected == nil || old.Version == *expected
		if !old.legacy || old.Deleting || !versionOK || !mayChange(caller, old) {
			if !old.legacy && !old.Deleting && versionOK && mayChange(caller, old) && old.WriteToken != token {
				return normal()
			}
			return s.explainFailure(old, caller, token, id)
		}
		it, err := old.shaped()
		if err != nil {
			return nil, err
		}
		if err := change(&it); err != nil {
			return nil, err
		}
		it.Version = old.Version + 1
		it.UpdatedAt = formatTime(s.timestamp())
		it.WriteToken = token
		it.indexAttributes()
		cond := unchangedLegacy(old)
		if owner, ok := ownerCondition(caller); ok {
			cond = cond.And(owner)
		}
		after, next, failed, err := s.conditionalUpdate(ctx, "upgrade", id, updateOf(shapeSettings(&it, true)), cond)
		if err != nil {
			return nil, err
		}
		if !failed {
			return found(after, id)
		}
		if next == nil {
			return nil, property.NotFound(id)
		}
		old = next
	}
	// An old Lambda kept changing the item: report the state last seen.
	return s.explainFailure(old, caller, token, id)
}
