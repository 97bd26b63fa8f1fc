package dynamo

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
)

// fields are the property's own fields, the ones a client sets, as stored:
// this one table drives the item's encoding (MarshalDynamoDBAttributeValue
// and UnmarshalDynamoDBAttributeValue), the copies between item, property
// and create input, the update expression (Update), the change applied in
// memory (updateChange), the fingerprint (printedFields) and the legacy
// shaping (fieldSettings, legacyWatched). Adding a field is one row here;
// see "Adding a field" in docs/DESIGN.md.
//
// A field with a fingerprint attribute is one the old Lambdas also change,
// so the backfill's repair can tell (backfill.go); a field they do not know
// has none.
var fields = []field{
	required("title", "fpt", func(p *property.Property) *string { return &p.Title },
		func(in *property.UpdateInput) *string { return in.Title }, func(in *property.CreateInput) *string { return &in.Title }),
	required("description", "fpd", func(p *property.Property) *string { return &p.Description },
		func(in *property.UpdateInput) *string { return in.Description }, func(in *property.CreateInput) *string { return &in.Description }),
	required("price", "fpp", func(p *property.Property) *float64 { return &p.Price },
		func(in *property.UpdateInput) *float64 { return in.Price }, func(in *property.CreateInput) *float64 { return &in.Price }),
	required("address", "fpa", func(p *property.Property) *string { return &p.Address },
		func(in *property.UpdateInput) *string { return in.Address }, func(in *property.CreateInput) *string { return &in.Address }),
	required("city", "fpc", func(p *property.Property) *string { return &p.City },
		func(in *property.UpdateInput) *string { return in.City }, func(in *property.CreateInput) *string { return &in.City }),
	required("state", "fps", func(p *property.Property) *string { return &p.State },
		func(in *property.UpdateInput) *string { return in.State }, func(in *property.CreateInput) *string { return &in.State }),
	required("zip", "fpz", func(p *property.Property) *string { return &p.Zip },
		func(in *property.UpdateInput) *string { return in.Zip }, func(in *property.CreateInput) *string { return &in.Zip }),
	optional("bedrooms", func(p *property.Property) **int { return &p.Bedrooms },
		func(in *property.UpdateInput) *int { return in.Bedrooms }, func(in *property.CreateInput) *int { return in.Bedrooms }),
}

// field is one row of fields. Its functions are built by required and
// optional from three accessors, so a row names the field once per type.
type field struct {
	attr  string // the attribute, spelled as the schema spells the field
	print string // its fingerprint attribute, or "" for none
	// get is the field's value in p (nil for an optional field not given),
	// and set stores such a value.
	get func(p *property.Property) any
	set func(p *property.Property, v any)
	// decode reads the field of p from its attribute without reflection,
	// exactly as attributevalue would (decodeValue); ptr points at the field
	// in p, attributevalue's way to decode it (decodeReference in the tests
	// compares the two).
	decode func(p *property.Property, av types.AttributeValue) error
	ptr    func(p *property.Property) any
	// given is the field's new value in an update; ok is false when the
	// update leaves it as it is.
	given func(in *property.UpdateInput) (v any, ok bool)
	// created is the field's value in a create.
	created func(in *property.CreateInput) any
}

// required is a field every property has.
func required[T any](attr, print string, of func(*property.Property) *T,
	upd func(*property.UpdateInput) *T, create func(*property.CreateInput) *T) field {
	return field{attr: attr, print: print,
		get:    func(p *property.Property) any { return *of(p) },
		set:    func(p *property.Property, v any) { *of(p) = v.(T) },
		decode: func(p *property.Property, av types.AttributeValue) error { return decodeValue(av, of(p)) },
		ptr:    func(p *property.Property) any { return of(p) },
		given: func(in *property.UpdateInput) (any, bool) {
			if v := upd(in); v != nil {
				return *v, true
			}
			return nil, false
		},
		created: func(in *property.CreateInput) any { return *create(in) },
	}
}

// optional is a field a property may lack (nil in the domain, absent in
// the item); an update cannot take it away.
func optional[T any](attr string, of func(*property.Property) **T,
	upd func(*property.UpdateInput) *T, create func(*property.CreateInput) *T) field {
	value := func(v *T) any {
		if v == nil {
			return nil
		}
		return *v
	}
	return field{attr: attr,
		get: func(p *property.Property) any { return value(*of(p)) },
		set: func(p *property.Property, v any) {
			*of(p) = nil
			if v != nil {
				t := v.(T)
				*of(p) = &t
			}
		},
		// As attributevalue decodes into a **T: NULL is nil, anything
		// else a new T.
		decode: func(p *property.Property, av types.AttributeValue) error {
			if isNull(av) {
				*of(p) = nil
				return nil
			}
			v := new(T)
			if err := decodeValue(av, v); err != nil {
				return err
			}
			*of(p) = v
			return nil
		},
		ptr: func(p *property.Property) any { return of(p) },
		given: func(in *property.UpdateInput) (any, bool) {
			v := upd(in)
			return value(v), v != nil
		},
		created: func(in *property.CreateInput) any { return value(create(in)) },
	}
}

// copyFields copies the fields of src to dst.
func copyFields(dst, src *property.Property) {
	for _, f := range fields {
		f.set(dst, f.get(src))
	}
}

// fieldText is a field's value as its fingerprint sees it: text as it is,
// a price in whole cents (centsText).
func fieldText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return centsText(v)
	}
	panic(fmt.Sprintf("dynamo: no fingerprint text for a %T", v))
}

// printedFields are the fields with a fingerprint.
var printedFields = func() []printedField {
	var out []printedField
	for _, f := range fields {
		if f.print != "" {
			get := f.get
			out = append(out, printedField{field: f.attr, attr: f.print,
				value: func(it *item) string { return fieldText(get(&it.Property)) }})
		}
	}
	return out
}()

// fieldAttrs are the attributes of the fields.
func fieldAttrs() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.attr
	}
	return out
}

// setFields sets, in upd, each field in an update and its fingerprint.
func setFields(upd expression.UpdateBuilder, in *property.UpdateInput) expression.UpdateBuilder {
	for _, f := range fields {
		v, ok := f.given(in)
		if !ok {
			continue
		}
		upd = upd.Set(expression.Name(f.attr), expression.Value(v))
		if f.print != "" {
			upd = upd.Set(expression.Name(f.print), expression.Value(fieldPrint(fieldText(v))))
		}
	}
	return upd
}

// encodeFields adds the fields of p to m; an optional field not given is
// left out.
func encodeFields(m map[string]types.AttributeValue, p *property.Property) error {
	for _, f := range fields {
		v := f.get(p)
		if v == nil {
			continue
		}
		av, err := attributevalue.Marshal(v)
		if err != nil {
			return err
		}
		m[f.attr] = av
	}
	return nil
}

// decodeFields reads the fields of p from m; a missing one stays zero. It
// returns how many of m's attributes it read.
func decodeFields(m map[string]types.AttributeValue, p *property.Property) (int, error) {
	n := 0
	for _, f := range fields {
		if av, ok := m[f.attr]; ok {
			n++
			if err := f.decode(p, av); err != nil {
				return n, attrError(f.attr, err)
			}
		}
	}
	return n, nil
}
