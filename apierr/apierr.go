// Package apierr is the API's list of error codes, as clients read them in
// extensions.code, and the one JSON body that carries a coded error from the
// layers that answer before or around gqlgen (the request guard, the token
// check, the route fallback, the Lambda gateway). The GraphQL layer maps
// domain codes to these with FromDomain and lets gqlgen write its own
// bodies; everything else writes with Write or Body.
//
// It knows the domain's codes and JSON over HTTP; never GraphQL's schema,
// DynamoDB or Lambda.
package apierr

import (
	"encoding/json"
	"net/http"

	property "github.com/propertyhq/property"
)

// The codes of the contract (schema.graphqls, README "Errors").
const (
	BadUserInput       = "BAD_USER_INPUT"
	NotFound           = "NOT_FOUND"
	Conflict           = "CONFLICT"
	Unauthenticated    = "UNAUTHENTICATED"
	Forbidden          = "FORBIDDEN"
	ServiceUnavailable = "SERVICE_UNAVAILABLE"
	Internal           = "INTERNAL_SERVER_ERROR"
	// BadRequest is a request that is not GraphQL over HTTP at all.
	BadRequest = "BAD_REQUEST"
	// ComplexityLimit is an operation over the cost, depth, alias or size
	// limit.
	ComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
	// ResponseTooLarge is an answer too large to deliver.
	ResponseTooLarge = "RESPONSE_TOO_LARGE"
	// The codes gqlgen sets itself (graph checks they still match its
	// errcode package).
	GraphQLParseFailed      = "GRAPHQL_PARSE_FAILED"
	GraphQLValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	PersistedQueryNotFound  = "PERSISTED_QUERY_NOT_FOUND"
)

// Codes is every code a client may read, in the order the README lists them.
var Codes = []string{
	BadUserInput, NotFound, Unauthenticated, Forbidden, Conflict, ServiceUnavailable, Internal,
	BadRequest, GraphQLParseFailed, GraphQLValidationFailed, PersistedQueryNotFound,
	ComplexityLimit, ResponseTooLarge,
}

// fromDomain maps each domain code to its contract code; this is the only
// place the two meet.
var fromDomain = map[string]string{
	property.EINVALID:         BadUserInput,
	property.ENOTFOUND:        NotFound,
	property.ECONFLICT:        Conflict,
	property.EUNAUTHENTICATED: Unauthenticated,
	property.EFORBIDDEN:       Forbidden,
	property.EUNAVAILABLE:     ServiceUnavailable,
	property.EINTERNAL:        Internal,
}

// FromDomain returns the contract code of a domain code (property.E*);
// Internal for a code it does not know.
func FromDomain(code string) string {
	if c, ok := fromDomain[code]; ok {
		return c
	}
	return Internal
}

// Body is a GraphQL-shaped error response holding one error:
// {"errors":[{"message":msg,"extensions":{"code":code}}]} and a newline.
func Body(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
	return append(b, '\n')
}

// Headers returns the headers an error body is sent with: JSON, never
// cached.
func Headers() map[string]string {
	return map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
}

// Write answers w with status and Body(code, msg).
func Write(w http.ResponseWriter, status int, code, msg string) {
	for k, v := range Headers() {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(Body(code, msg))
}
