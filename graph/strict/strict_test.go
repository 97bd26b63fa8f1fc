package strict_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/propertyhq/property/graph/strict"
)

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		// want is the value, or nil when the input must be refused.
		wantInt   any
		wantFloat any
		wantID    any
	}{
		{"JSON integer", json.Number("2"), 2, 2.0, "2"},
		{"JSON fraction", json.Number("2.5"), nil, 2.5, nil},
		{"JSON whole float", json.Number("2.0"), 2, 2.0, nil},
		{"JSON exponent", json.Number("1e3"), 1000, 1000.0, nil},
		{"literal int", int64(7), 7, 7.0, "7"},
		{"literal float", 1.5, nil, 1.5, nil},
		{"string of digits", "2", nil, nil, "2"},
		{"string of a price", "415000", nil, nil, "415000"},
		{"boolean", true, nil, nil, nil},
		{"too large for an Int", json.Number("99999999999999999999"), nil, 1e20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, err := strict.UnmarshalInt(tc.in)
			check(t, "Int", i, err, tc.wantInt)
			f, err := strict.UnmarshalFloatContext(context.Background(), tc.in)
			check(t, "Float", f, err, tc.wantFloat)
			id, err := strict.UnmarshalID(tc.in)
			check(t, "ID", id, err, tc.wantID)
		})
	}
}

func check(t *testing.T, typ string, got any, err error, want any) {
	t.Helper()
	switch {
	case want == nil && err == nil:
		t.Errorf("%s accepted the input as %v; want a refusal", typ, got)
	case want != nil && err != nil:
		t.Errorf("%s refused the input: %v; want %v", typ, err, want)
	case want != nil && got != want:
		t.Errorf("%s = %v (%T), want %v (%T)", typ, got, got, want, want)
	}
}
