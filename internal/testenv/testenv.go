// Package testenv gives integration tests what they need from the local
// DynamoDB engine: a client, a uniquely named table that is dropped after
// the test, and a counter of the DynamoDB calls a piece of code makes.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/dynamolocal"
)

// Region is the region tests use against the local engine.
const Region = "us-east-1"

// Client returns a client for the local engine, skipping or failing the
// test (see dynamolocal.Endpoint) when there is none.
func Client(tb testing.TB, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	endpoint := dynamolocal.Endpoint(tb)
	// A generous timeout: on a loaded 2-core machine the engine can take
	// seconds to create a table with its indexes.
	c, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{Region: Region, Endpoint: endpoint, Timeout: 30 * time.Second, APIOptions: opts})
	if err != nil {
		tb.Fatalf("dynamodb client: %v", err)
	}
	return c
}

// Table creates a table with a unique name from the project's definition
// and drops it when the test ends.
func Table(tb testing.TB) string {
	tb.Helper()
	c := Client(tb)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "test-" + strings.NewReplacer("/", "-", " ", "_").Replace(tb.Name())
	if len(name) > 200 {
		name = name[:200]
	}
	name += "-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := dynamo.EnsureTable(ctx, c, name); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() {
		if os.Getenv("KEEP_TABLES") == "" {
			_ = dynamo.DeleteTable(context.Background(), c, name)
		}
	})
	return name
}

// Cursors returns a cursor codec with a fixed test key.
func Cursors(tb testing.TB) *cursor.Codec {
	tb.Helper()
	c, err := cursor.New([]string{"test-cursor-secret-0123456789"}, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Store returns a store on a fresh table, with the given client options.
func Store(tb testing.TB, opts ...func(*dynamodb.Options)) *dynamo.Store {
	tb.Helper()
	s, err := dynamo.New(Client(tb, opts...), dynamo.Options{Table: Table(tb), Cursors: Cursors(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Calls counts DynamoDB API calls by operation name (one per call, however
// many attempts the SDK's retryer made).
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// Option is the client option that feeds the counter.
func (c *Calls) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				if c.n == nil {
					c.n = map[string]int{}
				}
				c.n[middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// Reset forgets the calls counted so far.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}

// Counts returns the calls counted since the last Reset.
func (c *Calls) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}
