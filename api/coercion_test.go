package api_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestInputCoercion holds variables and literals to GraphQL's input
// coercion (spec, "Input Coercion" of Int, Float, String, ID and enums): a
// string is not a number, a number is not a String, an enum is spelled
// exactly. Each refusal is a validation error (422) naming the variable; the
// well-typed forms beside them go through.
func TestInputCoercion(t *testing.T) {
	h := newAPI(t, nil)
	id := mustCreate(t, h, createInput("Coerced", 415000))
	update := func(fields map[string]any) map[string]any {
		in := map[string]any{"id": id, "expectedVersion": 1}
		for k, v := range fields {
			in[k] = v
		}
		return map[string]any{"input": in}
	}
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		// want is "" for success, else words the message must hold.
		want []string
	}{
		{"Int as a string", updateMutation, update(map[string]any{"expectedVersion": "1"}),
			[]string{`Variable "$input"`, `"input.expectedVersion"`, "Int cannot represent a string", "(1)"}},
		{"Float as a string", updateMutation, update(map[string]any{"price": "415000"}),
			[]string{`Variable "$input"`, `"input.price"`, "Float cannot represent a string", "(415000)"}},
		{"Int as a fraction", updateMutation, update(map[string]any{"expectedVersion": 1.5}),
			[]string{"Int"}}, // gqlparser's own refusal
		{"String as a number", updateMutation, update(map[string]any{"title": 12}),
			[]string{`"input.title"`, "String cannot represent a number"}},
		{"top-level Int as a string", listQuery, map[string]any{"first": "2"},
			[]string{`Variable "$first" got invalid value "2"; Int cannot represent a string`}},
		{"ID as a fraction", propertyQuery, map[string]any{"id": 1.5},
			[]string{`Variable "$id"`, "ID is a string"}},
		{"enum in lower case", listQuery, map[string]any{"orderBy": "price_asc"},
			[]string{`Variable "$orderBy"`, "PRICE_ASC"}},
		{"filter Float as a string", listQuery, map[string]any{"filter": map[string]any{"minPrice": "1"}},
			[]string{`"filter.minPrice"`}},
		{"Int literal as a string", `{ properties(first: "2") { nodes { id } } }`, nil,
			[]string{"Int cannot represent"}},
		{"enum literal in lower case", `{ properties(orderBy: price_asc) { nodes { id } } }`, nil,
			[]string{"PropertyOrder"}},

		{"Int and Float as numbers", updateMutation, update(map[string]any{"price": 420000}), nil},
		{"Int as a whole float", listQuery, map[string]any{"first": 2.0}, nil},
		{"ID as a whole number", propertyQuery, map[string]any{"id": 7}, nil},
		{"enum exactly", listQuery, map[string]any{"orderBy": "PRICE_ASC"}, nil},
		{"Int default", `query($first: Int = 2) { properties(first: $first) { nodes { id } } }`, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gql(t, h, tc.query, tc.vars)
			if tc.want == nil {
				if len(r.Errors) > 0 || r.Status != 200 {
					t.Fatalf("status %d: %s", r.Status, r.Raw)
				}
				return
			}
			if r.Status != 422 || r.code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("status %d, code %q, want 422 GRAPHQL_VALIDATION_FAILED: %s", r.Status, r.code(), r.Raw)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Errors[0].Message, w) {
					t.Errorf("message %q lacks %q", r.Errors[0].Message, w)
				}
			}
		})
	}
	// The same holds for the GET transport's variables.
	t.Run("GET variables", func(t *testing.T) {
		r := do(t, h, httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape(`query($f:Int){properties(first:$f){nodes{id}}}`)+"&variables="+url.QueryEscape(`{"f":"2"}`), nil))
		if r.Status != 422 || !strings.Contains(r.Raw, "Int cannot represent a string") {
			t.Errorf("status %d: %s", r.Status, r.Raw)
		}
	})
}
