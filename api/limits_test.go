package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/propertyhq/property/internal/testenv"
)

// itemsRead sums the items DynamoDB reports it read (ScannedCount: before
// any filter drops them) over every Query call.
type itemsRead struct {
	mu sync.Mutex
	n  int
}

func (c *itemsRead) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countItemsRead",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if q, ok := out.Result.(*dynamodb.QueryOutput); ok {
					c.mu.Lock()
					c.n += int(q.ScannedCount)
					c.mu.Unlock()
				}
				return out, md, err
			}), middleware.After)
	})
}

func (c *itemsRead) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// TestOneReadBudgetPerRequest: twenty aliases of a filtered listing that
// matches nothing share one LIST_READ_CAP, instead of each reading up to it.
func TestOneReadBudgetPerRequest(t *testing.T) {
	const readCap, stored = 30, 50
	var reads itemsRead
	h := newAPI(t, map[string]string{"LIST_READ_CAP": fmt.Sprint(readCap)}, reads.option)
	for i := range stored {
		mustCreate(t, h, createInput(fmt.Sprintf("Home %d", i), float64(1000+i)))
	}
	const field = `properties(first: 1, after: $after, filter: { state: "Nowhere" }) { edges { cursor } pageInfo { hasNextPage endCursor } }`
	var b strings.Builder
	b.WriteString(`query($after: String) {`)
	for i := range 20 {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")

	reads.take()
	d := mustData(t, h, b.String(), nil)
	if got := reads.take(); got > readCap || got == 0 {
		t.Fatalf("20 aliases read %d items, want 1..%d", got, readCap)
	}
	var resume []string
	for i := range 20 {
		conn := get(d, fmt.Sprintf("a%d", i))
		if n := len(get(conn, "edges").([]any)); n != 0 {
			t.Errorf("a%d: %d edges, want none", i, n)
		}
		// The budget ran out before any alias could read all 50 items.
		if hasNext, _ := get(conn, "pageInfo", "hasNextPage").(bool); !hasNext {
			t.Errorf("a%d: hasNextPage false before the listing was read to its end", i)
		}
		if c := str(conn, "pageInfo", "endCursor"); c != "" {
			resume = append(resume, c)
		}
	}
	if len(resume) == 0 {
		t.Fatal("no alias returned a cursor to resume from")
	}

	// The cursor resumes where the reads stopped: following it reads the
	// rest of the listing once, never more than the cap per request.
	one := `query($after: String) { a: ` + field + ` }`
	total, after := 0, resume[0]
	for requests := 1; ; requests++ {
		if requests > stored/readCap+2 {
			t.Fatalf("still not at the end after %d requests", requests)
		}
		d := mustData(t, h, one, map[string]any{"after": after})
		n := reads.take()
		if n > readCap {
			t.Fatalf("request %d read %d items, over the cap %d", requests, n, readCap)
		}
		total += n
		if !get(d, "a", "pageInfo", "hasNextPage").(bool) {
			break
		}
		after = str(d, "a", "pageInfo", "endCursor")
	}
	if total > stored || total < stored-readCap {
		t.Errorf("resuming read %d items in all, want the %d not read yet", total, stored)
	}
}

// TestExpensiveRequestsAreRefused replays, through the whole handler, the
// requests issue 12 found running unbounded; each is now refused, coded,
// before it reads anything.
func TestExpensiveRequestsAreRefused(t *testing.T) {
	var calls testenv.Calls
	h := newAPI(t, nil, calls.Option)
	var owners strings.Builder
	owners.WriteString("{")
	for i := range 20 {
		fmt.Fprintf(&owners, ` o%d: properties(first: 100, filter: { ownerId: "u%d" }) { nodes { id images { url } } }`, i, i)
	}
	owners.WriteString(" }")
	var chain strings.Builder
	chain.WriteString(`query { property(id: "x") { ...F0 } }`)
	for i := range 24 {
		fmt.Fprintf(&chain, " fragment F%d on Property { ...F%d ...F%d }", i, i+1, i+1)
	}
	chain.WriteString(" fragment F24 on Property { __typename }")
	mutation := `mutation { deleteProperty(input: { id: "x" }) { deletedId } }`
	sum := sha256.Sum256([]byte(mutation))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	post := gqlRequest(t, mutation, nil)
	body, _ := json.Marshal(map[string]any{"query": mutation, "extensions": json.RawMessage(ext)})
	post.Body = io.NopCloser(bytes.NewReader(body))
	post.ContentLength = int64(len(body))
	do(t, h, post) // registers the persisted query

	tests := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"20 owner listings of 100 with image URLs", gqlRequest(t, owners.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a chain of 24 fragments inside property", gqlRequest(t, chain.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"5,400 selections", gqlRequest(t, "{"+strings.Repeat(" __typename", 5400)+" }", nil), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a persisted mutation over GET", httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"extensions": {ext}}.Encode(), nil), "BAD_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Reset()
			r := do(t, h, tt.req)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%.300s)", got, tt.code, r.Raw)
			}
			if r.Data != nil || r.Status < 400 {
				t.Errorf("status %d, data %v: want a 4xx and no data", r.Status, r.Data)
			}
			if got := calls.Counts(); len(got) != 0 {
				t.Errorf("DynamoDB calls %v, want none", got)
			}
		})
	}
}

func TestZeroAliasesAndIntrospectionOff(t *testing.T) {
	h := newAPI(t, map[string]string{"MAX_ALIASES": "0", "PLAYGROUND": "false"})
	tests := []struct {
		name, query, code string
	}{
		{"no alias", `{ properties(first: 1) { nodes { id } } }`, ""},
		{"one alias", `{ a: properties(first: 1) { nodes { id } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"introspection", `{ __schema { queryType { name } } }`, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gql(t, h, tt.query, nil).code(); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
		})
	}
}
