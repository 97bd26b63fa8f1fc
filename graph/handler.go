package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/reqlog"
)

// Options shape the GraphQL server.
type Options struct {
	// Introspection allows schema introspection (the Playground needs it).
	Introspection bool
	// ComplexityLimit bounds the cost of one operation (default 10000; a
	// full page of 100 properties with every field costs about 2100).
	ComplexityLimit int
	// MaxDepth bounds how deeply an operation nests (default 10).
	MaxDepth int
	// MaxAliases bounds the aliases in one operation (default 20).
	MaxAliases int
	// Logger receives internal errors and panics (default slog.Default()).
	Logger *slog.Logger
}

// NewHandler returns the GraphQL endpoint: POST and GET transports,
// automatic persisted queries, a complexity limit, one error presenter and
// one recover func.
func NewHandler(r *Resolver, opt Options) *handler.Server {
	if opt.ComplexityLimit <= 0 {
		opt.ComplexityLimit = 10000
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = 10
	}
	if opt.MaxAliases <= 0 {
		opt.MaxAliases = 20
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	cfg := Config{Resolvers: r}
	cfg.Directives.Auth = requireCaller
	cfg.Complexity.Query.Properties = func(child int, first *int, _ *string, _ *property.Filter, _ *property.Order) int {
		return pageCost(child, first)
	}
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opt.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(&strictInput{})
	srv.Use(shapeLimit{maxDepth: opt.MaxDepth, maxAliases: opt.MaxAliases})
	srv.Use(extension.FixedComplexityLimit(opt.ComplexityLimit))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx)
		if op.OperationName != "" {
			reqlog.Add(ctx, slog.String("operation", op.OperationName))
		}
		return next(ctx)
	})
	p := presenter{log: opt.Logger}
	srv.SetErrorPresenter(p.present)
	srv.SetRecoverFunc(p.recover)
	return srv
}

// timeFormat is how times appear in error extensions, as the Time scalar.
const timeFormat = time.RFC3339Nano
