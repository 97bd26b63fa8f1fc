package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/testenv"
)

func TestPropertyLifecycle(t *testing.T) {
	h := newAPI(t, nil)

	d := mustData(t, h, createMutation, map[string]any{"input": createInput("  Sunny loft  ", 250000.5)})
	created := get(d, "createProperty", "property")
	id := str(created, "id")
	if got, want := str(created, "title"), "Sunny loft"; got != want {
		t.Errorf("title = %q, want %q (trimmed)", got, want)
	}
	if got, want := num(created, "version"), 1.0; got != want {
		t.Errorf("version = %v, want %v", got, want)
	}
	if got := get(d, "createProperty", "uploads"); got == nil || len(got.([]any)) != 0 {
		t.Errorf("uploads = %v, want []", got)
	}
	createdAt, err := time.Parse(time.RFC3339Nano, str(created, "createdAt"))
	if err != nil || createdAt.Location() != time.UTC || !createdAt.Equal(createdAt.Truncate(time.Millisecond)) {
		t.Errorf("createdAt %q: want UTC RFC 3339 at ms precision (%v)", str(created, "createdAt"), err)
	}

	d = mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got, want := str(d, "property", "id"), id; got != want {
		t.Fatalf("property id = %q, want %q", got, want)
	}
	if got, want := num(d, "property", "price"), 250000.5; got != want {
		t.Errorf("price = %v, want %v", got, want)
	}

	d = mustData(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 240000, "city": "Shelbyville"}})
	updated := get(d, "updateProperty", "property")
	if got, want := num(updated, "version"), 2.0; got != want {
		t.Errorf("version after update = %v, want %v", got, want)
	}
	if got, want := str(updated, "city"), "Shelbyville"; got != want {
		t.Errorf("city = %q, want %q", got, want)
	}
	if got, want := str(updated, "title"), "Sunny loft"; got != want {
		t.Errorf("untouched title = %q, want %q", got, want)
	}

	d = mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got, want := num(d, "property", "price"), 240000.0; got != want {
		t.Errorf("price after update = %v, want %v", got, want)
	}

	d = mustData(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2}})
	if got, want := str(d, "deleteProperty", "deletedId"), id; got != want {
		t.Errorf("deletedId = %q, want %q", got, want)
	}

	d = mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got := get(d, "property"); got != nil {
		t.Errorf("property after delete = %v, want null", got)
	}
}

func TestListWalksEveryPage(t *testing.T) {
	h := newAPI(t, nil)
	var ids []string
	for i := range 45 {
		ids = append(ids, mustCreate(t, h, createInput("Home "+string(rune('A'+i%26)), float64(100000+i))))
	}
	// Newest first: createdAt descending, ties broken by id descending.
	seen := map[string]int{}
	type key struct {
		at time.Time
		id string
	}
	var order []key
	var after any
	pages := 0
	for {
		pages++
		d := mustData(t, h, listQuery, map[string]any{"first": 20, "after": after})
		conn := get(d, "properties")
		edges := get(conn, "edges").([]any)
		nodes := get(conn, "nodes").([]any)
		if len(edges) != len(nodes) {
			t.Fatalf("page %d: %d edges, %d nodes", pages, len(edges), len(nodes))
		}
		for i, e := range edges {
			id := str(e, "node", "id")
			seen[id]++
			at, err := time.Parse(time.RFC3339Nano, str(e, "node", "createdAt"))
			if err != nil {
				t.Fatalf("createdAt: %v", err)
			}
			order = append(order, key{at, id})
			if str(nodes[i], "id") != id {
				t.Errorf("page %d: nodes and edges disagree at %d", pages, i)
			}
		}
		hasNext := get(conn, "pageInfo", "hasNextPage").(bool)
		if got, want := get(conn, "pageInfo", "hasPreviousPage").(bool), pages > 1; got != want {
			t.Errorf("page %d: hasPreviousPage = %v, want %v", pages, got, want)
		}
		if !hasNext {
			if got, want := len(edges), 5; got != want {
				t.Errorf("last page has %d items, want %d", got, want)
			}
			break
		}
		if got, want := len(edges), 20; got != want {
			t.Fatalf("page %d has %d items, want %d", pages, got, want)
		}
		after = get(conn, "pageInfo", "endCursor")
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if got, want := pages, 3; got != want {
		t.Errorf("pages = %d, want %d", got, want)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("property %s seen %d times, want 1", id, seen[id])
		}
	}
	for i := 1; i < len(order); i++ {
		prev, cur := order[i-1], order[i]
		if prev.at.Before(cur.at) || prev.at.Equal(cur.at) && prev.id < cur.id {
			t.Errorf("not newest first at %d: %v before %v", i, prev, cur)
		}
	}
}

func TestConcurrentUpdatesOneWins(t *testing.T) {
	h := newAPI(t, nil)
	id := mustCreate(t, h, createInput("Contested", 1000))
	const writers = 2
	results := make([]*response, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = gql(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 1000 + i + 1}})
		}()
	}
	wg.Wait()
	wins, conflicts := 0, 0
	for _, r := range results {
		switch r.code() {
		case "":
			wins++
		case "CONFLICT":
			conflicts++
			ext := r.Errors[0].Extensions
			if got, want := ext["currentVersion"], 2.0; got != want {
				t.Errorf("currentVersion = %v, want %v", got, want)
			}
			if got, want := str(ext, "current", "id"), id; got != want {
				t.Errorf("current.id = %q, want %q", got, want)
			}
		default:
			t.Errorf("unexpected error %+v", r.Errors)
		}
	}
	if wins != 1 || conflicts != writers-1 {
		t.Fatalf("wins = %d, conflicts = %d; want 1 and %d", wins, conflicts, writers-1)
	}
	d := mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got, want := num(d, "property", "version"), 2.0; got != want {
		t.Errorf("final version = %v, want %v", got, want)
	}
}

func TestValidation(t *testing.T) {
	h := newAPI(t, nil)
	id := mustCreate(t, h, createInput("Valid", 1))
	with := func(k string, v any) map[string]any {
		in := createInput("Valid", 1)
		in[k] = v
		return map[string]any{"input": in}
	}
	upd := func(fields map[string]any) map[string]any {
		in := map[string]any{"id": id, "expectedVersion": 1}
		for k, v := range fields {
			in[k] = v
		}
		return map[string]any{"input": in}
	}
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		field string
	}{
		{"empty title", createMutation, with("title", "   "), "title"},
		{"long title", createMutation, with("title", strings.Repeat("é", 201)), "title"},
		{"empty description", createMutation, with("description", ""), "description"},
		{"long description", createMutation, with("description", strings.Repeat("x", 2001)), "description"},
		{"empty address", createMutation, with("address", " "), "address"},
		{"empty city", createMutation, with("city", ""), "city"},
		{"empty state", createMutation, with("state", ""), "state"},
		{"empty zip", createMutation, with("zip", "\t"), "zip"},
		{"negative price", createMutation, with("price", -1), "price"},
		{"three decimals", createMutation, with("price", 10.005), "price"},
		{"huge price", createMutation, with("price", 1e12), "price"},
		{"empty clientMutationId", createMutation, with("clientMutationId", ""), "clientMutationId"},
		{"long clientMutationId", createMutation, with("clientMutationId", strings.Repeat("k", 65)), "clientMutationId"},
		{"update nothing", updateMutation, upd(nil), "input"},
		{"update expectedVersion 0", updateMutation, upd(map[string]any{"expectedVersion": 0, "title": "x"}), "expectedVersion"},
		{"update empty title", updateMutation, upd(map[string]any{"title": " "}), "title"},
		{"update bad price", updateMutation, upd(map[string]any{"price": 1.234}), "price"},
		{"delete expectedVersion 0", deleteMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 0}}, "expectedVersion"},
		{"first 0", listQuery, map[string]any{"first": 0}, "first"},
		{"first 101", listQuery, map[string]any{"first": 101}, "first"},
		{"negative minPrice", listQuery, map[string]any{"filter": map[string]any{"minPrice": -5}}, "minPrice"},
		{"maxPrice decimals", listQuery, map[string]any{"filter": map[string]any{"maxPrice": 1.001}}, "maxPrice"},
		{"min above max", listQuery, map[string]any{"filter": map[string]any{"minPrice": 10, "maxPrice": 5}}, "minPrice"},
		{"empty city filter", listQuery, map[string]any{"filter": map[string]any{"city": " "}}, "city"},
		{"garbage cursor", listQuery, map[string]any{"after": "not-a-cursor"}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectInvalid(t, gql(t, h, tt.query, tt.vars), tt.field)
		})
	}
	d := mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got, want := num(d, "property", "version"), 1.0; got != want {
		t.Errorf("version after rejected writes = %v, want %v", got, want)
	}
}

func TestClientMistakesAreCoded(t *testing.T) {
	h := newAPI(t, nil)
	mustCreate(t, h, createInput("One", 1))
	mustCreate(t, h, createInput("Two", 2))
	d := mustData(t, h, listQuery, map[string]any{"first": 1})
	cursor := str(d, "properties", "pageInfo", "endCursor")
	unknown := "3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"

	post := func(contentType, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return r
	}
	tests := []struct {
		name   string
		req    *http.Request
		code   string
		status int
	}{
		{"cursor from another ordering", nil, "BAD_USER_INPUT", 200},
		{"cursor from another filter", nil, "BAD_USER_INPUT", 200},
		{"malformed JSON", post("application/json", `{"query": "{ properties { nodes { id } } }"`), "BAD_REQUEST", 400},
		{"empty body", post("application/json", ``), "BAD_REQUEST", 400},
		{"JSON array", post("application/json", `[{"query":"{__typename}"}]`), "BAD_REQUEST", 400},
		{"no query", post("application/json", `{}`), "BAD_REQUEST", 400},
		{"wrong content type", post("text/plain", `{"query":"{__typename}"}`), "BAD_REQUEST", 415},
		{"body too large", post("application/json", `{"query":"`+strings.Repeat(" ", 70<<10)+`{__typename}"}`), "BAD_REQUEST", 413},
		{"does not parse", post("application/json", `{"query":"{ properties { "}`), "GRAPHQL_PARSE_FAILED", 422},
		{"unknown field", post("application/json", `{"query":"{ nope }"}`), "GRAPHQL_VALIDATION_FAILED", 422},
		{"wrong variable type", post("application/json", `{"query":"query($f: Int){ properties(first: $f) { nodes { id } } }","variables":{"f":"ten"}}`), "GRAPHQL_VALIDATION_FAILED", 422},
		{"mutation over GET", httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { deleteProperty(input: {id: "`+unknown+`"}) { deletedId } }`), nil), "BAD_REQUEST", 405},
		{"PUT", httptest.NewRequest(http.MethodPut, "/graphql", nil), "BAD_REQUEST", 405},
		{"unknown route", httptest.NewRequest(http.MethodGet, "/nope", nil), "NOT_FOUND", 404},
		{"update unknown id", nil, "NOT_FOUND", 200},
		{"delete unknown id", nil, "NOT_FOUND", 200},
		{"update foreign id form", nil, "NOT_FOUND", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *response
			switch tt.name {
			case "cursor from another ordering":
				r = gql(t, h, listQuery, map[string]any{"first": 1, "after": cursor, "orderBy": "PRICE_ASC"})
			case "cursor from another filter":
				r = gql(t, h, listQuery, map[string]any{"first": 1, "after": cursor, "filter": map[string]any{"state": "IL"}})
			case "update unknown id":
				r = gql(t, h, updateMutation, map[string]any{"input": map[string]any{"id": unknown, "expectedVersion": 1, "title": "x"}})
			case "delete unknown id":
				r = gql(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": unknown}})
			case "update foreign id form":
				r = gql(t, h, updateMutation, map[string]any{"input": map[string]any{"id": "PROPERTY#1", "expectedVersion": 1, "title": "x"}})
			default:
				r = do(t, h, tt.req)
			}
			if got := r.code(); got != tt.code {
				t.Errorf("code = %q, want %q (%s)", got, tt.code, r.Raw)
			}
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d", r.Status, tt.status)
			}
			if strings.Contains(r.Raw, "Sunny") {
				t.Errorf("response echoes the request: %s", r.Raw)
			}
		})
	}
	t.Run("unknown and foreign ids read as null", func(t *testing.T) {
		for _, id := range []string{unknown, "PROPERTY#1", "", strings.ToUpper(unknown)} {
			d := mustData(t, h, propertyQuery, map[string]any{"id": id})
			if got := get(d, "property"); got != nil {
				t.Errorf("property(%q) = %v, want null", id, got)
			}
		}
	})
	t.Run("GET query works", func(t *testing.T) {
		r := do(t, h, httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ properties(first: 5) { nodes { id } } }`), nil))
		if r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("status %d, %s", r.Status, r.Raw)
		}
		if got, want := len(get(r.Data, "properties", "nodes").([]any)), 2; got != want {
			t.Errorf("nodes = %d, want %d", got, want)
		}
	})
}

// TestDynamoDBCallsPerOperation pins the round trips each GraphQL operation
// makes; later features state their own numbers here.
func TestDynamoDBCallsPerOperation(t *testing.T) {
	var calls testenv.Calls
	h := newAPI(t, nil, calls.Option)
	id := mustCreate(t, h, createInput("Counted", 10))
	gone := mustCreate(t, h, createInput("Gone", 10))
	pictured := createInput("Pictured", 10)
	pictured["images"] = []any{pngRequest(10)}
	d := mustData(t, h, createMutation, map[string]any{"input": pictured})
	picturedID, imageKey := str(d, "createProperty", "property", "id"), str(get(d, "createProperty", "uploads").([]any)[0], "key")
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  map[string]int
	}{
		{"property", propertyQuery, map[string]any{"id": id}, map[string]int{"GetItem": 1}},
		{"property with a foreign id", propertyQuery, map[string]any{"id": "nope"}, map[string]int{}},
		{"properties", listQuery, map[string]any{"first": 20}, map[string]int{"Query": 1}},
		{"properties by city and price", listQuery, map[string]any{"first": 20, "orderBy": "PRICE_ASC", "filter": map[string]any{"city": "springfield", "minPrice": 1}}, map[string]int{"Query": 1}},
		{"createProperty", createMutation, map[string]any{"input": createInput("New", 5)}, map[string]int{"PutItem": 1}},
		{"updateProperty", updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Recounted"}}, map[string]int{"UpdateItem": 1}},
		{"updateProperty conflict", updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Stale"}}, map[string]int{"UpdateItem": 1}},
		// With images, a delete marks the item, removes its objects (S3),
		// then deletes the item: two DynamoDB calls.
		{"deleteProperty", deleteMutation, map[string]any{"input": map[string]any{"id": gone}}, map[string]int{"UpdateItem": 1, "DeleteItem": 1}},
		{"deleteProperty unknown", deleteMutation, map[string]any{"input": map[string]any{"id": gone}}, map[string]int{"UpdateItem": 1}},
		{"addPropertyImages", addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": []any{pngRequest(10)}}}, map[string]int{"UpdateItem": 1}},
		// The one image operation with a read: the old Lambdas' list under
		// images loses an element only by its index, which only a read
		// tells (docs/DESIGN.md, "Remove image").
		{"removePropertyImage", removeImageMutation, map[string]any{"input": map[string]any{"id": picturedID, "key": imageKey}}, map[string]int{"GetItem": 1, "UpdateItem": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Reset()
			gql(t, h, tt.query, tt.vars)
			got := calls.Counts()
			if len(got) != len(tt.want) {
				t.Fatalf("calls = %v, want %v", got, tt.want)
			}
			for op, n := range tt.want {
				if got[op] != n {
					t.Errorf("calls = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
