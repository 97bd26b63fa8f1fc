package dynamo

// Items of the platform's old Lambdas.
//
// Before this API, four Python Lambdas wrote properties into the same table
// through an ORM: the same PK/SK and field names, but no version, no index
// attributes, no normalised city or state, no owner, timestamps in the ORM's
// format (2024-01-15T10:30:00.000000+0000) and images as a list of object
// keys. Such a "legacy" item is recognised by its missing version. The old
// Lambdas keep reading the table during the cutover, so every write here
// keeps their model's view intact: timestamps in their format, images their
// list of keys (our map beside it, under imageSet), a field they lack left
// absent, our attributes only added.
//
// Every decode of an item goes through item.decode (decode.go),
// which reads a legacy item as version 1 with its images in a map, so Get,
// List, and the ALL_OLD item of a failed condition all understand it.
//
// Writes never see a legacy item in our normal one-round-trip path: every
// update's condition names the version (or requires one), so it fails, and
// its ALL_OLD item is enough to build a second write that applies the change
// and brings the item to our shape at once, conditioned on the item being
// exactly as read. Deletes accept a missing version as version 1 in their
// condition and stay at one round trip. Backfill (backfill.go) upgrades
// every legacy item ahead of time, so the second round trip is a migration
// cost, not a permanent one.

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
)

// readTimeLayouts are the timestamp formats read besides ours (which is the
// ORM's): this API's earlier format, whose items exist, then any RFC 3339
// time. They are read forever; every write uses timeLayout.
var readTimeLayouts = []string{sortTimeLayout, time.RFC3339Nano}

// parseStoredTime reads a stored timestamp in our format or an earlier one,
// at our millisecond precision in UTC.
func parseStoredTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err == nil {
		return t.Truncate(time.Millisecond), nil
	}
	for _, layout := range readTimeLayouts {
		if lt, lerr := time.Parse(layout, s); lerr == nil {
			return lt.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, err
}

// inStoredFormat reports whether s is a timestamp in the format we write,
// which the old Lambdas' model reads.
func inStoredFormat(s string) bool {
	_, err := time.Parse(timeLayout, s)
	return err == nil
}

// storedTime is the value a write keeps for a timestamp read as s: s itself
// when it is in our format (the ORM's microseconds are kept), else t.
func storedTime(s string, t time.Time) string {
	if inStoredFormat(s) {
		return s
	}
	return formatTime(t)
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

// storedItem has item's fields without its methods, so attributevalue can
// encode and decode it without calling them.
type storedItem item

// UnmarshalDynamoDBAttributeValue decodes a stored item, ours or legacy. A
// legacy item (no version) reads as version 1. The images are the map under
// imageSet, else this API's earlier map under images, else the old Lambdas'
// list of keys under images as a map. Every item keeps its attributes as
// read, for the condition of a write that must find it unchanged (an
// upgrade, the backfill) and for the repair's comparison of list and map.
// The store's reads call decode (decode.go) directly.
func (it *item) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("item is a %T, not a map", av)
	}
	return it.decode(m.Value)
}

func withAttr(m map[string]types.AttributeValue, name string, v types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[name] = v
	return out
}

// needsUpgrade reports whether a write of images (or any write, for a
// legacy item) must first bring the item to our shape: it is legacy, or its
// images are not in our layout (the list under images, the map under
// imageSet): this API's earlier map under images, or no map at all.
func (it *item) needsUpgrade() bool {
	if it.legacy {
		return true
	}
	if _, ok := it.stored[imageMap].(*types.AttributeValueMemberM); !ok {
		return true
	}
	switch it.stored[imageList].(type) {
	case nil, *types.AttributeValueMemberL:
		return false
	}
	return true
}

// listedKeys are the keys stored under images (the old model's list), as
// read; ok is false when images holds no list of keys.
func (it *item) listedKeys() (keys []string, ok bool) {
	av, had := it.stored[imageList]
	if !had {
		return []string{}, true
	}
	if _, isMap := av.(*types.AttributeValueMemberM); isMap {
		return nil, false
	}
	keys, err := legacyImageKeys(av)
	return keys, err == nil
}

// reconciledImages is the image map as the list under images says it
// should be: keys the old Lambdas added to the list become new images at
// the end of the order, images whose keys they removed are dropped, the
// others keep their entries. Without a list it is the map as it is.
func (it *item) reconciledImages() map[string]image {
	out := make(map[string]image, len(it.Images))
	keys, ok := it.listedKeys()
	if !ok {
		for id, img := range it.Images {
			out[id] = img
		}
		return out
	}
	listed := make(map[string]bool, len(keys))
	for _, k := range keys {
		listed[k] = true
	}
	next := int64(0)
	known := map[string]bool{}
	for id, img := range it.Images {
		next = max(next, img.Order+1)
		if listed[img.Key] {
			out[id] = img
			known[img.Key] = true
		}
	}
	for _, k := range keys {
		if k == "" || known[k] {
			continue
		}
		known[k] = true
		out[imageIDFor(k)] = image{Key: k, Order: next, ContentType: contentTypeOf(k)}
		next++
	}
	return out
}

// legacyImageKeys reads the old Lambdas' images attribute: a list of object
// keys in upload order (a string set or NULL is accepted too).
func legacyImageKeys(av types.AttributeValue) ([]string, error) {
	if err := imageListError(av); err != nil {
		return nil, err
	}
	keys := []string{}
	switch v := av.(type) {
	case *types.AttributeValueMemberSS:
		keys = append(keys, v.Value...)
		sort.Strings(keys) // a set has no order; keep reads stable
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			keys = append(keys, e.(*types.AttributeValueMemberS).Value)
		}
	}
	return keys, nil
}

// imageListError is why legacyImageKeys cannot read av, or nil.
func imageListError(av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberNULL, *types.AttributeValueMemberSS:
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			if _, ok := e.(*types.AttributeValueMemberS); !ok {
				return fmt.Errorf("images[%d] is a %T, not an object key", i, e)
			}
		}
	default:
		return fmt.Errorf("images is a %T, neither a map nor a list of keys", av)
	}
	return nil
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
		imgs[imageIDFor(key)] = image{Key: key, Order: int64(i), ContentType: contentTypeOf(key)}
	}
	return imgs
}

// imageIDFor is the map id of an image key the old Lambdas stored.
func imageIDFor(key string) string {
	if id := property.ImageID(key); plainName(id) {
		return id
	}
	return uuid.NewSHA1(legacyImageNS, []byte(key)).String()
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

// shaped returns a copy of it in our shape: timestamps in our format (kept
// as stored when they already are; a missing one as it reads, so it stays
// put), the image map as the list under images says (reconciledImages), the
// index attributes and the fingerprint. Version and owner are left as they
// are.
func (it *item) shaped() (item, error) {
	out := *it
	out.legacy, out.stored = false, nil
	created, updated, err := it.times()
	if err != nil {
		return out, err
	}
	out.CreatedAt, out.UpdatedAt = storedTime(it.CreatedAt, created), storedTime(it.UpdatedAt, updated)
	out.Images = it.reconciledImages()
	out.derive(created)
	return out, nil
}

// attrSetting is one attribute a write sets, or removes when value is nil;
// the same list builds the update expression and the dry run's description.
type attrSetting struct {
	name  string
	value any
}

// orRemove is v as a setting's value: nil (remove) when empty. Index keys
// must never be empty strings: DynamoDB refuses the write.
func orRemove(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// fieldSettings are the domain fields a write of it sets: each that old
// holds (as read) or that it now has; a field the old item lacks and the
// write leaves empty stays absent, as the old Lambdas' model writes it.
func fieldSettings(it *item, old map[string]types.AttributeValue) []attrSetting {
	var out []attrSetting
	for _, f := range fields {
		v := f.get(&it.Property)
		if _, had := old[f.attr]; had || (v != nil && v != "" && v != 0.0) {
			out = append(out, attrSetting{f.attr, v})
		}
	}
	return out
}

// derivedSettings are the attributes derived from the fields: index
// attributes (an empty one removed) and the fingerprint.
func derivedSettings(it *item) []attrSetting {
	out := []attrSetting{
		{"lpk", orRemove(it.ListPK)}, {"cpk", orRemove(it.CityPK)}, {"skey", orRemove(it.StateKey)},
		{"opk", orRemove(it.OwnerPK)}, {"csk", orRemove(it.CreatedKey)}, {"psk", orRemove(it.PriceKey)},
	}
	for _, f := range printedFields {
		out = append(out, attrSetting{f.attr, it.prints[f.attr]})
	}
	return out
}

// shapeSettings are the attributes that bring a shaped item to our shape,
// given the item as read (old); with fields they include the domain fields
// too (for an upgrade that also changes them).
func shapeSettings(it *item, old map[string]types.AttributeValue, fields bool) []attrSetting {
	var out []attrSetting
	if fields {
		out = fieldSettings(it, old)
	}
	out = append(out,
		attrSetting{"version", it.Version}, attrSetting{"createdAt", it.CreatedAt}, attrSetting{"updatedAt", it.UpdatedAt})
	out = append(out, imageSettings(it, old)...)
	out = append(out, derivedSettings(it)...)
	if it.OwnerID != "" {
		out = append(out, attrSetting{"ownerId", it.OwnerID})
	}
	return append(out, attrSetting{"wtok", it.WriteToken})
}

// imageSettings store the item's images in our layout: the map under
// imageSet, the old model's list of keys under images. An item that had no
// images attribute and still has no images keeps none, as the old model
// wrote it.
func imageSettings(it *item, old map[string]types.AttributeValue) []attrSetting {
	out := []attrSetting{{imageMap, it.Images}}
	if _, had := old[imageList]; had || len(it.Images) > 0 {
		out = append(out, attrSetting{imageList, keyList(it.imageKeys())})
	}
	return out
}

func updateOf(settings []attrSetting) expression.UpdateBuilder {
	var upd expression.UpdateBuilder
	for _, s := range settings {
		if s.value == nil {
			upd = upd.Remove(expression.Name(s.name))
		} else {
			upd = upd.Set(expression.Name(s.name), expression.Value(s.value))
		}
	}
	return upd
}

// legacyWatched are the attributes an upgrade reads: its condition requires
// each to be as read (or still absent).
var legacyWatched = append(fieldAttrs(), "createdAt", "updatedAt", "images", "ownerId")

// unchangedSince is the condition of a write derived from old as read: the
// item is at the same version (still without one, if legacy), not being
// deleted, and exactly as read in every attribute the write derives from,
// so neither our API (which changes the version) nor a still-running old
// Lambda (which does not) can be overwritten.
func unchangedSince(old *item) expression.ConditionBuilder {
	var cond expression.ConditionBuilder
	if old.legacy {
		cond = expression.AttributeNotExists(expression.Name("version"))
	} else {
		cond = expression.Name("version").Equal(expression.Value(old.Version))
	}
	cond = cond.And(expression.AttributeNotExists(expression.Name("deleting")))
	for _, name := range legacyWatched {
		if v, ok := old.stored[name]; ok {
			cond = cond.And(expression.Name(name).Equal(expression.Value(v)))
		} else {
			cond = cond.And(expression.AttributeNotExists(expression.Name(name)))
		}
	}
	return cond
}

// updateChange is Update's change applied to an item in memory, for the
// write that upgrades a legacy item.
func updateChange(in property.UpdateInput) func(*item) error {
	return func(it *item) error {
		for _, f := range fields {
			if v, ok := f.given(&in); ok {
				f.set(&it.Property, v)
			}
		}
		return nil
	}
}

// addImagesChange is AddImages' change in memory, with its limit.
func addImagesChange(added []property.Image, base int64, maxImages int) func(*item) error {
	return func(it *item) error {
		if len(it.Images)+len(added) > maxImages {
			return tooManyImages(maxImages, len(it.Images))
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
		id, ok := it.imageIDOf(key)
		if !ok {
			return noSuchImage()
		}
		delete(it.Images, id)
		return nil
	}
}
