package server_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/propertyhq/property/server"
)

// getPlayground serves GET / through the whole handler.
func getPlayground(tb testing.TB, on bool) *httptest.ResponseRecorder {
	tb.Helper()
	h := server.New(server.Options{GraphQL: http.NotFoundHandler(), Playground: on})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec
}

// jsConst returns the value of `const name = <JSON string>;` in the page.
func jsConst(tb testing.TB, page, name string) string {
	tb.Helper()
	m := regexp.MustCompile(`const ` + name + ` = ("(?:[^"\\]|\\.)*");`).FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("page has no `const %s = \"...\";`", name)
	}
	var s string
	if err := json.Unmarshal([]byte(m[1]), &s); err != nil {
		tb.Fatalf("const %s: %v", name, err)
	}
	return s
}

var (
	tagRe  = regexp.MustCompile(`<(script|link)\b[^>]*>`)
	attrRe = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// assets returns the attributes of each <script src> and <link href> tag.
func assets(page string) []map[string]string {
	var out []map[string]string
	for _, tag := range tagRe.FindAllString(page, -1) {
		attrs := map[string]string{"tag": strings.Fields(tag[1:])[0]}
		for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		if attrs["src"] != "" || attrs["href"] != "" {
			out = append(out, attrs)
		}
	}
	return out
}

func TestPlayground(t *testing.T) {
	rec := getPlayground(t, true)
	page := rec.Body.String()

	t.Run("status and content type", func(t *testing.T) {
		if rec.Code != http.StatusOK {
			t.Errorf("status = %d, want 200", rec.Code)
		}
		if got, want := rec.Header().Get("Content-Type"), "text/html; charset=utf-8"; got != want {
			t.Errorf("Content-Type = %q, want %q", got, want)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
		}
		if !strings.Contains(page, "<title>Property API</title>") {
			t.Errorf("page has no title")
		}
	})

	t.Run("endpoint is relative to the page", func(t *testing.T) {
		// "graphql", not "/graphql": behind a stage prefix the API is at
		// /<stage>/graphql.
		if got, want := jsConst(t, page, "endpoint"), "graphql"; got != want {
			t.Errorf("endpoint = %q, want %q", got, want)
		}
		if !strings.Contains(page, "new URL(endpoint, base)") {
			t.Errorf("page does not resolve the endpoint against its own path")
		}
	})

	t.Run("example query in the first tab", func(t *testing.T) {
		q := jsConst(t, page, "exampleQuery")
		for _, want := range []string{
			"query NewestProperties", "properties(first: 3)",
			`{"Authorization": "Bearer <token>"}`, "make token",
		} {
			if !strings.Contains(q, want) {
				t.Errorf("example query lacks %q:\n%s", want, q)
			}
		}
		if !strings.Contains(page, "defaultQuery: exampleQuery") {
			t.Errorf("example query is not given to GraphiQL")
		}
		schemaText, err := os.ReadFile("../schema.graphqls")
		if err != nil {
			t.Fatal(err)
		}
		schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(schemaText)})
		if gerr != nil {
			t.Fatalf("schema: %v", gerr)
		}
		if _, errs := gqlparser.LoadQuery(schema, q); len(errs) > 0 {
			t.Errorf("example query does not validate against the schema: %v", errs)
		}
	})

	t.Run("CDN assets carry SRI hashes", func(t *testing.T) {
		as := assets(page)
		want := map[string]bool{
			"/npm/react@18.2.0/umd/react.production.min.js":         false,
			"/npm/react-dom@18.2.0/umd/react-dom.production.min.js": false,
			"/npm/graphiql@4.1.2/graphiql.min.js":                   false,
			"/npm/graphiql@4.1.2/graphiql.min.css":                  false,
		}
		for _, a := range as {
			url := a["src"] + a["href"]
			if !strings.HasPrefix(url, "https://") {
				t.Errorf("%s %s: not an https URL", a["tag"], url)
			}
			for path := range want {
				if strings.HasSuffix(url, path) {
					want[path] = true
				}
			}
			if strings.Contains(url, "plugin-explorer") {
				t.Errorf("%s: the explorer plugin is meant to be off", url)
			}
			integrity, ok := strings.CutPrefix(a["integrity"], "sha256-")
			if b, err := base64.StdEncoding.DecodeString(integrity); !ok || err != nil || len(b) != 32 {
				t.Errorf("%s: integrity = %q, want sha256-<base64 of 32 bytes>", url, a["integrity"])
			}
			if a["crossorigin"] != "anonymous" {
				t.Errorf("%s: crossorigin = %q, want anonymous (SRI on another origin needs CORS)", url, a["crossorigin"])
			}
		}
		for path, seen := range want {
			if !seen {
				t.Errorf("page does not load %s", path)
			}
		}
		if len(as) != len(want) {
			t.Errorf("page loads %d assets, want %d: %v", len(as), len(want), as)
		}
	})
}

func TestPlaygroundOff(t *testing.T) {
	rec := getPlayground(t, false)
	if rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "GraphiQL") {
		t.Errorf("Playground served while switched off")
	}
}
