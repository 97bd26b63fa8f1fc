//go:build dev

package api

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"

	"github.com/propertyhq/property/internal/devissuer"
)

// The local build (go build -tags dev, as `make dev` runs it) signs users in
// with a local issuer instead of a Cognito user pool: its key lives in
// .data/dev-issuer, its key set is served by this same server, and
// `make token` mints tokens for it. None of this is in the Lambda binary.
func init() {
	devHooks = append(devHooks, devIssuer, devS3)
}

// devS3 serves an S3-compatible images bucket on a free loopback port, its
// objects kept on disk under .data/s3 so images survive a restart like the
// properties do. Browsers may PUT to it from any origin (local only).
func devS3(cfg *Config, log *slog.Logger) (func(http.Handler) http.Handler, error) {
	if cfg.Lambda || cfg.ImagesBucket != "" || cfg.S3Endpoint != "" {
		return nil, nil
	}
	dir := os.Getenv("DEV_S3_DIR")
	if dir == "" {
		dir = ".data/s3"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dev S3: %w", err)
	}
	backend, err := s3bolt.NewFile(filepath.Join(dir, "objects.db"))
	if err != nil {
		return nil, fmt.Errorf("dev S3: %w", err)
	}
	const bucket = "images"
	if ok, err := backend.BucketExists(bucket); err != nil {
		return nil, fmt.Errorf("dev S3: %w", err)
	} else if !ok {
		if err := backend.CreateBucket(bucket); err != nil {
			return nil, fmt.Errorf("dev S3: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev S3: %w", err)
	}
	srv := &http.Server{Handler: gofakes3.New(backend, gofakes3.WithInsecureCORS()).Server(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cfg.ImagesBucket, cfg.S3Endpoint = bucket, "http://"+ln.Addr().String()
	log.Info("local images bucket", slog.String("endpoint", cfg.S3Endpoint), slog.String("dir", dir))
	return nil, nil
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
