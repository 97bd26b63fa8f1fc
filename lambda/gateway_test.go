package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
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
			resp, err := gateway(tt.h, log)(context.Background(), tt.ev)
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
