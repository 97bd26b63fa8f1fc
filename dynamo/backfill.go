package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
)

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
	// Repair also looks at every item of ours for index attributes or a
	// version that no longer match its fields (an old Lambda changed the
	// fields after the upgrade) and repairs it: index attributes and
	// fingerprint derived again and the version bumped, so a client holding
	// the old version gets CONFLICT. Safe to run on a schedule.
	Repair bool
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
	// Tidied counts properties of ours given timestamps in the stored
	// format, their fingerprint or their images in the stored layout,
	// without a new version.
	Tidied int64
	// Stale counts properties whose index attributes or fingerprint no
	// longer match their fields, found by a run without Repair: they need a
	// repair run. Repaired counts those a Repair run repaired.
	Stale, Repaired int64
	// Failed counts items that could not be read or written; Failures says
	// which and why. A new run retries them.
	Failed   int64
	Failures []BackfillFailure
	// ReadUnits and WriteUnits are the capacity units spent, as DynamoDB
	// reported them (indexes included).
	ReadUnits, WriteUnits float64
	// Resumed says the run went on from a progress file.
	Resumed bool
	// Complete says every segment was scanned to its end; false after
	// MaxWrites or an error, when a new run resumes from the progress file.
	Complete bool
}

// BackfillFailure is one item a run could not handle.
type BackfillFailure struct {
	// ID is the property's id, or the item's key when it has none.
	ID     string
	Reason string
}

// Backfill brings every legacy item of table to our shape, rewrites
// timestamps an earlier version of this API stored in its own format into
// the old Lambdas' format and the image map it stored under images into
// the layout the old model reads, completes missing fingerprints, with an Owner
// gives every property without one that owner, and with Repair repairs the
// properties the old Lambdas changed after their upgrade: a parallel Scan in
// segments, within a read and write budget, resumable from a progress file.
// Each item is changed by a write conditioned on its being as read, so a
// concurrent API write is never overwritten; an item the API upgraded first
// is skipped. An item that cannot be handled is recorded in the report (and
// the progress file, so a resumed run retries it first) and the run goes
// on. A second run changes nothing.
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
		p, resumed, err := loadProgress(opt.ProgressFile, table, opt.Segments, opt.Repair)
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
	if err := b.retryFailed(ctx); err != nil {
		stopTicker()
		rep := b.snapshot()
		return rep, err
	}
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

	scanned, upgraded, owned, tidied, stale, repaired, changed, gone, failed atomic.Int64
	segmentsDone                                                             atomic.Int64
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
	rep.Tidied, rep.Stale, rep.Repaired = b.tidied.Load(), b.stale.Load(), b.repaired.Load()
	rep.Failures = append([]BackfillFailure(nil), rep.Failures...)
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
				b.logf(b.opt.Log, "backfill: scanned %d (%.0f/s), %s %d, owned %d, tidied %d, stale %d, repaired %d, changed concurrently %d, failed %d, segments done %d/%d",
					r.Scanned, rate, verb, r.Upgraded, r.Owned, r.Tidied, r.Stale, r.Repaired, r.Changed, r.Failed, b.segmentsDone.Load(), b.opt.Segments)
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
// deleted that are legacy, have timestamps not in our format, lack part of
// their fingerprint or the image map under imageSet, or, with an owner to
// give, have none. A repair run looks at every property item.
func (b *backfill) scanFilter() (expression.Expression, error) {
	filter := expression.Name("PK").BeginsWith(pkPrefix).
		And(expression.Name("SK").Equal(expression.Value(skMetadata))).
		And(expression.AttributeNotExists(expression.Name("deleting")))
	if !b.opt.Repair {
		todo := expression.AttributeNotExists(expression.Name("version"))
		for _, name := range []string{"createdAt", "updatedAt"} {
			// Our format is 31 characters without a Z; the exact test is
			// made on the item (inStoredFormat).
			todo = todo.Or(expression.AttributeNotExists(expression.Name(name))).
				Or(expression.Name(name).Size().NotEqual(expression.Value(len(timeLayout)))).
				Or(expression.Name(name).Contains("Z"))
		}
		for _, f := range printedFields {
			todo = todo.Or(expression.AttributeNotExists(expression.Name(f.attr)))
		}
		todo = todo.Or(expression.AttributeNotExists(expression.Name(imageMap)))
		if b.opt.Owner != "" {
			todo = todo.Or(expression.AttributeNotExists(expression.Name("ownerId")))
		}
		filter = filter.And(todo)
	}
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

// change is what a run does to one item: which kinds of change, and the
// write (settings and condition) that makes them.
type change struct {
	upgrade bool // a legacy item brought to our shape
	own     bool // one of ours given Owner
	tidy    bool // one of ours given our timestamps or its fingerprint
	repair  bool // one of ours whose derived attributes went stale
	// stale says why derived attributes no longer match the fields (a run
	// without Repair only reports it).
	stale    []string
	settings []attrSetting
	cond     expression.ConditionBuilder
}

func (c change) none() bool { return !c.upgrade && !c.own && !c.tidy && !c.repair }

// plan decides what to do with it and builds the write.
func (b *backfill) plan(it *item, token string) (change, error) {
	var c change
	if it.Deleting {
		return c, nil
	}
	shaped, err := it.shaped()
	if err != nil {
		return c, err
	}
	c.cond = unchangedSince(it)
	if shaped.OwnerID == "" && b.opt.Owner != "" {
		shaped.OwnerID, shaped.OwnerPK = b.opt.Owner, b.opt.Owner
		c.own = true
	}
	if it.legacy {
		// The version a legacy item reads as: a client that read version 1
		// before the backfill can still update at version 1 after it.
		c.upgrade, c.own = true, false
		shaped.Version = 1
		shaped.WriteToken = token
		c.settings = shapeSettings(&shaped, it.stored, false)
		return c, nil
	}
	c.stale = staleness(it, &shaped)
	if len(c.stale) > 0 {
		if !b.opt.Repair {
			c.own = false
			return c, nil
		}
		c.repair = true
		shaped.Version = it.Version + 1
		shaped.WriteToken = token
		c.settings = shapeSettings(&shaped, it.stored, false)
		return c, nil
	}
	if it.CreatedAt != shaped.CreatedAt {
		c.settings = append(c.settings, attrSetting{"createdAt", shaped.CreatedAt})
	}
	if it.UpdatedAt != shaped.UpdatedAt {
		c.settings = append(c.settings, attrSetting{"updatedAt", shaped.UpdatedAt})
	}
	for _, f := range printedFields {
		if _, ok := it.prints[f.attr]; !ok {
			c.settings = append(c.settings, attrSetting{f.attr, shaped.prints[f.attr]})
		}
	}
	if _, ok := it.stored[imageMap]; !ok {
		// Images in this API's earlier layout (its map under images): the
		// map moves to imageSet and images becomes the old model's list.
		// The API reads the same images, so the version stays.
		c.settings = append(c.settings, imageSettings(&shaped, it.stored)...)
	}
	c.tidy = len(c.settings) > 0
	if c.own {
		// The token lets a retried write recognise itself; a tidy write
		// keeps the version and the token of the write before it.
		c.settings = append(c.settings, attrSetting{"ownerId", b.opt.Owner}, attrSetting{"opk", b.opt.Owner}, attrSetting{"wtok", token})
	}
	return c, nil
}

// staleness compares an item of ours with its attributes derived again from
// its fields (shaped) and says what no longer matches: something other than
// this API changed the fields.
func staleness(it, shaped *item) []string {
	var out []string
	for _, k := range []struct {
		name      string
		got, want string
	}{
		{"lpk", it.ListPK, shaped.ListPK}, {"cpk", it.CityPK, shaped.CityPK}, {"skey", it.StateKey, shaped.StateKey},
		{"opk", it.OwnerPK, it.OwnerID}, {"csk", it.CreatedKey, shaped.CreatedKey}, {"psk", it.PriceKey, shaped.PriceKey},
	} {
		if k.got != k.want {
			out = append(out, k.name)
		}
	}
	for _, f := range printedFields {
		// A missing fingerprint is no evidence: the item was written before
		// fingerprints existed, or by an update that set other fields.
		if got, ok := it.prints[f.attr]; ok && got != shaped.prints[f.attr] {
			out = append(out, f.field)
		}
	}
	if imagesStale(it, shaped) {
		out = append(out, "images")
	}
	return out
}

// imagesStale says the old Lambdas changed the images: keys added to or
// removed from their list under images since this API last wrote the map
// (shaped holds the map as the list says), or, on an item whose map was
// still under images, that map replaced by a list or removed.
func imagesStale(it, shaped *item) bool {
	if _, ok := it.stored[imageMap]; !ok {
		_, isMap := it.stored[imageList].(*types.AttributeValueMemberM)
		return !isMap
	}
	if len(it.Images) != len(shaped.Images) {
		return true
	}
	for id := range it.Images {
		if _, ok := shaped.Images[id]; !ok {
			return true
		}
	}
	return false
}

// item handles one scanned item: plans its change, writes it, and on a
// failed condition plans again from the item the write found. Only an error
// that stops the whole run (the context, DynamoDB unavailable) is returned;
// anything else about this item is recorded as its failure.
func (b *backfill) item(ctx context.Context, av map[string]types.AttributeValue) error {
	it := new(item)
	if err := it.decode(av); err != nil {
		b.fail(av, strings.TrimPrefix(describeKey(av), pkPrefix), "cannot read the item: %v", err)
		return nil
	}
	token := uuid.NewString()
	for attempt := range legacyAttempts {
		c, err := b.plan(it, token)
		if err != nil {
			b.fail(av, it.ID, "cannot derive its attributes: %v", err)
			return nil
		}
		if len(c.stale) > 0 && !c.repair {
			b.stale.Add(1)
			b.logf(b.opt.Log, "backfill: property %s changed by another writer (%s no longer match its fields): run with -repair", it.ID, strings.Join(c.stale, ", "))
			return nil
		}
		if c.none() {
			return nil
		}
		if b.opt.DryRun {
			b.count(c)
			b.logf(b.opt.Out, "%s", describeChange(it, c))
			return nil
		}
		if b.opt.MaxWrites > 0 && b.reserved.Add(1) > int64(b.opt.MaxWrites) {
			b.stopped.Store(true)
			return nil
		}
		ok, next, err := b.write(ctx, it.ID, c.settings, c.cond)
		if err != nil {
			b.reserved.Add(-1)
			if ctx.Err() != nil || property.ErrorCode(err) == property.EUNAVAILABLE {
				return err
			}
			b.fail(av, it.ID, "%v", err)
			return nil
		}
		if ok || (next != nil && next.WriteToken == token) {
			// Written, perhaps by an attempt the SDK retried.
			b.count(c)
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
	b.fail(av, it.ID, "it kept changing under the backfill")
	return nil
}

// fail records that the item with key av (and id) could not be handled.
func (b *backfill) fail(av map[string]types.AttributeValue, id, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	b.failed.Add(1)
	b.logf(b.opt.Log, "backfill: property %s failed: %s", id, reason)
	key, _ := keyJSON(map[string]types.AttributeValue{"PK": av["PK"], "SK": av["SK"]})
	b.mu.Lock()
	defer b.mu.Unlock()
	b.report.Failures = append(b.report.Failures, BackfillFailure{ID: id, Reason: reason})
	if b.progress != nil && av["PK"] != nil && av["SK"] != nil {
		b.progress.Failed = append(b.progress.Failed, failedItem{Key: key, ID: id, Reason: reason})
	}
}

// retryFailed handles again, first, the items a resumed run's earlier part
// could not: their pages are behind the recorded positions.
func (b *backfill) retryFailed(ctx context.Context) error {
	if b.progress == nil || len(b.progress.Failed) == 0 {
		return nil
	}
	b.mu.Lock()
	failed := b.progress.Failed
	b.progress.Failed = nil
	b.mu.Unlock()
	for i, f := range failed {
		key, err := segmentProgress{LastEvaluatedKey: f.Key}.startKey()
		if err == nil && len(key) == 0 {
			err = errors.New("no key")
		}
		if err != nil {
			b.fail(nil, f.ID, "progress file: %v", err)
			continue
		}
		if err := b.reads.take(ctx, 1); err != nil {
			b.keepFailed(failed[i:])
			return err
		}
		out, err := b.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: b.table, Key: key, ConsistentRead: aws.Bool(true),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			b.keepFailed(failed[i:])
			return translate(err, "backfill: read property %s again", f.ID)
		}
		b.spent(out.ConsumedCapacity, 1, false)
		if len(out.Item) == 0 {
			b.gone.Add(1)
			continue
		}
		if err := b.item(ctx, out.Item); err != nil {
			b.keepFailed(failed[i:])
			return err
		}
	}
	return b.saveProgress()
}

// keepFailed puts back failures not retried yet, for the next run.
func (b *backfill) keepFailed(fs []failedItem) {
	b.mu.Lock()
	b.progress.Failed = append(b.progress.Failed, fs...)
	b.mu.Unlock()
}

func (b *backfill) count(c change) {
	switch {
	case c.upgrade:
		b.upgraded.Add(1)
	case c.repair:
		b.repaired.Add(1)
	}
	if c.own {
		b.owned.Add(1)
	}
	if c.tidy {
		b.tidied.Add(1)
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
func describeChange(it *item, c change) string {
	var sb strings.Builder
	switch {
	case c.upgrade:
		fmt.Fprintf(&sb, "would upgrade property %s:", it.ID)
	case c.repair:
		fmt.Fprintf(&sb, "would repair property %s (%s changed):", it.ID, strings.Join(c.stale, ", "))
	case c.tidy && c.own:
		fmt.Fprintf(&sb, "would tidy property %s and give it an owner:", it.ID)
	case c.tidy:
		fmt.Fprintf(&sb, "would tidy property %s:", it.ID)
	default:
		fmt.Fprintf(&sb, "would give property %s an owner:", it.ID)
	}
	for _, s := range c.settings {
		if s.name == "wtok" {
			continue
		}
		switch v := s.value.(type) {
		case nil:
			fmt.Fprintf(&sb, " %s=(removed)", s.name)
		case string:
			fmt.Fprintf(&sb, " %s=%q", s.name, v)
		case map[string]image:
			fmt.Fprintf(&sb, " %s=map(%d)", s.name, len(v))
		case *types.AttributeValueMemberL:
			fmt.Fprintf(&sb, " %s=list(%d)", s.name, len(v.Value))
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
	Table         string `json:"table"`
	TotalSegments int    `json:"totalSegments"`
	Complete      bool   `json:"complete"`
	// Repair marks the record of a repair pass, which scans more items than
	// a plain one: the positions of one do not fit the other.
	Repair    bool              `json:"repair,omitempty"`
	UpdatedAt string            `json:"updatedAt"`
	Segments  []segmentProgress `json:"segments"`
	// Failed are the items this pass could not handle; a resumed run
	// retries them first (a new pass meets them again in its scan).
	Failed []failedItem `json:"failed,omitempty"`
	path   string
}

// failedItem is one failure as the progress file keeps it.
type failedItem struct {
	Key    map[string]keyValue `json:"key"`
	ID     string              `json:"id"`
	Reason string              `json:"reason"`
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
func loadProgress(path, table string, segments int, repair bool) (*progressFile, bool, error) {
	fresh := &progressFile{Table: table, TotalSegments: segments, Repair: repair, Segments: make([]segmentProgress, segments), path: path}
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
	case p.Repair != repair:
		return nil, false, fmt.Errorf("backfill: progress file %s belongs to an unfinished %s: finish that one first, or use another progress file", path, map[bool]string{true: "repair run", false: "run without -repair"}[p.Repair])
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
