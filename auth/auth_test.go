package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propertyhq/property/auth"
	"github.com/propertyhq/property/internal/devissuer"
)

func TestVerify(t *testing.T) {
	var fetches atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	iss, err := devissuer.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc(devissuer.JWKSPath, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		iss.JWKS().ServeHTTP(w, r)
	})
	v, err := auth.New(auth.Options{Issuer: srv.URL, ClientIDs: []string{devissuer.ClientID, "second-client"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetches.Load(); got != 0 {
		t.Fatalf("New fetched the key set %d times; it must wait for the first token", got)
	}
	mint := func(tok devissuer.Token) string {
		s, err := iss.Mint(tok)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	forged, err := iss.MintWithForeignKey(devissuer.Token{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		token   string
		subject string
		groups  []string
	}{
		{"id token", mint(devissuer.Token{Subject: "u1", Groups: []string{"admin"}}), "u1", []string{"admin"}},
		{"access token", mint(devissuer.Token{Subject: "u2", Use: "access"}), "u2", nil},
		{"second client", mint(devissuer.Token{Subject: "u3", ClientID: "second-client"}), "u3", nil},
		{"expired", mint(devissuer.Token{Subject: "u", Expired: true}), "", nil},
		{"expired seconds ago is within the skew", mint(devissuer.Token{Subject: "u4", TTL: -5 * time.Second}), "u4", nil},
		{"forged", forged, "", nil},
		{"other issuer", mint(devissuer.Token{Subject: "u", Issuer: "https://elsewhere.invalid"}), "", nil},
		{"other client", mint(devissuer.Token{Subject: "u", ClientID: "nope"}), "", nil},
		{"other client in access token", mint(devissuer.Token{Subject: "u", Use: "access", ClientID: "nope"}), "", nil},
		{"refresh token_use", mint(devissuer.Token{Subject: "u", Use: "refresh"}), "", nil},
		{"no subject", mint(devissuer.Token{}), "", nil},
		{"not yet valid", mint(devissuer.Token{Subject: "u", NotBefore: time.Now().Add(time.Hour)}), "", nil},
		{"garbage", "abc.def.ghi", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.token)
			if tt.subject == "" {
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrInvalidToken", err)
				}
				if !c.IsAnonymous() {
					t.Errorf("caller = %+v, want anonymous", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if c.Subject != tt.subject || !slices.Equal(c.Groups, tt.groups) {
				t.Errorf("caller = %+v, want %s %v", c, tt.subject, tt.groups)
			}
		})
	}
	// Forged and unknown-key tokens make go-oidc refetch; the cache keeps
	// that to one fetch a minute.
	if got, want := fetches.Load(), int32(1); got != want {
		t.Errorf("key set fetched %d times, want %d", got, want)
	}
}
