package main

// These tests run the real binary as Lambda runs it: built for this machine
// with the deployed build's tags, started with AWS_LAMBDA_RUNTIME_API
// pointing at a stand-in Runtime API (internal/lambdart), fed the API
// Gateway HTTP API events in testdata/, against a table in DynamoDB Local.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/lambdart"
	"github.com/propertyhq/property/internal/testenv"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "property-lambda-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := dynamolocal.RunTests(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds ./lambda once per test process.
func binary(tb testing.TB) string {
	tb.Helper()
	build.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		build.path, build.err = lambdart.Build(ctx, binDir, "github.com/propertyhq/property/lambda")
	})
	if build.err != nil {
		tb.Fatal(build.err)
	}
	return build.path
}

// testOrigin is the browser origin the function allows.
const testOrigin = "http://localhost:3000"

// issuer is a stand-in Cognito user pool: tokens minted by it verify in
// the function, whose AUTH_ISSUER names its JWKS server.
func issuer(tb testing.TB) *devissuer.Issuer {
	tb.Helper()
	iss, err := devissuer.New("")
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(iss.JWKS())
	tb.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// functionEnv is the environment serverless.yml gives the function, pointed
// at local stand-ins.
func functionEnv(tb testing.TB, iss *devissuer.Issuer) map[string]string {
	tb.Helper()
	return map[string]string{
		"PROPERTY_TABLE_NAME":   testenv.Table(tb),
		"AWS_REGION":            testenv.Region,
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
		"DYNAMODB_ENDPOINT":     dynamolocal.Endpoint(tb),
		"ALLOWED_ORIGIN":        testOrigin,
		"LOG_LEVEL":             "info",
		"CURSOR_SECRET":         "lambda-test-cursor-secret-0123456789",
		"AUTH_ISSUER":           iss.URL,
		"AUTH_CLIENT_ID":        devissuer.ClientID,
		// No test touches images; nothing listens there.
		"IMAGES_BUCKET": "property-images-test",
		"S3_ENDPOINT":   "http://127.0.0.1:9",
	}
}

// start runs the binary with env and stops it when the test ends.
func start(tb testing.TB, env map[string]string) *lambdart.Function {
	tb.Helper()
	return startTimeout(tb, env, 10*time.Second)
}

// startTimeout is start with the function's timeout (each invocation's
// deadline).
func startTimeout(tb testing.TB, env map[string]string, timeout time.Duration) *lambdart.Function {
	tb.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	f, err := lambdart.Start(binary(tb), list, lambdart.Options{Timeout: timeout})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		f.Stop()
		if tb.Failed() {
			tb.Logf("function output:\n%s", f.Output())
		}
	})
	return f
}

// fixture reads testdata/name as an HTTP API event.
func fixture(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev
}

// setVariable rewrites one GraphQL variable in a JSON POST event's body.
func setVariable(tb testing.TB, ev *events.APIGatewayV2HTTPRequest, name string, value any) {
	tb.Helper()
	var body map[string]any
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
		tb.Fatal(err)
	}
	vars, _ := body["variables"].(map[string]any)
	if vars == nil {
		vars = map[string]any{}
	}
	vars[name] = value
	body["variables"] = vars
	b, _ := json.Marshal(body)
	ev.Body = string(b)
}

// gwResponse is what API Gateway receives, with the body decoded.
type gwResponse struct {
	events.APIGatewayV2HTTPResponse
	Raw  string
	JSON map[string]any
}

func (r gwResponse) String() string { return fmt.Sprintf("%d %v %s", r.StatusCode, r.Headers, r.Raw) }

// code is the first error's extensions.code, or "".
func (r gwResponse) code() string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	ext, _ := e["extensions"].(map[string]any)
	c, _ := ext["code"].(string)
	return c
}

// data walks data.<path...>.
func (r gwResponse) data(path ...string) any {
	var v any = r.JSON["data"]
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// header looks a response header up case-insensitively.
func (r gwResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func invokeRaw(tb testing.TB, f *lambdart.Function, payload []byte) lambdart.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, payload)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// invoke sends ev and returns the API Gateway response. The function must
// never fail an invocation: API Gateway would turn that into a bare 500.
func invoke(tb testing.TB, f *lambdart.Function, ev events.APIGatewayV2HTTPRequest) gwResponse {
	tb.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return decode(tb, invokeRaw(tb, f, payload))
}

func decode(tb testing.TB, res lambdart.Result) gwResponse {
	tb.Helper()
	if res.Err != nil {
		tb.Fatalf("invocation failed: %v", res.Err)
	}
	var r gwResponse
	if err := json.Unmarshal(res.Payload, &r.APIGatewayV2HTTPResponse); err != nil {
		tb.Fatalf("response is not an HTTP API response: %v: %s", err, res.Payload)
	}
	r.Raw = r.Body
	if r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			tb.Fatalf("body: %v", err)
		}
		r.Raw = string(b)
	}
	if strings.HasPrefix(r.header("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(r.Raw), &r.JSON); err != nil {
			tb.Fatalf("body is not JSON: %v: %s", err, r.Raw)
		}
	}
	return r
}

func TestLambda(t *testing.T) {
	iss := issuer(t)
	f := start(t, functionEnv(t, iss))
	token, err := iss.Mint(devissuer.Token{Subject: "agent-1"})
	if err != nil {
		t.Fatal(err)
	}

	// wantCode checks a coded error answer.
	wantCode := func(t *testing.T, r gwResponse, status int, code string) {
		t.Helper()
		if r.StatusCode != status || r.code() != code {
			t.Errorf("got %d %q, want %d %q: %s", r.StatusCode, r.code(), status, code, r)
		}
		if !strings.HasPrefix(r.header("Content-Type"), "application/json") {
			t.Errorf("Content-Type = %q, want application/json", r.header("Content-Type"))
		}
	}
	// wantList checks a successful properties query that sees the one
	// property created below.
	wantList := func(t *testing.T, r gwResponse) {
		t.Helper()
		edges, _ := r.data("properties", "edges").([]any)
		if r.StatusCode != http.StatusOK || r.code() != "" || len(edges) != 1 {
			t.Errorf("want 200 with one property: %s", r)
		}
	}

	t.Run("mutation without a token", func(t *testing.T) {
		// Mutations need a signed-in caller (@auth): anonymous is refused
		// with a coded answer, never a server error.
		r := invoke(t, f, fixture(t, "mutation.json"))
		if r.StatusCode >= 500 || r.code() != "UNAUTHENTICATED" {
			t.Errorf("want a coded UNAUTHENTICATED below 500: %s", r)
		}
		if r.data("createProperty") != nil {
			t.Errorf("created anyway: %s", r)
		}
	})

	var id string
	t.Run("mutation", func(t *testing.T) {
		ev := fixture(t, "mutation.json")
		ev.Headers["authorization"] = "Bearer " + token
		r := invoke(t, f, ev)
		id, _ = r.data("createProperty", "property", "id").(string)
		if r.StatusCode != http.StatusOK || r.code() != "" || id == "" {
			t.Fatalf("want the created property: %s", r)
		}
		if got, want := r.data("createProperty", "property", "ownerId"), "agent-1"; got != want {
			t.Errorf("ownerId = %v, want %v", got, want)
		}
		if got := r.header("X-Request-Id"); got == "" {
			t.Error("no X-Request-Id header")
		}
	})

	t.Run("query", func(t *testing.T) {
		ev := fixture(t, "query.json")
		setVariable(t, &ev, "id", id)
		r := invoke(t, f, ev)
		if r.StatusCode != http.StatusOK || r.code() != "" {
			t.Fatalf("want 200: %s", r)
		}
		if got, want := r.data("property", "title"), "Loft by the river"; got != want {
			t.Errorf("title = %v, want %v", got, want)
		}
		if got, want := r.data("property", "version"), 1.0; got != want {
			t.Errorf("version = %v, want %v", got, want)
		}
	})

	t.Run("query for an unknown id", func(t *testing.T) {
		r := invoke(t, f, fixture(t, "query.json"))
		if r.StatusCode != http.StatusOK || r.code() != "" || r.data("property") != nil {
			t.Errorf("want 200 with property null: %s", r)
		}
	})

	t.Run("GET query", func(t *testing.T) {
		r := invoke(t, f, fixture(t, "get-query.json"))
		wantList(t, r)
		// Anonymous GET queries are cacheable by a CDN.
		if cc := r.header("Cache-Control"); !strings.Contains(cc, "max-age") {
			t.Errorf("Cache-Control = %q, want a max-age", cc)
		}
	})

	t.Run("malformed body", func(t *testing.T) {
		wantCode(t, invoke(t, f, fixture(t, "malformed-body.json")), http.StatusBadRequest, "BAD_REQUEST")
	})

	t.Run("unknown route", func(t *testing.T) {
		wantCode(t, invoke(t, f, fixture(t, "unknown-route.json")), http.StatusNotFound, "NOT_FOUND")
	})

	t.Run("stage prefix", func(t *testing.T) {
		wantList(t, invoke(t, f, fixture(t, "stage-prefixed.json")))
	})

	t.Run("stage prefix on the default route", func(t *testing.T) {
		wantList(t, invoke(t, f, fixture(t, "stage-prefixed-default-route.json")))
	})

	t.Run("custom domain base path", func(t *testing.T) {
		wantList(t, invoke(t, f, fixture(t, "base-path.json")))
	})

	t.Run("base64 body", func(t *testing.T) {
		wantList(t, invoke(t, f, fixture(t, "base64-body.json")))
	})

	t.Run("body that is not base64", func(t *testing.T) {
		// The adapter alone would answer 504 and fail the invocation.
		wantCode(t, invoke(t, f, fixture(t, "bad-base64-body.json")), http.StatusBadRequest, "BAD_REQUEST")
	})

	t.Run("not an HTTP API event", func(t *testing.T) {
		r := decode(t, invokeRaw(t, f, []byte(`{"source":"aws.events","detail":{}}`)))
		wantCode(t, r, http.StatusBadRequest, "BAD_REQUEST")
	})

	t.Run("CORS preflight", func(t *testing.T) {
		r := invoke(t, f, fixture(t, "preflight.json"))
		if r.StatusCode != http.StatusNoContent || r.header("Access-Control-Allow-Origin") != testOrigin {
			t.Errorf("want 204 allowing %s: %s", testOrigin, r)
		}
		if m := r.header("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
			t.Errorf("Access-Control-Allow-Methods = %q", m)
		}
	})

	t.Run("Playground off by default in Lambda", func(t *testing.T) {
		wantCode(t, invoke(t, f, fixture(t, "playground.json")), http.StatusNotFound, "NOT_FOUND")
	})

	t.Run("logs", func(t *testing.T) {
		out := f.Output()
		if !strings.Contains(out, `"msg":"request"`) {
			t.Errorf("no request log lines in:\n%s", out)
		}
		if strings.Contains(out, token) || strings.Contains(out, "eyJ") {
			t.Error("a token reached the logs")
		}
	})
}

func TestPlaygroundSwitch(t *testing.T) {
	iss := issuer(t)
	env := functionEnv(t, iss)
	env["PLAYGROUND"] = "true"
	f := start(t, env)
	r := invoke(t, f, fixture(t, "playground.json"))
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.header("Content-Type"), "text/html") {
		t.Errorf("want the Playground page: %d %v", r.StatusCode, r.Headers)
	}
}

// TestInitError starts the function without CURSOR_SECRET: it must report
// why through the Runtime API's init/error, then exit.
func TestInitError(t *testing.T) {
	iss := issuer(t)
	env := functionEnv(t, iss)
	delete(env, "CURSOR_SECRET")
	f := start(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := f.Invoke(ctx, []byte(`{}`))
	var fe *lambdart.FunctionError
	var exit *lambdart.ExitError
	switch {
	case errors.As(err, &fe):
		if fe.Type != initErrorType || !strings.Contains(fe.Message, "CURSOR_SECRET") {
			t.Errorf("init error = %s %q, want %s naming CURSOR_SECRET", fe.Type, fe.Message, initErrorType)
		}
	case errors.As(err, &exit):
		t.Errorf("the function exited without reporting an init error: %v", err)
	default:
		t.Fatalf("Invoke error = %v, want the init error", err)
	}
	select {
	case <-f.Exited():
	case <-time.After(10 * time.Second):
		t.Error("the function kept running after its init error")
	}
}

// TestDeadline points the function at a DynamoDB that accepts connections
// and never answers, with a per-attempt timeout longer than the function's:
// the request must still be answered before Lambda's deadline, coded
// SERVICE_UNAVAILABLE, with CORS headers, its log line, and the ids that
// match the log line to API Gateway's access log and Lambda's REPORT line.
func TestDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})

	env := functionEnv(t, issuer(t))
	env["DYNAMODB_ENDPOINT"] = "http://" + ln.Addr().String()
	env["DYNAMODB_TIMEOUT"] = "30s"
	env["DYNAMODB_MAX_ATTEMPTS"] = "1"
	env["LAMBDA_DEADLINE_MARGIN"] = "1s"
	const timeout = 3 * time.Second
	f := startTimeout(t, env, timeout)

	ev := fixture(t, "query.json")
	ev.Headers["origin"] = testOrigin
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	res := invokeRaw(t, f, payload)
	r := decode(t, res)
	if took := res.Done.Sub(res.Received); took >= timeout {
		t.Errorf("answered after %v, at or past the %v deadline", took, timeout)
	}
	if r.StatusCode >= 500 || r.code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("want a coded SERVICE_UNAVAILABLE below 500: %s", r)
	}
	if got := r.header("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, testOrigin)
	}
	apiID := ev.RequestContext.RequestID
	if got := r.header("X-Request-Id"); got != apiID {
		t.Errorf("X-Request-Id = %q, want API Gateway's request id %q", got, apiID)
	}
	errs, _ := r.JSON["errors"].([]any)
	e, _ := errs[0].(map[string]any)
	ext, _ := e["extensions"].(map[string]any)
	if got := ext["requestId"]; got != apiID {
		t.Errorf("extensions.requestId = %v, want %q", got, apiID)
	}
	// Both the error line and the request line carry both ids. The
	// function's output is read from its pipe as it comes: wait for them.
	var lines []map[string]any
	for wait := time.Now().Add(10 * time.Second); len(lines) < 2 && time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		lines = lines[:0]
		for _, l := range strings.Split(f.Output(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && (m["msg"] == "request" || m["msg"] == "operation failed") {
				lines = append(lines, m)
			}
		}
	}
	if len(lines) != 2 {
		t.Errorf("want an error line and a request line, got %d in:\n%s", len(lines), f.Output())
	}
	for _, m := range lines {
		if m["requestId"] != apiID || m["apiRequestId"] != apiID || m["lambdaRequestId"] != res.RequestID {
			t.Errorf("%v line ids = %v/%v/%v, want %s/%s/%s", m["msg"], m["requestId"], m["apiRequestId"], m["lambdaRequestId"], apiID, apiID, res.RequestID)
		}
	}
}
