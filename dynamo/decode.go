package dynamo

// Decoding an item without reflection.
//
// Reading an item is on the path of every read: attributevalue's
// reflection over the whole item, then once more per field, was a few per
// cent of a read's CPU and a large share of its allocations. item.decode
// reads each attribute straight from the map instead, with the rules
// attributevalue applies to the Go type it would have decoded into
// (decodeValue): the result, and whether there is an error, are the same
// for every item (decodeReference in decode_test.go keeps the old code, and
// TestDecodeItem and FuzzDecodeItem compare the two).
//
// The one rule not copied is attributevalue's name matching: an attribute
// it does not find by its exact name goes to a field whose name differs
// only in case (EqualFold), in map order when both are there. An item
// with such an attribute (foldedAttr) is left to attributevalue, as before.

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemAttrs are item's own attributes (its dynamodbav tags) and where each
// is decoded; the domain fields are in fields. TestItemAttrsMatchTags keeps
// the list and the tags together.
var itemAttrs = []struct {
	name string
	ptr  func(it *item) any
}{
	{"PK", func(it *item) any { return &it.PK }},
	{"SK", func(it *item) any { return &it.SK }},
	{"id", func(it *item) any { return &it.ID }},
	{"ownerId", func(it *item) any { return &it.OwnerID }},
	{"version", func(it *item) any { return &it.Version }},
	{"createdAt", func(it *item) any { return &it.CreatedAt }},
	{"updatedAt", func(it *item) any { return &it.UpdatedAt }},
	{imageMap, func(it *item) any { return &it.Images }},
	{"deleting", func(it *item) any { return &it.Deleting }},
	{"wtok", func(it *item) any { return &it.WriteToken }},
	{"idem", func(it *item) any { return &it.Idem }},
	{"lpk", func(it *item) any { return &it.ListPK }},
	{"cpk", func(it *item) any { return &it.CityPK }},
	{"opk", func(it *item) any { return &it.OwnerPK }},
	{"skey", func(it *item) any { return &it.StateKey }},
	{"csk", func(it *item) any { return &it.CreatedKey }},
	{"psk", func(it *item) any { return &it.PriceKey }},
}

// decode decodes a stored item, ours or legacy, from its attributes (see
// UnmarshalDynamoDBAttributeValue).
func (it *item) decode(stored map[string]types.AttributeValue) error {
	*it = item{stored: stored}
	imgs, hasImages := stored[imageList]
	set, hasSet := stored[imageMap]
	var keys []string
	earlier := false
	switch v := imgs.(type) {
	case nil:
	case *types.AttributeValueMemberM:
		// This API's earlier layout: its map under images, no imageSet.
		if !hasSet {
			set, earlier = v, true
		}
	default:
		if hasSet {
			// The old model's list beside our map: only checked.
			if err := imageListError(v); err != nil {
				return err
			}
		} else {
			var err error
			if keys, err = legacyImageKeys(v); err != nil {
				return err
			}
		}
	}
	// read counts the attributes of stored read below, to tell whether
	// there are others (foldedAttr).
	read := 0
	if hasImages {
		read++
	}
	for _, a := range itemAttrs {
		if av, ok := stored[a.name]; ok {
			read++
			if err := decodeValue(av, a.ptr(it)); err != nil {
				return attrError(a.name, err)
			}
		}
	}
	if earlier {
		if err := decodeValue(set, &it.Images); err != nil {
			return attrError(imageList, err)
		}
	}
	n, err := decodeFields(stored, &it.Property)
	if err != nil {
		return err
	}
	read += n
	for _, f := range printedFields {
		if av, ok := stored[f.attr]; ok {
			read++
			if v, ok := av.(*types.AttributeValueMemberS); ok {
				if it.prints == nil {
					it.prints = map[string]string{}
				}
				it.prints[f.attr] = v.Value
			}
		}
	}
	if read < len(stored) && foldedAttr(stored) {
		raw := stored
		if earlier {
			raw = withAttr(raw, imageMap, set)
		}
		var s storedItem
		if err := attributevalue.UnmarshalMap(raw, &s); err != nil {
			return err
		}
		s.Property, s.prints, s.stored = it.Property, it.prints, it.stored
		*it = item(s)
	}
	if _, ok := stored["version"]; !ok {
		it.legacy, it.Version = true, 1
		if it.ID == "" {
			it.ID = strings.TrimPrefix(it.PK, pkPrefix)
		}
	}
	if !hasSet && keys != nil {
		// Only the list: the old Lambdas' images.
		it.Images = legacyImageMap(keys)
	}
	return nil
}

var itemAttrNames = func() []string {
	out := make([]string, len(itemAttrs))
	for i, a := range itemAttrs {
		out[i] = a.name
	}
	return out
}()

var imageAttrNames = []string{"key", "order", "ct", "size"}

// knownAttrs are the attributes item.decode reads by name.
var knownAttrs = func() map[string]bool {
	names := append([]string{imageList}, itemAttrNames...)
	names = append(names, fieldAttrs()...)
	for _, f := range printedFields {
		names = append(names, f.attr)
	}
	out := map[string]bool{}
	for _, name := range names {
		// One that attributevalue would take for one of item's own is
		// never skipped.
		if !folds(name, itemAttrNames) {
			out[name] = true
		}
	}
	return out
}()

// foldedAttr reports whether the item stored has an attribute
// attributevalue would decode into one of item's own although it is not
// spelled like it.
func foldedAttr(stored map[string]types.AttributeValue) bool {
	for k := range stored {
		if !knownAttrs[k] && folds(k, itemAttrNames) {
			return true
		}
	}
	return false
}

// folds reports whether attributevalue would decode an attribute named k
// into a field named one of names, which k does not spell exactly: it
// matches names regardless of case (strings.EqualFold).
func folds(k string, names []string) bool {
	for _, name := range names {
		if k != name && strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// decodeImages decodes imageSet: a map of image id to image.
func decodeImages(av types.AttributeValue, dst *map[string]image) error {
	switch v := av.(type) {
	case nil, *types.AttributeValueMemberNULL:
		*dst = nil
		return nil
	case *types.AttributeValueMemberM:
		if *dst == nil {
			*dst = make(map[string]image, len(v.Value))
		}
		for id, e := range v.Value {
			var img image
			if err := decodeImage(e, &img); err != nil {
				return err
			}
			(*dst)[id] = img
		}
		return nil
	}
	return typeError[map[string]image](av)
}

// decodeImage decodes one image of imageSet.
func decodeImage(av types.AttributeValue, img *image) error {
	switch v := av.(type) {
	case nil, *types.AttributeValueMemberNULL:
		*img = image{}
		return nil
	case *types.AttributeValueMemberM:
		for k, e := range v.Value {
			var err error
			switch k {
			case "key":
				err = decodeString(e, &img.Key)
			case "order":
				err = decodeInt(e, &img.Order)
			case "ct":
				err = decodeString(e, &img.ContentType)
			case "size":
				err = decodeInt(e, &img.Size)
			default:
				if folds(k, imageAttrNames) {
					return decodeImageFolded(av, img)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return typeError[image](av)
}

// decodeImageFolded leaves to attributevalue an image with an attribute
// named like one of image's in another case.
func decodeImageFolded(av types.AttributeValue, img *image) error {
	var out image
	err := attributevalue.Unmarshal(av, &out)
	*img = out
	return err
}

// decodeValue decodes av into dst as attributevalue.Unmarshal(av, dst)
// would: without reflection for the types items hold (a *string, *int,
// *int64, *float64, *bool or the image map), by attributevalue for any
// other.
func decodeValue(av types.AttributeValue, dst any) error {
	switch dst := dst.(type) {
	case *string:
		return decodeString(av, dst)
	case *int:
		return decodeInt(av, dst)
	case *int64:
		return decodeInt(av, dst)
	case *float64:
		return decodeFloat(av, dst)
	case *bool:
		return decodeBool(av, dst)
	case *map[string]image:
		return decodeImages(av, dst)
	}
	return attributevalue.Unmarshal(av, dst)
}

// The decoders below follow attributevalue's rules for their type: NULL is
// the zero value, a number may fill text, an integer must be written as one
// (strconv.ParseInt: "3.5" and "1e3" are errors), a float is whatever
// strconv.ParseFloat reads, any other type is an error.

func decodeString(av types.AttributeValue, dst *string) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		*dst = v.Value
	case *types.AttributeValueMemberN:
		*dst = v.Value
	case nil, *types.AttributeValueMemberNULL:
		*dst = ""
	default:
		return typeError[string](av)
	}
	return nil
}

func decodeInt[T int | int64](av types.AttributeValue, dst *T) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return err
		}
		if int64(T(n)) != n { // an int of 32 bits
			return &attributevalue.UnmarshalTypeError{Value: "number overflow, " + v.Value, Type: reflect.TypeFor[T]()}
		}
		*dst = T(n)
	case nil, *types.AttributeValueMemberNULL:
		*dst = 0
	default:
		return typeError[T](av)
	}
	return nil
}

func decodeFloat(av types.AttributeValue, dst *float64) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			return err
		}
		*dst = f
	case nil, *types.AttributeValueMemberNULL:
		*dst = 0
	default:
		return typeError[float64](av)
	}
	return nil
}

func decodeBool(av types.AttributeValue, dst *bool) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberBOOL:
		*dst = v.Value
	case nil, *types.AttributeValueMemberNULL:
		*dst = false
	default:
		return typeError[bool](av)
	}
	return nil
}

// isNull reports whether attributevalue decodes av as NULL.
func isNull(av types.AttributeValue) bool {
	switch av.(type) {
	case nil, *types.AttributeValueMemberNULL:
		return true
	}
	return false
}

// typeError is attributevalue's error for av of a type a T cannot hold.
func typeError[T any](av types.AttributeValue) error {
	var what string
	switch av.(type) {
	case *types.AttributeValueMemberS:
		what = "string"
	case *types.AttributeValueMemberN:
		what = "number"
	case *types.AttributeValueMemberB:
		what = "binary"
	case *types.AttributeValueMemberBOOL:
		what = "bool"
	case *types.AttributeValueMemberSS:
		what = "string set"
	case *types.AttributeValueMemberNS:
		what = "number set"
	case *types.AttributeValueMemberBS:
		what = "binary set"
	case *types.AttributeValueMemberL:
		what = "list"
	case *types.AttributeValueMemberM:
		what = "map"
	default:
		return fmt.Errorf("unsupported AttributeValue type, %T", av)
	}
	return &attributevalue.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[T]()}
}

// attrError names the attribute an error is about.
func attrError(attr string, err error) error {
	return fmt.Errorf("attribute %s: %w", attr, err)
}
