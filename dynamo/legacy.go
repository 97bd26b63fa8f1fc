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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
			if after == nil {
				return nil, property.NotFound(id)
			}
			return after.property()
		}
		if next == nil {
			return nil, property.NotFound(id)
		}
		old = next
	}
	// An old Lambda kept changing the item: report the state last seen.
	return s.explainFailure(old, caller, token, id)
}

// BackfillOptions configure Backfill.
type BackfillOptions struct {
	// Owner becomes the ownerId of every property without one (legacy items
	// and properties created before sign-in existed); empty leaves them
	// without an owner, changeable by admins only.
	Owner string
	// Segments is the number of parallel scan segments (default 4).
	Segments int
	// PageSize is the most items one Scan call evaluates (default 100).
	PageSize int
	// ReadBudget and WriteBudget are the read and write capacity units the
	// backfill may spend per second, as DynamoDB reports them (indexes
	// included); 0 means unlimited.
	ReadBudget, WriteBudget float64
	// ProgressFile records each segment's position after every page, so an
	// interrupted run resumes where it stopped; empty keeps no record. A dry
	// run neither reads nor writes it.
	ProgressFile string
	// DryRun changes nothing and writes to Out what it would change.
	DryRun bool
	// MaxWrites stops the run, resumably, after this many writes (0: no
	// limit).
	MaxWrites int
	// Out receives one line per item a dry run would change; Log the
	// progress lines and the items that could not be read. Nil discards.
	Out, Log io.Writer
	// ProgressEvery is how often a progress line is written (default 10s).
	ProgressEvery time.Duration
}

// BackfillReport counts what one run did (a dry run: would do).
type BackfillReport struct {
	// Scanned is how many items the scan evaluated.
	Scanned int64
	// Upgraded counts legacy items brought to our shape.
	Upgraded int64
	// Owned counts properties of ours that were given Owner.
	Owned int64
	// Changed counts items changed by someone else between the scan and
	// the write; each was planned again from the state the write found.
	Changed int64
	// Gone counts items deleted between the scan and the write.
	Gone int64
	// Failed counts items that could not be read; Log names them.
	Failed int64
	// ReadUnits and WriteUnits are the capacity units spent, as DynamoDB
	// reported them (indexes included).
	ReadUnits, WriteUnits float64
	// Resumed says the run went on from a progress file.
	Resumed bool
	// Complete says every segment was scanned to its end; false after
	// MaxWrites or an error, when a new run resumes from the progress file.
	Complete bool
}

// Backfill brings every legacy item of table to our shape (and, with an
// Owner, gives every property without one that owner): a parallel Scan in
// segments, within a read and write budget, resumable from a progress file.
// Each item is changed by a write conditioned on its being as read, so a
// concurrent API write is never overwritten; an item the API upgraded first
// is skipped. A second run changes nothing.
func Backfill(ctx context.Context, client *dynamodb.Client, table string, opt BackfillOptions) (BackfillReport, error) {
	if table == "" {
		return BackfillReport{}, errors.New("backfill: table name required")
	}
	if opt.Segments <= 0 {
		opt.Segments = 4
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 100
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 10 * time.Second
	}
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	b := &backfill{db: client, table: aws.String(table), opt: opt,
		reads: newUnitBudget(opt.ReadBudget), writes: newUnitBudget(opt.WriteBudget), started: time.Now()}
	starts := make([]map[string]types.AttributeValue, opt.Segments)
	done := make([]bool, opt.Segments)
	if opt.ProgressFile != "" && !opt.DryRun {
		p, resumed, err := loadProgress(opt.ProgressFile, table, opt.Segments)
		if err != nil {
			return BackfillReport{}, err
		}
		b.progress, b.report.Resumed = p, resumed
		for i, sp := range p.Segments {
			done[i] = sp.Done
			if starts[i], err = sp.startKey(); err != nil {
				return BackfillReport{}, fmt.Errorf("backfill: progress file %s: %w", opt.ProgressFile, err)
			}
		}
		if err := b.saveProgress(); err != nil {
			return BackfillReport{}, err
		}
	}
	b.segmentsDone.Store(int64(countDone(done)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopTicker := b.tick(ctx)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for seg := range opt.Segments {
		if done[seg] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.segment(ctx, seg, starts[seg]); err != nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	stopTicker()
	rep := b.snapshot()
	rep.Complete = firstErr == nil && b.segmentsDone.Load() == int64(opt.Segments)
	if rep.Complete && b.progress != nil {
		b.mu.Lock()
		b.progress.Complete = true
		b.mu.Unlock()
		if err := b.saveProgress(); err != nil {
			return rep, err
		}
	}
	return rep, firstErr
}

func countDone(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

type backfill struct {
	db      *dynamodb.Client
	table   *string
	opt     BackfillOptions
	reads   *unitBudget
	writes  *unitBudget
	started time.Time

	mu       sync.Mutex // guards progress and the report's flags
	progress *progressFile
	report   BackfillReport

	scanned, upgraded, owned, changed, gone, failed atomic.Int64
	segmentsDone                                    atomic.Int64
	// reserved counts writes begun or done, against MaxWrites.
	reserved              atomic.Int64
	stopped               atomic.Bool
	logMu                 sync.Mutex
	units                 sync.Mutex // guards readUnits and writeUnits
	readUnits, writeUnits float64
}

// spent records what a call cost: what DynamoDB reported, else estimate.
func (b *backfill) spent(cc *types.ConsumedCapacity, estimate float64, write bool) {
	cost := estimate
	if cc != nil && cc.CapacityUnits != nil {
		cost = *cc.CapacityUnits
	}
	budget := b.reads
	b.units.Lock()
	if write {
		b.writeUnits += cost
		budget = b.writes
	} else {
		b.readUnits += cost
	}
	b.units.Unlock()
	budget.settle(cost - estimate)
}

func (b *backfill) snapshot() BackfillReport {
	b.mu.Lock()
	rep := b.report
	b.mu.Unlock()
	rep.Scanned, rep.Upgraded, rep.Owned = b.scanned.Load(), b.upgraded.Load(), b.owned.Load()
	rep.Changed, rep.Gone, rep.Failed = b.changed.Load(), b.gone.Load(), b.failed.Load()
	b.units.Lock()
	rep.ReadUnits, rep.WriteUnits = b.readUnits, b.writeUnits
	b.units.Unlock()
	return rep
}

func (b *backfill) logf(w io.Writer, format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(w, format+"\n", args...)
}

// tick writes a progress line every ProgressEvery until the returned func
// is called.
func (b *backfill) tick(ctx context.Context) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(b.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r := b.snapshot()
				rate := float64(r.Scanned) / time.Since(b.started).Seconds()
				verb := "upgraded"
				if b.opt.DryRun {
					verb = "would upgrade"
				}
				b.logf(b.opt.Log, "backfill: scanned %d (%.0f/s), %s %d, owned %d, changed concurrently %d, failed %d, segments done %d/%d",
					r.Scanned, rate, verb, r.Upgraded, r.Owned, r.Changed, r.Failed, b.segmentsDone.Load(), b.opt.Segments)
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(stop); <-done }
}

// scanFilter selects what a run may change: property items not being
// deleted that are legacy or, with an owner to give, have none.
func (b *backfill) scanFilter() (expression.Expression, error) {
	todo := expression.AttributeNotExists(expression.Name("version"))
	if b.opt.Owner != "" {
		todo = todo.Or(expression.AttributeNotExists(expression.Name("ownerId")))
	}
	filter := expression.Name("PK").BeginsWith(pkPrefix).
		And(expression.Name("SK").Equal(expression.Value(skMetadata))).
		And(expression.AttributeNotExists(expression.Name("deleting"))).
		And(todo)
	return expression.NewBuilder().WithFilter(filter).Build()
}

// segment scans one segment from start to its end, page by page, recording
// its position after each page whose items are all handled.
func (b *backfill) segment(ctx context.Context, seg int, start map[string]types.AttributeValue) error {
	expr, err := b.scanFilter()
	if err != nil {
		return fmt.Errorf("backfill: build scan filter: %w", err)
	}
	for {
		if b.stopped.Load() {
			return nil
		}
		// Half a unit is the least a read costs; the page's real cost is
		// settled when DynamoDB reports it.
		if err := b.reads.take(ctx, 0.5); err != nil {
			return err
		}
		out, err := b.db.Scan(ctx, &dynamodb.ScanInput{
			TableName: b.table, Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(b.opt.Segments)),
			Limit: aws.Int32(int32(b.opt.PageSize)), ExclusiveStartKey: start,
			FilterExpression:          expr.Filter(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return translate(err, "backfill: scan segment %d", seg)
		}
		b.spent(out.ConsumedCapacity, 0.5, false)
		b.scanned.Add(int64(out.ScannedCount))
		for _, av := range out.Items {
			if err := b.item(ctx, av); err != nil {
				return err
			}
			if b.stopped.Load() {
				// The page is not finished: its position is not recorded,
				// so a resumed run reads it again (its changed items no
				// longer match the filter).
				return nil
			}
		}
		start = out.LastEvaluatedKey
		if start == nil {
			b.segmentsDone.Add(1)
		}
		if err := b.record(seg, start); err != nil {
			return err
		}
		if start == nil {
			return nil
		}
	}
}

type backfillKind int

const (
	kindNone    backfillKind = iota
	kindUpgrade              // a legacy item: bring it to our shape
	kindOwn                  // one of ours without an owner: give it Owner
)

func (b *backfill) kindOf(it *item) backfillKind {
	switch {
	case it.Deleting:
		return kindNone
	case it.legacy:
		return kindUpgrade
	case b.opt.Owner != "" && it.OwnerID == "":
		return kindOwn
	}
	return kindNone
}

// plan returns the write that changes it as kind says, and its settings
// (for the dry run's line).
func (b *backfill) plan(it *item, kind backfillKind, token string) ([]attrSetting, expression.ConditionBuilder, error) {
	if kind == kindOwn {
		settings := []attrSetting{{"ownerId", b.opt.Owner}, {"opk", b.opt.Owner}, {"wtok", token}}
		cond := expression.Name("version").Equal(expression.Value(it.Version)).
			And(expression.AttributeNotExists(expression.Name("ownerId"))).
			And(expression.AttributeNotExists(expression.Name("deleting")))
		return settings, cond, nil
	}
	shaped, err := it.shaped()
	if err != nil {
		return nil, expression.ConditionBuilder{}, err
	}
	// The version a legacy item reads as: a client that read version 1
	// before the backfill can still update at version 1 after it.
	shaped.Version = 1
	if shaped.OwnerID == "" {
		shaped.OwnerID = b.opt.Owner
	}
	shaped.WriteToken = token
	shaped.indexAttributes()
	return shapeSettings(&shaped, false), unchangedLegacy(it), nil
}

// item handles one scanned item: plans its change, writes it, and on a
// failed condition plans again from the item the write found.
func (b *backfill) item(ctx context.Context, av map[string]types.AttributeValue) error {
	it := new(item)
	if err := attributevalue.UnmarshalMap(av, it); err != nil {
		b.failed.Add(1)
		b.logf(b.opt.Log, "backfill: cannot read item %s: %v", describeKey(av), err)
		return nil
	}
	token := uuid.NewString()
	for attempt := range legacyAttempts {
		kind := b.kindOf(it)
		if kind == kindNone {
			return nil
		}
		settings, cond, err := b.plan(it, kind, token)
		if err != nil {
			b.failed.Add(1)
			b.logf(b.opt.Log, "backfill: cannot upgrade property %s: %v", it.ID, err)
			return nil
		}
		if b.opt.DryRun {
			b.count(kind)
			b.logf(b.opt.Out, "%s", describeChange(it, kind, settings))
			return nil
		}
		if b.opt.MaxWrites > 0 && b.reserved.Add(1) > int64(b.opt.MaxWrites) {
			b.stopped.Store(true)
			return nil
		}
		ok, next, err := b.write(ctx, it.ID, settings, cond)
		if err != nil {
			return err
		}
		if ok || (next != nil && next.WriteToken == token) {
			// Written, perhaps by an attempt the SDK retried.
			b.count(kind)
			return nil
		}
		b.reserved.Add(-1)
		if next == nil {
			b.gone.Add(1)
			return nil
		}
		if attempt == 0 {
			b.changed.Add(1)
		}
		it = next
	}
	b.failed.Add(1)
	b.logf(b.opt.Log, "backfill: property %s kept changing; run again to retry it", it.ID)
	return nil
}

func (b *backfill) count(kind backfillKind) {
	if kind == kindOwn {
		b.owned.Add(1)
	} else {
		b.upgraded.Add(1)
	}
}

// write makes one conditional write; on a failed condition it returns the
// item DynamoDB found instead (nil when it is gone).
func (b *backfill) write(ctx context.Context, id string, settings []attrSetting, cond expression.ConditionBuilder) (bool, *item, error) {
	expr, err := expression.NewBuilder().WithUpdate(updateOf(settings)).WithCondition(cond).Build()
	if err != nil {
		return false, nil, fmt.Errorf("backfill: build write of %s: %w", id, err)
	}
	if err := b.writes.take(ctx, 1); err != nil {
		return false, nil, err
	}
	out, err := b.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: b.table,
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk(id)},
			"SK": &types.AttributeValueMemberS{Value: skMetadata},
		},
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
	})
	if err == nil {
		b.spent(out.ConsumedCapacity, 1, true)
		return true, nil, nil
	}
	old, ok, cerr := conditionFailure(err)
	if !ok {
		return false, nil, translate(err, "backfill: write property %s", id)
	}
	b.spent(nil, 1, true) // a failed condition costs a write too
	if cerr != nil {
		return false, nil, fmt.Errorf("backfill: write property %s: %w", id, cerr)
	}
	return false, old, nil
}

// describeChange is the dry run's line for one item.
func describeChange(it *item, kind backfillKind, settings []attrSetting) string {
	var sb strings.Builder
	if kind == kindOwn {
		fmt.Fprintf(&sb, "would give property %s an owner:", it.ID)
	} else {
		fmt.Fprintf(&sb, "would upgrade property %s:", it.ID)
	}
	for _, s := range settings {
		if s.name == "wtok" {
			continue
		}
		switch v := s.value.(type) {
		case string:
			fmt.Fprintf(&sb, " %s=%q", s.name, v)
		case map[string]image:
			fmt.Fprintf(&sb, " %s=map(%d)", s.name, len(v))
		default:
			fmt.Fprintf(&sb, " %s=%v", s.name, v)
		}
	}
	return sb.String()
}

func describeKey(av map[string]types.AttributeValue) string {
	if v, ok := av["PK"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return "(without PK)"
}

// unitBudget paces spending of capacity units: a token bucket holding at most
// one second's worth that may be overdrawn by a call whose cost is only
// known afterwards; the next caller then waits the debt off.
type unitBudget struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newUnitBudget(perSecond float64) *unitBudget {
	if perSecond <= 0 {
		return nil // unlimited
	}
	return &unitBudget{rate: perSecond, tokens: perSecond, last: time.Now()}
}

// take spends n units, first waiting as long as the budget is overdrawn.
func (b *unitBudget) take(ctx context.Context, n float64) error {
	if b == nil {
		return ctx.Err()
	}
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= n
	wait := time.Duration(-b.tokens / b.rate * float64(time.Second))
	b.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// settle spends (or, if negative, returns) what a call cost beyond its
// estimate.
func (b *unitBudget) settle(n float64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.rate, b.tokens-n)
	b.mu.Unlock()
}

// progressFile is the backfill's record of one table, as JSON:
//
//	{"table": "...", "totalSegments": 4, "complete": false, "updatedAt": "...",
//	 "segments": [{"segment": 0, "done": false, "lastEvaluatedKey": {"PK": {"S": "PROPERTY#..."}, "SK": {"S": "METADATA"}}}, ...]}
//
// lastEvaluatedKey is DynamoDB JSON of the key after which the segment's
// scan goes on; a segment without one starts at its beginning. A complete
// record makes the next run start a new pass.
type progressFile struct {
	Table         string            `json:"table"`
	TotalSegments int               `json:"totalSegments"`
	Complete      bool              `json:"complete"`
	UpdatedAt     string            `json:"updatedAt"`
	Segments      []segmentProgress `json:"segments"`
	path          string
}

type segmentProgress struct {
	Segment          int                 `json:"segment"`
	Done             bool                `json:"done"`
	LastEvaluatedKey map[string]keyValue `json:"lastEvaluatedKey,omitempty"`
}

// keyValue is one key attribute in DynamoDB JSON.
type keyValue struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
	B []byte  `json:"B,omitempty"`
}

func (sp segmentProgress) startKey() (map[string]types.AttributeValue, error) {
	if len(sp.LastEvaluatedKey) == 0 {
		return nil, nil
	}
	key := make(map[string]types.AttributeValue, len(sp.LastEvaluatedKey))
	for name, v := range sp.LastEvaluatedKey {
		switch {
		case v.S != nil:
			key[name] = &types.AttributeValueMemberS{Value: *v.S}
		case v.N != nil:
			key[name] = &types.AttributeValueMemberN{Value: *v.N}
		case v.B != nil:
			key[name] = &types.AttributeValueMemberB{Value: v.B}
		default:
			return nil, fmt.Errorf("segment %d: key attribute %s has no S, N or B value", sp.Segment, name)
		}
	}
	return key, nil
}

func keyJSON(key map[string]types.AttributeValue) (map[string]keyValue, error) {
	if key == nil {
		return nil, nil
	}
	out := make(map[string]keyValue, len(key))
	for name, av := range key {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			out[name] = keyValue{S: aws.String(v.Value)}
		case *types.AttributeValueMemberN:
			out[name] = keyValue{N: aws.String(v.Value)}
		case *types.AttributeValueMemberB:
			out[name] = keyValue{B: v.Value}
		default:
			return nil, fmt.Errorf("key attribute %s is a %T", name, av)
		}
	}
	return out, nil
}

// loadProgress reads the record at path, or starts one. A record of another
// table or segment count is refused rather than guessed at.
func loadProgress(path, table string, segments int) (*progressFile, bool, error) {
	fresh := &progressFile{Table: table, TotalSegments: segments, Segments: make([]segmentProgress, segments), path: path}
	for i := range fresh.Segments {
		fresh.Segments[i].Segment = i
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fresh, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("backfill: read progress file: %w", err)
	}
	var p progressFile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, false, fmt.Errorf("backfill: progress file %s: %w", path, err)
	}
	switch {
	case p.Table != table:
		return nil, false, fmt.Errorf("backfill: progress file %s belongs to table %q, not %q", path, p.Table, table)
	case p.Complete:
		return fresh, false, nil
	case p.TotalSegments != segments || len(p.Segments) != segments:
		return nil, false, fmt.Errorf("backfill: progress file %s was written with %d segments: resume with the same number, or remove the file to start over", path, p.TotalSegments)
	}
	for i, sp := range p.Segments {
		if sp.Segment != i {
			return nil, false, fmt.Errorf("backfill: progress file %s: segment %d out of place", path, sp.Segment)
		}
	}
	p.path = path
	return &p, true, nil
}

// record notes that seg goes on after key (nil: it is done) and saves.
func (b *backfill) record(seg int, key map[string]types.AttributeValue) error {
	if b.progress == nil {
		return nil
	}
	kj, err := keyJSON(key)
	if err != nil {
		return fmt.Errorf("backfill: segment %d: %w", seg, err)
	}
	b.mu.Lock()
	b.progress.Segments[seg] = segmentProgress{Segment: seg, Done: key == nil, LastEvaluatedKey: kj}
	b.mu.Unlock()
	return b.saveProgress()
}

// saveProgress writes the record atomically: a crash leaves the old record
// or the new one, never half of one.
func (b *backfill) saveProgress() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.progress
	p.UpdatedAt = formatTime(time.Now())
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("backfill: encode progress: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return fmt.Errorf("backfill: progress directory: %w", err)
	}
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("backfill: write progress: %w", err)
	}
	if err := os.Rename(tmp, p.path); err != nil {
		return fmt.Errorf("backfill: write progress: %w", err)
	}
	return nil
}
