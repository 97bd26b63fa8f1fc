package dynamo_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// failWrites makes the UpdateItem calls for which fail returns true answer
// err without reaching the engine.
func failWrites(fail func(id string) bool, err error) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("failWrites",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
						id := strings.TrimPrefix(u.Key["PK"].(*types.AttributeValueMemberS).Value, "PROPERTY#")
						if fail(id) {
							return middleware.InitializeOutput{}, middleware.Metadata{}, err
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

var errInjected = &smithy.GenericAPIError{Code: "ValidationException", Message: "injected for the test"}

func backfillFailureReasons(rep dynamo.BackfillReport) map[string]string {
	out := map[string]string{}
	for _, f := range rep.Failures {
		out[f.ID] = f.Reason
	}
	return out
}

// TestBackfillGoesOnPastFailures: an item that cannot be read, one whose
// timestamps cannot be read and one whose write is refused are each
// recorded with a reason; every other item is upgraded; the next run
// retries them.
func TestBackfillGoesOnPastFailures(t *testing.T) {
	ctx := context.Background()
	e := newLegacyBackfillEnv(t)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	unreadable, badTime, refused := e.specs[1].id, e.specs[2].id, e.specs[3].id
	originals := map[string]map[string]types.AttributeValue{}
	for _, id := range []string{unreadable, badTime} {
		originals[id] = legacyRaw(t, e.db, e.table, id)
	}
	broken := legacyRaw(t, e.db, e.table, unreadable)
	broken["images"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "7"}}}
	late := legacyRaw(t, e.db, e.table, badTime)
	late["createdAt"] = s("yesterday")
	legacyPut(t, e.db, e.table, []map[string]types.AttributeValue{broken, late})

	db := testenv.Client(t, failWrites(func(id string) bool { return id == refused }, errInjected))
	progress := filepath.Join(t.TempDir(), "progress.json")
	opts := dynamo.BackfillOptions{Owner: legacyOwner, Segments: 3, PageSize: 20, ProgressFile: progress}
	rep, err := dynamo.Backfill(ctx, db, e.table, opts)
	if err != nil || !rep.Complete {
		t.Fatalf("backfill stopped: %+v, %v", rep, err)
	}
	if rep.Upgraded != legacyGenerated-3 || rep.Failed != 3 || len(rep.Failures) != 3 {
		t.Fatalf("report %+v: want %d upgraded and 3 failures", rep, legacyGenerated-3)
	}
	reasons := backfillFailureReasons(rep)
	for id, want := range map[string]string{
		unreadable: "cannot read the item: images[0] is a",
		badTime:    `createdAt "yesterday"`,
		refused:    "injected for the test",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("failure of %s: %q, want one containing %q", id, reasons[id], want)
		}
	}
	if n := legacyCount(legacyDump(t, e.db, e.table)); n != 3 {
		t.Errorf("%d legacy items left, want the 3 that failed", n)
	}

	// Fixed (the items restored, the write no longer refused), a new run
	// retries exactly them.
	legacyPut(t, e.db, e.table, []map[string]types.AttributeValue{originals[unreadable], originals[badTime]})
	rep, err = dynamo.Backfill(ctx, e.db, e.table, opts)
	if err != nil || !rep.Complete || rep.Upgraded != 3 || rep.Failed != 0 {
		t.Fatalf("second run: %+v, %v; want the 3 upgraded", rep, err)
	}
	if n := legacyCount(legacyDump(t, e.db, e.table)); n != 0 {
		t.Errorf("%d legacy items left", n)
	}
}

// TestBackfillResumeRetriesFailures: a run stopped half-way keeps its
// failures in the progress file; the resumed run retries them first,
// although their pages are behind its positions.
func TestBackfillResumeRetriesFailures(t *testing.T) {
	ctx := context.Background()
	e := newLegacyBackfillEnv(t)
	var first atomic.Value
	db := testenv.Client(t, failWrites(func(id string) bool {
		return first.CompareAndSwap(nil, id) || first.Load() == id
	}, errInjected))
	progress := filepath.Join(t.TempDir(), "progress.json")
	opts := dynamo.BackfillOptions{Segments: 2, PageSize: 10, ProgressFile: progress}
	half := opts
	half.MaxWrites = legacyGenerated / 2
	rep, err := dynamo.Backfill(ctx, db, e.table, half)
	if err != nil || rep.Complete || rep.Failed != 1 || rep.Upgraded != legacyGenerated/2 {
		t.Fatalf("first half: %+v, %v; want %d upgraded, 1 failure, incomplete", rep, err, legacyGenerated/2)
	}
	var rec struct {
		Failed []struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"failed"`
	}
	data, _ := os.ReadFile(progress)
	if err := json.Unmarshal(data, &rec); err != nil || len(rec.Failed) != 1 || rec.Failed[0].ID != first.Load() {
		t.Fatalf("progress file does not record the failure (%v):\n%s", err, data)
	}

	rep, err = dynamo.Backfill(ctx, e.db, e.table, opts)
	if err != nil || !rep.Complete || !rep.Resumed || rep.Failed != 0 || rep.Upgraded != legacyGenerated/2 {
		t.Fatalf("resumed run: %+v, %v; want the other half and the failed one", rep, err)
	}
	if n := legacyCount(legacyDump(t, e.db, e.table)); n != 0 {
		t.Errorf("%d legacy items left", n)
	}
}

// TestBackfillStopsWhenUnavailable: a throttled or unreachable table is
// not one item's problem: the run stops, resumable, instead of recording
// every item as failed.
func TestBackfillStopsWhenUnavailable(t *testing.T) {
	e := newLegacyBackfillEnv(t)
	db := testenv.Client(t, failWrites(func(string) bool { return true },
		&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "injected"}))
	rep, err := dynamo.Backfill(context.Background(), db, e.table, dynamo.BackfillOptions{Segments: 2, ProgressFile: filepath.Join(t.TempDir(), "p.json")})
	if err == nil || rep.Complete || rep.Failed != 0 {
		t.Fatalf("backfill against a throttled table: %+v, %v; want it stopped with an error and no failures", rep, err)
	}
}
