package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// guardMarker is put in request bodies and queries to show answers never echo them.
const guardMarker = "MARKER-5e1f9c"

const guardMaxBody = 1024

// nextSpy stands for gqlgen behind the guard: it records whether it was
// reached and the body it read.
type nextSpy struct {
	called bool
	body   string
}

func (s *nextSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.called = true
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.body = string(b)
	w.WriteHeader(http.StatusTeapot)
}

// serveGuard sends req through guard to a fresh nextSpy.
func serveGuard(req *http.Request) (*httptest.ResponseRecorder, *nextSpy) {
	spy := &nextSpy{}
	rec := httptest.NewRecorder()
	guard(guardMaxBody, spy).ServeHTTP(rec, req)
	return rec, spy
}

func guardPost(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func guardGet(v url.Values) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
}

// checkRefused fails tb unless the guard answered rec itself, with status
// and a coded GraphQL error that does not echo the request.
func checkRefused(tb testing.TB, rec *httptest.ResponseRecorder, spy *nextSpy, status int) {
	tb.Helper()
	if spy.called {
		tb.Errorf("the request reached the next handler")
	}
	if got := rec.Code; got != status {
		tb.Errorf("status = %d, want %d", got, status)
	}
	if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
		tb.Errorf("Content-Type = %q, want %q", got, want)
	}
	raw := rec.Body.String()
	if strings.Contains(raw, guardMarker) {
		tb.Errorf("answer echoes the request: %s", raw)
	}
	var resp struct {
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		tb.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	if got, want := len(resp.Errors), 1; got != want {
		tb.Fatalf("errors = %d, want %d: %s", got, want, raw)
	}
	e := resp.Errors[0]
	if e.Message == "" {
		tb.Errorf("message is empty: %s", raw)
	}
	if got, want := e.Extensions.Code, "BAD_REQUEST"; got != want {
		tb.Errorf("extensions.code = %q, want %q", got, want)
	}
}

func TestGuardRefusesPOST(t *testing.T) {
	const query = `{"query":"{ properties(first: 1) { nodes { id } } }"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"text/plain", "text/plain", query, http.StatusUnsupportedMediaType},
		{"no content type", "", query, http.StatusUnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", "query=" + guardMarker, http.StatusUnsupportedMediaType},
		{"response media type", "application/graphql-response+json", query, http.StatusUnsupportedMediaType},
		{"malformed content type", "application/json; =", query, http.StatusUnsupportedMediaType},
		{"empty body", "application/json", "", http.StatusBadRequest},
		{"whitespace body", "application/json", " \n\t ", http.StatusBadRequest},
		{"malformed JSON", "application/json", `{"query": "{ ` + guardMarker, http.StatusBadRequest},
		{"batch", "application/json", `[{"query":"{ ` + guardMarker + ` }"}]`, http.StatusBadRequest},
		{"JSON string", "application/json", `"` + guardMarker + `"`, http.StatusBadRequest},
		{"JSON number", "application/json", `5`, http.StatusBadRequest},
		{"JSON null", "application/json", `null`, http.StatusBadRequest},
		{"query is a number", "application/json", `{"query": 5, "x": "` + guardMarker + `"}`, http.StatusBadRequest},
		{"query is an object", "application/json", `{"query": {"` + guardMarker + `": 1}}`, http.StatusBadRequest},
		{"operationName is a number", "application/json", `{"query":"{a}","operationName":5}`, http.StatusBadRequest},
		{"no query", "application/json", `{}`, http.StatusBadRequest},
		{"empty query", "application/json", `{"query":"","` + guardMarker + `":1}`, http.StatusBadRequest},
		{"null query and extensions", "application/json", `{"query":null,"extensions":null}`, http.StatusBadRequest},
		{"variables a string", "application/json", `{"query":"{a}","variables":"` + guardMarker + `"}`, http.StatusBadRequest},
		{"variables an array", "application/json", `{"query":"{a}","variables":["` + guardMarker + `"]}`, http.StatusBadRequest},
		{"extensions a number", "application/json", `{"query":"{a}","extensions":5}`, http.StatusBadRequest},
		{"two JSON values", "application/json", `{"query":"{a}"} {"query":"{ ` + guardMarker + ` }"}`, http.StatusBadRequest},
		{"trailing garbage", "application/json", `{"query":"{a}"} ` + guardMarker, http.StatusBadRequest},
		{"trailing bracket", "application/json", `{"query":"{a}"}]`, http.StatusBadRequest},
		{"trailing brace", "application/json", `{"query":"{a}"}}`, http.StatusBadRequest},
		{"body over maxBody", "application/json", `{"query":"{ ` + guardMarker + strings.Repeat(" ", guardMaxBody) + `}"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, spy := serveGuard(guardPost(tt.contentType, tt.body))
			checkRefused(t, rec, spy, tt.status)
		})
	}
}

func TestGuardPassesPOST(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{"query", "application/json", `{"query":"{ properties(first: 1) { nodes { id } } }"}`},
		{"charset", "application/json; charset=utf-8", `{"query":"{a}"}`},
		{"upper-case media type", "Application/JSON", `{"query":"{a}"}`},
		{"variables and operationName", "application/json", `{"query":"query A { a }","operationName":"A","variables":{"x":[1,2]}}`},
		{"null variables", "application/json", `{"query":"{a}","variables":null}`},
		{"persisted query without query", "application/json", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`},
		{"trailing newline", "application/json", "{\"query\":\"{a}\"}\n"},
		{"query that does not parse", "application/json", `{"query":"{ a "}`},
		{"body exactly maxBody", "application/json", `{"query":"{a}` + strings.Repeat(" ", guardMaxBody-15) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, spy := serveGuard(guardPost(tt.contentType, tt.body))
			if !spy.called {
				t.Fatalf("the request did not reach the next handler: %d %s", rec.Code, rec.Body)
			}
			if spy.body != tt.body {
				t.Errorf("next read body %q, want %q", spy.body, tt.body)
			}
			if got, want := rec.Code, http.StatusTeapot; got != want {
				t.Errorf("status = %d, want %d (from next)", got, want)
			}
		})
	}
}

func TestGuardGET(t *testing.T) {
	const queryAndMutation = `query Q { a } mutation M { b }`
	tests := []struct {
		name   string
		params url.Values
		status int // 0: passed to next
	}{
		{"no query", url.Values{}, http.StatusBadRequest},
		{"empty query", url.Values{"query": {""}, "x": {guardMarker}}, http.StatusBadRequest},
		{"null extensions only", url.Values{"extensions": {"null"}}, http.StatusBadRequest},
		{"variables not JSON", url.Values{"query": {"{a}"}, "variables": {guardMarker}}, http.StatusBadRequest},
		{"variables an array", url.Values{"query": {"{a}"}, "variables": {`["` + guardMarker + `"]`}}, http.StatusBadRequest},
		{"variables a broken object", url.Values{"query": {"{a}"}, "variables": {`{"` + guardMarker}}, http.StatusBadRequest},
		{"extensions not an object", url.Values{"query": {"{a}"}, "extensions": {"5"}}, http.StatusBadRequest},
		{"mutation", url.Values{"query": {`mutation { deleteProperty(input: {id: "` + guardMarker + `"}) { deletedId } }`}}, http.StatusMethodNotAllowed},
		{"subscription", url.Values{"query": {`subscription { changed }`}}, http.StatusMethodNotAllowed},
		{"operationName selects the mutation", url.Values{"query": {queryAndMutation}, "operationName": {"M"}}, http.StatusMethodNotAllowed},
		{"operationName selects the query", url.Values{"query": {queryAndMutation}, "operationName": {"Q"}}, 0},
		{"query", url.Values{"query": {`{ properties(first: 1) { nodes { id } } }`}}, 0},
		{"named query with variables", url.Values{"query": {`query A($n: Int) { a(n: $n) }`}, "variables": {`{"n":1}`}, "operationName": {"A"}}, 0},
		{"null variables", url.Values{"query": {"{a}"}, "variables": {"null"}}, 0},
		{"unparsable query", url.Values{"query": {`{ a ` + guardMarker}}, 0},
		{"persisted query hash only", url.Values{"extensions": {`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, spy := serveGuard(guardGet(tt.params))
			if tt.status == 0 {
				if !spy.called {
					t.Errorf("the request did not reach the next handler: %d %s", rec.Code, rec.Body)
				}
				return
			}
			checkRefused(t, rec, spy, tt.status)
			allow := rec.Header().Get("Allow")
			switch {
			case tt.status == http.StatusMethodNotAllowed && allow != "POST":
				t.Errorf("Allow = %q, want %q", allow, "POST")
			case tt.status != http.StatusMethodNotAllowed && allow != "":
				t.Errorf("Allow = %q, want none", allow)
			}
		})
	}
	t.Run("malformed query string", func(t *testing.T) {
		rec, spy := serveGuard(httptest.NewRequest(http.MethodGet, "/graphql?query=%7Ba%7D&x=%zz"+guardMarker, nil))
		checkRefused(t, rec, spy, http.StatusBadRequest)
	})
}

func TestGuardOtherMethods(t *testing.T) {
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			rec, spy := serveGuard(httptest.NewRequest(method, "/graphql", strings.NewReader(`{"query":"{a}"}`)))
			checkRefused(t, rec, spy, http.StatusMethodNotAllowed)
			if got, want := rec.Header().Get("Allow"), "GET, POST, OPTIONS"; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
		})
	}
}

func TestCheckBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"query", `{"query":"{a}"}`, true},
		{"all fields", `{"query":"{a}","operationName":"A","variables":{},"extensions":{}}`, true},
		{"null variables", `{"query":"{a}","variables":null}`, true},
		{"unknown fields ignored", `{"query":"{a}","id":7}`, true},
		{"extensions only", `{"extensions":{"persistedQuery":{}}}`, true},
		{"surrounding whitespace", " \n{\"query\":\"{a}\"}\r\n ", true},
		{"empty", ``, false},
		{"whitespace", "  \n", false},
		{"malformed", `{"query":`, false},
		{"array", `[{"query":"{a}"}]`, false},
		{"string", `"{a}"`, false},
		{"null", `null`, false},
		{"query a number", `{"query":5}`, false},
		{"query a boolean", `{"query":true}`, false},
		{"no query", `{}`, false},
		{"empty query", `{"query":""}`, false},
		{"null extensions without query", `{"extensions":null}`, false},
		{"variables a string", `{"query":"{a}","variables":"x"}`, false},
		{"variables a number", `{"query":"{a}","variables":1}`, false},
		{"extensions an array", `{"query":"{a}","extensions":[]}`, false},
		{"two values", `{"query":"{a}"}{"query":"{b}"}`, false},
		{"trailing bracket", `{"query":"{a}"}]`, false},
		{"trailing brace", `{"query":"{a}"} }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := checkBody([]byte(tt.body))
			if got := msg == ""; got != tt.ok {
				t.Errorf("checkBody(%q) = %q, want ok %v", tt.body, msg, tt.ok)
			}
		})
	}
}

func TestIsMutation(t *testing.T) {
	tests := []struct {
		name          string
		query         string
		operationName string
		want          bool
	}{
		{"empty", "", "", false},
		{"shorthand query", "{ a }", "", false},
		{"named query", "query Q { a }", "", false},
		{"mutation", "mutation { b }", "", true},
		{"named mutation", "mutation M { b }", "M", true},
		{"subscription", "subscription { c }", "", true},
		{"query and mutation, no name", "query Q { a } mutation M { b }", "", true},
		{"query and mutation, query selected", "query Q { a } mutation M { b }", "Q", false},
		{"query and mutation, mutation selected", "query Q { a } mutation M { b }", "M", true},
		{"unknown operation name", "query Q { a } mutation M { b }", "X", false},
		{"does not parse", "mutation { b ", "", false},
		{"fragment and query", "fragment F on Query { a } query Q { ...F }", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isMutation(tt.query, tt.operationName); got != tt.want {
				t.Errorf("isMutation(%q, %q) = %v, want %v", tt.query, tt.operationName, got, tt.want)
			}
		})
	}
}

// wellFormedCases: bodies with whether wellFormed vouches for them. A body
// it does not vouch for may still be fine (explainBody decides).
var wellFormedCases = []struct {
	body string
	want bool
}{
	{`{"query":"{a}"}`, true},
	{`{"query":"{a}","operationName":"A","variables":{"x":[1,{"y":"}"}]},"extensions":{}}`, true},
	{" \n{ \"query\" : \"{a}\" , \"variables\" : null }\r\n", true},
	{`{"id":[1,"]",{"a":"\"}"}],"query":"{ a(s: \"x\\\"y\") }","n":-1.5e3,"t":true,"f":false,"z":null}`, true},
	{`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, true},
	{`{"QUERY":"{a}"}`, true}, // encoding/json matches keys case-insensitively
	{`{"query":"{a}","operationName":null,"extensions":null}`, true},
	// Not vouched for; explainBody refuses these:
	{``, false},
	{`  `, false},
	{`[{"query":"{a}"}]`, false},
	{`null`, false},
	{`{}`, false},
	{`{"query":""}`, false},
	{`{"query":null,"extensions":null}`, false},
	{`{"query":5}`, false},
	{`{"query":{"a":1}}`, false},
	{`{"query":"{a}","operationName":5}`, false},
	{`{"query":"{a}","variables":"x"}`, false},
	{`{"query":"{a}","variables":[]}`, false},
	{`{"query":"{a}","extensions":1}`, false},
	{`{"query":"{a}"}{"query":"{b}"}`, false},
	{`{"query":"{a}"}]`, false},
	{`{"query":"{a}"`, false},
	// Not vouched for, though fine: explainBody accepts them.
	{`{"query":"{a}","query":"{b}"}`, false},
	{`{"\u0071uery":"{a}"}`, false},
	{`{"query":"{a}","ſ":1}`, false},
}

func TestWellFormed(t *testing.T) {
	for _, tt := range wellFormedCases {
		if got := wellFormed([]byte(tt.body)); got != tt.want {
			t.Errorf("wellFormed(%q) = %v, want %v", tt.body, got, tt.want)
		}
		// The shortcut never passes what the full decoding refuses.
		if msg := explainBody([]byte(tt.body)); tt.want && msg != "" {
			t.Errorf("wellFormed(%q) vouches for a body explainBody refuses: %s", tt.body, msg)
		}
	}
}

// FuzzWellFormed checks that wellFormed never vouches for a body
// explainBody refuses (go test runs the seeds; -fuzz explores further).
func FuzzWellFormed(f *testing.F) {
	for _, tt := range wellFormedCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if wellFormed(body) {
			if msg := explainBody(body); msg != "" {
				t.Errorf("wellFormed(%q) vouches for a body explainBody refuses: %s", body, msg)
			}
		}
	})
}

// BenchmarkCheckBody: the guard's check of a typical read (the load mix's
// Get), by the one-scan shortcut and by decoding (what it replaced).
//
//	go test -run '^$' -bench CheckBody -benchmem ./server/
func BenchmarkCheckBody(b *testing.B) {
	body := []byte(`{"query":"query Get($id: ID!) { property(id: $id) { id title description price address city state zip version createdAt updatedAt } }","operationName":"Get","variables":{"id":"0f8fad5b-d9cb-469f-a165-70867728950e"}}`)
	for _, bc := range []struct {
		name  string
		check func([]byte) string
	}{{"checkBody", checkBody}, {"decoding", explainBody}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if msg := bc.check(body); msg != "" {
					b.Fatal(msg)
				}
			}
		})
	}
}
