package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	property "github.com/propertyhq/property"
)

// CodeComplexityLimit is the contract's code for an operation over the
// cost, depth or alias limit.
const CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"

func init() {
	// A request over a limit is refused before execution: a protocol error
	// with HTTP status 422, not a 200 with data.
	errcode.RegisterErrorType(CodeComplexityLimit, errcode.KindProtocol)
}

// shapeLimit refuses operations nested deeper than maxDepth or using more
// than maxAliases aliases, before they run. Introspection fields (__schema,
// __type) are not counted: introspection is switched on or off as a whole,
// and the Playground's own introspection query is deep.
type shapeLimit struct {
	maxDepth   int
	maxAliases int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                          { return "ShapeLimit" }
func (shapeLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l shapeLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	o := op.Doc.Operations.ForName(op.OperationName)
	if o == nil {
		return nil
	}
	aliases := 0
	depth := measure(o.SelectionSet, 1, &aliases, map[string]bool{})
	var err *gqlerror.Error
	switch {
	case depth > l.maxDepth:
		err = gqlerror.Errorf("The operation is nested %d levels deep; the limit is %d.", depth, l.maxDepth)
	case aliases > l.maxAliases:
		err = gqlerror.Errorf("The operation uses %d aliases; the limit is %d.", aliases, l.maxAliases)
	default:
		return nil
	}
	errcode.Set(err, CodeComplexityLimit)
	return err
}

// measure returns the depth of set and counts its aliases, following
// fragments (each named fragment once per path, so cycles end).
func measure(set ast.SelectionSet, depth int, aliases *int, seen map[string]bool) int {
	deepest := depth - 1
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") && s.Name != "__typename" {
				continue
			}
			if s.Alias != "" && s.Alias != s.Name {
				*aliases++
			}
			d = depth
			if len(s.SelectionSet) > 0 {
				d = measure(s.SelectionSet, depth+1, aliases, seen)
			}
		case *ast.InlineFragment:
			d = measure(s.SelectionSet, depth, aliases, seen)
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			d = measure(s.Definition.SelectionSet, depth, aliases, seen)
			delete(seen, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// pageCost costs a list field by the page it asks for: first clamped to
// the valid range, so an out-of-range first still reaches validation and
// gets its own BAD_USER_INPUT instead of a complexity error.
func pageCost(childComplexity int, first *int) int {
	n := property.DefaultPageSize
	if first != nil {
		n = min(max(*first, 1), property.MaxPageSize)
	}
	return 1 + n*childComplexity
}

// requireCaller is the @auth directive: the field needs a signed-in caller.
func requireCaller(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	if property.CallerFrom(ctx).IsAnonymous() {
		return nil, property.Errorf(property.EUNAUTHENTICATED, "Sign in to do this: send Authorization: Bearer <token>.")
	}
	return next(ctx)
}
