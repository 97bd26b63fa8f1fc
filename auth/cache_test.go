package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/propertyhq/property/internal/devissuer"
)

// clock is a settable time for the verifier and its cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newCacheFixture(t *testing.T, size int) (*Verifier, *devissuer.Issuer, *clock) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss, err := devissuer.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(devissuer.JWKSPath, iss.JWKS())
	clk := &clock{t: time.Now()}
	v, err := New(Options{Issuer: srv.URL, ClientIDs: []string{devissuer.ClientID}, Now: clk.now, CacheSize: size})
	if err != nil {
		t.Fatal(err)
	}
	return v, iss, clk
}

func mint(t *testing.T, iss *devissuer.Issuer, tok devissuer.Token) string {
	t.Helper()
	s, err := iss.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// breakSignatureCheck swaps in a verifier that refuses every token (it
// expects another issuer), so only a cache hit can still succeed.
func breakSignatureCheck(v *Verifier) {
	v.verifier = oidc.NewVerifier("https://elsewhere.invalid", &oidc.StaticKeySet{}, &oidc.Config{SkipClientIDCheck: true})
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		size int
		// run verifies tokens and checks what comes back.
		run func(t *testing.T, v *Verifier, iss *devissuer.Issuer, clk *clock)
	}{
		{"a verified token skips the signature check until it expires", 0, func(t *testing.T, v *Verifier, iss *devissuer.Issuer, clk *clock) {
			tok := mint(t, iss, devissuer.Token{Subject: "u1", Groups: []string{"admin"}, TTL: 10 * time.Minute})
			if c, err := v.Verify(ctx, tok); err != nil || c.Subject != "u1" {
				t.Fatalf("first Verify = %+v, %v", c, err)
			}
			breakSignatureCheck(v)
			c, err := v.Verify(ctx, tok)
			if err != nil || c.Subject != "u1" || !slices.Equal(c.Groups, []string{"admin"}) {
				t.Fatalf("cached Verify = %+v, %v; want u1 [admin] from the cache", c, err)
			}
			// Another token is checked (and refused by the broken check).
			if _, err := v.Verify(ctx, mint(t, iss, devissuer.Token{Subject: "u2"})); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("uncached token: err = %v, want ErrInvalidToken", err)
			}
			// Within the skew the token still verifies; after it, not.
			clk.add(10*time.Minute + 20*time.Second)
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatalf("within the skew after exp: %v", err)
			}
			clk.add(15 * time.Second)
			if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("after exp and skew: err = %v, want ErrInvalidToken", err)
			}
			if n := v.cache.len(); n != 0 {
				t.Errorf("cache holds %d entries after its only token expired, want 0", n)
			}
		}},
		{"without a cache every request checks the signature", -1, func(t *testing.T, v *Verifier, iss *devissuer.Issuer, _ *clock) {
			tok := mint(t, iss, devissuer.Token{Subject: "u1"})
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
			breakSignatureCheck(v)
			if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		}},
		{"failures are not remembered", 0, func(t *testing.T, v *Verifier, iss *devissuer.Issuer, _ *clock) {
			forged, err := iss.MintWithForeignKey(devissuer.Token{Subject: "u"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{forged, mint(t, iss, devissuer.Token{Subject: "u", ClientID: "nope"}), "abc.def.ghi"} {
				if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrInvalidToken", err)
				}
			}
			if n := v.cache.len(); n != 0 {
				t.Errorf("cache holds %d entries, want 0", n)
			}
		}},
		{"the cache is bounded", 3, func(t *testing.T, v *Verifier, iss *devissuer.Issuer, _ *clock) {
			for i := range 10 {
				sub := string(rune('a' + i))
				if c, err := v.Verify(ctx, mint(t, iss, devissuer.Token{Subject: sub})); err != nil || c.Subject != sub {
					t.Fatalf("Verify %d = %+v, %v", i, c, err)
				}
				if n := v.cache.len(); n > 3 {
					t.Fatalf("cache holds %d entries, want at most 3", n)
				}
			}
		}},
		{"a caller's groups cannot change the cached ones", 0, func(t *testing.T, v *Verifier, iss *devissuer.Issuer, _ *clock) {
			tok := mint(t, iss, devissuer.Token{Subject: "u1", Groups: []string{"agents"}})
			c, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			c.Groups[0] = "admin"
			c, err = v.Verify(ctx, tok)
			if err != nil || !slices.Equal(c.Groups, []string{"agents"}) {
				t.Fatalf("Verify = %+v, %v; want groups [agents]", c, err)
			}
			c.Groups[0] = "admin"
			if c, _ = v.Verify(ctx, tok); !slices.Equal(c.Groups, []string{"agents"}) {
				t.Fatalf("groups = %v after changing a cached answer's, want [agents]", c.Groups)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, iss, clk := newCacheFixture(t, tt.size)
			tt.run(t, v, iss, clk)
		})
	}
}
