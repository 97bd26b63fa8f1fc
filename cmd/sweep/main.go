// Command sweep removes images whose property no longer exists: objects
// uploaded through a still-valid upload URL after their property was
// deleted. Run it on a schedule (daily is plenty; it lists the bucket's
// property folders and checks them in batches of 100):
//
//	make sweep                       # with the API's environment variables
//	go run ./cmd/sweep -dry-run      # only print what it would remove
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/images"
	"github.com/propertyhq/property/internal/devenv"
	"github.com/propertyhq/property/internal/envvar"
)

func main() {
	dryRun := flag.Bool("dry-run", false, "print the folders that would be removed, remove nothing")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *dryRun); err != nil {
		fmt.Fprintln(os.Stderr, "sweep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, dryRun bool) error {
	vars := envvar.New(os.Getenv)
	table := vars.Required("PROPERTY_TABLE_NAME")
	cfg := dynamo.ReadEnv(vars)
	imgs := images.ReadEnv(vars, cfg.Client.Region)
	if err := vars.Err(); err != nil {
		return fmt.Errorf("%w\n(against a running make dev, `make sweep` finds these in %s)", err, devenv.Path)
	}
	if imgs.Bucket == "" {
		return fmt.Errorf("IMAGES_BUCKET is not set (with make dev running, make sweep finds it in .data/dev.env)")
	}
	cfg.Client.CheckCredentials = true
	db, err := dynamo.NewClient(ctx, cfg.Client)
	if errors.Is(err, dynamo.ErrNoCredentials) {
		return fmt.Errorf("%w\n%s", err, dynamo.CredentialsHint)
	}
	if err != nil {
		return err
	}
	store, err := dynamo.New(db, dynamo.Options{Table: table, Cursors: cursor.NewRandom(time.Minute)})
	if err != nil {
		return err
	}
	bucket, err := images.New(ctx, imgs)
	if err != nil {
		return err
	}
	r, err := sweep(ctx, store, bucket, dryRun, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sweep: %d property folders checked, %d orphaned, %d objects removed\n", r.checked, r.orphaned, r.removed)
	return nil
}

type report struct{ checked, orphaned, removed int }

type (
	existing interface {
		Existing(ctx context.Context, ids []string) (map[string]bool, error)
	}
	folders interface {
		PropertyIDs(ctx context.Context, fn func(ids []string) error) error
		DeleteAll(ctx context.Context, prefix string) (int, error)
	}
)

// sweep removes every property folder whose property is gone. A folder
// only gets objects after its property was written, so a folder without a
// property is one whose property was deleted.
func sweep(ctx context.Context, store existing, bucket folders, dryRun bool, out io.Writer) (report, error) {
	var r report
	err := bucket.PropertyIDs(ctx, func(ids []string) error {
		r.checked += len(ids)
		live, err := store.Existing(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if live[id] {
				continue
			}
			r.orphaned++
			prefix := property.ImagePrefix(id)
			if dryRun {
				fmt.Fprintf(out, "would remove %s\n", prefix)
				continue
			}
			n, err := bucket.DeleteAll(ctx, prefix)
			r.removed += n
			if err != nil {
				return err
			}
		}
		return nil
	})
	return r, err
}
