package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

// Benchmarks of issue 8 (figures and commands in docs/BENCHMARKS.md):
//
//   - BenchmarkAdapterOverhead: one property read as Lambda serves it
//     (API Gateway v2 event -> httpadapter -> the whole handler -> one
//     GetItem) against the bare SDK GetItem of the same item, against DynamoDB
//     Local and against a stubbed DynamoDB that answers instantly (which
//     isolates what our stack adds: GraphQL, HTTP chain, adapter, store).
//   - BenchmarkAllocsPerRequest: allocations of a whole request through the
//     handler, for the main operations.

// benchRead is the read both the Lambda path and the bare call make.
const benchRead = `{"query":"query Get($id: ID!) { property(id: $id) { id title description price address city state zip version createdAt updatedAt } }","operationName":"Get","variables":{"id":"%s"}}`

// stubDynamo is an SDK HTTP client that answers every call with the body
// the real engine gave to the first one, so a benchmark measures only the
// client side.
type stubDynamo struct {
	real dynamodbHTTPClient
	mu   sync.Mutex
	body []byte
	hdr  http.Header
}

type dynamodbHTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

func (s *stubDynamo) Do(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	body, hdr := s.body, s.hdr
	s.mu.Unlock()
	if body == nil {
		resp, err := s.real.Do(r)
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		defer resp.Body.Close()
		if body, err = io.ReadAll(resp.Body); err != nil {
			return nil, err
		}
		hdr = resp.Header.Clone()
		s.mu.Lock()
		s.body, s.hdr = body, hdr
		s.mu.Unlock()
	} else if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr.Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}, nil
}

func (s *stubDynamo) option(o *dynamodb.Options) {
	s.real = o.HTTPClient
	o.HTTPClient = s
}

// bareGetItem is the one GetItem the store makes for a read, made directly.
// The key format is the store's (dynamo keeps it unexported).
func bareGetItem(b *testing.B, db *dynamodb.Client, table, id string) {
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + id},
			"SK": &types.AttributeValueMemberS{Value: "METADATA"},
		},
	})
	if err != nil || len(out.Item) == 0 {
		b.Fatalf("GetItem: %v (%d attributes)", err, len(out.Item))
	}
}

// v2Event is the API Gateway HTTP API (payload 2.0) event of a POST.
func v2Event(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/graphql",
		Headers: map[string]string{"content-type": "application/json", "accept": "application/json", anonymousHeader: "1"},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", Stage: "$default", DomainName: "api.example.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: http.MethodPost, Path: "/graphql", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "bench",
			},
		},
	}
}

func BenchmarkAdapterOverhead(b *testing.B) {
	for _, mode := range []string{"local", "stubbed"} {
		b.Run(mode, func(b *testing.B) {
			table := testenv.Table(b)
			var stub stubDynamo
			var opts []func(*dynamodb.Options)
			if mode == "stubbed" {
				opts = append(opts, stub.option)
			}
			h := newAPI(b, map[string]string{"PROPERTY_TABLE_NAME": table}, opts...)
			id := mustCreate(b, h, createInput("Benchmark loft", 425000))
			db, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{
				Region: testenv.Region, Endpoint: dynamolocal.Endpoint(b), APIOptions: opts,
			})
			if err != nil {
				b.Fatal(err)
			}
			body := strings.Replace(benchRead, "%s", id, 1)
			adapter := httpadapter.NewV2(h)
			if mode == "stubbed" {
				// Prime the stub with the GetItem answer (the create's
				// PutItem answer must not be it).
				stub.mu.Lock()
				stub.body = nil
				stub.mu.Unlock()
				bareGetItem(b, db, table, id)
			}
			b.Run("bare-GetItem", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					bareGetItem(b, db, table, id)
				}
			})
			b.Run("lambda-request", func(b *testing.B) {
				b.ReportAllocs()
				ev := v2Event(body)
				for b.Loop() {
					resp, err := adapter.ProxyWithContext(context.Background(), ev)
					if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, id) {
						b.Fatalf("status %d, %v: %s", resp.StatusCode, err, resp.Body)
					}
				}
			})
		})
	}
}

func BenchmarkAllocsPerRequest(b *testing.B) {
	h := newAPI(b, nil)
	var ids []string
	for i := range 25 {
		ids = append(ids, mustCreate(b, h, createInput("Alloc "+string(rune('A'+i)), float64(100000+i))))
	}
	mk := func(query string, vars map[string]any) []byte {
		body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		if err != nil {
			b.Fatal(err)
		}
		return body
	}
	version := 1
	// Reads go anonymous, as the public browses; the update carries the
	// test user's token (newAPI adds it), so it includes verifying it.
	for _, bc := range []struct {
		name      string
		anonymous bool
		body      func() []byte
	}{
		{"property", true, func() []byte { return mk(propertyQuery, map[string]any{"id": ids[0]}) }},
		{"properties-20", true, func() []byte { return mk(listQuery, map[string]any{"first": 20}) }},
		{"updateProperty", false, func() []byte {
			body := mk(updateMutation, map[string]any{"input": map[string]any{"id": ids[1], "expectedVersion": version, "price": 100000 + version}})
			version++
			return body
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(bc.body()))
				req.Header.Set("Content-Type", "application/json")
				if bc.anonymous {
					req.Header.Set(anonymousHeader, "1")
				}
				rec := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
