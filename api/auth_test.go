package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/devissuer"
)

// unsignedToken is a well-formed token with alg "none".
func unsignedToken(tb testing.TB, iss string) string {
	tb.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	return enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." + enc(map[string]any{
		"iss": iss, "sub": "mallory", "token_use": "id", "aud": devissuer.ClientID, "iat": now, "exp": now + 3600,
	}) + "."
}

func TestMutationsNeedAValidToken(t *testing.T) {
	h := newAPI(t, nil)
	iss := testIssuer(t)
	id := mustCreate(t, h, createInput("Guarded", 100))
	forged, err := iss.MintWithForeignKey(devissuer.Token{Subject: defaultUser})
	if err != nil {
		t.Fatal(err)
	}
	tokens := []struct {
		name, header string
	}{
		{"no token", ""},
		{"expired", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, Expired: true})},
		{"signed by another key", "Bearer " + forged},
		{"wrong issuer", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, Issuer: "https://issuer.invalid/pool"})},
		{"wrong client id", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, ClientID: "someone-else"})},
		{"wrong client id in access token", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, Use: "access", ClientID: "someone-else"})},
		{"wrong token_use", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, Use: "refresh"})},
		{"not yet valid", "Bearer " + mustToken(t, devissuer.Token{Subject: defaultUser, NotBefore: time.Now().Add(time.Hour)})},
		{"alg none", "Bearer " + unsignedToken(t, iss.URL)},
		{"garbage", "Bearer not.a.token"},
		{"basic auth", "Basic dXNlcjpwYXNz"},
	}
	mutations := []struct {
		name, query string
		vars        map[string]any
	}{
		{"create", createMutation, map[string]any{"input": createInput("Sneaky", 1)}},
		{"update", updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Hijacked"}}},
		{"delete", deleteMutation, map[string]any{"input": map[string]any{"id": id}}},
	}
	for _, tok := range tokens {
		for _, m := range mutations {
			t.Run(tok.name+"/"+m.name, func(t *testing.T) {
				r := gqlAs(t, h, tok.header, m.query, m.vars)
				if got, want := r.code(), "UNAUTHENTICATED"; got != want {
					t.Fatalf("code = %q, want %q (%s)", got, want, r.Raw)
				}
				if strings.Contains(r.Raw, "eyJ") {
					t.Errorf("response echoes the token: %s", r.Raw)
				}
			})
		}
	}
	t.Run("nothing was written", func(t *testing.T) {
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		if got, want := str(d, "property", "title"), "Guarded"; got != want {
			t.Errorf("title = %q, want %q", got, want)
		}
		d = mustData(t, h, listQuery, map[string]any{"first": 100})
		if got, want := len(get(d, "properties", "nodes").([]any)), 1; got != want {
			t.Errorf("properties = %d, want %d", got, want)
		}
	})
	t.Run("reads stay public", func(t *testing.T) {
		r := gqlAs(t, h, "", propertyQuery, map[string]any{"id": id})
		if r.code() != "" || str(r.Data, "property", "id") != id {
			t.Errorf("anonymous read: %s", r.Raw)
		}
	})
	t.Run("an invalid token fails reads too", func(t *testing.T) {
		r := gqlAs(t, h, tokens[1].header, propertyQuery, map[string]any{"id": id})
		if got, want := r.code(), "UNAUTHENTICATED"; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if got, want := r.Status, http.StatusUnauthorized; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
	})
	t.Run("access tokens work", func(t *testing.T) {
		tok := "Bearer " + mustToken(t, devissuer.Token{Subject: "user-2", Use: "access"})
		r := gqlAs(t, h, tok, createMutation, map[string]any{"input": createInput("By access token", 3)})
		if r.code() != "" {
			t.Fatalf("create with access token: %s", r.Raw)
		}
		if got, want := str(r.Data, "createProperty", "property", "ownerId"), "user-2"; got != want {
			t.Errorf("ownerId = %q, want %q", got, want)
		}
	})
}

func TestOwnerRules(t *testing.T) {
	h := newAPI(t, nil)
	owner := "Bearer " + mustToken(t, devissuer.Token{Subject: "owner"})
	other := "Bearer " + mustToken(t, devissuer.Token{Subject: "other"})
	admin := "Bearer " + mustToken(t, devissuer.Token{Subject: "boss", Groups: []string{"admin"}})

	r := gqlAs(t, h, owner, createMutation, map[string]any{"input": createInput("Mine", 10)})
	id := str(r.Data, "createProperty", "property", "id")
	if got, want := str(r.Data, "createProperty", "property", "ownerId"), "owner"; got != want {
		t.Fatalf("ownerId = %q, want %q (%s)", got, want, r.Raw)
	}

	steps := []struct {
		name   string
		auth   string
		query  string
		vars   map[string]any
		code   string
		stored float64 // version afterwards
	}{
		{"other user may not update", other, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Theirs"}}, "FORBIDDEN", 1},
		{"other user with a stale version is still FORBIDDEN", other, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 7, "title": "Theirs"}}, "FORBIDDEN", 1},
		{"other user may not delete", other, deleteMutation, map[string]any{"input": map[string]any{"id": id}}, "FORBIDDEN", 1},
		{"owner may update", owner, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "title": "Still mine"}}, "", 2},
		{"admin may update", admin, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2, "price": 11}}, "", 3},
		{"owner gets CONFLICT on a stale version", owner, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2, "price": 12}}, "CONFLICT", 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := gqlAs(t, h, s.auth, s.query, s.vars)
			if got := r.code(); got != s.code {
				t.Fatalf("code = %q, want %q (%s)", got, s.code, r.Raw)
			}
			if s.code == "FORBIDDEN" && strings.Contains(r.Raw, "currentVersion") {
				t.Errorf("FORBIDDEN leaks the stored property: %s", r.Raw)
			}
			d := mustData(t, h, propertyQuery, map[string]any{"id": id})
			if got := num(d, "property", "version"); got != s.stored {
				t.Errorf("stored version = %v, want %v", got, s.stored)
			}
		})
	}
	t.Run("admin may delete", func(t *testing.T) {
		r := gqlAs(t, h, admin, deleteMutation, map[string]any{"input": map[string]any{"id": id}})
		if r.code() != "" {
			t.Fatalf("admin delete: %s", r.Raw)
		}
	})
}

func TestIdempotencyIsPerCaller(t *testing.T) {
	h := newAPI(t, nil)
	in := createInput("Once", 5)
	in["clientMutationId"] = "form-42"
	create := func(user string, n int) map[string]int {
		tok := "Bearer " + mustToken(t, devissuer.Token{Subject: user})
		ids := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := gqlAs(t, h, tok, createMutation, map[string]any{"input": in})
				mu.Lock()
				defer mu.Unlock()
				if r.code() != "" {
					t.Errorf("create: %s", r.Raw)
					return
				}
				ids[str(r.Data, "createProperty", "property", "id")]++
				if got, want := str(r.Data, "createProperty", "clientMutationId"), "form-42"; got != want {
					t.Errorf("clientMutationId = %q, want %q", got, want)
				}
			}()
		}
		wg.Wait()
		return ids
	}
	a := create("alice", 20)
	if len(a) != 1 {
		t.Fatalf("20 concurrent creates by one user gave ids %v, want one", a)
	}
	b := create("bob", 1)
	for id := range b {
		if _, same := a[id]; same {
			t.Errorf("two users share property %s", id)
		}
	}
	d := mustData(t, h, listQuery, map[string]any{"first": 100})
	if got, want := len(get(d, "properties", "nodes").([]any)), 2; got != want {
		t.Errorf("properties = %d, want %d", got, want)
	}
	t.Run("same key, other input", func(t *testing.T) {
		other := createInput("Twice", 6)
		other["clientMutationId"] = "form-42"
		r := gqlAs(t, h, "Bearer "+mustToken(t, devissuer.Token{Subject: "alice"}), createMutation, map[string]any{"input": other})
		expectInvalid(t, r, "clientMutationId")
	})
}

func TestMyListings(t *testing.T) {
	h := newAPI(t, nil)
	for i, user := range []string{"agent-a", "agent-b", "agent-a", "agent-a"} {
		r := gqlAs(t, h, "Bearer "+mustToken(t, devissuer.Token{Subject: user}), createMutation, map[string]any{"input": createInput("Listing", float64(10+i))})
		if r.code() != "" {
			t.Fatal(r.Raw)
		}
	}
	for _, order := range []string{"CREATED_AT_DESC", "PRICE_ASC"} {
		d := mustData(t, h, listQuery, map[string]any{"first": 10, "orderBy": order, "filter": map[string]any{"ownerId": "agent-a"}})
		if got, want := len(get(d, "properties", "nodes").([]any)), 3; got != want {
			t.Errorf("%s: agent-a has %d listings, want %d", order, got, want)
		}
	}
}

func TestAbuseLimits(t *testing.T) {
	h := newAPI(t, map[string]string{"MAX_DEPTH": "6", "MAX_ALIASES": "3", "COMPLEXITY_LIMIT": "500", "MAX_BODY_BYTES": "2048"})
	deep := `{ properties { edges { node { images { key } } } } }`
	aliases := `{ a: property(id: "x") { id } b: property(id: "x") { id } c: property(id: "x") { id } d: property(id: "x") { id } }`
	tests := []struct {
		name   string
		query  string
		code   string
		status int
	}{
		{"within limits", deep, "", 200},
		// images cost MAX_IMAGES (20) children each: 5 properties with images, twice.
		{"fragments within limits", `{ properties(first: 5) { edges { node { images { key } } } pageInfo { hasNextPage } } ...F } fragment F on Query { properties(first: 5) { edges { node { images { key } } } } }`, "", 200},
		{"too many aliases", aliases, "COMPLEXITY_LIMIT_EXCEEDED", 422},
		{"too complex", `{ properties(first: 100) { nodes { id title description price address city state zip } } }`, "COMPLEXITY_LIMIT_EXCEEDED", 422},
		{"out-of-range first is its own error", `{ properties(first: 100000) { nodes { id } } }`, "BAD_USER_INPUT", 200},
		{"body too large", `{ properties { nodes { id } } }` + strings.Repeat(" ", 4096), "BAD_REQUEST", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gql(t, h, tt.query, nil)
			if got := r.code(); got != tt.code {
				t.Errorf("code = %q, want %q (%s)", got, tt.code, r.Raw)
			}
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d", r.Status, tt.status)
			}
		})
	}
	t.Run("depth limit", func(t *testing.T) {
		h := newAPI(t, map[string]string{"MAX_DEPTH": "4"})
		r := gql(t, h, deep, nil)
		if got, want := r.code(), "COMPLEXITY_LIMIT_EXCEEDED"; got != want {
			t.Errorf("code = %q, want %q (%s)", got, want, r.Raw)
		}
	})
	t.Run("introspection allowed with the Playground", func(t *testing.T) {
		h := newAPI(t, map[string]string{"MAX_DEPTH": "4", "PLAYGROUND": "true"})
		r := gql(t, h, introspectionQuery, nil)
		if r.code() != "" || get(r.Data, "__schema") == nil {
			t.Errorf("introspection: %.300s", r.Raw)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "graphiql") {
			t.Errorf("Playground: status %d", rec.Code)
		}
	})
	t.Run("introspection and Playground off together", func(t *testing.T) {
		h := newAPI(t, map[string]string{"PLAYGROUND": "false"})
		r := gql(t, h, introspectionQuery, nil)
		if r.code() == "" || r.Status >= 500 {
			t.Errorf("introspection while off: %.300s", r.Raw)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("Playground while off: status %d", rec.Code)
		}
	})
}

// introspectionQuery is the deep part of GraphiQL's own introspection query.
const introspectionQuery = `query IntrospectionQuery { __schema { queryType { name } types { name fields(includeDeprecated: true) { name args { name type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestCachingAndPersistedQueries(t *testing.T) {
	h := newAPI(t, nil)
	get := func(params url.Values, auth string) *response {
		req := httptest.NewRequest(http.MethodGet, "/graphql?"+params.Encode(), nil)
		if auth == "" {
			req.Header.Set(anonymousHeader, "1")
		} else {
			req.Header.Set("Authorization", auth)
		}
		return do(t, h, req)
	}
	q := `{ properties(first: 1) { nodes { id } } }`
	t.Run("anonymous GET query is cacheable", func(t *testing.T) {
		r := get(url.Values{"query": {q}}, "")
		if r.code() != "" {
			t.Fatal(r.Raw)
		}
		if got := r.Header.Get("Cache-Control"); !strings.HasPrefix(got, "public, max-age=") {
			t.Errorf("Cache-Control = %q", got)
		}
		if got, want := r.Header.Get("Vary"), "Origin, Authorization"; got != want {
			t.Errorf("Vary = %q, want %q", got, want)
		}
	})
	t.Run("authenticated GET is not cacheable", func(t *testing.T) {
		r := get(url.Values{"query": {q}}, "Bearer "+mustToken(t, devissuer.Token{Subject: "u"}))
		if got, want := r.Header.Get("Cache-Control"), "no-store"; got != want {
			t.Errorf("Cache-Control = %q, want %q", got, want)
		}
	})
	hash := "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38" // sha256 of "{__typename}"
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	t.Run("unknown persisted query is never cacheable", func(t *testing.T) {
		r := get(url.Values{"extensions": {ext}}, "")
		if got, want := r.code(), "PERSISTED_QUERY_NOT_FOUND"; got != want {
			t.Fatalf("code = %q, want %q (%s)", got, want, r.Raw)
		}
		if got, want := r.Header.Get("Cache-Control"), "no-store"; got != want {
			t.Errorf("Cache-Control = %q, want %q", got, want)
		}
	})
	t.Run("registered persisted query works by hash", func(t *testing.T) {
		if r := get(url.Values{"query": {"{__typename}"}, "extensions": {ext}}, ""); r.code() != "" {
			t.Fatalf("register: %s", r.Raw)
		}
		r := get(url.Values{"extensions": {ext}}, "")
		if r.code() != "" || r.Data["__typename"] != "Query" {
			t.Fatalf("by hash: %s", r.Raw)
		}
	})
}

func TestCORS(t *testing.T) {
	h := newAPI(t, map[string]string{"ALLOWED_ORIGIN": "https://app.example.com, http://localhost:3000"})
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	t.Run("allowed origin", func(t *testing.T) {
		rec := preflight("https://app.example.com")
		if rec.Code >= 300 {
			t.Errorf("status = %d", rec.Code)
		}
		if got, want := rec.Header().Get("Access-Control-Allow-Origin"), "https://app.example.com"; got != want {
			t.Errorf("allow-origin = %q, want %q", got, want)
		}
		allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("allow-headers %q lacks %s", allowed, h)
			}
		}
		if got := rec.Header().Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("allow-credentials = %q, want none", got)
		}
	})
	t.Run("other origin", func(t *testing.T) {
		rec := preflight("https://evil.example.net")
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("allow-origin = %q, want none", got)
		}
	})
}
