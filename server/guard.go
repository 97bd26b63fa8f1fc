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
	"unicode/utf8"

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
//
// gqlgen decodes the body again, so the common case, a well-formed
// request, is recognised with one scan and no allocation (wellFormed);
// only a body it does not vouch for is decoded here to find the message.
func checkBody(body []byte) string {
	if wellFormed(body) {
		return ""
	}
	return explainBody(body)
}

// explainBody is checkBody for a body wellFormed did not vouch for.
func explainBody(body []byte) string {
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

// wellFormed reports, without decoding, that explainBody would find
// nothing wrong with body: one JSON object whose query and operationName
// are strings or null, whose variables and extensions are objects or null,
// with a non-empty query or an extensions object. It may answer false for
// a body that is fine (a key with escapes or non-ASCII letters, a request
// field given twice): explainBody then decides, as encoding/json would.
func wellFormed(body []byte) bool {
	if !json.Valid(body) {
		return false
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return false
	}
	// The request fields encoding/json would fill (keys match them
	// case-insensitively), by index: query, operationName, variables,
	// extensions.
	var vals [4][]byte
	for i = skipSpace(body, i+1); body[i] != '}'; {
		end := stringEnd(body, i)
		key := body[i+1 : end-1]
		i = skipSpace(body, skipSpace(body, end)+1) // past the ':'
		vend := valueEnd(body, i)
		f := -1
		for j, name := range [...]string{"query", "operationName", "variables", "extensions"} {
			if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
				f = j
			}
		}
		for _, c := range key {
			if c == '\\' || c >= utf8.RuneSelf {
				return false
			}
		}
		if f >= 0 {
			if vals[f] != nil {
				return false
			}
			vals[f] = body[i:vend]
		}
		if i = skipSpace(body, vend); body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	isNull := func(v []byte) bool { return v == nil || string(v) == "null" }
	for f, v := range vals {
		switch {
		case isNull(v):
		case f < 2 && v[0] == '"':
		case f >= 2 && v[0] == '{':
		default:
			return false
		}
	}
	hasQuery := len(vals[0]) > 2 && vals[0][0] == '"' // "" is no query
	return hasQuery || !isNull(vals[3])
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i],
// in valid JSON.
func stringEnd(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns the index just past the JSON value starting at b[i], in
// valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
		i++
	}
	return i
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
