// Package devissuer is a stand-in for a Cognito user pool in local
// development and tests: an RSA key pair, its JWKS, and tokens shaped like
// Cognito's (iss, sub, token_use, aud or client_id, cognito:groups). It is
// never linked into the Lambda binary.
package devissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientID is the app client id tokens are minted for.
const ClientID = "local-dev-client"

// JWKSPath is where an issuer's key set is served, relative to the issuer.
const JWKSPath = "/.well-known/jwks.json"

// LocalPath is where the local server (`make dev`) serves the issuer.
const LocalPath = "/dev-issuer"

// LocalURL is the issuer URL of the local server on port; tokens minted for
// it (`make token`) verify there.
func LocalURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d%s", port, LocalPath) }

// Issuer signs tokens with one key.
type Issuer struct {
	URL string
	key *rsa.PrivateKey
	kid string
}

// New returns an issuer named url with a fresh key.
func New(url string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return newIssuer(url, key), nil
}

func newIssuer(url string, key *rsa.PrivateKey) *Issuer {
	return &Issuer{URL: url, key: key, kid: keyID(&key.PublicKey)}
}

func keyID(pub *rsa.PublicKey) string {
	jwk := jose.JSONWebKey{Key: pub}
	tp, _ := jwk.Thumbprint(crypto.SHA256)
	return fmt.Sprintf("%x", tp[:8])
}

// Load reads the key from path, creating it (and its folder) on first use,
// so that tokens minted by one process verify in another.
func Load(url, path string) (*Issuer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		b = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("devissuer: %s holds no PEM key", path)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devissuer: %s: %w", path, err)
	}
	return newIssuer(url, key), nil
}

// JWKS serves the public key set.
func (i *Issuer) JWKS() http.Handler {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: "RS256", Use: "sig"}}}
	body, _ := json.Marshal(set)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// Token describes a token to mint. Zero fields get working defaults.
type Token struct {
	Subject  string
	Groups   []string
	Use      string // "id" (default) or "access"
	ClientID string // default ClientID
	Issuer   string // default the issuer's URL
	TTL      time.Duration
	// NotBefore and IssuedAt default to now.
	NotBefore time.Time
	// Expired mints a token that expired an hour ago.
	Expired bool
}

// Mint signs t.
func (i *Issuer) Mint(t Token) (string, error) {
	return i.mintWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.key, KeyID: i.kid}})
}

func (i *Issuer) mintWith(t Token, key jose.SigningKey) (string, error) {
	if t.Use == "" {
		t.Use = "id"
	}
	if t.ClientID == "" {
		t.ClientID = ClientID
	}
	if t.Issuer == "" {
		t.Issuer = i.URL
	}
	if t.TTL == 0 {
		t.TTL = time.Hour
	}
	now := time.Now()
	exp := now.Add(t.TTL)
	if t.Expired {
		exp = now.Add(-time.Hour)
	}
	nbf := now
	if !t.NotBefore.IsZero() {
		nbf = t.NotBefore
	}
	claims := map[string]any{
		"iss": t.Issuer, "sub": t.Subject, "token_use": t.Use,
		"iat": now.Unix() - 1, "nbf": nbf.Unix() - 1, "exp": exp.Unix(),
		"auth_time": now.Unix() - 1,
	}
	if t.Use == "id" {
		claims["aud"] = t.ClientID
	} else {
		claims["client_id"] = t.ClientID
	}
	if len(t.Groups) > 0 {
		claims["cognito:groups"] = t.Groups
	}
	sig, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// MintWithForeignKey signs t with a key nobody published: a forged token.
func (i *Issuer) MintWithForeignKey(t Token) (string, error) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	return i.mintWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: i.kid}})
}
