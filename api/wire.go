package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/propertyhq/property/auth"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/server"
)

// devHooks are filled in by the local build only (dev.go): each may adjust
// the configuration and wrap the handler.
var devHooks []func(*Config, *slog.Logger) (func(http.Handler) http.Handler, error)

// NewHandler wires configuration, SDK clients and the GraphQL schema into
// the one handler both modes serve. It runs once per process; dbOpts add SDK
// middleware (tests count DynamoDB calls with it).
func NewHandler(ctx context.Context, cfg Config, log *slog.Logger, dbOpts ...func(*dynamodb.Options)) (http.Handler, error) {
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
		Region: cfg.Region, Endpoint: cfg.DynamoEndpoint, Timeout: cfg.DynamoTimeout, APIOptions: dbOpts,
	})
	if err != nil {
		return nil, err
	}
	store, err := dynamo.New(db, dynamo.Options{Table: cfg.Table, Cursors: codec, ReadCap: cfg.ListReadCap})
	if err != nil {
		return nil, err
	}
	gql := graph.NewHandler(&graph.Resolver{Store: store}, graph.Options{
		Introspection:   cfg.Playground,
		ComplexityLimit: cfg.ComplexityLimit,
		MaxDepth:        cfg.MaxDepth,
		MaxAliases:      cfg.MaxAliases,
		Logger:          log,
	})
	opt := server.Options{
		GraphQL:        gql,
		Logger:         log,
		AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Playground:     cfg.Playground,
		CacheMaxAge:    cfg.CacheMaxAge,
	}
	if cfg.AuthIssuer != "" {
		// The key set is fetched on the first token, not here: cold starts
		// stay short and reads never wait for it.
		v, err := auth.New(auth.Options{Issuer: cfg.AuthIssuer, ClientIDs: cfg.AuthClientIDs, JWKSURL: cfg.AuthJWKSURL})
		if err != nil {
			return nil, err
		}
		opt.Verifier = v
	}
	h := server.New(opt)
	for _, wrap := range wraps {
		h = wrap(h)
	}
	return h, nil
}
