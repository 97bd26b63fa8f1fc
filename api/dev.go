//go:build dev

package api

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"

	"github.com/propertyhq/property/internal/devenv"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/s3auth"
)

// The local build (go build -tags dev, as `make dev` runs it) signs users in
// with a local issuer instead of a Cognito user pool: its key lives in
// .data/dev-issuer, its key set is served by this same server, and
// `make token` mints tokens for it. None of this is in the Lambda binary.
func init() {
	devHooks = append(devHooks, devIssuer, devS3, devPlayground)
	devServing = announce
}

// devStack is what the hooks started, for announce.
var (
	devStackMu sync.Mutex
	devStack   struct{ issuer, issuerKey, s3Endpoint, bucket string }
)

// announce prints where the dev stack runs, once, and records it in
// .data/dev.env (removed again by stop) for the tools and the AWS CLI.
func announce(cfg Config, url string) (stop func(), err error) {
	devStackMu.Lock()
	st := devStack
	devStackMu.Unlock()
	api := strings.TrimRight(url, "/") + "/graphql"
	vars := []devenv.Var{
		// dev.sh drops what a sourced copy of this file left in a shell
		// before it starts a new stack (the ports change).
		{Name: "DEV_ENV_FILE", Value: devenv.Path},
		{Name: "DEV_API_URL", Value: api},
		{Name: "PROPERTY_TABLE_NAME", Value: cfg.Table},
		{Name: "AWS_REGION", Value: cfg.Region},
		{Name: "AWS_DEFAULT_REGION", Value: cfg.Region}, // the AWS CLI's name
		// Local engines take any key; never a real one in this file.
		{Name: "AWS_ACCESS_KEY_ID", Value: "local"},
		{Name: "AWS_SECRET_ACCESS_KEY", Value: "local"},
		// Nothing here runs on EC2: fail at once instead of asking the
		// metadata service for credentials.
		{Name: "AWS_EC2_METADATA_DISABLED", Value: "true"},
	}
	if cfg.DynamoEndpoint != "" {
		vars = append(vars,
			devenv.Var{Name: "DYNAMODB_ENDPOINT", Value: cfg.DynamoEndpoint},
			devenv.Var{Name: "AWS_ENDPOINT_URL_DYNAMODB", Value: cfg.DynamoEndpoint})
	}
	if st.s3Endpoint != "" {
		vars = append(vars,
			devenv.Var{Name: "IMAGES_BUCKET", Value: st.bucket},
			devenv.Var{Name: "S3_ENDPOINT", Value: st.s3Endpoint},
			devenv.Var{Name: "AWS_ENDPOINT_URL_S3", Value: st.s3Endpoint})
	}
	if st.issuer != "" {
		vars = append(vars,
			devenv.Var{Name: "DEV_ISSUER_URL", Value: st.issuer},
			devenv.Var{Name: "DEV_ISSUER_KEY", Value: st.issuerKey})
	}
	header := fmt.Sprintf("Written by `make dev` (pid %d) while it serves; removed when it stops.\n"+
		"make token, make backfill and make sweep read it. For the AWS CLI or an SDK:\n"+
		"  set -a; . %s; set +a", os.Getpid(), devenv.Path)
	if err := devenv.Write(devenv.Path, header, vars); err != nil {
		return nil, fmt.Errorf("dev: record the stack: %w", err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nmake dev is serving:\n")
	fmt.Fprintf(&b, "  Playground  %s\n", url)
	fmt.Fprintf(&b, "  GraphQL     %s\n", api)
	if cfg.DynamoEndpoint != "" {
		fmt.Fprintf(&b, "  DynamoDB    %s  (table %s)\n", cfg.DynamoEndpoint, cfg.Table)
	}
	if st.s3Endpoint != "" {
		fmt.Fprintf(&b, "  S3          %s  (bucket %s)\n", st.s3Endpoint, st.bucket)
	}
	if st.issuer != "" {
		fmt.Fprintf(&b, "  Sign in     make token SUB=user-1 TOKEN_GROUPS=admin  (issuer %s)\n", st.issuer)
	}
	fmt.Fprintf(&b, "  All of it   %s  (make backfill and make sweep use it; for the AWS CLI: set -a; . %s; set +a)\n\n", devenv.Path, devenv.Path)
	fmt.Fprint(os.Stderr, b.String())
	return func() { _ = os.Remove(devenv.Path) }, nil
}

// devS3 serves an S3-compatible images bucket on a free loopback port, its
// objects kept on disk under .data/s3 so images survive a restart like the
// properties do. Browsers may PUT to it from any origin (local only), with
// the pre-signed URL checked as S3 checks it.
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
	// S3's checks of a pre-signed URL (signature, expiry, signed type and
	// size) with the key the API signs with (images.New: the environment's,
	// else "local").
	keyID, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if keyID == "" {
		keyID, secret = "local", "local"
	}
	checked := s3auth.Verify(s3auth.Options{AccessKeyID: keyID, SecretAccessKey: secret, Region: cfg.Region},
		gofakes3.New(backend, gofakes3.WithInsecureCORS()).Server())
	srv := &http.Server{Handler: checked, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cfg.ImagesBucket, cfg.S3Endpoint = bucket, "http://"+ln.Addr().String()
	devStackMu.Lock()
	devStack.s3Endpoint, devStack.bucket = cfg.S3Endpoint, bucket
	devStackMu.Unlock()
	log.Info("local images bucket", slog.String("endpoint", cfg.S3Endpoint), slog.String("dir", dir))
	return nil, nil
}

// devPlayground serves the Playground's files from the project's
// node_modules (npm ci), so the Playground works offline; without them the
// page falls back to the CDN.
func devPlayground(cfg *Config, _ *slog.Logger) (func(http.Handler) http.Handler, error) {
	if cfg.Playground && cfg.PlaygroundFiles == nil {
		if st, err := os.Stat("node_modules"); err == nil && st.IsDir() {
			cfg.PlaygroundFiles = os.DirFS("node_modules")
		}
	}
	return nil, nil
}

func devIssuer(cfg *Config, _ *slog.Logger) (func(http.Handler) http.Handler, error) {
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
	devStackMu.Lock()
	devStack.issuer, devStack.issuerKey = url, keyPath
	devStackMu.Unlock()
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
