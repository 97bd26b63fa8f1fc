package api_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// The operations in examples/ are what a frontend copies; every one of them
// runs here against the whole API, so they cannot rot. A new file is picked
// up by the glob; give it variables in exampleVariables.

// example is one examples/*.graphql file.
type example struct {
	name  string // the file name without .graphql, which is also the operation name
	query string
	field string // the response key of the operation's first field
}

// loadExamples reads every examples/*.graphql and checks each holds one
// operation named after its file.
func loadExamples(tb testing.TB) []example {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.graphql"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no examples/*.graphql found")
	}
	var out []example
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		doc, perr := parser.ParseQuery(&ast.Source{Name: f, Input: string(b)})
		if perr != nil {
			tb.Fatalf("%s: %v", f, perr)
		}
		if len(doc.Operations) != 1 || doc.Operations[0].Name != name {
			tb.Fatalf("%s: want exactly one operation, named %s (a frontend refers to it by that name)", f, name)
		}
		field, _ := doc.Operations[0].SelectionSet[0].(*ast.Field)
		if field == nil {
			tb.Fatalf("%s: the operation's first selection is not a field", f)
		}
		key := field.Alias
		if key == "" {
			key = field.Name
		}
		out = append(out, example{name: name, query: string(b), field: key})
	}
	return out
}

// exampleVariables gives each example realistic variables, creating what it
// needs first. The default user (client_test.go) owns what is created.
var exampleVariables = map[string]func(tb testing.TB, h http.Handler) map[string]any{
	"ListProperties": func(tb testing.TB, h http.Handler) map[string]any {
		city := "Exampleton " + randomSuffix(tb)
		for _, price := range []float64{310000, 289000} {
			in := createInput("Listed in "+city, price)
			in["city"] = city
			mustCreate(tb, h, in)
		}
		return map[string]any{"first": 1, "filter": map[string]any{"city": city, "maxPrice": 500000}, "orderBy": "PRICE_ASC"}
	},
	"GetProperty": func(tb testing.TB, h http.Handler) map[string]any {
		return map[string]any{"id": mustCreate(tb, h, createInput("Corner house", 389000))}
	},
	"CreateProperty": func(tb testing.TB, h http.Handler) map[string]any {
		return map[string]any{"input": map[string]any{
			"clientMutationId": "form-" + randomSuffix(tb),
			"title":            "Sunny loft", "description": "Two bedrooms, tall windows.",
			"price": 425000, "address": "1200 N Clark St", "city": "Chicago", "state": "IL", "zip": "60610",
			"images": []any{map[string]any{"contentType": "image/jpeg", "contentLength": 482113}},
		}}
	},
	"UpdateProperty": func(tb testing.TB, h http.Handler) map[string]any {
		id := mustCreate(tb, h, createInput("Needs a new price", 450000))
		return map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 415000, "title": "Price reduced"}}
	},
	"DeleteProperty": func(tb testing.TB, h http.Handler) map[string]any {
		id := mustCreate(tb, h, createInput("Sold", 199000))
		return map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1}}
	},
}

func randomSuffix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestExamples(t *testing.T) {
	examples := loadExamples(t)
	h := newAPI(t, nil)
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			vars := map[string]any{}
			if f, ok := exampleVariables[ex.name]; ok {
				vars = f(t, h)
			}
			r := gql(t, h, ex.query, vars)
			if r.Status != http.StatusOK || len(r.Errors) > 0 {
				if _, ok := exampleVariables[ex.name]; !ok {
					t.Errorf("examples/%s.graphql has no variables in exampleVariables (api/examples_test.go); add some", ex.name)
				}
				t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
			}
			if r.Data[ex.field] == nil {
				t.Fatalf("data.%s is null: %s", ex.field, r.Raw)
			}
			switch ex.name {
			case "ListProperties":
				edges, _ := get(r.Data, "properties", "edges").([]any)
				if len(edges) != 1 || get(r.Data, "properties", "pageInfo", "hasNextPage") != true {
					t.Errorf("want one edge and another page: %s", r.Raw)
				}
				if got, want := num(edges, 0, "node", "price"), 289000.0; got != want {
					t.Errorf("cheapest first: price = %v, want %v", got, want)
				}
			case "GetProperty":
				if got, want := str(r.Data, "property", "id"), vars["id"]; got != want {
					t.Errorf("id = %q, want %q", got, want)
				}
			case "CreateProperty":
				if uploads, _ := get(r.Data, "createProperty", "uploads").([]any); len(uploads) != 1 {
					t.Errorf("want one upload: %s", r.Raw)
				}
			case "UpdateProperty":
				if got := num(r.Data, "updateProperty", "property", "version"); got != 2 {
					t.Errorf("version = %v, want 2", got)
				}
			case "DeleteProperty":
				if got, want := str(r.Data, "deleteProperty", "deletedId"), get(vars, "input", "id"); got != want {
					t.Errorf("deletedId = %q, want %v", got, want)
				}
			}
		})
	}

	t.Run("UpdateProperty conflict", func(t *testing.T) {
		var update example
		for _, ex := range examples {
			if ex.name == "UpdateProperty" {
				update = ex
			}
		}
		if update.query == "" {
			t.Fatal("examples/UpdateProperty.graphql is missing")
		}
		id := mustCreate(t, h, createInput("Two editors", 300000))
		// Someone else saves first: the property moves to version 2.
		mustData(t, h, update.query, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 299000}})
		// Our form was filled from version 1.
		r := gql(t, h, update.query, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Stale edit"}})
		if got := r.code(); got != "CONFLICT" {
			t.Fatalf("code = %q, want CONFLICT: %s", got, r.Raw)
		}
		ext := r.Errors[0].Extensions
		if got := ext["currentVersion"]; got != 2.0 {
			t.Errorf("extensions.currentVersion = %v, want 2", got)
		}
		if got := str(ext, "current", "id"); got != id {
			t.Errorf("extensions.current.id = %q, want %q", got, id)
		}
		if got := num(ext, "current", "price"); got != 299000 {
			t.Errorf("extensions.current.price = %v, want 299000 (the other editor's)", got)
		}
		// Re-applied on top of the current version, the edit goes through.
		d := mustData(t, h, update.query, map[string]any{"input": map[string]any{"id": id, "expectedVersion": ext["currentVersion"], "title": "Stale edit"}})
		if got := num(d, "updateProperty", "property", "version"); got != 3 {
			t.Errorf("after retry: version = %v, want 3", got)
		}
	})
}
