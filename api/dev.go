//go:build dev

package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/propertyhq/property/internal/devissuer"
)

// The local build (go build -tags dev, as `make dev` runs it) signs users in
// with a local issuer instead of a Cognito user pool: its key lives in
// .data/dev-issuer, its key set is served by this same server, and
// `make token` mints tokens for it. None of this is in the Lambda binary.
func init() {
	devHooks = append(devHooks, devIssuer)
}

func devIssuer(cfg *Config, log *slog.Logger) (func(http.Handler) http.Handler, error) {
	if cfg.Lambda || cfg.AuthIssuer != "" {
		return nil, nil
	}
	keyPath := os.Getenv("DEV_ISSUER_KEY")
	if keyPath == "" {
		keyPath = ".data/dev-issuer/key.pem"
	}
	url := devissuer.LocalURL(cfg.Port)
	iss, err := devissuer.Load(url, keyPath)
	if err != nil {
		return nil, fmt.Errorf("dev issuer: %w", err)
	}
	cfg.AuthIssuer, cfg.AuthClientIDs = url, []string{devissuer.ClientID}
	log.Info("local sign-in: mint a token with `make token SUB=user-1 GROUPS=admin`", slog.String("issuer", url))
	jwks := devissuer.LocalPath + devissuer.JWKSPath
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == jwks {
				iss.JWKS().ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}
