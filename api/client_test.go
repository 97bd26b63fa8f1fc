package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/propertyhq/property/api"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

// newAPI returns the whole API handler on a fresh table, configured through
// the same LoadConfig the binary uses.
func newAPI(tb testing.TB, env map[string]string, dbOpts ...func(*dynamodb.Options)) http.Handler {
	tb.Helper()
	return newAPIWith(tb, env, api.WithDynamoDB(dbOpts...))
}

// newAPIWith is newAPI with any handler options. Every API gets its own
// in-process S3 server with an images bucket.
func newAPIWith(tb testing.TB, env map[string]string, opts ...api.Option) http.Handler {
	tb.Helper()
	iss := testIssuer(tb)
	base := map[string]string{
		"IMAGES_BUCKET":       testBucket,
		"S3_ENDPOINT":         newS3(tb),
		"AUTH_ISSUER":         iss.URL,
		"AUTH_CLIENT_ID":      devissuer.ClientID,
		"PROPERTY_TABLE_NAME": testenv.Table(tb),
		"AWS_REGION":          testenv.Region,
		"DYNAMODB_ENDPOINT":   dynamolocal.Endpoint(tb),
		"CURSOR_SECRET":       "api-test-cursor-secret-0123456789",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := api.LoadConfig(func(k string) string { return base[k] })
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if os.Getenv("TEST_LOG") != "" {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	h, err := api.NewHandler(context.Background(), cfg, log, opts...)
	if err != nil {
		tb.Fatalf("handler: %v", err)
	}
	token := mustToken(tb, devissuer.Token{Subject: defaultUser})
	// Requests act as defaultUser unless they carry their own Authorization
	// header or ask to be anonymous.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get(anonymousHeader) != "":
			r.Header.Del(anonymousHeader)
		case r.Header.Get("Authorization") == "":
			r.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(w, r)
	})
}

// defaultUser is who test requests act as by default.
const defaultUser = "user-1"

// anonymousHeader marks a test request that must go without a token.
const anonymousHeader = "X-Test-Anonymous"

var issuer struct {
	once sync.Once
	iss  *devissuer.Issuer
	err  error
}

// testIssuer is the package's token issuer, its JWKS served on loopback.
func testIssuer(tb testing.TB) *devissuer.Issuer {
	tb.Helper()
	issuer.once.Do(func() {
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		issuer.iss, issuer.err = devissuer.New(srv.URL)
		if issuer.err == nil {
			mux.Handle(devissuer.JWKSPath, issuer.iss.JWKS())
		}
	})
	if issuer.err != nil {
		tb.Fatalf("issuer: %v", issuer.err)
	}
	return issuer.iss
}

// mustToken mints a token of the package's issuer.
func mustToken(tb testing.TB, t devissuer.Token) string {
	tb.Helper()
	tok, err := testIssuer(tb).Mint(t)
	if err != nil {
		tb.Fatalf("mint: %v", err)
	}
	return tok
}

// gqlAs POSTs a query with the given Authorization header value; "" sends
// none (anonymous).
func gqlAs(tb testing.TB, h http.Handler, authorization, query string, vars map[string]any) *response {
	tb.Helper()
	req := gqlRequest(tb, query, vars)
	if authorization == "" {
		req.Header.Set(anonymousHeader, "1")
	} else {
		req.Header.Set("Authorization", authorization)
	}
	return do(tb, h, req)
}

// expectInvalid fails the test unless r is BAD_USER_INPUT naming field.
func expectInvalid(tb testing.TB, r *response, field string) {
	tb.Helper()
	if got, want := r.code(), "BAD_USER_INPUT"; got != want {
		tb.Fatalf("code = %q, want %q (%s)", got, want, r.Raw)
	}
	if got := r.Errors[0].Extensions["field"]; got != field {
		tb.Errorf("field = %v, want %q", got, field)
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status int
	Header http.Header
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
	Raw    string
}

// code returns the first error's extensions.code, or "".
func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do sends one raw HTTP request through h and decodes a GraphQL response.
func do(tb testing.TB, h http.Handler, req *http.Request) *response {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := &response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), r); err != nil {
		tb.Fatalf("response is not JSON (status %d): %q", rec.Code, rec.Body.String())
	}
	for _, e := range r.Errors {
		if _, ok := e.Extensions["code"].(string); !ok {
			tb.Errorf("error without extensions.code: %+v", e)
		}
	}
	if r.Status >= 500 {
		tb.Errorf("status %d: %s", r.Status, r.Raw)
	}
	return r
}

// gql POSTs a query with variables through h.
func gql(tb testing.TB, h http.Handler, query string, vars map[string]any) *response {
	tb.Helper()
	return do(tb, h, gqlRequest(tb, query, vars))
}

// gqlRequest is a GraphQL POST request.
func gqlRequest(tb testing.TB, query string, vars map[string]any) *http.Request {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// mustData is gql that fails the test on any error.
func mustData(tb testing.TB, h http.Handler, query string, vars map[string]any) map[string]any {
	tb.Helper()
	r := gql(tb, h, query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		tb.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	return r.Data
}

// get walks a decoded JSON value by keys and indexes: get(v, "a", 0, "b").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := get(v, path...).(string); return s }

func num(v any, path ...any) float64 { f, _ := get(v, path...).(float64); return f }

const propertyFields = `id title description price address city state zip version createdAt updatedAt ownerId images { key url }`

const createMutation = `mutation($input: CreatePropertyInput!) {
  createProperty(input: $input) { clientMutationId property { ` + propertyFields + ` } uploads { key url headers { name value } expiresAt } }
}`

const updateMutation = `mutation($input: UpdatePropertyInput!) {
  updateProperty(input: $input) { property { ` + propertyFields + ` } }
}`

const deleteMutation = `mutation($input: DeletePropertyInput!) {
  deleteProperty(input: $input) { deletedId deletedImages }
}`

const propertyQuery = `query($id: ID!) { property(id: $id) { ` + propertyFields + ` } }`

const listQuery = `query($first: Int, $after: String, $filter: PropertyFilter, $orderBy: PropertyOrder) {
  properties(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id title price createdAt } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func createInput(title string, price float64) map[string]any {
	return map[string]any{
		"title": title, "description": "Bright and quiet.", "price": price,
		"address": "12 Elm Street", "city": "Springfield", "state": "IL", "zip": "62701",
	}
}

// mustCreate creates a property and returns its id.
func mustCreate(tb testing.TB, h http.Handler, in map[string]any) string {
	tb.Helper()
	d := mustData(tb, h, createMutation, map[string]any{"input": in})
	id := str(d, "createProperty", "property", "id")
	if id == "" {
		tb.Fatalf("create returned no id: %+v", d)
	}
	return id
}
