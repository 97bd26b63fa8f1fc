package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }

// bareTable creates a table as the platform's is: the API's keys, no
// indexes (plus extra, when given), with items the indexes will hold. It
// is dropped when the test ends.
func bareTable(t *testing.T, db *dynamodb.Client, extra ...types.GlobalSecondaryIndex) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "indexes-" + hex.EncodeToString(b)
	s := func(v string) *string { return aws.String(v) }
	in := &dynamodb.CreateTableInput{
		TableName:   s(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: s("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: s("SK"), KeyType: types.KeyTypeRange},
		},
	}
	if len(extra) > 0 {
		in.GlobalSecondaryIndexes = extra
		for _, g := range extra {
			for _, k := range g.KeySchema {
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: k.AttributeName, AttributeType: types.ScalarAttributeTypeS})
			}
		}
	}
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dynamo.DeleteTable(context.Background(), db, name) })
	for i := range 3 {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s(name), Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("PROPERTY#%d", i)}, "SK": &types.AttributeValueMemberS{Value: "METADATA"},
			"lpk": &types.AttributeValueMemberS{Value: "ALL"}, "csk": &types.AttributeValueMemberS{Value: fmt.Sprintf("2026-01-0%dT00:00:00.000Z", i+1)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func env(t *testing.T, table string) func(string) string {
	vars := map[string]string{"AWS_REGION": testenv.Region, "DYNAMODB_ENDPOINT": dynamolocal.Endpoint(t), "PROPERTY_TABLE_NAME": table}
	return func(k string) string { return vars[k] }
}

// checkIndexes fails unless table has exactly the definition's indexes,
// ACTIVE, with its keys.
func checkIndexes(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := dynamo.TableDefinition(table)
	if got, want := len(out.Table.GlobalSecondaryIndexes), len(def.GlobalSecondaryIndexes); got != want {
		t.Fatalf("%d indexes, want %d", got, want)
	}
	for _, want := range def.GlobalSecondaryIndexes {
		have := findIndex(out.Table, aws.ToString(want.IndexName))
		switch {
		case have == nil:
			t.Errorf("no index %s", aws.ToString(want.IndexName))
		case have.IndexStatus != types.IndexStatusActive:
			t.Errorf("%s is %s", aws.ToString(want.IndexName), have.IndexStatus)
		case keysString(have.KeySchema) != keysString(want.KeySchema):
			t.Errorf("%s keys %s, want %s", aws.ToString(want.IndexName), keysString(have.KeySchema), keysString(want.KeySchema))
		}
	}
	// The index serves the items that were there before it.
	q, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("byCreated"),
		KeyConditionExpression:    aws.String("lpk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "ALL"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != 3 {
		t.Errorf("byCreated holds %d items, want the 3 written before it existed", q.Count)
	}
}

func TestIndexes(t *testing.T) {
	db := testenv.Client(t)
	table := bareTable(t, db)
	var calls testenv.Calls
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-poll", "20ms"}, env(t, table), &out, []func(*dynamodb.Options){calls.Option}); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	checkIndexes(t, db, table)
	if got := calls.Counts()["UpdateTable"]; got != 5 {
		t.Errorf("%d UpdateTable calls, want 5 (one per index)", got)
	}

	t.Run("again: nothing to do", func(t *testing.T) {
		calls.Reset()
		out.Reset()
		if code := run(context.Background(), []string{"-poll", "20ms"}, env(t, table), &out, []func(*dynamodb.Options){calls.Option}); code != exitOK {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
		if got := calls.Counts()["UpdateTable"]; got != 0 {
			t.Errorf("%d UpdateTable calls, want none", got)
		}
		if !strings.Contains(out.String(), "(0 created by this run)") {
			t.Errorf("output:\n%s", out.String())
		}
	})
}

// oneAtATime wraps the client: each UpdateTable must create one index,
// on a table whose indexes are all ACTIVE; after stopAfter of them the
// run is interrupted, as by Ctrl-C.
type oneAtATime struct {
	*dynamodb.Client
	t         *testing.T
	updates   int
	stopAfter int
	cancel    context.CancelFunc
}

func (o *oneAtATime) UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, f ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	if n := len(in.GlobalSecondaryIndexUpdates); n != 1 || in.GlobalSecondaryIndexUpdates[0].Create == nil {
		o.t.Errorf("UpdateTable with %d index updates, want one create", n)
	}
	d, err := o.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return nil, err
	}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			o.t.Errorf("UpdateTable while %s is %s", aws.ToString(g.IndexName), g.IndexStatus)
		}
	}
	out, err := o.Client.UpdateTable(ctx, in, f...)
	o.updates++
	if o.updates == o.stopAfter {
		o.cancel()
	}
	return out, err
}

func TestIndexesResume(t *testing.T) {
	db := testenv.Client(t)
	table := bareTable(t, db)
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &oneAtATime{Client: db, t: t, stopAfter: 2, cancel: cancel}
	err := addIndexes(ctx, first, table, options{poll: 20 * time.Millisecond, out: &out})
	if err == nil || ctx.Err() == nil {
		t.Fatalf("the interrupted run returned %v", err)
	}
	second := &oneAtATime{Client: db, t: t}
	if err := addIndexes(context.Background(), second, table, options{poll: 20 * time.Millisecond, out: &out}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if first.updates+second.updates != 5 || second.updates != 3 {
		t.Errorf("UpdateTable calls: %d, then %d on resuming; want 2 then 3", first.updates, second.updates)
	}
	checkIndexes(t, db, table)
}

func TestIndexesRefuses(t *testing.T) {
	db := testenv.Client(t)
	s := aws.String
	// An index named like one of ours, on other keys: creating ours under
	// that name is impossible, and using theirs would serve wrong pages.
	table := bareTable(t, db, types.GlobalSecondaryIndex{
		IndexName:  s("byCreated"),
		KeySchema:  []types.KeySchemaElement{{AttributeName: s("legacyCity"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	})
	var calls testenv.Calls
	var out bytes.Buffer
	code := run(context.Background(), []string{"-poll", "20ms"}, env(t, table), &out, []func(*dynamodb.Options){calls.Option})
	if code != exitFailed || !strings.Contains(out.String(), "byCreated that differs") {
		t.Errorf("exit %d, want %d naming byCreated:\n%s", code, exitFailed, out.String())
	}
	if got := calls.Counts()["UpdateTable"]; got != 0 {
		t.Errorf("%d UpdateTable calls, want none", got)
	}
}

func TestIndexesDryRun(t *testing.T) {
	db := testenv.Client(t)
	table := bareTable(t, db)
	var calls testenv.Calls
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-dry-run"}, env(t, table), &out, []func(*dynamodb.Options){calls.Option}); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if got := calls.Counts()["UpdateTable"]; got != 0 {
		t.Errorf("dry run made %d UpdateTable calls", got)
	}
	if got := strings.Count(out.String(), "would be created"); got != 5 {
		t.Errorf("dry run lists %d indexes, want 5:\n%s", got, out.String())
	}
}

func TestIndexesUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"no table", nil, map[string]string{"AWS_REGION": "us-east-1"}, "PROPERTY_TABLE_NAME"},
		{"no region", []string{"-table", "t"}, nil, "AWS_REGION"},
		{"bad poll", []string{"-table", "t", "-poll", "0s"}, map[string]string{"AWS_REGION": "us-east-1"}, "-poll"},
		{"bad timeout", []string{"-table", "t"}, map[string]string{"AWS_REGION": "us-east-1", "DYNAMODB_TIMEOUT": "soon"}, "DYNAMODB_TIMEOUT"},
		{"stray argument", []string{"-table", "t", "now"}, map[string]string{"AWS_REGION": "us-east-1"}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, func(k string) string { return tt.vars[k] }, &out, nil)
			if code != exitUsage || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, want %d naming %s:\n%s", code, exitUsage, tt.want, out.String())
			}
		})
	}
}
