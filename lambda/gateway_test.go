package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/propertyhq/property/server"
)

func TestRoutePath(t *testing.T) {
	tests := []struct {
		name, routeKey, stage, rawPath, want string
	}{
		{"default stage", "POST /graphql", "$default", "/graphql", "/graphql"},
		{"named stage", "POST /graphql", "dev", "/dev/graphql", "/graphql"},
		{"base path mapping", "POST /graphql", "$default", "/v1/graphql", "/graphql"},
		{"root route on a named stage", "GET /", "prod", "/prod", "/"},
		{"default route, default stage", "$default", "$default", "/admin", "/admin"},
		{"default route, named stage", "$default", "dev", "/dev/graphql", "/graphql"},
		{"default route, stage root", "$default", "dev", "/dev", "/"},
		{"stage name only as a prefix of a segment", "$default", "dev", "/devices", "/devices"},
		{"greedy route", "ANY /{proxy+}", "dev", "/dev/graphql", "/graphql"},
		{"no route key", "", "$default", "/graphql", "/graphql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{RouteKey: tt.routeKey, RawPath: tt.rawPath}
			ev.RequestContext.Stage = tt.stage
			if got := routePath(ev); got != tt.want {
				t.Errorf("routePath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGateway(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// echo answers with what the handler saw.
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body)})
	})
	silent := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

	event := func(method, rawPath, body string, b64 bool) events.APIGatewayV2HTTPRequest {
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: rawPath, Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": "application/json"},
		}
		ev.RequestContext.HTTP.Method = method
		ev.RequestContext.HTTP.Path = rawPath
		ev.RequestContext.Stage = "$default"
		return ev
	}
	tests := []struct {
		name   string
		h      http.Handler
		ev     events.APIGatewayV2HTTPRequest
		status int
		code   string            // extensions.code of a coded error
		echoed map[string]string // what echo must have seen
	}{
		{name: "plain body", h: echo, ev: event("POST", "/graphql", `{"query":"{a}"}`, false),
			status: 200, echoed: map[string]string{"method": "POST", "path": "/graphql", "body": `{"query":"{a}"}`}},
		{name: "base64 body", h: echo, ev: event("POST", "/graphql", base64.StdEncoding.EncodeToString([]byte(`{"query":"{b}"}`)), true),
			status: 200, echoed: map[string]string{"body": `{"query":"{b}"}`}},
		{name: "body that is not base64", h: echo, ev: event("POST", "/graphql", "%%%", true),
			status: 400, code: "BAD_REQUEST"},
		{name: "path that is not a URL", h: echo, ev: event("GET", "/%zz", "", false),
			status: 400, code: "BAD_REQUEST"},
		{name: "not an HTTP API event", h: echo, ev: events.APIGatewayV2HTTPRequest{},
			status: 400, code: "BAD_REQUEST"},
		{name: "handler that writes nothing", h: silent, ev: event("GET", "/graphql", "", false),
			status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := gateway(tt.h, log, time.Second)(context.Background(), tt.ev)
			if err != nil {
				t.Fatalf("error = %v; API Gateway would answer 500", err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.code != "" {
				var body struct {
					Errors []struct {
						Extensions struct{ Code string } `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != tt.code {
					t.Errorf("body = %s, want one error coded %s", resp.Body, tt.code)
				}
			}
			if tt.echoed != nil {
				var seen map[string]string
				if err := json.Unmarshal([]byte(resp.Body), &seen); err != nil {
					t.Fatalf("body = %s: %v", resp.Body, err)
				}
				for k, want := range tt.echoed {
					if seen[k] != want {
						t.Errorf("handler saw %s = %q, want %q", k, seen[k], want)
					}
				}
			}
		})
	}
}

// graphqlEvent is a POST /graphql event with API Gateway's request id.
func graphqlEvent(apiRequestID string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /graphql", RawPath: "/graphql", Body: `{"query":"{__typename}"}`,
		Headers: map[string]string{"content-type": "application/json"},
	}
	for k, v := range headers {
		ev.Headers[k] = v
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = "/graphql"
	ev.RequestContext.Stage = "$default"
	ev.RequestContext.RequestID = apiRequestID
	return ev
}

func TestGatewayDeadline(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	lambdaDeadline := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	tests := []struct {
		name     string
		deadline bool // the invocation has one (Lambda always gives one)
		margin   time.Duration
		want     time.Time // zero: no deadline
	}{
		{"margin before Lambda's deadline", true, time.Second, lambdaDeadline.Add(-time.Second)},
		{"configured margin", true, 2500 * time.Millisecond, lambdaDeadline.Add(-2500 * time.Millisecond)},
		{"no margin", true, 0, lambdaDeadline},
		{"no deadline to keep", false, time.Second, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got time.Time
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = r.Context().Deadline()
			})
			ctx := context.Background()
			if tt.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, lambdaDeadline)
				defer cancel()
			}
			if _, err := gateway(h, log, tt.margin)(ctx, graphqlEvent("id", nil)); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("handler's deadline = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("slow dependency", func(t *testing.T) {
		// A handler that waits on its context, as the SDK clients do, is
		// cut at the margin and still answers through the chain: CORS
		// headers and the request's log line.
		var logs strings.Builder
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errors":[{"message":"unavailable","extensions":{"code":"SERVICE_UNAVAILABLE"}}]}`)
		})
		h := server.New(server.Options{GraphQL: slow, Logger: log, AllowedOrigins: []string{"https://app.example"}})
		ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
		defer cancel()
		start := time.Now()
		resp, err := gateway(h, log, time.Second)(ctx, graphqlEvent("gw-1", map[string]string{"origin": "https://app.example"}))
		if err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Errorf("answered after Lambda's deadline (%v)", time.Since(start))
		}
		if got := resp.Headers["Access-Control-Allow-Origin"]; got != "https://app.example" {
			t.Errorf("Access-Control-Allow-Origin = %q, want the caller's origin: %v", got, resp.Headers)
		}
		if !strings.Contains(resp.Body, "SERVICE_UNAVAILABLE") {
			t.Errorf("body = %s", resp.Body)
		}
		if !strings.Contains(logs.String(), `"msg":"request"`) {
			t.Errorf("no request log line: %s", logs.String())
		}
	})
}

func TestGatewayRequestIDs(t *testing.T) {
	tests := []struct {
		name     string
		headers  map[string]string
		lambdaID string
		want     map[string]string // log attributes of the request line
	}{
		{name: "API Gateway's id is the request id", lambdaID: "lambda-1",
			want: map[string]string{"requestId": "CZk0bh3ZIAMEb1Q=", "apiRequestId": "CZk0bh3ZIAMEb1Q=", "lambdaRequestId": "lambda-1"}},
		{name: "the client's id is kept", headers: map[string]string{"x-request-id": "client-7"}, lambdaID: "lambda-2",
			want: map[string]string{"requestId": "client-7", "apiRequestId": "CZk0bh3ZIAMEb1Q=", "lambdaRequestId": "lambda-2"}},
		{name: "outside Lambda", want: map[string]string{"requestId": "CZk0bh3ZIAMEb1Q=", "apiRequestId": "CZk0bh3ZIAMEb1Q=", "lambdaRequestId": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"data":{"__typename":"Query"}}`)
			})
			ctx := context.Background()
			if tt.lambdaID != "" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: tt.lambdaID})
			}
			resp, err := gateway(server.New(server.Options{GraphQL: ok, Logger: log}), log, time.Second)(ctx, graphqlEvent("CZk0bh3ZIAMEb1Q=", tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Headers["X-Request-Id"]; got != tt.want["requestId"] {
				t.Errorf("X-Request-Id = %q, want %q", got, tt.want["requestId"])
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(l, `"msg":"request"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line == nil {
				t.Fatalf("no request line in %s", logs.String())
			}
			for k, want := range tt.want {
				got, _ := line[k].(string)
				if got != want {
					t.Errorf("log %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
