// Command indexes adds the API's global secondary indexes (the five of
// dynamo/table.json) to an existing table, such as the platform's table
// the stack adopts with its existingTableName param. DynamoDB, like
// CloudFormation, creates one index per UpdateTable, and each backfills for
// minutes to hours on a large table; this command creates them one at a
// time and waits for each to become ACTIVE before the next.
//
// It keeps no state of its own: every step starts from DescribeTable, so an
// interrupted run (Ctrl-C, a lost connection) is resumed by running it
// again; an index already being created is waited for, not created twice.
// See the README, "Adopting the existing table".
//
//	indexes [-table NAME] [-poll 15s] [-dry-run]
//
// The table, region and endpoint come from the API's variables
// (PROPERTY_TABLE_NAME, AWS_REGION, DYNAMODB_ENDPOINT, DYNAMODB_TIMEOUT).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/envvar"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run is the command; opts are extra client options (tests count calls).
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, opts []func(*dynamodb.Options)) int {
	fs := flag.NewFlagSet("indexes", flag.ContinueOnError)
	fs.SetOutput(out)
	var (
		table  = fs.String("table", strings.TrimSpace(getenv("PROPERTY_TABLE_NAME")), "table name (default $PROPERTY_TABLE_NAME)")
		poll   = fs.Duration("poll", 15*time.Second, "how often to check an index being created")
		dryRun = fs.Bool("dry-run", false, "change nothing; print which indexes would be created")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: indexes [flags]\n\nCreates the API's indexes on an existing table, one at a time.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	vars := envvar.New(getenv)
	conn := dynamo.ReadEnv(vars)
	problems := envvar.CommandProblems(fs, *table, vars)
	if *poll <= 0 {
		problems = append(problems, "-poll must be positive")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(out, "indexes:", p)
		}
		return exitUsage
	}
	conn.Client.APIOptions = opts
	// Like backfill and sweep: no credentials fails at once, naming what to
	// set, instead of after a probe of the EC2 metadata address.
	conn.Client.CheckCredentials = true
	db, err := dynamo.NewClient(ctx, conn.Client)
	if err != nil {
		fmt.Fprintln(out, "indexes:", err)
		if errors.Is(err, dynamo.ErrNoCredentials) {
			fmt.Fprintln(out, "indexes:", dynamo.CredentialsHint)
		}
		return exitFailed
	}
	err = addIndexes(ctx, db, *table, options{poll: *poll, dryRun: *dryRun, out: out})
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(out, "indexes: interrupted; an index being created goes on in DynamoDB: run the same command again to resume")
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(out, "indexes:", err)
		return exitFailed
	}
	return exitOK
}

// tableAPI is what addIndexes calls.
type tableAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
}

type options struct {
	poll   time.Duration
	dryRun bool
	out    io.Writer
}

// addIndexes brings table to the definition's indexes: for each index in
// the definition's order, it waits until the table and all its indexes are
// ACTIVE, checks an index of that name has the definition's keys, or
// creates it.
func addIndexes(ctx context.Context, db tableAPI, table string, opt options) error {
	def, err := dynamo.TableDefinition(table)
	if err != nil {
		return err
	}
	attrType := map[string]types.ScalarAttributeType{}
	for _, a := range def.AttributeDefinitions {
		attrType[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	created := 0
	for _, want := range def.GlobalSecondaryIndexes {
		name := aws.ToString(want.IndexName)
		desc, err := waitActive(ctx, db, table, opt)
		if err != nil {
			return err
		}
		if have := findIndex(desc, name); have != nil {
			if !sameKeys(have.KeySchema, want.KeySchema) || have.Projection == nil || have.Projection.ProjectionType != want.Projection.ProjectionType {
				return fmt.Errorf("table %s has an index %s that differs from dynamo/table.json (keys %s, projection %v); delete it or rename it, then run again",
					table, name, keysString(have.KeySchema), have.Projection)
			}
			fmt.Fprintf(opt.out, "indexes: %s: present\n", name)
			continue
		}
		if opt.dryRun {
			fmt.Fprintf(opt.out, "indexes: %s: would be created (keys %s)\n", name, keysString(want.KeySchema))
			continue
		}
		create := &types.CreateGlobalSecondaryIndexAction{
			IndexName: want.IndexName, KeySchema: want.KeySchema, Projection: want.Projection,
		}
		if desc.BillingModeSummary == nil || desc.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			// A provisioned table's index needs its own capacity: the
			// table's, which the operator can change later.
			if pt := desc.ProvisionedThroughput; pt != nil && aws.ToInt64(pt.ReadCapacityUnits) > 0 {
				create.ProvisionedThroughput = &types.ProvisionedThroughput{
					ReadCapacityUnits: pt.ReadCapacityUnits, WriteCapacityUnits: pt.WriteCapacityUnits,
				}
			}
		}
		var attrs []types.AttributeDefinition
		for _, k := range want.KeySchema {
			n := aws.ToString(k.AttributeName)
			attrs = append(attrs, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: attrType[n]})
		}
		if err := updateTable(ctx, db, &dynamodb.UpdateTableInput{
			TableName: aws.String(table), AttributeDefinitions: attrs,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: create}},
		}, opt); err != nil {
			return fmt.Errorf("create index %s on %s: %w", name, table, err)
		}
		created++
		fmt.Fprintf(opt.out, "indexes: %s: creating (keys %s)\n", name, keysString(want.KeySchema))
	}
	if opt.dryRun {
		return nil
	}
	if _, err := waitActive(ctx, db, table, opt); err != nil {
		return err
	}
	fmt.Fprintf(opt.out, "indexes: %s has all %d indexes, ACTIVE (%d created by this run)\n", table, len(def.GlobalSecondaryIndexes), created)
	return nil
}

// updateTable sends in, waiting while DynamoDB refuses because the table
// is busy (another update, a backup) and trying again.
func updateTable(ctx context.Context, db tableAPI, in *dynamodb.UpdateTableInput, opt options) error {
	for {
		_, err := db.UpdateTable(ctx, in)
		var apiErr smithy.APIError
		if err == nil || !errors.As(err, &apiErr) ||
			(apiErr.ErrorCode() != "ResourceInUseException" && apiErr.ErrorCode() != "LimitExceededException") {
			return err
		}
		fmt.Fprintf(opt.out, "indexes: table busy (%s); trying again in %v\n", apiErr.ErrorCode(), opt.poll)
		if err := sleep(ctx, opt.poll); err != nil {
			return err
		}
	}
}

// waitActive returns the table's description once the table and every
// index are ACTIVE, printing the progress of indexes being created.
func waitActive(ctx context.Context, db tableAPI, table string, opt options) (*types.TableDescription, error) {
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", table, err)
		}
		d := out.Table
		busy := d.TableStatus != types.TableStatusActive
		for _, g := range d.GlobalSecondaryIndexes {
			if g.IndexStatus != types.IndexStatusActive {
				busy = true
				fmt.Fprintf(opt.out, "indexes: %s: %s%s\n", aws.ToString(g.IndexName), g.IndexStatus, backfilling(g))
			}
		}
		if !busy {
			return d, nil
		}
		if err := sleep(ctx, opt.poll); err != nil {
			return nil, err
		}
	}
}

func backfilling(g types.GlobalSecondaryIndexDescription) string {
	if aws.ToBool(g.Backfilling) {
		return fmt.Sprintf(", backfilling (%d items so far)", aws.ToInt64(g.ItemCount))
	}
	return ""
}

func findIndex(d *types.TableDescription, name string) *types.GlobalSecondaryIndexDescription {
	for i := range d.GlobalSecondaryIndexes {
		if aws.ToString(d.GlobalSecondaryIndexes[i].IndexName) == name {
			return &d.GlobalSecondaryIndexes[i]
		}
	}
	return nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return keysString(a) == keysString(b)
}

func keysString(ks []types.KeySchemaElement) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return strings.Join(parts, ", ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
