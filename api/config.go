// Package api assembles the Property API from its configuration: it reads
// the environment and wires the store, the GraphQL server and the HTTP chain
// into the one http.Handler that Lambda and the local server both serve.
package api

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/images"
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
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Table:          strings.TrimSpace(getenv("PROPERTY_TABLE_NAME")),
		Region:         strings.TrimSpace(getenv("AWS_REGION")),
		DynamoEndpoint: strings.TrimSpace(getenv("DYNAMODB_ENDPOINT")),
		Lambda:         getenv("AWS_LAMBDA_RUNTIME_API") != "",
	}
	var errs []error
	if c.Table == "" {
		errs = append(errs, errors.New("PROPERTY_TABLE_NAME is required"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is required"))
	}
	num := func(name string, def, lo, hi int) int {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, lo, hi, s))
			return def
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration such as 5s, not %q", name, s))
			return def
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return def
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be true or false, not %q", name, s))
			return def
		}
		return b
	}
	c.Port = num("PORT", 8080, 1, 65535)
	c.DynamoTimeout = dur("DYNAMODB_TIMEOUT", 5*time.Second)
	c.DynamoMaxAttempts = num("DYNAMODB_MAX_ATTEMPTS", 3, 1, 10)
	c.DynamoMaxBackoff = dur("DYNAMODB_MAX_BACKOFF", time.Second)
	c.CursorTTL = dur("CURSOR_TTL", 24*time.Hour)
	c.ListReadCap = num("LIST_READ_CAP", 1000, 1, 100_000)
	c.MaxBodyBytes = int64(num("MAX_BODY_BYTES", 64<<10, 1024, 6<<20))
	c.ComplexityLimit = num("COMPLEXITY_LIMIT", graph.DefaultComplexityLimit, 10, 1_000_000)
	c.MaxDepth = num("MAX_DEPTH", graph.DefaultMaxDepth, 2, 100)
	c.MaxAliases = num("MAX_ALIASES", graph.DefaultMaxAliases, 0, 1000)
	c.CacheMaxAge = num("CACHE_MAX_AGE", 30, 0, 86400)
	c.ImagesBucket = strings.TrimSpace(getenv("IMAGES_BUCKET"))
	c.S3Endpoint = strings.TrimSpace(getenv("S3_ENDPOINT"))
	c.ImagesPublicURL = strings.TrimSpace(getenv("IMAGES_PUBLIC_URL"))
	c.UploadURLTTL = dur("UPLOAD_URL_TTL", 15*time.Minute)
	c.ImageURLTTL = dur("IMAGE_URL_TTL", time.Hour)
	c.MaxImages = num("MAX_IMAGES", 20, 1, 100)
	c.MaxResponseBytes = num("MAX_RESPONSE_BYTES", graph.DefaultMaxResponseBytes, 1024, 6<<20)
	c.S3Timeout = dur("S3_TIMEOUT", images.DefaultTimeout)
	c.S3MaxAttempts = num("S3_MAX_ATTEMPTS", images.DefaultMaxAttempts, 1, 10)
	c.S3MaxBackoff = dur("S3_MAX_BACKOFF", images.DefaultMaxBackoff)
	c.DeadlineMargin = dur("LAMBDA_DEADLINE_MARGIN", time.Second)
	c.MaxInFlight = num("MAX_IN_FLIGHT", 32, 1, 10_000)
	c.AuthIssuer = strings.TrimRight(strings.TrimSpace(getenv("AUTH_ISSUER")), "/")
	c.AuthJWKSURL = strings.TrimSpace(getenv("AUTH_JWKS_URL"))
	for _, id := range strings.Split(getenv("AUTH_CLIENT_ID"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.AuthClientIDs = append(c.AuthClientIDs, id)
		}
	}
	switch {
	case c.AuthIssuer != "" && len(c.AuthClientIDs) == 0:
		errs = append(errs, errors.New("AUTH_CLIENT_ID is required with AUTH_ISSUER"))
	case c.AuthIssuer == "" && len(c.AuthClientIDs) > 0:
		errs = append(errs, errors.New("AUTH_ISSUER is required with AUTH_CLIENT_ID"))
	case c.AuthIssuer == "" && c.Lambda:
		// Without an issuer nobody can sign in, so every mutation fails.
		errs = append(errs, errors.New("AUTH_ISSUER and AUTH_CLIENT_ID are required in Lambda"))
	}
	// The Playground and introspection are for people exploring the API:
	// on by default locally, off by default in Lambda.
	c.Playground = boolean("PLAYGROUND", !c.Lambda)
	for _, o := range strings.Split(getenv("ALLOWED_ORIGIN"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if o == "*" {
				errs = append(errs, errors.New("ALLOWED_ORIGIN must list origins, not *"))
				continue
			}
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
	for _, s := range strings.Split(getenv("CURSOR_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			if len(s) < 16 {
				errs = append(errs, errors.New("each CURSOR_SECRET key must be at least 16 characters"))
				continue
			}
			c.CursorSecrets = append(c.CursorSecrets, s)
		}
	}
	if c.Lambda && len(c.CursorSecrets) == 0 {
		// Each container would invent its own key and refuse the others' cursors.
		errs = append(errs, errors.New("CURSOR_SECRET is required in Lambda"))
	}
	switch lvl := strings.ToLower(strings.TrimSpace(getenv("LOG_LEVEL"))); lvl {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", lvl))
	}
	return c, errors.Join(errs...)
}
