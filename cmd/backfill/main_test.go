package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }

// env is a getenv over a map, with the engine's endpoint.
func env(tb testing.TB, vars map[string]string) func(string) string {
	tb.Helper()
	all := map[string]string{"AWS_REGION": testenv.Region, "DYNAMODB_ENDPOINT": dynamolocal.Endpoint(tb)}
	for k, v := range vars {
		all[k] = v
	}
	return func(k string) string { return all[k] }
}

func runCmd(ctx context.Context, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// putLegacy writes n items as the old Lambdas did (see
// dynamo/testdata/legacy) and returns their ids.
func putLegacy(tb testing.TB, db *dynamodb.Client, table string, n int) []string {
	tb.Helper()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	ids := make([]string, n)
	for i := range n {
		id := uuid.NewString()
		ids[i] = id
		created := time.Date(2023, 5, 1, 8, 0, 0, 123456000, time.UTC).Add(time.Duration(i) * time.Hour)
		_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"PK": s("PROPERTY#" + id), "SK": s("METADATA"), "id": s(id),
			"title": s(fmt.Sprintf("Legacy home %d", i)), "description": s("Written by the old Lambdas."),
			"price":   &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.50", 100000+i)},
			"address": s("1 Main St"), "city": s("Springfield"), "state": s("il"), "zip": s("62701"),
			"images":    &types.AttributeValueMemberL{Value: []types.AttributeValue{s("properties/" + id + "/" + uuid.NewString() + ".jpg")}},
			"createdAt": s(created.Format("2006-01-02T15:04:05.000000-0700")),
			"updatedAt": s(created.Format("2006-01-02T15:04:05.000000-0700")),
		}})
		if err != nil {
			tb.Fatalf("put legacy item: %v", err)
		}
	}
	return ids
}

func TestUsage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no table", map[string]string{"AWS_REGION": "us-east-1"}, nil, "PROPERTY_TABLE_NAME (or -table) is required"},
		{"no region", map[string]string{"PROPERTY_TABLE_NAME": "t"}, nil, "AWS_REGION is required"},
		{"bad timeout", map[string]string{"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "r", "DYNAMODB_TIMEOUT": "soon"}, nil, "DYNAMODB_TIMEOUT must be"},
		{"no segments", map[string]string{"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "r"}, []string{"-segments", "0"}, "-segments must be"},
		{"negative budget", map[string]string{"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "r"}, []string{"-write-budget", "-1"}, "must not be negative"},
		{"unknown flag", map[string]string{"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "r"}, []string{"-fast"}, "flag provided but not defined"},
		{"stray argument", map[string]string{"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "r"}, []string{"now"}, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(ctx, func(k string) string { return tc.env[k] }, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}

func TestBackfillCommand(t *testing.T) {
	ctx := context.Background()
	table := testenv.Table(t)
	db := testenv.Client(t)
	const n = 30
	ids := putLegacy(t, db, table, n)
	getenv := env(t, map[string]string{"PROPERTY_TABLE_NAME": table, "BACKFILL_OWNER": "admin-sub"})
	progress := filepath.Join(t.TempDir(), "progress.json")
	common := []string{"-progress", progress, "-segments", "2", "-page-size", "4", "-read-budget", "0", "-write-budget", "0"}

	t.Run("dry run", func(t *testing.T) {
		code, stdout, stderr := runCmd(ctx, getenv, append(common, "-dry-run", "-segments", "1", "-page-size", "1", "-progress-every", "2ms")...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := strings.Count(stdout, "would upgrade property "); got != n {
			t.Errorf("dry run printed %d items, want %d:\n%s", got, n, stdout)
		}
		if !strings.Contains(stdout, `ownerId="admin-sub"`) || !strings.Contains(stdout, `cpk="springfield"`) {
			t.Errorf("dry run lines lack the owner or the city key:\n%s", stdout)
		}
		if !strings.Contains(stderr, "backfill: scanned ") || !strings.Contains(stderr, "would upgrade 30 legacy items") {
			t.Errorf("no progress line or final count:\n%s", stderr)
		}
		if _, err := os.Stat(progress); !os.IsNotExist(err) {
			t.Errorf("dry run wrote a progress file (%v)", err)
		}
	})

	t.Run("stopped, resumed, repeated", func(t *testing.T) {
		code, _, stderr := runCmd(ctx, getenv, append(common, "-max-items", "10")...)
		if code != exitOK || !strings.Contains(stderr, "upgraded 10 legacy items") || !strings.Contains(stderr, "run the same command again") {
			t.Fatalf("first run: exit %d:\n%s", code, stderr)
		}
		code, _, stderr = runCmd(ctx, getenv, common...)
		if code != exitOK || !strings.Contains(stderr, "resumed from") || !strings.Contains(stderr, "upgraded 20 legacy items") {
			t.Fatalf("second run: exit %d:\n%s", code, stderr)
		}
		code, _, stderr = runCmd(ctx, getenv, common...)
		if code != exitOK || !strings.Contains(stderr, "upgraded 0 legacy items, gave 0 properties an owner") {
			t.Fatalf("third run: exit %d:\n%s", code, stderr)
		}
		store, err := dynamo.New(db, dynamo.Options{Table: table, Cursors: testenv.Cursors(t)})
		if err != nil {
			t.Fatal(err)
		}
		page, err := store.List(ctx, property.ListQuery{First: 100, Order: property.OrderPriceAsc, Filter: property.Filter{OwnerID: aws.String("admin-sub"), City: aws.String("SPRINGFIELD")}})
		if err != nil || len(page.Items) != n {
			t.Fatalf("listing after the backfill: %d items, %v; want %d", len(page.Items), err, n)
		}
		if page.Items[0].ID != ids[0] || page.Items[0].Version != 1 || len(page.Items[0].Images) != 1 {
			t.Errorf("cheapest item = %+v, want %s at version 1 with its image", page.Items[0], ids[0])
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		code, _, stderr := runCmd(cctx, getenv, common...)
		if code != exitInterrupted || !strings.Contains(stderr, "interrupted; progress is saved in "+progress) {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})

	t.Run("a progress file of another table", func(t *testing.T) {
		other := env(t, map[string]string{"PROPERTY_TABLE_NAME": testenv.Table(t)})
		if err := os.WriteFile(progress, []byte(`{"table": "someone-else", "totalSegments": 2, "segments": [{"segment": 0}, {"segment": 1}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCmd(ctx, other, common...)
		if code != exitFailed || !strings.Contains(stderr, `belongs to table "someone-else"`) {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})
}

// TestFailedItems: an item the backfill cannot handle is listed at the end
// with its reason and makes the exit status 1, the others are upgraded, and
// the same command retries it.
func TestFailedItems(t *testing.T) {
	ctx := context.Background()
	table := testenv.Table(t)
	db := testenv.Client(t)
	ids := putLegacy(t, db, table, 6)
	bad := ids[2]
	key := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + bad}, "SK": &types.AttributeValueMemberS{Value: "METADATA"},
	}
	set := func(createdAt string) {
		t.Helper()
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression:          aws.String("SET createdAt = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: createdAt}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	set("last spring")
	getenv := env(t, map[string]string{"PROPERTY_TABLE_NAME": table})
	args := []string{"-progress", filepath.Join(t.TempDir(), "progress.json"), "-segments", "2", "-page-size", "2"}

	code, _, stderr := runCmd(ctx, getenv, args...)
	if code != exitFailed || !strings.Contains(stderr, "upgraded 5 legacy items") ||
		!strings.Contains(stderr, "backfill: failed: property "+bad+`: cannot derive its attributes: item `+bad+`: createdAt "last spring"`) ||
		!strings.Contains(stderr, "run the same command again to retry them") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	set("2023-05-01T08:00:00.123456+0000")
	code, _, stderr = runCmd(ctx, getenv, args...)
	if code != exitOK || !strings.Contains(stderr, "upgraded 1 legacy items") || strings.Contains(stderr, "failed: property") {
		t.Fatalf("rerun: exit %d:\n%s", code, stderr)
	}
}

// TestRepairFlag: after the backfill, an old Lambda changes a price; a run
// with -repair repairs the item once and keeps its own progress file.
func TestRepairFlag(t *testing.T) {
	ctx := context.Background()
	table := testenv.Table(t)
	db := testenv.Client(t)
	ids := putLegacy(t, db, table, 4)
	dir := t.TempDir()
	getenv := env(t, map[string]string{"PROPERTY_TABLE_NAME": table})
	if code, _, stderr := runCmd(ctx, getenv, "-progress", filepath.Join(dir, "plain.json")); code != exitOK {
		t.Fatalf("backfill: exit %d:\n%s", code, stderr)
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + ids[1]}, "SK": &types.AttributeValueMemberS{Value: "METADATA"},
		},
		UpdateExpression:          aws.String("SET price = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberN{Value: "5"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, _, stderr := runCmd(ctx, getenv, "-repair")
	if code != exitOK || !strings.Contains(stderr, "repaired 1,") || !strings.Contains(stderr, "repair, progress in .data/backfill/"+table+".repair.json") {
		t.Fatalf("repair: exit %d:\n%s", code, stderr)
	}
	if code, _, stderr = runCmd(ctx, getenv, "-repair"); code != exitOK || !strings.Contains(stderr, "repaired 0,") {
		t.Fatalf("second repair: exit %d:\n%s", code, stderr)
	}
}
