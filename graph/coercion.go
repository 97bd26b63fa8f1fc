package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/propertyhq/property/apierr"
)

// strictInput holds variables to GraphQL's input coercion rules for the
// built-in scalars and enums, which gqlgen and gqlparser apply loosely.
// gqlgen decodes JSON numbers as json.Number, a string type, so gqlparser's
// validator.VariableValues cannot tell the number 2 from the string "2" and
// accepts any numeric string for an Int or a Float (and any number for a
// String); gqlgen's default UnmarshalInt and UnmarshalFloat would then parse
// the string (gqlgen.yml binds the stricter graph/strict ones instead).
// It also matches enum values regardless of case, and the generated enum
// lookup turns an unknown spelling into the zero value. Literals in the
// query are already checked strictly (the ValuesOfCorrectType rule); this
// runs right after VariableValues, on the values it produced, and answers a
// wrong type as a validation error naming the variable, as the spec asks.
type strictInput struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*strictInput)(nil)

func (*strictInput) ExtensionName() string { return "StrictInput" }

func (s *strictInput) Validate(schema graphql.ExecutableSchema) error {
	s.schema = schema.Schema()
	return nil
}

func (s *strictInput) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	for _, def := range op.Operation.VariableDefinitions {
		v, ok := op.Variables[def.Variable]
		if !ok {
			continue
		}
		if err := s.check(def.Type, v, ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}, def.Variable); err != nil {
			errcode.Set(err, apierr.GraphQLValidationFailed)
			return err
		}
	}
	return nil
}

// check reports the first value in v that typ does not accept.
func (s *strictInput) check(typ *ast.Type, v any, path ast.Path, variable string) *gqlerror.Error {
	if v == nil {
		return nil // VariableValues has checked nullability
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return s.check(typ.Elem, v, path, variable) // a single value is a list of one
		}
		for i, e := range list {
			if err := s.check(typ.Elem, e, append(path, ast.PathIndex(i)), variable); err != nil {
				return err
			}
		}
		return nil
	}
	def := s.schema.Types[typ.NamedType]
	if def == nil {
		return nil
	}
	fail := func(format string, args ...any) *gqlerror.Error {
		where := ""
		if len(path) > 2 {
			where = fmt.Sprintf(" at %q", pathString(path[1:]))
		}
		return gqlerror.ErrorPathf(path, "Variable \"$%s\" got invalid value %s%s; %s", variable, show(v), where, fmt.Sprintf(format, args...))
	}
	switch def.Kind {
	case ast.InputObject:
		fields, ok := v.(map[string]any)
		if !ok {
			return nil // VariableValues refuses non-objects
		}
		for _, f := range def.Fields {
			if fv, ok := fields[f.Name]; ok {
				if err := s.check(f.Type, fv, append(path, ast.PathName(f.Name)), variable); err != nil {
					return err
				}
			}
		}
	case ast.Enum:
		name, ok := v.(string)
		if !ok || def.EnumValues.ForName(name) == nil {
			return fail("%s is one of %s (exactly so spelled).", def.Name, enumNames(def))
		}
	case ast.Scalar:
		switch def.Name {
		case "Int":
			if !isInt(v) {
				if s, ok := v.(string); ok {
					return fail("Int cannot represent a string: send the number without quotes%s.", asNumber(s))
				}
				return fail("Int is a whole number.")
			}
		case "Float":
			if !isNumber(v) {
				if s, ok := v.(string); ok {
					return fail("Float cannot represent a string: send the number without quotes%s.", asNumber(s))
				}
				return fail("Float is a number.")
			}
		case "String":
			if _, ok := v.(string); !ok {
				return fail("String cannot represent a number: put the value in quotes.")
			}
		case "ID":
			if _, ok := v.(string); !ok && !isInt(v) {
				return fail("ID is a string (or a whole number).")
			}
		}
	}
	return nil
}

// isInt: a whole number, as JSON (json.Number) or a default value (int64).
func isInt(v any) bool {
	switch n := v.(type) {
	case json.Number:
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return true
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53
	case int, int32, int64:
		return true
	case float64:
		return n == math.Trunc(n) && math.Abs(n) <= 1<<53
	}
	return false
}

func isNumber(v any) bool {
	switch n := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(n), 64)
		return err == nil
	case int, int32, int64, float64:
		return true
	}
	return false
}

// asNumber suggests s without its quotes when it is a number.
func asNumber(s string) string {
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return " (" + strings.TrimSpace(s) + ")"
	}
	return ""
}

// show renders a variable's value the way the client sent it.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 64 {
		return fmt.Sprintf("of type %T", v)
	}
	return string(b)
}

func pathString(p ast.Path) string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(e))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(e))
		}
	}
	return b.String()
}

func enumNames(def *ast.Definition) string {
	names := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
