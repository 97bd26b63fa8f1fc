// Package strict binds GraphQL's built-in Int, Float and ID (gqlgen.yml,
// models) to unmarshalers that follow the spec's input coercion. gqlgen's
// own accept a string for a number ("2" as an Int, "415000" as a Float) and
// a fraction or a boolean as an ID. The operation is refused earlier, with
// the variable named, by graph's strictInput check; these make sure no
// other path (a new transport, a default value) lets a loose value through.
// Output is gqlgen's.
package strict

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalInt writes an Int.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt accepts a whole number: a JSON number (json.Number), or an
// int64 or whole float64 from a literal or default value.
func UnmarshalInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		return fitInt(n)
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return fitInt(i)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, fmt.Errorf("Int cannot represent %s", n)
		}
		return wholeInt(f)
	case float64:
		return wholeInt(n)
	case string:
		return 0, fmt.Errorf("Int cannot represent a string (%q): send the number without quotes", n)
	}
	return 0, fmt.Errorf("Int cannot represent a %T", v)
}

func fitInt(i int64) (int, error) {
	if int64(int(i)) != i {
		return 0, fmt.Errorf("Int cannot represent %d: out of range", i)
	}
	return int(i), nil
}

func wholeInt(f float64) (int, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("Int cannot represent %v: not a whole number", f)
	}
	return int(f), nil
}

// MarshalFloatContext writes a Float (gqlgen's: no NaN or infinity).
func MarshalFloatContext(f float64) graphql.ContextMarshaler { return graphql.MarshalFloatContext(f) }

// UnmarshalFloatContext accepts a number, never a string.
func UnmarshalFloatContext(_ context.Context, v any) (float64, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, fmt.Errorf("Float cannot represent %s", n)
		}
		return f, nil
	case string:
		return 0, fmt.Errorf("Float cannot represent a string (%q): send the number without quotes", n)
	}
	return 0, fmt.Errorf("Float cannot represent a %T", v)
}

// MarshalID writes an ID.
func MarshalID(s string) graphql.Marshaler { return graphql.MarshalID(s) }

// UnmarshalID accepts a string or a whole number (spec: "ID").
func UnmarshalID(v any) (string, error) {
	switch n := v.(type) {
	case string:
		return n, nil
	case int:
		return strconv.Itoa(n), nil
	case int64:
		return strconv.FormatInt(n, 10), nil
	case json.Number:
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return "", fmt.Errorf("ID cannot represent %s: send a string or a whole number", n)
		}
		return string(n), nil
	}
	return "", fmt.Errorf("ID cannot represent a %T: send a string or a whole number", v)
}
