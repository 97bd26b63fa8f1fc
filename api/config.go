// Package api assembles the Property API from its configuration: it reads
// the environment and wires the store, the GraphQL server and the HTTP chain
// into the one http.Handler that Lambda and the local server both serve.
package api

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/images"
	"github.com/propertyhq/property/internal/devenv"
	"github.com/propertyhq/property/internal/envvar"
	"github.com/propertyhq/property/server"
)

// Config is everything the process reads from its environment.
type Config struct {
	Table             string
	Region            string
	DynamoEndpoint    string
	DynamoTimeout     time.Duration
	DynamoMaxAttempts int
	DynamoMaxBackoff  time.Duration
	Port              int
	AllowedOrigins    []string
	Playground        bool
	CursorSecrets     []string
	CursorTTL         time.Duration
	ListReadCap       int
	MaxBodyBytes      int64
	ComplexityLimit   int
	LogLevel          slog.Level
	AuthIssuer        string
	AuthClientIDs     []string
	AuthJWKSURL       string
	MaxDepth          int
	MaxAliases        int
	CacheMaxAge       int
	ImagesBucket      string
	S3Endpoint        string
	UploadURLTTL      time.Duration
	ImageURLTTL       time.Duration
	ImagesPublicURL   string
	MaxImages         int
	MaxResponseBytes  int
	MaxInFlight       int
	Lambda            bool
	S3Timeout         time.Duration
	S3MaxAttempts     int
	S3MaxBackoff      time.Duration
	// DeadlineMargin is how long before Lambda's deadline a request's
	// context ends, so a slow dependency still gets a coded answer.
	DeadlineMargin time.Duration
	// PlaygroundFiles is set by the local build, not the environment: the
	// project's node_modules, from which the Playground's files are served
	// (server.Options.PlaygroundFiles).
	PlaygroundFiles fs.FS
}

// CallBound is the longest one SDK call can take while its service does not
// answer: every attempt runs to its timeout and every retry waits its
// longest backoff.
func CallBound(attempts int, timeout, backoff time.Duration) time.Duration {
	return time.Duration(attempts)*timeout + time.Duration(attempts-1)*backoff
}

// DynamoCallBound is CallBound for one DynamoDB call.
func (c Config) DynamoCallBound() time.Duration {
	return CallBound(c.DynamoMaxAttempts, c.DynamoTimeout, c.DynamoMaxBackoff)
}

// S3CallBound is CallBound for one S3 call.
func (c Config) S3CallBound() time.Duration {
	return CallBound(c.S3MaxAttempts, c.S3Timeout, c.S3MaxBackoff)
}

// LoadConfig reads the environment through getenv and reports every
// problem at once, so a misconfigured deployment fails fast and clearly.
// Each default is the one the package that uses the setting owns.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := envvar.New(getenv)
	c := Config{Lambda: getenv("AWS_LAMBDA_RUNTIME_API") != ""}
	if !r.Set("PROPERTY_TABLE_NAME") {
		r.Fail(errors.New("PROPERTY_TABLE_NAME is required"))
	}
	db := dynamo.ReadEnv(r)
	c.Table, c.Region, c.DynamoEndpoint = db.Table, db.Client.Region, db.Client.Endpoint
	c.DynamoTimeout, c.DynamoMaxAttempts, c.DynamoMaxBackoff = db.Client.Timeout, db.Client.MaxAttempts, db.Client.MaxBackoff
	c.Port = r.Int("PORT", devenv.DefaultPort, 1, 65535)
	c.CursorTTL = r.Duration("CURSOR_TTL", cursor.DefaultTTL)
	c.ListReadCap = r.Int("LIST_READ_CAP", dynamo.DefaultReadCap, 1, 100_000)
	c.MaxBodyBytes = int64(r.Int("MAX_BODY_BYTES", server.DefaultMaxBodyBytes, 1024, 6<<20))
	c.ComplexityLimit = r.Int("COMPLEXITY_LIMIT", graph.DefaultComplexityLimit, 10, 1_000_000)
	c.MaxDepth = r.Int("MAX_DEPTH", graph.DefaultMaxDepth, 2, 100)
	c.MaxAliases = r.Int("MAX_ALIASES", graph.DefaultMaxAliases, 0, 1000)
	c.CacheMaxAge = r.Int("CACHE_MAX_AGE", server.DefaultCacheMaxAge, 0, 86400)
	img := images.ReadEnv(r, c.Region)
	c.ImagesBucket, c.S3Endpoint, c.ImagesPublicURL = img.Bucket, img.Endpoint, img.PublicURL
	c.UploadURLTTL, c.ImageURLTTL = img.UploadTTL, img.DownloadTTL
	c.MaxImages = r.Int("MAX_IMAGES", property.DefaultMaxImages, 1, 100)
	c.MaxResponseBytes = r.Int("MAX_RESPONSE_BYTES", graph.DefaultMaxResponseBytes, 1024, 6<<20)
	c.S3Timeout, c.S3MaxAttempts, c.S3MaxBackoff = img.Timeout, img.MaxAttempts, img.MaxBackoff
	c.DeadlineMargin = r.Duration("LAMBDA_DEADLINE_MARGIN", time.Second)
	c.MaxInFlight = r.Int("MAX_IN_FLIGHT", 16, 1, 10_000)
	c.AuthIssuer = strings.TrimRight(r.String("AUTH_ISSUER"), "/")
	c.AuthJWKSURL = r.String("AUTH_JWKS_URL")
	c.AuthClientIDs = r.List("AUTH_CLIENT_ID")
	switch {
	case c.AuthIssuer != "" && len(c.AuthClientIDs) == 0:
		r.Fail(errors.New("AUTH_CLIENT_ID is required with AUTH_ISSUER"))
	case c.AuthIssuer == "" && len(c.AuthClientIDs) > 0:
		r.Fail(errors.New("AUTH_ISSUER is required with AUTH_CLIENT_ID"))
	case c.AuthIssuer == "" && c.Lambda:
		// Without an issuer nobody can sign in, so every mutation fails.
		r.Fail(errors.New("AUTH_ISSUER and AUTH_CLIENT_ID are required in Lambda"))
	}
	// The Playground and introspection are for people exploring the API:
	// on by default locally, off by default in Lambda.
	c.Playground = r.Bool("PLAYGROUND", !c.Lambda)
	for _, o := range r.List("ALLOWED_ORIGIN") {
		if o == "*" {
			r.Fail(errors.New("ALLOWED_ORIGIN must list origins, not *"))
			continue
		}
		c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
	}
	for _, s := range r.List("CURSOR_SECRET") {
		if len(s) < 16 {
			r.Fail(errors.New("each CURSOR_SECRET key must be at least 16 characters"))
			continue
		}
		c.CursorSecrets = append(c.CursorSecrets, s)
	}
	if c.Lambda && len(c.CursorSecrets) == 0 {
		// Each container would invent its own key and refuse the others' cursors.
		r.Fail(errors.New("CURSOR_SECRET is required in Lambda"))
	}
	switch lvl := strings.ToLower(r.String("LOG_LEVEL")); lvl {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		r.Fail(fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", lvl))
	}
	return c, r.Err()
}
