package graph

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
)

func init() {
	// A request over a limit is refused before execution: a protocol error
	// with HTTP status 422, not a 200 with data.
	errcode.RegisterErrorType(apierr.ComplexityLimit, errcode.KindProtocol)
	errcode.RegisterErrorType(apierr.BadRequest, errcode.KindProtocol)
}

// Limits that are not configuration: they bound the work validation may do
// and how deep introspection may go, whatever the deployment.
const (
	// DefaultMaxSelections bounds the selections (fields, fragment spreads,
	// inline fragments) written in one document. gqlparser's validation
	// compares same-named selections pairwise, so its time grows with the
	// square of this number (about 25 ms at the cap on a loaded 2-core
	// machine, see docs/BENCHMARKS.md). Real queries stay far below it:
	// GraphiQL's introspection query has 81, a page with every field 40.
	DefaultMaxSelections = 300
	// DefaultMaxIntrospectionDepth bounds how deeply an introspection field
	// (__schema, __type) nests: graphql-js getIntrospectionQuery() with every
	// option reaches 15 (__schema types fields args type, the nine levels
	// of ofType in its TypeRef fragment, and a leaf).
	DefaultMaxIntrospectionDepth = 15
	// DefaultMaxResponseBytes bounds an answer's data as it travels in a
	// Lambda response payload (6 MB for a synchronous invocation), leaving
	// room for the envelope, headers and errors.
	DefaultMaxResponseBytes = 5 << 20
)

// limits measures an operation before gqlgen parses and validates it, and
// refuses it when it is over a limit. It runs as an operation parameter
// mutator, so it sees the query text (after automatic persisted queries
// filled it in) before gqlparser's validation rules run: those are quadratic
// in the selections of a document, and gqlgen's own complexity walk is
// exponential in a chain of fragments that each spread the next twice.
//
// The measure is linear in the document: each named fragment is measured
// once and its shape memoised, so a fragment spread a million times over
// costs one lookup per spread.
type limits struct {
	schema graphql.ExecutableSchema
	// cache is the server's query cache: a document found there has been
	// parsed and validated already, and needs only measuring.
	cache graphql.Cache[*ast.QueryDocument]

	introspection    bool
	maxSelections    int
	maxDepth         int
	maxIntroDepth    int
	maxAliases       int
	maxCost          int
	topFieldsInError int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*limits)(nil)

func (*limits) ExtensionName() string                          { return "Limits" }
func (*limits) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l *limits) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	doc, ok := l.cache.Get(ctx, params.Query)
	if !ok {
		var err error
		doc, err = parser.ParseQuery(&ast.Source{Input: params.Query})
		if err != nil {
			return nil // gqlgen parses it again and answers the syntax error
		}
		if n := countSelections(doc); n > l.maxSelections {
			return refuse(apierr.ComplexityLimit, "The document has %d selections; the limit is %d.", n, l.maxSelections)
		}
	}
	op := doc.Operations.ForName(params.OperationName)
	if op == nil {
		return nil // gqlgen answers the missing operation
	}
	m := measurer{
		ctx: ctx, es: l.schema, schema: l.schema.Schema(), doc: doc, vars: params.Variables,
		memo: map[string]*shape{},
	}
	root := m.schema.Query
	switch op.Operation {
	case ast.Mutation:
		root = m.schema.Mutation
	case ast.Subscription:
		root = m.schema.Subscription
	}
	if op.Operation != ast.Query && ctx.Value(overGET{}) != nil {
		return refuse(apierr.BadRequest, "Mutations must be sent with POST.")
	}
	var top []part
	s := m.selections(op.SelectionSet, root, &top)
	switch {
	case s.introspects && !l.introspection:
		return refuse(apierr.GraphQLValidationFailed, "Introspection is disabled on this server.")
	case s.depth > l.maxDepth:
		return refuse(apierr.ComplexityLimit, "The operation is nested %d levels deep; the limit is %d.", s.depth, l.maxDepth)
	case s.introDepth > l.maxIntroDepth:
		return refuse(apierr.ComplexityLimit, "The introspection query is nested %d levels deep; the limit is %d.", s.introDepth, l.maxIntroDepth)
	case s.aliases > l.maxAliases:
		return refuse(apierr.ComplexityLimit, "The operation uses %d aliases; the limit is %d.", s.aliases, l.maxAliases)
	case s.cost > l.maxCost:
		return refuse(apierr.ComplexityLimit, "The operation costs %s; the limit is %d. %s", costString(s.cost), l.maxCost, trimHint(top, l.topFieldsInError))
	}
	return nil
}

func refuse(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// countSelections counts the selections written in doc, every operation and
// fragment included, without following spreads: the work validation does.
func countSelections(doc *ast.QueryDocument) int {
	n := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			n++
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return n
}

// shape is what a selection set weighs.
type shape struct {
	// depth is how many levels the set spans outside introspection, and
	// introDepth inside it (under __schema or __type).
	depth, introDepth int
	aliases           int
	cost              int
	introspects       bool
}

func (s *shape) add(o shape) {
	s.depth = max(s.depth, o.depth)
	s.introDepth = max(s.introDepth, o.introDepth)
	s.aliases = satAdd(s.aliases, o.aliases)
	s.cost = satAdd(s.cost, o.cost)
	s.introspects = s.introspects || o.introspects
}

// part is one top-level selection and its cost, to tell a refused client
// what to trim.
type part struct {
	name string
	cost int
}

type measurer struct {
	ctx    context.Context
	es     graphql.ExecutableSchema
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	// memo holds each named fragment's shape once measured; nil while it is
	// being measured, so a cycle (which validation refuses) ends.
	memo map[string]*shape
}

// selections measures set, a selection set on typ (nil when unknown: the
// document is not validated yet, and validation will refuse it). When top
// is not nil it receives each selection's cost.
func (m *measurer) selections(set ast.SelectionSet, typ *ast.Definition, top *[]part) shape {
	var s shape
	for _, sel := range set {
		var c shape
		var name string
		switch x := sel.(type) {
		case *ast.Field:
			c, name = m.field(x, typ), x.Alias
		case *ast.InlineFragment:
			t := typ
			if x.TypeCondition != "" {
				t = m.schema.Types[x.TypeCondition]
			}
			c, name = m.selections(x.SelectionSet, t, nil), "... on "+x.TypeCondition
		case *ast.FragmentSpread:
			c, name = m.fragment(x.Name), "..."+x.Name
		}
		if top != nil {
			*top = append(*top, part{name, c.cost})
		}
		s.add(c)
	}
	return s
}

func (m *measurer) fragment(name string) shape {
	if s, ok := m.memo[name]; ok {
		if s == nil {
			return shape{}
		}
		return *s
	}
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		return shape{}
	}
	m.memo[name] = nil
	s := m.selections(def.SelectionSet, m.schema.Types[def.TypeCondition], nil)
	m.memo[name] = &s
	return s
}

func (m *measurer) field(f *ast.Field, typ *ast.Definition) shape {
	var def *ast.FieldDefinition
	var childType *ast.Definition
	if typ != nil {
		def = typ.Fields.ForName(f.Name)
	}
	if def != nil {
		childType = m.schema.Types[def.Type.Name()]
	}
	child := m.selections(f.SelectionSet, childType, nil)
	s := shape{aliases: child.aliases, introspects: child.introspects}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = satAdd(s.aliases, 1)
	}
	if f.Name == "__schema" || f.Name == "__type" {
		s.introspects = true
		s.introDepth = 1 + max(child.depth, child.introDepth)
	} else {
		s.depth = 1 + child.depth
		if child.introDepth > 0 {
			s.introDepth = 1 + child.introDepth
		}
	}
	s.cost = satAdd(1, child.cost)
	if def != nil {
		// The schema's own cost functions (set in NewHandler), fed the
		// arguments as gqlgen would coerce them.
		if c, ok := m.es.Complexity(m.ctx, typ.Name, f.Name, child.cost, m.args(f, def)); ok {
			s.cost = min(max(c, 1), costCap)
		}
	}
	return s
}

// args are f's arguments as raw values with the schema's defaults, the
// input gqlgen's generated argument parsers expect.
func (m *measurer) args(f *ast.Field, def *ast.FieldDefinition) map[string]any {
	if len(def.Arguments) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, a := range def.Arguments {
		if arg := f.Arguments.ForName(a.Name); arg != nil {
			if v, err := arg.Value.Value(m.vars); err == nil {
				out[a.Name] = v
			}
			continue
		}
		if a.DefaultValue != nil {
			if v, err := a.DefaultValue.Value(nil); err == nil {
				out[a.Name] = v
			}
		}
	}
	return out
}

// costCap keeps cost arithmetic far from overflow; any cost this high is
// over every limit.
const costCap = 1 << 40

func satAdd(a, b int) int { return min(a+b, costCap) }

func satMul(a, b int) int {
	if a != 0 && b > costCap/a {
		return costCap
	}
	return min(a*b, costCap)
}

func costString(c int) string {
	if c >= costCap {
		return fmt.Sprintf("more than %d", costCap)
	}
	return fmt.Sprint(c)
}

// trimHint names the costliest top-level selections, so a refused client
// knows what to ask less of.
func trimHint(top []part, n int) string {
	sort.SliceStable(top, func(i, j int) bool { return top[i].cost > top[j].cost })
	if len(top) > n {
		top = top[:n]
	}
	parts := make([]string, len(top))
	for i, p := range top {
		parts[i] = fmt.Sprintf("%s (%s)", p.name, costString(p.cost))
	}
	return "Costliest top-level selections: " + strings.Join(parts, ", ") + ". Ask for fewer items (first) or fewer fields."
}

// capResponse replaces an answer whose data would not fit maxBytes with a
// coded error: in Lambda, a response over the payload limit is lost and the
// client gets a 5xx. The data is already encoded when the response passes
// here, so measuring it costs one pass over its bytes.
func capResponse(maxBytes int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		if n := payloadLen(resp.Data); n > maxBytes {
			err := refuse(apierr.ResponseTooLarge, "The answer would take %d bytes; the limit is %d. Ask for fewer items (first) or fewer fields.", n, maxBytes)
			return &graphql.Response{Errors: gqlerror.List{err}, Extensions: resp.Extensions}
		}
		return resp
	}
}

// payloadLen is how many bytes b takes once embedded as a JSON string, as
// an API Gateway response's body is in the Lambda payload: quotes and
// backslashes escaped, U+2028 and U+2029 written as \u escapes, and, in
// case the encoder escapes HTML, <, > and & as \u00XX.
func payloadLen(b []byte) int {
	n := len(b)
	for i, c := range b {
		switch c {
		case '"', '\\':
			n++
		case '<', '>', '&':
			n += 5
		case 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				n += 3
			}
		}
	}
	return n
}

// pageSize is the page a list field asks for, first clamped to the valid
// range: an out-of-range first still reaches validation and gets its own
// BAD_USER_INPUT instead of a complexity error.
func pageSize(first *int) int {
	if first == nil {
		return property.DefaultPageSize
	}
	return min(max(*first, 1), property.MaxPageSize)
}

// pageCost costs a list field by its page of n items and the items it may
// read.
func pageCost(childComplexity, n, reads int) int {
	return satAdd(satAdd(1, satMul(n, childComplexity)), reads)
}
