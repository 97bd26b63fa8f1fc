package dynamolocal

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// call performs one DynamoDB JSON-protocol call and decodes the answer.
func call(t *testing.T, endpoint, op, body string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := newRequest(ctx, endpoint, op, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %d %s: %v", op, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

func tableNames(t *testing.T, endpoint string) []string {
	t.Helper()
	code, out := call(t, endpoint, "ListTables", "{}")
	if code != http.StatusOK {
		t.Fatalf("ListTables: HTTP %d: %v", code, out)
	}
	list, ok := out["TableNames"].([]any)
	if !ok {
		t.Fatalf("ListTables: no TableNames in %v", out)
	}
	var names []string
	for _, n := range list {
		names = append(names, n.(string))
	}
	return names
}

// TestSharedEngineListTables uses the engine RunTests started (or the one
// DYNAMODB_ENDPOINT names).
func TestSharedEngineListTables(t *testing.T) {
	ep := Endpoint(t)
	tableNames(t, ep) // fails the test unless the answer is a ListTables result
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if os.Getenv(k) == "" {
			t.Errorf("RunTests left %s unset", k)
		}
	}
}

// startOwn starts a private engine, skipping or failing like Endpoint when
// DynamoDB Local is unavailable.
func startOwn(t *testing.T, opt Options) *Engine {
	t.Helper()
	Endpoint(t) // skips (or fails in CI) when no engine can run here
	e, err := Start(context.Background(), opt)
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e
}

// TestOnDiskRestart covers Start with a data directory, Restart on the same
// port keeping the data, and Stop.
func TestOnDiskRestart(t *testing.T) {
	e := startOwn(t, Options{DBPath: t.TempDir()})
	ep := e.Endpoint()
	if want := "http://127.0.0.1:"; !strings.HasPrefix(ep, want) || e.Port() == 0 {
		t.Fatalf("Endpoint = %q, Port = %d", ep, e.Port())
	}
	if !e.Running() {
		t.Fatal("Running = false after Start")
	}

	code, out := call(t, ep, "CreateTable", `{
		"TableName": "restart-test",
		"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
		"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
		"BillingMode": "PAY_PER_REQUEST"
	}`)
	if code != http.StatusOK {
		t.Fatalf("CreateTable: HTTP %d: %v", code, out)
	}

	port := e.Port()
	if err := e.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Port() != port || e.Endpoint() != ep {
		t.Fatalf("Restart moved the engine from %s to %s", ep, e.Endpoint())
	}
	if got := tableNames(t, ep); len(got) != 1 || got[0] != "restart-test" {
		t.Fatalf("tables after restart = %q, want [restart-test]", got)
	}

	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if e.Running() {
		t.Fatal("Running = true after Stop")
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(ep); err == nil {
		resp.Body.Close()
		t.Fatalf("engine still answers on %s after Stop", ep)
	}
}

// TestFixedPortInUse asks for the port of a running engine: Start must fail
// quickly instead of talking to the other engine.
func TestFixedPortInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two engines")
	}
	a := startOwn(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{Port: a.Port()})
	if err == nil {
		b.Stop()
		t.Fatal("second engine started on a taken port")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("error = %v, want a port-in-use error", err)
	}
}
