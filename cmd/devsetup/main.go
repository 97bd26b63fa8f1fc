// Command devsetup prepares a local DynamoDB engine for `make dev`: it
// creates the table from the project's definition when it is missing and,
// on that first start only, loads a few sample properties.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/envvar"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devsetup:", err)
		os.Exit(1)
	}
}

func run() error {
	r := envvar.New(os.Getenv)
	cfg := dynamo.ReadEnv(r)
	table := r.Required("PROPERTY_TABLE_NAME")
	if err := r.Err(); err != nil {
		return err
	}
	if cfg.Client.Endpoint == "" {
		return fmt.Errorf("DYNAMODB_ENDPOINT is not set: devsetup only prepares a local engine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := dynamo.NewClient(ctx, cfg.Client)
	if err != nil {
		return err
	}
	created, err := dynamo.EnsureTable(ctx, db, table)
	if err != nil {
		return err
	}
	if !created {
		fmt.Printf("table %s is ready\n", table)
		return nil
	}
	store, err := dynamo.New(db, dynamo.Options{Table: table, Cursors: cursor.NewRandom(time.Minute)})
	if err != nil {
		return err
	}
	for _, in := range samples {
		if err := in.Validate(); err != nil {
			return fmt.Errorf("sample %q: %w", in.Title, err)
		}
		if _, err := store.Create(ctx, property.Anonymous, in); err != nil {
			return fmt.Errorf("sample %q: %w", in.Title, err)
		}
	}
	fmt.Printf("table %s created with %d sample properties\n", table, len(samples))
	return nil
}

var samples = []property.CreateInput{
	{Title: "Sunny loft near the park", Description: "Two bedrooms, tall windows and a view over Lincoln Park.", Price: 425000, Address: "1200 N Clark St", City: "Chicago", State: "IL", Zip: "60610"},
	{Title: "Family house with garden", Description: "Four bedrooms, a large garden and a two-car garage.", Price: 689000, Address: "42 Maple Ave", City: "Evanston", State: "IL", Zip: "60201"},
	{Title: "Studio downtown", Description: "Compact studio steps from the train.", Price: 189500, Address: "77 W Wacker Dr", City: "Chicago", State: "IL", Zip: "60601"},
	{Title: "Craftsman bungalow", Description: "Restored 1920s bungalow with original woodwork.", Price: 512250.5, Address: "3100 SE Belmont St", City: "Portland", State: "OR", Zip: "97214"},
	{Title: "Waterfront condo", Description: "Balcony over the bay, gym and pool in the building.", Price: 935000, Address: "500 Brickell Key Dr", City: "Miami", State: "FL", Zip: "33131"},
}
