package main

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/reqlog"
	"github.com/propertyhq/property/server"
)

// gatewayFunc is what lambda.Start runs: one API Gateway HTTP API
// (payload 2.0) event in, one response out.
type gatewayFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// gateway serves h behind API Gateway through the api-proxy adapter, and
// closes the adapter's traps: for an event it cannot turn into a request
// (a body that is not valid base64, a path that is not a URL) or a handler
// that never writes a status, the adapter returns a 504 and an error, which
// the caller would see as a gateway failure. Here every event gets an
// answer: bad events a coded 400, silent handlers the 200 net/http would
// have sent. It never returns an error, so API Gateway never reports the
// function as failed for a request it could answer.
//
// The request's context ends margin before Lambda's deadline: a dependency
// that is still slow then fails the request with a coded SERVICE_UNAVAILABLE
// that goes through the whole chain (CORS headers, the request's log line),
// instead of Lambda killing the function and API Gateway answering a bare
// 503 that a browser sees as a CORS failure.
//
// Every log line of the request carries API Gateway's request id
// (apiRequestId, the $context.requestId of its access log) and Lambda's
// (lambdaRequestId, the one in the function's REPORT line and its trace);
// the request id the API answers with, X-Request-Id, is API Gateway's unless
// the client chose one.
func gateway(h http.Handler, log *slog.Logger, margin time.Duration) gatewayFunc {
	adapter := httpadapter.NewV2(alwaysStatus(h))
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if deadline, ok := ctx.Deadline(); ok && margin > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-margin))
			defer cancel()
		}
		ctx, ids := requestIDs(ctx, &ev)
		if ev.RequestContext.HTTP.Method == "" {
			log.LogAttrs(ctx, slog.LevelWarn, "not an HTTP API payload 2.0 event", append(ids, slog.String("version", ev.Version))...)
			return badEvent("The event is not an API Gateway HTTP API (payload 2.0) request."), nil
		}
		if ev.IsBase64Encoded {
			body, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "event body is not valid base64", append(ids, slog.String("error", err.Error()))...)
				return badEvent("The request body could not be decoded."), nil
			}
			ev.Body, ev.IsBase64Encoded = string(body), false
		}
		// The handler routes on the path the API's route names, whatever
		// stage or base path the request came through.
		ev.RawPath = routePath(ev)
		ev.RequestContext.HTTP.Path = ev.RawPath
		resp, err := adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			// Only the event-to-request conversion can fail now (a method or
			// path net/http cannot parse): the caller's request is at fault.
			log.LogAttrs(ctx, slog.LevelWarn, "event is not a valid HTTP request", append(ids, slog.String("error", err.Error()))...)
			return badEvent("The request could not be read."), nil
		}
		return resp, nil
	}
}

// requestIDs seeds the request's log attributes with API Gateway's and
// Lambda's request ids, and makes API Gateway's the request id when the
// client sent none. It returns the ids too, for the gateway's own lines.
func requestIDs(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (context.Context, []slog.Attr) {
	var attrs []slog.Attr
	if id := ev.RequestContext.RequestID; id != "" {
		attrs = append(attrs, slog.String("apiRequestId", id))
		if !hasHeader(ev.Headers, "x-request-id") {
			if ev.Headers == nil {
				ev.Headers = map[string]string{}
			}
			ev.Headers["x-request-id"] = id
		}
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append(attrs, slog.String("lambdaRequestId", lc.AwsRequestID))
	}
	return reqlog.Seed(ctx, attrs...), attrs
}

// hasHeader reports whether headers has a non-empty name, in any case (API
// Gateway lower-cases header names; a test or another proxy may not).
func hasHeader(headers map[string]string, name string) bool {
	for k, v := range headers {
		if strings.EqualFold(k, name) && v != "" {
			return true
		}
	}
	return false
}

// routePath is the path the handler should route on. API Gateway puts the
// stage name ("/dev/graphql" on a named stage) or a custom domain's base
// path mapping ("/v1/graphql") in front of the path the route was declared
// with; the route key ("POST /graphql") names the declared path itself. For
// the $default route and routes with path variables, where the route key
// does not name the path, a named stage's prefix is stripped.
func routePath(ev events.APIGatewayV2HTTPRequest) string {
	key := ev.RouteKey
	if key == "" {
		key = ev.RequestContext.RouteKey
	}
	if _, p, ok := strings.Cut(key, " "); ok && strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "{}") {
		return p
	}
	p := ev.RawPath
	if p == "" {
		p = ev.RequestContext.HTTP.Path
	}
	if st := ev.RequestContext.Stage; st != "" && st != "$default" {
		prefix := "/" + st
		if p == prefix {
			return "/"
		}
		if rest, ok := strings.CutPrefix(p, prefix+"/"); ok {
			return "/" + rest
		}
	}
	return p
}

// alwaysStatus makes a handler that writes nothing answer 200 with an empty
// body, as net/http does, instead of leaving the adapter without a status.
func alwaysStatus(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := server.NewRecorder(w)
		h.ServeHTTP(rec, r)
		if !rec.Wrote() {
			w.WriteHeader(http.StatusOK)
		}
	})
}

// badEvent is the coded BAD_REQUEST the handler itself gives a request that
// is not GraphQL over HTTP.
func badEvent(msg string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers:    apierr.Headers(),
		Body:       string(apierr.Body(apierr.BadRequest, msg)),
	}
}
