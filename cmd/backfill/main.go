// Command backfill brings the properties the platform's old Lambdas wrote
// into the table to this API's shape (version, index attributes, normalised
// city and state, the image map, timestamps in the format the old Lambdas
// read), and gives every property without an owner a default owner, so that
// listings show them all. With -repair it also finds the properties the old
// Lambdas changed after that and derives their index attributes again with
// a new version. It is safe to run against the live table while the API
// serves it: every item is changed by a write conditioned on its being as
// read, within a budget of capacity units per second, and an interrupted
// run resumes from its progress file. An item that cannot be handled is
// reported at the end (exit status 1) without stopping the others; the
// next run retries it. See the README, "Adopting the existing table".
//
//	backfill [-dry-run] [-repair] [-owner SUB] [-read-budget RCU] [-write-budget WCU] [-segments N] ...
//
// The table, region and endpoint come from the API's variables
// (PROPERTY_TABLE_NAME, AWS_REGION, DYNAMODB_ENDPOINT, DYNAMODB_TIMEOUT,
// DYNAMODB_MAX_ATTEMPTS, DYNAMODB_MAX_BACKOFF, read as the API reads them); the
// default owner from -owner or BACKFILL_OWNER.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/envvar"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
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

// run is the command: it parses args, reads the environment through getenv,
// writes the dry run's lines to stdout and everything else to stderr, and
// returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		table       = fs.String("table", strings.TrimSpace(getenv("PROPERTY_TABLE_NAME")), "table name (default $PROPERTY_TABLE_NAME)")
		owner       = fs.String("owner", strings.TrimSpace(getenv("BACKFILL_OWNER")), "ownerId given to every property without one, e.g. an admin account's subject (default $BACKFILL_OWNER; empty leaves them without an owner)")
		dryRun      = fs.Bool("dry-run", false, "change nothing; print what would change, one line per item")
		repair      = fs.Bool("repair", false, "also repair properties the old Lambdas changed after their upgrade (new index attributes and version); safe on a schedule")
		segments    = fs.Int("segments", 4, "parallel scan segments (resume with the same number)")
		pageSize    = fs.Int("page-size", 100, "items one Scan call evaluates")
		readBudget  = fs.Float64("read-budget", 100, "read capacity units per second (0: unlimited)")
		writeBudget = fs.Float64("write-budget", 100, "write capacity units per second, index writes included (0: unlimited)")
		maxItems    = fs.Int("max-items", 0, "stop after this many writes; run again to go on (0: no limit)")
		progress    = fs.String("progress", "", "progress file (default .data/backfill/<table>.json)")
		every       = fs.Duration("progress-every", 10*time.Second, "how often to print a progress line")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: backfill [flags]\n\nBrings the old Lambdas' items to this API's shape. Run with -dry-run first.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	vars := envvar.New(getenv)
	conn := dynamo.ReadEnv(vars)
	problems := envvar.CommandProblems(fs, *table, vars)
	if *segments < 1 || *segments > 1_000_000 {
		problems = append(problems, "-segments must be from 1 to 1000000")
	}
	if *pageSize < 1 {
		problems = append(problems, "-page-size must be at least 1")
	}
	if *readBudget < 0 || *writeBudget < 0 {
		problems = append(problems, "-read-budget and -write-budget must not be negative")
	}
	if *maxItems < 0 {
		problems = append(problems, "-max-items must not be negative")
	}
	if *every <= 0 {
		problems = append(problems, "-progress-every must be positive")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "backfill:", p)
		}
		return exitUsage
	}
	if *progress == "" {
		name := *table + ".json"
		if *repair {
			// A repair pass keeps its own record: it scans every item, so a
			// position of a plain pass would skip some.
			name = *table + ".repair.json"
		}
		*progress = filepath.Join(".data", "backfill", name)
	}

	conn.Client.CheckCredentials = true
	db, err := dynamo.NewClient(ctx, conn.Client)
	if err != nil {
		fmt.Fprintln(stderr, "backfill:", err)
		if errors.Is(err, dynamo.ErrNoCredentials) {
			fmt.Fprintln(stderr, "backfill:", dynamo.CredentialsHint)
		}
		return exitFailed
	}
	budget := func(v float64) string {
		if v == 0 {
			return "unlimited"
		}
		return fmt.Sprintf("%g/s", v)
	}
	mode := "progress in " + *progress
	if *dryRun {
		mode = "dry run: nothing is written"
	}
	if *repair {
		mode = "repair, " + mode
	}
	fmt.Fprintf(stderr, "backfill: table %s, %d segments, read budget %s, write budget %s, %s\n",
		*table, *segments, budget(*readBudget), budget(*writeBudget), mode)
	if *owner == "" {
		fmt.Fprintln(stderr, "backfill: no -owner (or BACKFILL_OWNER): properties without an owner keep none, and only admins may change them")
	}

	rep, err := dynamo.Backfill(ctx, db, *table, dynamo.BackfillOptions{
		Owner: *owner, Segments: *segments, PageSize: *pageSize,
		ReadBudget: *readBudget, WriteBudget: *writeBudget,
		ProgressFile: *progress, DryRun: *dryRun, Repair: *repair, MaxWrites: *maxItems,
		Out: stdout, Log: stderr, ProgressEvery: *every,
	})
	if rep.Resumed {
		fmt.Fprintln(stderr, "backfill: resumed from", *progress)
	}
	fmt.Fprintln(stderr, summary(rep, *dryRun))
	for _, f := range rep.Failures {
		fmt.Fprintf(stderr, "backfill: failed: property %s: %s\n", f.ID, f.Reason)
	}
	if rep.Stale > 0 && !*repair {
		fmt.Fprintf(stderr, "backfill: %d properties were changed by another writer after their upgrade: run again with -repair\n", rep.Stale)
	}
	switch {
	case errors.Is(err, context.Canceled) && *dryRun:
		fmt.Fprintln(stderr, "backfill: interrupted")
		return exitInterrupted
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "backfill: interrupted; progress is saved in %s: run the same command again to resume\n", *progress)
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, err) // Backfill's errors name it already
		if !*dryRun {
			fmt.Fprintf(stderr, "backfill: progress is saved in %s: run the same command again to resume\n", *progress)
		}
		return exitFailed
	case !rep.Complete:
		fmt.Fprintf(stderr, "backfill: stopped after %d writes (-max-items); run the same command again to go on\n", *maxItems)
	}
	if rep.Failed > 0 {
		fmt.Fprintf(stderr, "backfill: %d items failed (listed above); the others are done: run the same command again to retry them\n", rep.Failed)
		return exitFailed
	}
	return exitOK
}

// summary is the final count line.
func summary(r dynamo.BackfillReport, dryRun bool) string {
	if dryRun {
		return fmt.Sprintf("backfill: dry run: scanned %d items; would upgrade %d legacy items and give %d properties an owner; would tidy %d and repair %d; %d stale; %d failed",
			r.Scanned, r.Upgraded, r.Owned, r.Tidied, r.Repaired, r.Stale, r.Failed)
	}
	return fmt.Sprintf("backfill: scanned %d items; upgraded %d legacy items, gave %d properties an owner; tidied %d, repaired %d, %d stale; %d changed concurrently (planned again), %d deleted meanwhile, %d failed; spent %.1f read and %.1f write units",
		r.Scanned, r.Upgraded, r.Owned, r.Tidied, r.Repaired, r.Stale, r.Changed, r.Gone, r.Failed, r.ReadUnits, r.WriteUnits)
}
