// Package auth verifies Cognito user-pool JWTs and turns them into the
// domain's Caller. The key set is fetched from the issuer's JWKS URL on the
// first verification (not at start, to keep cold starts short) and cached;
// an unknown key id triggers a refetch, which is how key rotation arrives.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	property "github.com/propertyhq/property"
)

// Options configure a Verifier.
type Options struct {
	// Issuer is the user pool's issuer URL; tokens must carry it as iss.
	Issuer string
	// ClientIDs are the app clients whose tokens are accepted: aud of id
	// tokens, client_id of access tokens.
	ClientIDs []string
	// JWKSURL defaults to Issuer + "/.well-known/jwks.json" (Cognito's).
	JWKSURL string
	// Skew is the clock skew tolerated on exp (default 30s).
	Skew time.Duration
	// HTTPClient fetches the key set (default: 5s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize bounds how many verified tokens are remembered until they
	// expire (default DefaultCacheSize; negative: none, every request
	// verifies its token's signature).
	CacheSize int
}

// Verifier checks bearer tokens.
type Verifier struct {
	verifier  *oidc.IDTokenVerifier
	clientIDs []string
	skew      time.Duration
	cache     *tokenCache
}

// New returns a Verifier; it makes no network call.
func New(opt Options) (*Verifier, error) {
	if opt.Issuer == "" {
		return nil, errors.New("auth: issuer required")
	}
	if len(opt.ClientIDs) == 0 {
		return nil, errors.New("auth: at least one client id required")
	}
	if opt.JWKSURL == "" {
		opt.JWKSURL = strings.TrimRight(opt.Issuer, "/") + "/.well-known/jwks.json"
	}
	if opt.Skew <= 0 {
		opt.Skew = defaultSkew
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CacheSize == 0 {
		opt.CacheSize = DefaultCacheSize
	}
	transport := opt.HTTPClient.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	client := *opt.HTTPClient
	client.Transport = &cachedKeys{next: transport, minInterval: time.Minute, now: opt.Now}
	opt.HTTPClient = &client
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), opt.HTTPClient), opt.JWKSURL)
	v := oidc.NewVerifier(opt.Issuer, keys, &oidc.Config{
		// The client is checked below: access tokens carry it as client_id,
		// not aud.
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: []string{oidc.RS256},
		// Shifting the clock back grants the skew on exp (nbf has its own).
		Now: func() time.Time { return opt.Now().Add(-opt.Skew) },
	})
	return &Verifier{verifier: v, clientIDs: opt.ClientIDs, skew: opt.Skew, cache: newTokenCache(opt.CacheSize, opt.Now)}, nil
}

type claims struct {
	Subject  string   `json:"sub"`
	TokenUse string   `json:"token_use"`
	ClientID string   `json:"client_id"`
	Groups   []string `json:"cognito:groups"`
}

// ErrInvalidToken is wrapped by every verification failure.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks token (without "Bearer ") and returns its caller. Every
// failure wraps ErrInvalidToken with the reason, for the log only.
//
// A token that verified is remembered (by its hash) until it expires, so a
// signed-in user's later requests cost a hash and a map lookup instead of
// a signature check; the answer is the same either way, since nothing the
// check depends on but the clock changes while a token lives. (A key
// withdrawn from the key set before its tokens expire keeps them working
// until then, as it would for any client that verified them earlier.)
func (v *Verifier) Verify(ctx context.Context, token string) (property.Caller, error) {
	if c, ok := v.cache.get(token); ok {
		return c, nil
	}
	c, until, err := v.verify(ctx, token)
	if err == nil {
		v.cache.put(token, c, until)
	}
	return c, err
}

// verify checks token's signature and claims; until is when it stops
// verifying (its expiry plus the skew).
func (v *Verifier) verify(ctx context.Context, token string) (_ property.Caller, until time.Time, err error) {
	idt, err := v.verifier.Verify(ctx, token)
	if err != nil {
		return property.Anonymous, until, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	until = idt.Expiry.Add(v.skew)
	var c claims
	if err := idt.Claims(&c); err != nil {
		return property.Anonymous, until, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	switch c.TokenUse {
	case "id":
		if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(v.clientIDs, a) }) {
			return property.Anonymous, until, fmt.Errorf("%w: audience %v", ErrInvalidToken, idt.Audience)
		}
	case "access":
		if !slices.Contains(v.clientIDs, c.ClientID) {
			return property.Anonymous, until, fmt.Errorf("%w: client_id %q", ErrInvalidToken, c.ClientID)
		}
	default:
		return property.Anonymous, until, fmt.Errorf("%w: token_use %q", ErrInvalidToken, c.TokenUse)
	}
	if c.Subject == "" {
		return property.Anonymous, until, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	return property.Caller{Subject: c.Subject, Groups: c.Groups}, until, nil
}
