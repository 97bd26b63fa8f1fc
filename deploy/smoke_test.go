package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI answers the smoke test's two queries as the API does; fail
// decides, per request number (from 1), to answer something else instead.
func fakeAPI(t *testing.T, fail func(n int64, w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if fail != nil && fail(n.Add(1), w, r) {
			return
		}
		var body struct{ Query string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if o := r.Header.Get("Origin"); o == "https://app.example" {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-1")
		switch {
		case strings.Contains(body.Query, "properties"):
			fmt.Fprint(w, `{"data":{"properties":{"edges":[],"pageInfo":{"hasNextPage":false}}}}`)
		case strings.Contains(body.Query, "__typename"):
			fmt.Fprint(w, `{"data":{"__typename":"Query"}}`)
		default:
			fmt.Fprint(w, `{"errors":[{"message":"?","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSmokeScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed for scripts/smoke.mjs (make deps installs it): %v", err)
	}
	status := func(code int) func(int64, http.ResponseWriter, *http.Request) bool {
		return func(_ int64, w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(code)
			fmt.Fprint(w, `{"message":"Service Unavailable"}`)
			return true
		}
	}
	tests := []struct {
		name   string
		fail   func(int64, http.ResponseWriter, *http.Request) bool
		suffix string            // appended to the server's URL
		env    map[string]string // beside fast retry settings
		code   int
		want   string
	}{
		{name: "answers", code: 0, want: "smoke: ok one properties page"},
		{name: "endpoint URL given", suffix: "/graphql", code: 0, want: "smoke: ok { __typename }"},
		{name: "gateway error", fail: status(http.StatusBadGateway), code: 1, want: "HTTP 502"},
		{name: "resolver error", fail: func(_ int64, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"errors":[{"message":"x","extensions":{"code":"SERVICE_UNAVAILABLE"}}],"data":null}`)
			return true
		}, code: 1, want: "SERVICE_UNAVAILABLE"},
		{name: "not JSON", fail: func(_ int64, w http.ResponseWriter, r *http.Request) bool {
			fmt.Fprint(w, "<html>")
			return true
		}, code: 1, want: "not JSON"},
		{name: "no answer in time", fail: func(_ int64, w http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}, env: map[string]string{"SMOKE_TIMEOUT_MS": "300"}, code: 1, want: "no answer"},
		{name: "answers after a cold start", fail: func(n int64, w http.ResponseWriter, r *http.Request) bool {
			if n <= 2 {
				return status(http.StatusServiceUnavailable)(n, w, r)
			}
			return false
		}, env: map[string]string{"SMOKE_ATTEMPTS": "4"}, code: 0, want: "attempt 2/4: HTTP 503"},
		{name: "origin allowed", env: map[string]string{"SMOKE_ORIGIN": "https://app.example"}, code: 0, want: "smoke: ok"},
		{name: "origin refused", env: map[string]string{"SMOKE_ORIGIN": "https://other.example"}, code: 1, want: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeAPI(t, tt.fail) + tt.suffix
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "../scripts/smoke.mjs", url)
			cmd.Env = append(os.Environ(), "SMOKE_ATTEMPTS=3", "SMOKE_DELAY_MS=10", "SMOKE_TIMEOUT_MS=5000")
			for k, v := range tt.env {
				cmd.Env = append(cmd.Env, k+"="+v) // the last of a name wins
			}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, out)
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		out, err := exec.Command(node, "../scripts/smoke.mjs").CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("without a URL: %v, want exit 2:\n%s", err, out)
		}
	})
}
