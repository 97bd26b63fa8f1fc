package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Explain says, for the token's holder, which check refused the token and
// what to do about it: garbage, a bad signature, expired, not yet valid,
// another issuer, another app client, the wrong kind of token. It is for
// local development, where the server's owner holds the token; in
// production a refusal should not teach an attacker which check to work
// on, so the server says less (see server.Options.TokenDetail). err is a
// Verify error; anything else gets a general sentence.
func Explain(err error) string {
	var expired *oidc.TokenExpiredError
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case errors.As(err, &expired):
		return fmt.Sprintf("The token expired at %s (%s ago; %s of clock skew is allowed): get a new one.",
			expired.Expiry.UTC().Format(time.RFC3339), time.Since(expired.Expiry).Round(time.Second), defaultSkew)
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "id token not signed"), strings.Contains(msg, "multiple signatures"):
		return "The token is not a signed JWT (three base64url parts separated by dots): send the token itself after \"Bearer \", with no quotes or line breaks."
	case strings.Contains(msg, "failed to verify signature"):
		return "The token's signature does not match the issuer's keys (it was signed by another key, or altered): get a new one from this server's issuer."
	case strings.Contains(msg, "issued by a different provider"):
		return "The token comes from another issuer (" + quoted(msg, "got ") + "), not the one this server trusts (" + quoted(msg, "expected ") + "): get a token from that issuer."
	case strings.Contains(msg, "before the nbf"):
		return "The token is not valid yet (its nbf is in the future): check the clock of the machine that issued it."
	case strings.Contains(msg, reasonAudience), strings.Contains(msg, reasonClientID):
		return "The token was issued for an app client this server does not accept (" + strings.TrimSpace(after(msg, ": ")) + "): get a token from an accepted app client."
	case strings.Contains(msg, reasonTokenUse):
		return "The token is neither an id token nor an access token (" + strings.TrimSpace(after(msg, ": ")) + "): send the id or access token, not the refresh token."
	case strings.Contains(msg, reasonNoSubject):
		return "The token names no user (no sub claim): get a token for a user."
	case strings.Contains(msg, "oidc: Request to endpoint failed"), strings.Contains(msg, "oidc: request failed"),
		strings.Contains(msg, "fetching keys"), strings.Contains(msg, "malformed response body"):
		return "The issuer's keys could not be fetched, so no token can be checked: try again, and check AUTH_ISSUER / AUTH_JWKS_URL."
	}
	return "The access token is invalid or expired: sign in again to get a new one."
}

// The reasons verify gives, matched by Explain.
const (
	reasonAudience  = "audience"
	reasonClientID  = "client_id"
	reasonTokenUse  = "token_use"
	reasonNoSubject = "no subject"
)

const defaultSkew = 30 * time.Second

// quoted returns the %q-quoted word after prefix in msg.
func quoted(msg, prefix string) string {
	s := after(msg, prefix)
	if i := strings.Index(s[min(1, len(s)):], `"`); strings.HasPrefix(s, `"`) && i >= 0 {
		return s[:i+2]
	}
	return s
}

func after(msg, sep string) string {
	if i := strings.LastIndex(msg, sep); i >= 0 {
		return msg[i+len(sep):]
	}
	return msg
}
