package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/propertyhq/property/auth"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/images"
	"github.com/propertyhq/property/server"
	"github.com/propertyhq/property/service"
)

// devHooks are filled in by the local build only (dev.go): each may adjust
// the configuration and wrap the handler.
var devHooks []func(*Config, *slog.Logger) (func(http.Handler) http.Handler, error)

// devServing is set by the local build (dev.go); see Serving.
var devServing func(cfg Config, url string) (stop func(), err error)

// Serving tells the local build that the server listens at url: it prints
// where the dev stack's parts are and records them in .data/dev.env for
// `make token`, `make backfill`, `make sweep` and the AWS CLI; stop removes
// the record. Outside the local build it does nothing.
func Serving(cfg Config, url string) (stop func(), err error) {
	if devServing == nil || cfg.Lambda {
		return func() {}, nil
	}
	return devServing(cfg, url)
}

// Option adds SDK middleware to the clients NewHandler builds; tests count
// and fail calls with them.
type Option func(*options)

type options struct {
	db []func(*dynamodb.Options)
	s3 []func(*s3.Options)
}

// WithDynamoDB adds options to the DynamoDB client.
func WithDynamoDB(f ...func(*dynamodb.Options)) Option {
	return func(o *options) { o.db = append(o.db, f...) }
}

// WithS3 adds options to the S3 client.
func WithS3(f ...func(*s3.Options)) Option {
	return func(o *options) { o.s3 = append(o.s3, f...) }
}

// NewHandler wires configuration, SDK clients and the GraphQL schema into
// the one handler both modes serve. It runs once per process.
func NewHandler(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (http.Handler, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	dbOpts, s3Opts := o.db, o.s3
	var wraps []func(http.Handler) http.Handler
	for _, hook := range devHooks {
		wrap, err := hook(&cfg, log)
		if err != nil {
			return nil, err
		}
		if wrap != nil {
			wraps = append(wraps, wrap)
		}
	}
	codec := cursor.NewRandom(cfg.CursorTTL)
	if len(cfg.CursorSecrets) > 0 {
		var err error
		if codec, err = cursor.New(cfg.CursorSecrets, cfg.CursorTTL); err != nil {
			return nil, err
		}
	} else {
		log.Warn("CURSOR_SECRET is not set: cursors are signed with a random key and die with this process")
	}
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{
		Region: cfg.Region, Endpoint: cfg.DynamoEndpoint, Timeout: cfg.DynamoTimeout,
		MaxAttempts: cfg.DynamoMaxAttempts, MaxBackoff: cfg.DynamoMaxBackoff, APIOptions: dbOpts,
	})
	if err != nil {
		return nil, err
	}
	resolver := &graph.Resolver{}
	storeOpt := dynamo.Options{Table: cfg.Table, Cursors: codec, ReadCap: cfg.ListReadCap, MaxImages: cfg.MaxImages}
	var objects service.Images // nil without a bucket
	if cfg.ImagesBucket != "" {
		bucket, err := images.New(ctx, images.Options{
			Bucket: cfg.ImagesBucket, Region: cfg.Region, Endpoint: cfg.S3Endpoint,
			UploadTTL: cfg.UploadURLTTL, DownloadTTL: cfg.ImageURLTTL, PublicURL: cfg.ImagesPublicURL,
			Timeout: cfg.S3Timeout, MaxAttempts: cfg.S3MaxAttempts, MaxBackoff: cfg.S3MaxBackoff,
			APIOptions: s3Opts,
		})
		if err != nil {
			return nil, err
		}
		storeOpt.Uploads, objects = true, bucket
	}
	store, err := dynamo.New(db, storeOpt)
	if err != nil {
		return nil, err
	}
	// The store talks to DynamoDB only; the service signs the images and
	// keeps the bucket in step with the table (a delete removes them).
	svc := service.New(store, objects)
	resolver.Store = svc
	if objects != nil {
		resolver.Images = svc
	}
	gql := graph.NewHandler(resolver, graph.Options{
		Introspection:    cfg.Playground,
		ComplexityLimit:  cfg.ComplexityLimit,
		MaxDepth:         cfg.MaxDepth,
		MaxAliases:       cfg.MaxAliases,
		MaxImages:        cfg.MaxImages,
		MaxResponseBytes: cfg.MaxResponseBytes,
		Logger:           log,
	})
	opt := server.Options{
		GraphQL:         gql,
		Logger:          log,
		AllowedOrigins:  cfg.AllowedOrigins,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		Playground:      cfg.Playground,
		PlaygroundFiles: cfg.PlaygroundFiles,
		CacheMaxAge:     cfg.CacheMaxAge,
	}
	if cfg.AuthIssuer != "" {
		// The key set is fetched on the first token, not here: cold starts
		// stay short and reads never wait for it.
		v, err := auth.New(auth.Options{Issuer: cfg.AuthIssuer, ClientIDs: cfg.AuthClientIDs, JWKSURL: cfg.AuthJWKSURL})
		if err != nil {
			return nil, err
		}
		opt.Verifier = v
		if !cfg.Lambda {
			// Locally the token's holder runs the server: say which check
			// failed. Lambda keeps one answer for all.
			opt.ExplainToken = auth.Explain
		}
	}
	h := server.New(opt)
	for _, wrap := range wraps {
		h = wrap(h)
	}
	return h, nil
}
