// getrusage (benchCPU) is what limits these benchmarks to Linux and macOS.

//go:build linux || darwin

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
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/propertyhq/property/api"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

// The GraphQL benchmarks send one request at a time through the whole
// handler (request id, log, CORS, guard, authentication, gqlgen, resolver,
// store) into an httptest.ResponseRecorder; only the DynamoDB calls leave
// the process. Compare them with dynamo's BenchmarkSDKGetItem and
// BenchmarkSDKUpdateItem, which make the same DynamoDB requests bare.

// benchEnv is a handler on a fresh table, a token of the property's owner
// and the id of one property that owner created.
type benchEnv struct {
	h     http.Handler
	token string
	id    string
}

func newBenchEnv(b *testing.B) benchEnv {
	b.Helper()
	mux := http.NewServeMux()
	jwks := httptest.NewServer(mux)
	b.Cleanup(jwks.Close)
	iss, err := devissuer.New(jwks.URL)
	if err != nil {
		b.Fatal(err)
	}
	mux.Handle(devissuer.JWKSPath, iss.JWKS())

	env := map[string]string{
		"PROPERTY_TABLE_NAME": testenv.Table(b),
		"AWS_REGION":          testenv.Region,
		"DYNAMODB_ENDPOINT":   os.Getenv(dynamolocal.EnvEndpoint),
		"AUTH_ISSUER":         iss.URL,
		"AUTH_CLIENT_ID":      devissuer.ClientID,
		"CURSOR_SECRET":       "bench-cursor-secret-0123456789",
	}
	cfg, err := api.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatalf("config: %v", err)
	}
	h, err := api.NewHandler(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatalf("handler: %v", err)
	}
	token, err := iss.Mint(devissuer.Token{Subject: "bench-user"})
	if err != nil {
		b.Fatal(err)
	}
	e := benchEnv{h: h, token: "Bearer " + token}

	body, err := json.Marshal(map[string]any{
		"query": `mutation($input: CreatePropertyInput!) { createProperty(input: $input) { property { id version } } }`,
		"variables": map[string]any{"input": map[string]any{
			"title": "Bench", "description": "Bright and quiet.", "price": 250000,
			"address": "12 Elm Street", "city": "Springfield", "state": "IL", "zip": "62701",
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	var created struct {
		Data struct {
			CreateProperty struct {
				Property struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(e.post(b, body, e.token), &created); err != nil {
		b.Fatal(err)
	}
	if e.id = created.Data.CreateProperty.Property.ID; e.id == "" {
		b.Fatal("create returned no id")
	}
	return e
}

// post sends one GraphQL request and returns the body of a 200 response
// without errors; authorization "" sends none.
func (e benchEnv) post(b *testing.B, body []byte, authorization string) []byte {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// version asks the handler for the property's version.
func (e benchEnv) version(b *testing.B) int {
	b.Helper()
	body, _ := json.Marshal(map[string]any{"query": `query($id: ID!) { property(id: $id) { version } }`, "variables": map[string]any{"id": e.id}})
	var r struct {
		Data struct{ Property struct{ Version int } }
	}
	if err := json.Unmarshal(e.post(b, body, ""), &r); err != nil {
		b.Fatal(err)
	}
	return r.Data.Property.Version
}

// benchFields are the fields the benchmarks read: everything the store
// returns that needs no image URL signing.
const benchFields = `id title description price address city state zip ownerId version createdAt updatedAt`

// benchMeasure times op after a warm-up, so that the first requests (fresh
// table and connections, the key set fetched for the first token, the local
// engine's JIT) do not count.
//
// Besides the wall time (ns/op) it reports the CPU time the test process
// spent per operation (cpu-ns/op): that leaves out the time spent waiting
// for DynamoDB Local and for other processes, so on a busy machine it is
// the steadier measure of what this side of the wire costs.
func benchMeasure(b *testing.B, op func()) {
	b.Helper()
	for range 50 {
		op()
	}
	b.ReportAllocs()
	cpu, n := benchCPU(b), 0
	for b.Loop() {
		op()
		n++
	}
	b.ReportMetric(float64(benchCPU(b)-cpu)/float64(n), "cpu-ns/op")
}

func BenchmarkGraphQLProperty(b *testing.B) {
	e := newBenchEnv(b)
	body, err := json.Marshal(map[string]any{
		"query":     `query($id: ID!) { property(id: $id) { ` + benchFields + ` } }`,
		"variables": map[string]any{"id": e.id},
	})
	if err != nil {
		b.Fatal(err)
	}
	benchMeasure(b, func() { e.post(b, body, "") })
}

func BenchmarkGraphQLUpdateProperty(b *testing.B) {
	e := newBenchEnv(b)
	// The body differs only in expectedVersion: build it around a hole.
	prefix, err := json.Marshal(`mutation($input: UpdatePropertyInput!) { updateProperty(input: $input) { property { ` + benchFields + ` } } }`)
	if err != nil {
		b.Fatal(err)
	}
	head := append([]byte(`{"query":`), prefix...)
	head = append(head, `,"variables":{"input":{"id":"`+e.id+`","title":"Bench","expectedVersion":`...)
	tail := []byte(`}}}`)
	buf := make([]byte, 0, len(head)+len(tail)+20)
	first := e.version(b)
	version := first
	benchMeasure(b, func() {
		buf = append(strconv.AppendInt(append(buf[:0], head...), int64(version), 10), tail...)
		e.post(b, buf, e.token)
		version++
	})
	if got, want := e.version(b), version; got != want {
		b.Fatalf("version after %d updates from %d = %d, want %d", version-first, first, got, want)
	}
}

// benchCPU is the CPU time (user and system) this process has used.
func benchCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
