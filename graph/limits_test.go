package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/graph"
)

type result struct {
	status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	raw string
}

func (r result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func post(tb testing.TB, h http.Handler, query string, vars map[string]any) result {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := result{status: rec.Code, raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		tb.Fatalf("response %q: %v", rec.Body.String(), err)
	}
	return r
}

// newServer is the GraphQL handler over store; in opt, MaxAliases 0 stands
// for the default and -1 for zero.
func newServer(opt graph.Options, store fakeStore) http.Handler {
	switch opt.MaxAliases {
	case 0:
		opt.MaxAliases = graph.DefaultMaxAliases
	case -1:
		opt.MaxAliases = 0
	}
	return graph.NewHandler(&graph.Resolver{Store: store}, opt)
}

// fragmentChain is a query whose fragments each spread the next twice:
// n fragments spell 2^n selections of __typename in a few hundred bytes.
// inProperty puts the chain inside property(id) instead of the root.
func fragmentChain(n int, inProperty bool) string {
	var b strings.Builder
	on := "Query"
	if inProperty {
		on = "Property"
		b.WriteString(`query { property(id: "x") { ...F0 } }`)
	} else {
		b.WriteString(`query { ...F0 }`)
	}
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on %s { ...F%d ...F%d }", i, on, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on %s { __typename }", n, on)
	return b.String()
}

func TestFragmentChainsAreRefused(t *testing.T) {
	h := newServer(graph.Options{}, fakeStore{})
	for _, inProperty := range []bool{false, true} {
		for _, n := range []int{4, 16, 20, 24, 28} {
			t.Run(fmt.Sprintf("%d fragments, in property %v", n, inProperty), func(t *testing.T) {
				r := post(t, h, fragmentChain(n, inProperty), nil)
				if n == 4 {
					// 16 selections: within every limit.
					if r.code() != "" || r.status != 200 {
						t.Fatalf("small chain refused: %d %s", r.status, r.raw)
					}
					return
				}
				if got, want := r.code(), apierr.ComplexityLimit; got != want {
					t.Fatalf("code = %q, want %q (%s)", got, want, r.raw)
				}
				if r.status != http.StatusUnprocessableEntity || r.Data != nil {
					t.Errorf("status %d, data %v: want 422 and no data", r.status, r.Data)
				}
				want := "...F0 ("
				if inProperty {
					want = "property ("
				}
				if msg := r.Errors[0].Message; !strings.Contains(msg, want) {
					t.Errorf("message %q does not name what to trim", msg)
				}
			})
		}
	}
}

func TestSelectionFloodIsRefused(t *testing.T) {
	h := newServer(graph.Options{ComplexityLimit: 1_000_000}, fakeStore{})
	for _, tt := range []struct {
		n    int
		code string
	}{
		{graph.DefaultMaxSelections, ""},
		{graph.DefaultMaxSelections + 1, apierr.ComplexityLimit},
		{5400, apierr.ComplexityLimit},
	} {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			r := post(t, h, "{"+strings.Repeat(" __typename", tt.n)+" }", nil)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%.300s)", got, tt.code, r.raw)
			}
			if tt.code != "" && !strings.Contains(r.Errors[0].Message, "selections") {
				t.Errorf("message = %q", r.Errors[0].Message)
			}
		})
	}
}

func TestShapeLimits(t *testing.T) {
	deep := `{ properties { edges { node { images { key } } } } }` // 5 levels
	tests := []struct {
		name  string
		opt   graph.Options
		query string
		code  string
		msg   string
	}{
		{"within depth", graph.Options{MaxDepth: 5}, deep, "", ""},
		{"too deep", graph.Options{MaxDepth: 4}, deep, apierr.ComplexityLimit, "5 levels deep"},
		{"too deep through a fragment", graph.Options{MaxDepth: 4},
			`{ properties { ...C } } fragment C on PropertyConnection { edges { node { images { key } } } }`, apierr.ComplexityLimit, "5 levels deep"},
		{"aliases within limit", graph.Options{MaxAliases: 2}, `{ a: __typename b: __typename }`, "", ""},
		{"too many aliases", graph.Options{MaxAliases: 2}, `{ a: __typename b: __typename c: __typename }`, apierr.ComplexityLimit, "3 aliases"},
		{"aliases in a fragment count per spread", graph.Options{MaxAliases: 2},
			`{ ...A ...A } fragment A on Query { a: __typename b: __typename }`, apierr.ComplexityLimit, "4 aliases"},
		{"zero aliases means none", graph.Options{MaxAliases: -1}, `{ a: __typename }`, apierr.ComplexityLimit, "1 aliases"},
		{"zero aliases allows plain fields", graph.Options{MaxAliases: -1}, `{ __typename }`, "", ""},
		// nodes { id title } costs 3; a page of 100 costs 1 + 100*3 + 101 reads.
		{"costly listing", graph.Options{ComplexityLimit: 400}, `{ properties(first: 100) { nodes { id title } } }`, apierr.ComplexityLimit, "properties (402)"},
		{"costly listing by variable", graph.Options{ComplexityLimit: 400}, `query($n: Int) { properties(first: $n) { nodes { id title } } }`, apierr.ComplexityLimit, "properties (402)"},
		{"listing within cost", graph.Options{ComplexityLimit: 400}, `{ properties(first: 10) { nodes { id title } } }`, "", ""},
		// images { key url } cost 1 + 20*2, nodes 43, a page of 10 1 + 430 + 11.
		{"images cost MaxImages children", graph.Options{ComplexityLimit: 500, MaxImages: 20},
			`{ properties(first: 10) { nodes { id images { key url } } } }`, "", ""},
		{"images of many properties", graph.Options{ComplexityLimit: 500, MaxImages: 20},
			`{ properties(first: 20) { nodes { id images { key url } } } }`, apierr.ComplexityLimit, "properties (882)"},
		{"twenty aliases sharing a fragment stay under the selection cap", graph.Options{}, twentyByFragment(), "", ""},
		{"the costliest parts come first", graph.Options{ComplexityLimit: 400},
			`{ small: properties(first: 1) { nodes { id } } big: properties(first: 100) { nodes { id title } } property(id: "x") { id } }`,
			apierr.ComplexityLimit, "big (402), small (5), property (2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, newServer(tt.opt, fakeStore{}), tt.query, map[string]any{"n": 100})
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%s)", got, tt.code, r.raw)
			}
			if tt.code != "" && !strings.Contains(r.Errors[0].Message, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", r.Errors[0].Message, tt.msg)
			}
		})
	}
}

func TestFilteredListingCostsItsReads(t *testing.T) {
	q := `{ properties(first: 1, filter: { state: "Nowhere" }) { nodes { id } } }`
	for _, tt := range []struct {
		reads int
		code  string
	}{{400, ""}, {600, apierr.ComplexityLimit}} {
		h := newServer(graph.Options{ComplexityLimit: 500}, fakeStore{reads: tt.reads})
		if got := post(t, h, q, nil).code(); got != tt.code {
			t.Errorf("reads %d: code = %q, want %q", tt.reads, got, tt.code)
		}
	}
}

func TestIntrospectionLimits(t *testing.T) {
	full, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	deeper := func(levels int) string {
		return `{ __type(name: "Property") { fields { type {` + strings.Repeat(" ofType {", levels) + " name" + strings.Repeat(" }", levels) + " } } } }"
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	on := newServer(graph.Options{Introspection: true, Logger: log}, fakeStore{})
	off := newServer(graph.Options{Logger: log}, fakeStore{})
	tests := []struct {
		name  string
		h     http.Handler
		query string
		code  string
	}{
		{"GraphiQL's query with every option", on, string(full), ""},
		// GraphiQL's deepest path: __schema types fields args type, then
		// TypeRef's nine ofType and a leaf: 15 levels, as deeper(11).
		{"as deep as GraphiQL's", on, deeper(11), ""},
		{"deeper than GraphiQL's", on, deeper(12), apierr.ComplexityLimit},
		{"fifty levels", on, deeper(50), apierr.ComplexityLimit},
		{"off: __schema", off, string(full), "GRAPHQL_VALIDATION_FAILED"},
		{"off: __type", off, `{ __type(name: "Query") { name } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"off: in a fragment", off, `{ ...I } fragment I on Query { __schema { queryType { name } } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"off: __typename is not introspection", off, `{ __typename }`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, tt.h, tt.query, nil)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%.300s)", got, tt.code, r.raw)
			}
			if tt.code == "" && r.Data == nil {
				t.Errorf("no data: %.300s", r.raw)
			}
			if tt.code != "" && (r.status != http.StatusUnprocessableEntity || r.Data != nil) {
				t.Errorf("status %d, data %v: want 422 and no data", r.status, r.Data)
			}
		})
	}
	// A refusal is the client's mistake: nothing worth an error line.
	if logs.Len() != 0 {
		t.Errorf("logged: %s", logs.String())
	}
}

func TestPersistedMutationOverGET(t *testing.T) {
	h := newServer(graph.Options{}, fakeStore{})
	mutation := `mutation { deleteProperty(input: { id: "x" }) { deletedId } }`
	sum := sha256.Sum256([]byte(mutation))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	// Registered by a POST (which fails for want of a caller, but registers).
	body, _ := json.Marshal(map[string]any{"query": mutation, "extensions": json.RawMessage(ext)})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), req)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"extensions": {ext}}.Encode(), nil))
	var r result
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if got, want := r.code(), apierr.BadRequest; got != want {
		t.Fatalf("code = %q, want %q (%d %s)", got, want, rec.Code, rec.Body)
	}
	if rec.Code >= 500 || rec.Code < 400 {
		t.Errorf("status = %d, want a 4xx", rec.Code)
	}
}

func TestResponseSizeCap(t *testing.T) {
	const limit = 10_000
	q := `{ properties(first: 50) { nodes { description } } }`
	tests := []struct {
		name        string
		description string
		code        string
	}{
		{"within", strings.Repeat("a", 100), ""},
		{"over", strings.Repeat("a", 300), apierr.ResponseTooLarge},
		// 60 quotes take 120 bytes in the JSON answer (about 7,000 in all,
		// under the limit) and 240 in the payload that carries the answer
		// as a JSON string (about 13,000).
		{"over once escaped", strings.Repeat(`"`, 60), apierr.ResponseTooLarge},
		{"HTML characters counted as escaped", strings.Repeat("&", 60), apierr.ResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newServer(graph.Options{MaxResponseBytes: limit}, fakeStore{description: tt.description})
			r := post(t, h, q, nil)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%.300s)", got, tt.code, r.raw)
			}
			if tt.code == "" {
				if n := len(r.Data["properties"].(map[string]any)["nodes"].([]any)); n != 50 {
					t.Errorf("%d nodes, want 50", n)
				}
				return
			}
			if r.Data != nil || r.status >= 500 {
				t.Errorf("status %d, data %v: want no data and no 5xx", r.status, r.Data)
			}
			if len(r.raw) > 1000 {
				t.Errorf("the refusal is %d bytes", len(r.raw))
			}
		})
	}
}

// twentyByFragment asks for twenty properties with every field, the shape
// written once as a fragment: 56 selections, where writing it out under
// each alias would take 320.
func twentyByFragment() string {
	var b strings.Builder
	b.WriteString("{")
	for i := range 20 {
		fmt.Fprintf(&b, ` p%d: property(id: "%d") { ...P }`, i, i)
	}
	b.WriteString(" } fragment P on Property { id title description price address city state zip version createdAt updatedAt ownerId images { key url } }")
	return b.String()
}
