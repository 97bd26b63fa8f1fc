package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/devissuer"
)

// TestTokenRefusalsSayWhy: locally a refused token's message names the
// check that failed and what to do; in Lambda every refusal reads the same
// (no hint for an attacker). All are HTTP 401 UNAUTHENTICATED either way.
func TestTokenRefusalsSayWhy(t *testing.T) {
	iss := testIssuer(t)
	forged, err := iss.MintWithForeignKey(devissuer.Token{Subject: defaultUser})
	if err != nil {
		t.Fatal(err)
	}
	const generic = "The access token is invalid or expired: sign in again to get a new one."
	tokens := []struct{ name, token, local string }{
		{"garbage", "not.a.token", "not a signed JWT"},
		{"expired", mustToken(t, devissuer.Token{Subject: defaultUser, Expired: true}), "The token expired at "},
		{"signed by another key", forged, "signature does not match"},
		{"wrong issuer", mustToken(t, devissuer.Token{Subject: defaultUser, Issuer: "https://issuer.invalid/pool"}),
			`another issuer ("https://issuer.invalid/pool")`},
		{"wrong audience", mustToken(t, devissuer.Token{Subject: defaultUser, ClientID: "someone-else"}), "app client this server does not accept (audience [someone-else])"},
		{"wrong client id", mustToken(t, devissuer.Token{Subject: defaultUser, Use: "access", ClientID: "someone-else"}), `client_id "someone-else"`},
		{"refresh token", mustToken(t, devissuer.Token{Subject: defaultUser, Use: "refresh"}), "neither an id token nor an access token"},
		{"not yet valid", mustToken(t, devissuer.Token{Subject: defaultUser, NotBefore: time.Now().Add(time.Hour)}), "not valid yet"},
	}
	local := newAPI(t, nil)
	lambda := newAPI(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"})
	for _, tc := range tokens {
		t.Run(tc.name, func(t *testing.T) {
			r := gqlAs(t, local, "Bearer "+tc.token, listQuery, nil)
			if r.Status != 401 || r.code() != "UNAUTHENTICATED" {
				t.Fatalf("local: status %d code %q", r.Status, r.code())
			}
			if msg := r.Errors[0].Message; !strings.Contains(msg, tc.local) || msg == generic {
				t.Errorf("local message %q, want it to say %q", msg, tc.local)
			}
			r = gqlAs(t, lambda, "Bearer "+tc.token, listQuery, nil)
			if r.Status != 401 || r.code() != "UNAUTHENTICATED" {
				t.Fatalf("lambda: status %d code %q", r.Status, r.code())
			}
			if msg := r.Errors[0].Message; msg != generic {
				t.Errorf("lambda message %q, want %q", msg, generic)
			}
		})
	}
}
