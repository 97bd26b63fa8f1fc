package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/reqlog"
)

// TokenVerifier turns a bearer token into the caller it speaks for.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (property.Caller, error)
}

// authenticate puts the caller into the request context. No Authorization
// header means anonymous (reads are public); a header that does not hold a
// valid bearer token is refused for every operation, so a client learns
// that its token expired instead of silently reading as anonymous. The
// token itself never reaches a log.
//
// explain, when set (locally), says which check failed; otherwise every
// refusal reads the same, to teach an attacker nothing.
func authenticate(v TokenVerifier, explain func(error) string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			unauthenticated(w, "The Authorization header must be \"Bearer <token>\".")
			return
		}
		if v == nil {
			unauthenticated(w, "Sign-in is not configured on this server.")
			return
		}
		caller, err := v.Verify(r.Context(), token)
		if err != nil {
			log.LogAttrs(r.Context(), slog.LevelInfo, "token rejected", append(reqlog.Attrs(r.Context()), reqlog.String("reason", err.Error()))...)
			msg := "The access token is invalid or expired: sign in again to get a new one."
			if explain != nil {
				msg = explain(err)
			}
			unauthenticated(w, msg)
			return
		}
		reqlog.Add(r.Context(), slog.String("caller", caller.Subject))
		next.ServeHTTP(w, r.WithContext(property.NewContext(r.Context(), caller)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	apierr.Write(w, http.StatusUnauthorized, apierr.Unauthenticated, msg)
}
