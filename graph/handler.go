package graph

import (
	"context"
	"log/slog"
	"net/http"
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

// Defaults of the limits, for the configuration to start from.
const (
	DefaultComplexityLimit = 10000
	DefaultMaxDepth        = 10
	DefaultMaxAliases      = 20
)

// Options shape the GraphQL server.
type Options struct {
	// Introspection allows schema introspection (the Playground needs it).
	Introspection bool
	// ComplexityLimit bounds the cost of one operation (0: the default,
	// DefaultComplexityLimit). Every field costs 1 plus its children; a
	// listing costs its page times its children plus the items it may read;
	// images cost MaxImages times their children.
	ComplexityLimit int
	// MaxDepth bounds how deeply an operation nests (0: DefaultMaxDepth).
	MaxDepth int
	// MaxAliases bounds the aliases in one operation; 0 allows none.
	MaxAliases int
	// MaxImages is the most images a property can have, what its images
	// field is costed at (0: property.DefaultMaxImages).
	MaxImages int
	// MaxSelections bounds the selections written in one document (0:
	// DefaultMaxSelections).
	MaxSelections int
	// MaxIntrospectionDepth bounds how deeply introspection nests (0:
	// DefaultMaxIntrospectionDepth).
	MaxIntrospectionDepth int
	// MaxResponseBytes bounds an answer's data, measured as it travels in
	// a Lambda response (0: DefaultMaxResponseBytes).
	MaxResponseBytes int
	// Logger receives internal errors and panics (default slog.Default()).
	Logger *slog.Logger
}

// NewHandler returns the GraphQL endpoint: POST and GET transports,
// automatic persisted queries, the limits (size, depth, aliases and cost,
// measured before validation; one read budget per operation; a capped
// answer), one error presenter and one recover func.
func NewHandler(r *Resolver, opt Options) *handler.Server {
	if opt.ComplexityLimit <= 0 {
		opt.ComplexityLimit = DefaultComplexityLimit
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if opt.MaxImages <= 0 {
		opt.MaxImages = property.DefaultMaxImages
	}
	if opt.MaxSelections <= 0 {
		opt.MaxSelections = DefaultMaxSelections
	}
	if opt.MaxResponseBytes <= 0 {
		opt.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opt.MaxIntrospectionDepth <= 0 {
		opt.MaxIntrospectionDepth = DefaultMaxIntrospectionDepth
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	cfg := Config{Resolvers: r}
	cfg.Directives.Auth = requireCaller
	cfg.Complexity.Query.Properties = func(child int, first *int, _ *string, filter *property.Filter, order *property.Order) int {
		q := property.ListQuery{First: pageSize(first)}
		if filter != nil {
			q.Filter = *filter
		}
		if order != nil {
			q.Order = *order
		}
		return pageCost(child, q.First, r.Store.ListReads(q))
	}
	cfg.Complexity.Property.Images = func(child int) int {
		return satAdd(1, satMul(opt.MaxImages, child))
	}
	es := NewExecutableSchema(cfg)
	srv := handler.New(es)
	srv.AddTransport(getTransport{})
	srv.AddTransport(transport.POST{})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	if opt.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// After the persisted query extension, which fills in the query text.
	srv.Use(&limits{
		schema: es, cache: cache, introspection: opt.Introspection,
		maxSelections: opt.MaxSelections, maxDepth: opt.MaxDepth, maxIntroDepth: opt.MaxIntrospectionDepth,
		maxAliases: opt.MaxAliases, maxCost: opt.ComplexityLimit, topFieldsInError: 3,
	})
	srv.Use(&strictInput{})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx)
		if op.OperationName != "" {
			reqlog.Add(ctx, slog.String("operation", op.OperationName))
		}
		// One read budget for every listing field and alias of the operation.
		return next(property.WithReads(ctx))
	})
	srv.AroundResponses(capResponse(opt.MaxResponseBytes))
	p := presenter{log: opt.Logger, images: r.Images}
	srv.SetErrorPresenter(p.present)
	srv.SetRecoverFunc(p.recover)
	return srv
}

// getTransport is gqlgen's GET transport with the request marked as a GET,
// so that the limits refuse, with a code, a mutation that an automatic
// persisted query's hash stands for (gqlgen's own refusal has none; the
// HTTP guard refuses the mutations it can see in the query string).
type getTransport struct{ transport.GET }

type overGET struct{}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.GET.Do(w, r.WithContext(context.WithValue(r.Context(), overGET{}, true)), exec)
}

// timeFormat is how times appear in error extensions, as the Time scalar.
const timeFormat = time.RFC3339Nano
