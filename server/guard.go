package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/propertyhq/property/apierr"
)

// guard answers requests that are not GraphQL over HTTP with a coded
// BAD_REQUEST before gqlgen sees them, because gqlgen answers several of
// these without a code. Messages never echo the request.
func guard(maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			if !isJSON(r.Header.Get("Content-Type")) {
				badRequest(w, http.StatusUnsupportedMediaType, "Send GraphQL requests as application/json.")
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				badRequest(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
					"The request body is larger than the limit of %d bytes: shorten the query or its variables, or send a persisted query's hash instead of its text.", tooLarge.Limit))
				return
			case err != nil:
				badRequest(w, http.StatusBadRequest, "The request body could not be read.")
				return
			}
			if msg := checkBody(body); msg != "" {
				badRequest(w, http.StatusBadRequest, msg)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case http.MethodGet:
			// gqlgen parses the query string strictly and answers a bad one,
			// or bad variables, without a code; refuse them here instead.
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				badRequest(w, http.StatusBadRequest, "The query string could not be parsed.")
				return
			}
			if q.Get("query") == "" && absent(q.Get("extensions")) {
				badRequest(w, http.StatusBadRequest, "A GET request needs a query parameter.")
				return
			}
			for _, name := range []string{"variables", "extensions"} {
				if !objectOrAbsent(q.Get(name)) {
					badRequest(w, http.StatusBadRequest, "The request field "+name+" must be a JSON object.")
					return
				}
			}
			if isMutation(q.Get("query"), q.Get("operationName")) {
				w.Header().Set("Allow", "POST")
				badRequest(w, http.StatusMethodNotAllowed, "Mutations must be sent with POST.")
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			badRequest(w, http.StatusMethodNotAllowed, "Use GET or POST for GraphQL requests.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	// Only application/json: gqlgen's POST transport accepts nothing else
	// and would answer any other type without a code.
	return err == nil && mt == "application/json"
}

// checkBody returns why body is not one GraphQL request, or "".
func checkBody(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "The request body is empty."
	}
	var req struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return "The request body must be one JSON object; batches are not supported."
			}
			return "The request field " + typeErr.Field + " has the wrong type."
		}
		return "The request body is not valid JSON."
	}
	// Not dec.More: it reports false for a stray "]" or "}" after the value.
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return "The request body must hold exactly one JSON value."
	}
	if (req.Query == nil || *req.Query == "") && absent(string(req.Extensions)) {
		return "The request has no query."
	}
	for name, raw := range map[string]json.RawMessage{"variables": req.Variables, "extensions": req.Extensions} {
		if !objectOrAbsent(string(raw)) {
			return "The request field " + name + " must be a JSON object."
		}
	}
	return ""
}

// absent reports whether a JSON request field is missing or null.
func absent(raw string) bool {
	t := strings.TrimSpace(raw)
	return t == "" || t == "null"
}

// objectOrAbsent reports whether a JSON request field is missing, null or
// a JSON object.
func objectOrAbsent(raw string) bool {
	t := strings.TrimSpace(raw)
	return absent(t) || (strings.HasPrefix(t, "{") && json.Valid([]byte(t)))
}

// isMutation reports whether the operation a GET request selects is a
// mutation. A query that does not parse is left to gqlgen to answer.
func isMutation(query, operationName string) bool {
	if query == "" {
		return false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	for _, op := range doc.Operations {
		if (operationName == "" || op.Name == operationName) && op.Operation != ast.Query {
			return true
		}
	}
	return false
}

// badRequest writes a GraphQL-shaped error with code BAD_REQUEST.
func badRequest(w http.ResponseWriter, status int, msg string) {
	apierr.Write(w, status, apierr.BadRequest, msg)
}
