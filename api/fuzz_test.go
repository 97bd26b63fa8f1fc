package api_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets send whatever the fuzzer makes through the whole handler
// (guard, auth, gqlgen, resolvers, the store and DynamoDB Local), built once
// per target on its own table. `go test` runs their seeds (below and in
// testdata/fuzz); `make fuzz` runs each for FUZZTIME.
//
// Invariants, for every input: no panic; no 5xx; the answer is JSON; every
// error carries extensions.code (those three are checked by do); and no
// input is answered with INTERNAL_SERVER_ERROR, because whatever a client
// sends is the client's mistake or a valid request, never our failure.

// checkFuzzed adds the fuzz targets' own invariants to do's.
func checkFuzzed(t *testing.T, r *response) {
	t.Helper()
	for _, e := range r.Errors {
		if e.Extensions["code"] == "INTERNAL_SERVER_ERROR" {
			t.Errorf("client input caused an internal error (status %d): %s", r.Status, r.Raw)
		}
		if e.Extensions["code"] == "BAD_USER_INPUT" && e.Message == "" {
			t.Errorf("BAD_USER_INPUT without a message: %s", r.Raw)
		}
	}
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
}

// fuzzPost sends body as a GraphQL POST; fuzzGet sends query as a GET.
func fuzzPost(t *testing.T, h http.Handler, body []byte) *response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, h, req)
}

func fuzzGet(t *testing.T, h http.Handler, query string) *response {
	t.Helper()
	return do(t, h, httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(query), nil))
}

// fuzzSeedProperty creates a property for the seeds to point at.
func fuzzSeedProperty(f *testing.F, h http.Handler) string {
	f.Helper()
	return mustCreate(f, h, createInput("Fuzz seed", 123456.78))
}

// FuzzGraphQLBody sends raw request bodies (or, with get, raw queries over
// GET).
func FuzzGraphQLBody(f *testing.F) {
	h := newAPI(f, nil)
	id := fuzzSeedProperty(f, h)
	for _, s := range []string{
		`{"query":"{ properties(first: 2) { edges { cursor node { id title price } } pageInfo { hasNextPage endCursor } } }"}`,
		`{"query":"query($id: ID!) { property(id: $id) { id title version } }","variables":{"id":"` + id + `"}}`,
		`{"query":"mutation($input: CreatePropertyInput!) { createProperty(input: $input) { property { id } } }","variables":{"input":{"title":"T","description":"D","price":1.5,"address":"A","city":"C","state":"S","zip":"Z"}}}`,
		`{"query":"mutation { updateProperty(input: {id: \"` + id + `\", expectedVersion: 99, title: \"x\"}) { property { id } } }"}`,
		`{"query":"mutation { deleteProperty(input: {id: \"` + id + `\", expectedVersion: 99}) { deletedId } }"}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"C"}`,
		`{"query":"{ a: properties(first: 1) { nodes { id } } b: properties(first: 1, orderBy: PRICE_DESC) { nodes { id } } }"}`,
		`{"query":"fragment F on Property { id } { properties { nodes { ...F ...F } } }"}`,
		`{"query":"{ properties { nodes { id @skip(if: true) } } }"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query":"subscription { properties { nodes { id } } }"}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000"}}}`,
		`{"query":"{ __typename }","variables":[]}`,
		`{"query":"{ __typename }","variables":"x"}`,
		`{"query":null}`,
		`{"query":"{ properties(first: \"\u0000\") { nodes { id } } }"}`,
		`{"query":"{ properties(first: 1e400) { nodes { id } } }"}`,
		`[{"query":"{ __typename }"}]`,
		`{"query":"{`,
		`null`,
		``,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{ properties(first: 3, orderBy: PRICE_ASC) { nodes { id } } }`), true)
	f.Add([]byte(`mutation { deleteProperty(input: {id: "`+id+`"}) { deletedId } }`), true)
	f.Fuzz(func(t *testing.T, body []byte, get bool) {
		var r *response
		if get {
			r = fuzzGet(t, h, string(body))
		} else {
			r = fuzzPost(t, h, body)
		}
		checkFuzzed(t, r)
	})
}

// The operations FuzzVariables drives, with the variables it builds.
const (
	fuzzCreate = iota
	fuzzUpdate
	fuzzList
	fuzzRead
	fuzzDelete
	fuzzRaw
	fuzzOps
)

var fuzzQueries = []string{createMutation, updateMutation, listQuery, propertyQuery, deleteMutation}

// FuzzVariables sends the main operations with fuzzed variables: text for
// every string field, price for every number, n for first and the versions,
// and raw as the whole variables object.
func FuzzVariables(f *testing.F) {
	h := newAPI(f, nil)
	id := fuzzSeedProperty(f, h)
	f.Add(uint8(fuzzCreate), "Sunny loft", 250000.5, int64(0), "")
	f.Add(uint8(fuzzCreate), "  padded  ", 0.0, int64(1), "key-1")
	f.Add(uint8(fuzzCreate), "\u0000", 1e12, int64(0), "")
	f.Add(uint8(fuzzCreate), strings.Repeat("é", 201), 10.005, int64(0), strings.Repeat("k", 65))
	f.Add(uint8(fuzzUpdate), "New title", 99.99, int64(1), "")
	f.Add(uint8(fuzzUpdate), "", -1.0, int64(0), "")
	f.Add(uint8(fuzzList), "springfield", 100.0, int64(20), "IL")
	f.Add(uint8(fuzzList), " ", 5e9, int64(101), "")
	f.Add(uint8(fuzzList), "CHICAGO", 0.01, int64(1), "ownerId")
	f.Add(uint8(fuzzRead), id, 0.0, int64(0), "")
	f.Add(uint8(fuzzDelete), "3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a", 0.0, int64(2147483648), "")
	f.Add(uint8(fuzzRaw+fuzzOps*fuzzList), "", 0.0, int64(0), `{"first":"ten"}`)
	f.Add(uint8(fuzzRaw+fuzzOps*fuzzCreate), "", 0.0, int64(0), `{"input":{"title":1}}`)
	f.Add(uint8(fuzzRaw+fuzzOps*fuzzUpdate), "", 0.0, int64(0), `{"input":{"id":"`+id+`","expectedVersion":1.5,"price":"1"}}`)
	f.Add(uint8(fuzzRaw+fuzzOps*fuzzRead), "", 0.0, int64(0), `{"id":null}`)
	f.Fuzz(func(t *testing.T, op uint8, text string, price float64, n int64, extra string) {
		if math.IsNaN(price) || math.IsInf(price, 0) {
			// JSON has no such numbers; the raw variant sends what it likes.
			return
		}
		var vars map[string]any
		switch op % fuzzOps {
		case fuzzCreate:
			in := map[string]any{
				"title": text, "description": text + extra, "price": price,
				"address": text, "city": text, "state": extra + "x", "zip": "z" + extra,
			}
			if n%2 == 1 {
				in["clientMutationId"] = extra
			}
			vars = map[string]any{"input": in}
		case fuzzUpdate:
			vars = map[string]any{"input": map[string]any{"id": id, "expectedVersion": n, "title": text, "price": price, "city": extra}}
		case fuzzList:
			filter := map[string]any{"city": text, "minPrice": price}
			if extra != "" {
				filter["state"] = extra
			}
			vars = map[string]any{"first": n, "filter": filter, "orderBy": []string{"CREATED_AT_DESC", "CREATED_AT_ASC", "PRICE_ASC", "PRICE_DESC", text}[int(uint64(n)%5)]}
		case fuzzRead:
			vars = map[string]any{"id": text}
		case fuzzDelete:
			vars = map[string]any{"input": map[string]any{"id": text, "expectedVersion": n}}
		case fuzzRaw:
			q, _ := json.Marshal(fuzzQueries[int(op/fuzzOps)%len(fuzzQueries)])
			checkFuzzed(t, fuzzPost(t, h, []byte(`{"query":`+string(q)+`,"variables":`+extra+`}`)))
			return
		}
		body, err := json.Marshal(map[string]any{"query": fuzzQueries[op%fuzzOps], "variables": vars})
		if err != nil {
			t.Fatal(err)
		}
		r := fuzzPost(t, h, body)
		checkFuzzed(t, r)
		if op%fuzzOps == fuzzCreate && r.code() == "" {
			// What was stored is what was sent, trimmed.
			var sent struct {
				Variables struct {
					Input map[string]any `json:"input"`
				} `json:"variables"`
			}
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
			p := get(r.Data, "createProperty", "property")
			for _, k := range []string{"title", "description", "address", "city", "state", "zip"} {
				if got, want := str(p, k), strings.TrimSpace(sent.Variables.Input[k].(string)); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			// A price within float noise of two decimals is stored in
			// whole cents.
			if got, want := num(p, "price"), math.Round(price*100)/100; got != want {
				t.Errorf("price = %v, want %v (sent %v)", got, want, price)
			}
		}
	})
}

// FuzzCursor sends fuzzed after values, starting from real cursors of each
// order (with and without a filter). A cursor is sealed, so anything the
// fuzzer makes of one must be refused as BAD_USER_INPUT on after.
func FuzzCursor(f *testing.F) {
	h := newAPI(f, nil)
	for i := range 4 {
		mustCreate(f, h, createInput("Fuzz cursor", float64(100+i)))
	}
	orders := []string{"CREATED_AT_DESC", "CREATED_AT_ASC", "PRICE_ASC", "PRICE_DESC"}
	listVars := func(after string, order uint8, filtered bool) map[string]any {
		v := map[string]any{"first": 2, "after": after, "orderBy": orders[int(order)%len(orders)]}
		if filtered {
			v["filter"] = map[string]any{"city": "springfield", "minPrice": 1}
		}
		return v
	}
	for o := range uint8(len(orders)) {
		for _, filtered := range []bool{false, true} {
			d := mustData(f, h, listQuery, listVars("", o, filtered))
			c := str(d, "properties", "pageInfo", "endCursor")
			f.Add(c, o, filtered)
			f.Add(c, o+1, filtered)
			f.Add(c[:len(c)/2], o, filtered)
			f.Add(strings.ToUpper(c), o, !filtered)
		}
	}
	f.Add("", uint8(0), false)
	f.Add("not-a-cursor", uint8(0), false)
	f.Add("eyJ9", uint8(2), true)
	f.Fuzz(func(t *testing.T, after string, order uint8, filtered bool) {
		vars := listVars(after, order, filtered)
		if after == "" {
			vars["after"] = nil
		}
		r := gql(t, h, listQuery, vars)
		checkFuzzed(t, r)
		switch r.code() {
		case "":
			if n := len(get(r.Data, "properties", "edges").([]any)); n > 2 {
				t.Errorf("%d edges, want at most 2", n)
			}
		case "BAD_USER_INPUT":
			if got := r.Errors[0].Extensions["field"]; got != "after" {
				t.Errorf("field = %v, want after", got)
			}
		default:
			t.Errorf("unexpected answer: %s", r.Raw)
		}
	})
}

// FuzzID sends fuzzed ids to every operation that takes one. Reads answer
// null or the property with exactly that id; writes at a version no
// property has answer NOT_FOUND, CONFLICT or BAD_USER_INPUT and change
// nothing.
func FuzzID(f *testing.F) {
	h := newAPI(f, nil)
	id := fuzzSeedProperty(f, h)
	for _, s := range []string{
		id, strings.ToUpper(id), " " + id, id + "\x00", "PROPERTY#" + id, "", "-", "00000000-0000-0000-0000-000000000000",
		"3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a", "{3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a}", "urn:uuid:" + id,
		strings.Repeat("a", 2048), "ünïcödé", "\xff\xfe",
	} {
		f.Add(s)
	}
	const noSuchVersion = 1 << 30
	f.Fuzz(func(t *testing.T, s string) {
		r := gql(t, h, propertyQuery, map[string]any{"id": s})
		checkFuzzed(t, r)
		if r.code() == "" {
			if p := get(r.Data, "property"); p != nil && (!utf8.ValidString(s) || str(p, "id") != s) {
				t.Errorf("property(%q) returned %q", s, str(p, "id"))
			}
		}
		for _, q := range []struct {
			query string
			input map[string]any
		}{
			{updateMutation, map[string]any{"id": s, "expectedVersion": noSuchVersion, "title": "fuzzed"}},
			{deleteMutation, map[string]any{"id": s, "expectedVersion": noSuchVersion}},
		} {
			r := gql(t, h, q.query, map[string]any{"input": q.input})
			checkFuzzed(t, r)
			switch c := r.code(); c {
			case "NOT_FOUND", "CONFLICT", "BAD_USER_INPUT":
			default:
				t.Errorf("write at version %d answered %q: %s", noSuchVersion, c, r.Raw)
			}
		}
	})
}
