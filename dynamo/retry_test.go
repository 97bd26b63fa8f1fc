package dynamo_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// lostResponse simulates a response lost on the way back: the first
// attempt of every call of one operation reaches DynamoDB and commits, and
// the SDK is then told the attempt failed with a retryable error, so its
// retryer sends the same request again.
type lostResponse struct {
	op       string
	armed    atomic.Bool  // nothing is dropped until armed
	fired    atomic.Int32 // responses dropped
	attempts atomic.Int32 // attempts of op, retries included
}

// errLostResponse is retryable by the SDK's standard retryer, which asks
// any error for a RetryableError method (retry.RetryableError).
type errLostResponse struct{}

func (errLostResponse) Error() string        { return "test: response lost after the write committed" }
func (errLostResponse) RetryableError() bool { return true }

type attemptsKey struct{}

func (l *lostResponse) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		// Initialize runs once per call: give the call its attempt counter.
		err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("lostResponseCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(context.WithValue(ctx, attemptsKey{}, new(atomic.Int32)), in)
			}), middleware.Before)
		if err != nil {
			return err
		}
		// The end of Finalize runs once per attempt, inside the retry loop.
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("lostResponse",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if !l.armed.Load() || middleware.GetOperationName(ctx) != l.op {
					return out, md, err
				}
				l.attempts.Add(1)
				n, _ := ctx.Value(attemptsKey{}).(*atomic.Int32)
				if err != nil || n == nil || n.Add(1) > 1 {
					return out, md, err
				}
				l.fired.Add(1)
				return out, md, errLostResponse{}
			}), middleware.After)
	})
}

func TestRetryAfterCommit(t *testing.T) {
	ctx := context.Background()
	key := "retried-key"
	tests := []struct {
		name string
		op   string
		// write runs the write under test on a store holding p (created
		// before the write) and checks what it reports.
		write func(t *testing.T, s *dynamo.Store, p *property.Property)
		// items is how many properties must exist afterwards.
		items int
	}{
		{"create", "PutItem", func(t *testing.T, s *dynamo.Store, _ *property.Property) {
			in := sample("Retried", 100)
			p, err := s.Create(ctx, property.Anonymous, in)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if got, want := mustGet(t, s, p.ID).Title, "Retried"; got != want {
				t.Errorf("stored title = %q, want %q", got, want)
			}
		}, 2},
		{"create with a client key", "PutItem", func(t *testing.T, s *dynamo.Store, _ *property.Property) {
			in := sample("Retried", 100)
			in.ClientMutationID = &key
			got, err := s.Create(ctx, property.Anonymous, in)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if got, want := got.ID, property.IdempotentID(property.Anonymous, key); got != want {
				t.Errorf("id = %s, want %s", got, want)
			}
		}, 2},
		{"update", "UpdateItem", func(t *testing.T, s *dynamo.Store, p *property.Property) {
			got, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: ptr("Retried")})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Version != 2 || got.Title != "Retried" {
				t.Errorf("update reported version %d, title %q; want 2, %q", got.Version, got.Title, "Retried")
			}
			if got := mustGet(t, s, p.ID); got.Version != 2 || got.Title != "Retried" {
				t.Errorf("stored version %d, title %q; want 2, %q", got.Version, got.Title, "Retried")
			}
		}, 1},
		{"delete at version", "DeleteItem", func(t *testing.T, s *dynamo.Store, p *property.Property) {
			if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID, ExpectedVersion: ptr(1)}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			_, err := s.Get(ctx, p.ID)
			if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
				t.Errorf("get after delete: code %q, want %q", got, want)
			}
		}, 0},
		{"delete", "DeleteItem", func(t *testing.T, s *dynamo.Store, p *property.Property) {
			if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost := &lostResponse{op: tt.op}
			s := testenv.Store(t, lost.option)
			// Only the write under test loses its response, not the
			// fixture's PutItem.
			p := mustCreate(t, s, sample("Fixture", 50))
			lost.armed.Store(true)

			tt.write(t, s, p)

			if got, want := lost.fired.Load(), int32(1); got != want {
				t.Errorf("responses dropped = %d, want %d: the test did not exercise a retry", got, want)
			}
			if got, want := lost.attempts.Load(), int32(2); got != want {
				t.Errorf("%s attempts = %d, want %d", tt.op, got, want)
			}
			all := mustList(t, s, property.ListQuery{First: property.MaxPageSize, Order: property.OrderCreatedDesc})
			if got, want := len(all), tt.items; got != want {
				t.Errorf("properties = %d, want %d", got, want)
			}
		})
	}
}
