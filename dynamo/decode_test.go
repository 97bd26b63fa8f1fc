package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
)

// item.decode must decode every item exactly as the code it replaced did:
// referenceItem keeps that code (attributevalue over storedItem, then once
// more per field), and every test below decodes with both and compares.

// referenceItem is item with the unmarshaler item had before decode.go.
type referenceItem item

// UnmarshalDynamoDBAttributeValue is item's unmarshaler as it was (issue 12,
// before the third pass), unchanged but for the receiver,
// decodeFieldsReference and legacyImageKeysReference.
func (r *referenceItem) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	it := (*item)(r)
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("item is a %T, not a map", av)
	}
	raw := m.Value
	var keys []string
	switch imgs := raw[imageList].(type) {
	case nil:
	case *types.AttributeValueMemberM:
		// This API's earlier layout: its map under images, no imageSet.
		if _, ok := raw[imageMap]; !ok {
			raw = withAttr(raw, imageMap, imgs)
		}
	default:
		var err error
		if keys, err = legacyImageKeysReference(imgs); err != nil {
			return err
		}
	}
	var s storedItem
	if err := attributevalue.UnmarshalMap(raw, &s); err != nil {
		return err
	}
	*it = item(s)
	if err := decodeFieldsReference(raw, &it.Property); err != nil {
		return err
	}
	it.stored = m.Value
	for _, f := range printedFields {
		if v, ok := m.Value[f.attr].(*types.AttributeValueMemberS); ok {
			if it.prints == nil {
				it.prints = map[string]string{}
			}
			it.prints[f.attr] = v.Value
		}
	}
	if _, ok := m.Value["version"]; !ok {
		it.legacy, it.Version = true, 1
		if it.ID == "" {
			it.ID = strings.TrimPrefix(it.PK, pkPrefix)
		}
	}
	if _, ok := raw[imageMap]; !ok && keys != nil {
		// Only the list: the old Lambdas' images.
		it.Images = legacyImageMap(keys)
	}
	return nil
}

// decodeFieldsReference is decodeFields as it was: attributevalue, one
// field at a time.
func decodeFieldsReference(m map[string]types.AttributeValue, p *property.Property) error {
	for _, f := range fields {
		if av, ok := m[f.attr]; ok {
			if err := attributevalue.Unmarshal(av, f.ptr(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// legacyImageKeysReference is legacyImageKeys as it was.
func legacyImageKeysReference(av types.AttributeValue) ([]string, error) {
	keys := []string{}
	switch v := av.(type) {
	case *types.AttributeValueMemberNULL:
	case *types.AttributeValueMemberSS:
		keys = append(keys, v.Value...)
		sort.Strings(keys) // a set has no order; keep reads stable
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				return nil, fmt.Errorf("images[%d] is a %T, not an object key", i, e)
			}
			keys = append(keys, s.Value)
		}
	default:
		return nil, fmt.Errorf("images is a %T, neither a map nor a list of keys", av)
	}
	return keys, nil
}

// decodeReference decodes m as the store did before decode.go.
func decodeReference(m map[string]types.AttributeValue) (item, error) {
	var r referenceItem
	err := attributevalue.UnmarshalMap(m, &r)
	return item(r), err
}

// decodeNew decodes m as the store does.
func decodeNew(m map[string]types.AttributeValue) (item, error) {
	var it item
	err := it.decode(m)
	return it, err
}

// checkSameDecoding decodes m with both decoders and fails unless both
// refuse it or both give the same item. When the change to a base item was
// one attribute, attr names it: an error must then name it too.
func checkSameDecoding(t *testing.T, m map[string]types.AttributeValue, attr string) {
	t.Helper()
	want, wantErr := decodeReference(m)
	got, err := decodeNew(m)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decode: error %v, reference: error %v\nitem: %s", err, wantErr, itemText(m))
	}
	if err != nil {
		// Where the old message named the attribute, the new one does,
		// and one about a single attribute of ours always does.
		if attr != "" && knownAttrs[attr] && !strings.Contains(err.Error(), attr) ||
			strings.Contains(wantErr.Error(), imageList) && !strings.Contains(err.Error(), imageList) {
			t.Errorf("decode: error %q does not name the attribute %s (reference: %q)", err, attr, wantErr)
		}
		return
	}
	ignoreAmbiguous(m, &got, &want)
	if diff := itemDiff(got, want); diff != "" {
		t.Fatalf("decode differs from the reference: %s\nitem: %s", diff, itemText(m))
	}
}

// ignoreAmbiguous zeroes, in both items, what attributevalue decides by map
// order: a field two attributes (differing in case only) decode into.
func ignoreAmbiguous(m map[string]types.AttributeValue, items ...*item) {
	raw := m
	if imgs, ok := m[imageList].(*types.AttributeValueMemberM); ok {
		if _, ok := m[imageMap]; !ok {
			raw = withAttr(m, imageMap, imgs)
		}
	}
	for _, a := range itemAttrs {
		n := 0
		for k := range raw {
			if strings.EqualFold(k, a.name) {
				n++
			}
		}
		if n < 2 {
			continue
		}
		for _, it := range items {
			reflect.ValueOf(a.ptr(it)).Elem().SetZero()
			if a.name == "PK" || a.name == "id" {
				it.ID, it.PK = "", "" // a legacy item's id is read from its PK
			}
		}
	}
	// Likewise an image with two attributes for one field.
	for _, av := range raw {
		set, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		for _, e := range set.Value {
			img, ok := e.(*types.AttributeValueMemberM)
			if !ok {
				continue
			}
			for _, name := range imageAttrNames {
				n := 0
				for k := range img.Value {
					if strings.EqualFold(k, name) {
						n++
					}
				}
				if n > 1 {
					for _, it := range items {
						it.Images = nil
					}
				}
			}
		}
	}
}

// itemDiff describes how a and b differ ("" for not at all); a price that
// is not a number equals the same one.
func itemDiff(a, b item) string {
	if math.Float64bits(a.Price) == math.Float64bits(b.Price) {
		a.Price, b.Price = 0, 0
	}
	if reflect.DeepEqual(a, b) {
		return ""
	}
	return fmt.Sprintf("\n got  %s\n want %s", decodedText(a), decodedText(b))
}

func decodedText(it item) string {
	bedrooms := "nil"
	if it.Bedrooms != nil {
		bedrooms = fmt.Sprint(*it.Bedrooms)
	}
	it.stored = nil
	return fmt.Sprintf("%+v bedrooms=%s", it, bedrooms)
}

// itemText is m in a stable order, for failure messages.
func itemText(m map[string]types.AttributeValue) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q: %s, ", k, avText(m[k]))
	}
	return b.String()
}

func avText(av types.AttributeValue) string {
	switch v := av.(type) {
	case nil:
		return "<nil>"
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S %q", v.Value)
	case *types.AttributeValueMemberN:
		return fmt.Sprintf("N %q", v.Value)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = avText(e)
		}
		return "L [" + strings.Join(parts, ", ") + "]"
	case *types.AttributeValueMemberM:
		return "M {" + itemText(v.Value) + "}"
	}
	return fmt.Sprintf("%T %+v", av, av)
}

// Item shapes.

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func avN(n string) types.AttributeValue { return &types.AttributeValueMemberN{Value: n} }

var avNull types.AttributeValue = &types.AttributeValueMemberNULL{Value: true}

func avM(kv ...any) types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)], _ = kv[i+1].(types.AttributeValue)
	}
	return &types.AttributeValueMemberM{Value: m}
}

func avL(vs ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: append([]types.AttributeValue{}, vs...)}
}

// ourItem is an item as this API stores it.
func ourItem(tb testing.TB, images, bedrooms int, owner string) map[string]types.AttributeValue {
	tb.Helper()
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	p := &property.Property{ID: "0f8fad5b-d9cb-469f-a165-70867728950e", Title: "Sunny loft", Description: "Two bedrooms, tall windows.",
		Price: 425000.5, Address: "1200 N Clark St", City: "Chicago", State: "IL", Zip: "60610",
		OwnerID: owner, Version: 3, CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
	if bedrooms >= 0 {
		p.Bedrooms = &bedrooms
	}
	for i := range images {
		p.Images = append(p.Images, property.Image{Key: fmt.Sprintf("properties/%s/img-%d.png", p.ID, i), ContentType: "image/png", Size: 1000 + i})
	}
	it := newItem(p)
	it.WriteToken = "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// earlierLayout is m as this API stored it before images became the old
// model's list: its image map under images, no imageSet.
func earlierLayout(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := clone(m)
	out[imageList] = out[imageMap]
	delete(out, imageMap)
	return out
}

func clone(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// fixtureItems are the old Lambdas' items of testdata (legacy and shapes),
// by file.
func fixtureItems(tb testing.TB) map[string]map[string]types.AttributeValue {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) < 12 {
		tb.Fatalf("%d fixtures, want the 12 of legacy and shapes: %v", len(files), err)
	}
	out := map[string]map[string]types.AttributeValue{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var raw json.RawMessage = append([]byte(`{"M":`), append(data, '}')...)
		av, err := avFromJSON(raw)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = av.(*types.AttributeValueMemberM).Value
	}
	return out
}

// avFromJSON parses one value in DynamoDB JSON ({"S": "x"}, ...).
func avFromJSON(data json.RawMessage) (types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil || len(v) != 1 {
		return nil, fmt.Errorf("not one typed DynamoDB value: %s", data)
	}
	for typ, body := range v {
		var err error
		switch typ {
		case "S", "N", "B":
			var s string
			err = json.Unmarshal(body, &s)
			switch typ {
			case "S":
				return avS(s), err
			case "N":
				return avN(s), err
			}
			b, berr := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: b}, cmpErr(err, berr)
		case "BOOL":
			var b bool
			err = json.Unmarshal(body, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			return avNull, nil
		case "SS", "NS":
			var ss []string
			err = json.Unmarshal(body, &ss)
			if typ == "NS" {
				return &types.AttributeValueMemberNS{Value: ss}, err
			}
			return &types.AttributeValueMemberSS{Value: ss}, err
		case "L":
			var l []json.RawMessage
			err = json.Unmarshal(body, &l)
			out := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
			for _, e := range l {
				av, err := avFromJSON(e)
				if err != nil {
					return nil, err
				}
				out.Value = append(out.Value, av)
			}
			return out, err
		case "M":
			var m map[string]json.RawMessage
			err = json.Unmarshal(body, &m)
			out := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
			for k, e := range m {
				av, err := avFromJSON(e)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out.Value[k] = av
			}
			return out, err
		}
		return nil, fmt.Errorf("unknown DynamoDB type %q", typ)
	}
	panic("unreachable")
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// baseItems are the shapes the table and the fuzz target start from: ours
// (with and without images, bedrooms and owner), ours in the earlier image
// layout, ours being deleted, and the old Lambdas' items.
func baseItems(tb testing.TB) []namedItem {
	tb.Helper()
	ours := ourItem(tb, 3, 2, "user-1")
	bare := ourItem(tb, 0, -1, "")
	deleting := clone(ours)
	deleting["deleting"] = &types.AttributeValueMemberBOOL{Value: true}
	deleting["idem"] = avS("9b74c9897bac770ffc029102a200c5de")
	out := []namedItem{
		{"ours", ours},
		{"ours without images, bedrooms or owner", bare},
		{"ours, earlier image layout", earlierLayout(ours)},
		{"ours, earlier image layout, no images", earlierLayout(bare)},
		{"ours being deleted", deleting},
	}
	fixtures := fixtureItems(tb)
	names := make([]string, 0, len(fixtures))
	for name := range fixtures {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, namedItem{name, fixtures[name]})
	}
	return out
}

type namedItem struct {
	name string
	m    map[string]types.AttributeValue
}

// oddValues are values of every type, well and badly formed, that each
// attribute is given in turn.
var oddValues = []types.AttributeValue{
	avS(""), avS("x"), avS("3"), avS("PROPERTY#"), avS("PROPERTY#abc"),
	avN("0"), avN("3"), avN("-0"), avN("+3"), avN("03"), avN("3.5"), avN("3.0"), avN("1e3"), avN("0x1p3"),
	avN("-1"), avN(" 3"), avN(""), avN("abc"), avN("NaN"), avN("Inf"), avN("1e400"), avN("1_000"),
	avN("9223372036854775807"), avN("9223372036854775808"), avN("-9223372036854775809"), avN("123456789.123456789"),
	&types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberBOOL{Value: false},
	avNull, &types.AttributeValueMemberNULL{Value: false}, nil,
	avL(), avL(avS("properties/a/b.png")), avL(avS("properties/a/b.png"), avS("")), avL(avN("7")), avL(avNull), avL(avM()),
	avM(), avM("x", avM("key", avS("k"), "order", avN("1"))), avM("x", avNull), avM("x", avS("k")),
	&types.AttributeValueMemberSS{Value: []string{"properties/a/z.jpg", "properties/a/b.webp"}},
	&types.AttributeValueMemberNS{Value: []string{"1", "2"}},
	&types.AttributeValueMemberB{Value: []byte("x")},
	&types.AttributeValueMemberBS{Value: [][]byte{[]byte("x")}},
	&types.UnknownUnionMember{Tag: "X", Value: []byte("x")},
}

// oddImages are image maps (values of imageSet) with every kind of entry.
var oddImages = func() []types.AttributeValue {
	var out []types.AttributeValue
	entry := func(kv ...any) types.AttributeValue { return avM("img-1", avM(kv...)) }
	good := []any{"key", avS("properties/a/img-1.png"), "order", avN("4"), "ct", avS("image/png"), "size", avN("1234")}
	out = append(out, entry(good...), entry(), avM("img-1", avNull), avM("img-1", nil))
	for i := 0; i < len(good); i += 2 {
		for _, v := range oddValues {
			kv := slices.Clone(good)
			kv[i+1] = v
			out = append(out, entry(kv...))
		}
		// Each attribute missing, or named in another case, or both.
		out = append(out, entry(append(slices.Clone(good[:i]), good[i+2:]...)...),
			entry(append(slices.Clone(good), strings.ToUpper(good[i].(string)), good[i+1])...),
			entry(append(slices.Clone(good[:i]), append([]any{strings.ToUpper(good[i].(string)), good[i+1]}, good[i+2:]...)...)...))
	}
	out = append(out, entry(append(slices.Clone(good), "\u212Aey", avS("kelvin"))...), // K (Kelvin sign) folds to k
		entry(append(slices.Clone(good), "extra", avS("ignored"))...))
	for _, v := range oddValues {
		out = append(out, avM("img-1", v))
	}
	return out
}()

// attrsToVary are the attributes each base item gets every odd value in:
// ours, the old Lambdas' extra one, names differing from ours in case only
// (which attributevalue matched too), and names that are none of these.
func attrsToVary() []string {
	names := append([]string{imageList, "status", "", "Id", "ID", "pk", "Pk", "VERSION", "Version", "ImageSet", "imageset",
		"Deleting", "WTOK", "ownerid", "createdat", "Skey", "\u017Fkey" /* ſkey folds to skey */, "Title", "PRICE", "Bedrooms"},
		itemAttrNames...)
	names = append(names, fieldAttrs()...)
	for _, f := range printedFields {
		names = append(names, f.attr)
	}
	return names
}

// TestDecodeItem decodes every base item, then each with every attribute
// removed, given each odd value, and (imageSet and the earlier layout's
// images) each odd image map, with both decoders.
func TestDecodeItem(t *testing.T) {
	checkSameDecoding(t, nil, "")
	checkSameDecoding(t, map[string]types.AttributeValue{}, "")
	cases := 2
	for _, base := range baseItems(t) {
		t.Run(base.name, func(t *testing.T) {
			checkSameDecoding(t, base.m, "")
			cases++
			for k := range base.m {
				m := clone(base.m)
				delete(m, k)
				checkSameDecoding(t, m, "")
				cases++
			}
			for _, attr := range attrsToVary() {
				values := oddValues
				if attr == imageMap || attr == imageList || attr == "ImageSet" {
					values = append(slices.Clone(oddValues), oddImages...)
				}
				for _, v := range values {
					m := clone(base.m)
					m[attr] = v
					checkSameDecoding(t, m, attr)
					cases++
				}
			}
		})
	}
	t.Logf("%d items decoded both ways: %d attributes given %d values (and %d image maps)",
		cases, len(attrsToVary()), len(oddValues), len(oddImages))
}

// TestDecodeItemCases are named cases with what the item decodes to, so that
// a change to both decoders alike cannot pass unnoticed.
func TestDecodeItemCases(t *testing.T) {
	ours := ourItem(t, 1, 2, "user-1")
	with := func(kv ...any) map[string]types.AttributeValue {
		m := clone(ours)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)], _ = kv[i+1].(types.AttributeValue)
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		m     map[string]types.AttributeValue
		check func(it item) bool
		err   string // "" for none; else what the error names
	}{
		{"ours", ours, func(it item) bool {
			return it.Version == 3 && !it.legacy && it.Title == "Sunny loft" && it.Price == 425000.5 && *it.Bedrooms == 2 &&
				len(it.Images) == 1 && it.OwnerID == "user-1" && len(it.prints) == len(printedFields)
		}, ""},
		{"a version with decimals", with("version", avN("3.5")), nil, "version"},
		{"a version in text", with("version", avS("3")), nil, "version"},
		{"a price that is not a number", with("price", avN("4e")), nil, "price"},
		{"a price in text", with("price", avS("4")), nil, "price"},
		{"bedrooms with decimals", with("bedrooms", avN("2.5")), nil, "bedrooms"},
		{"a title that is a number", with("title", avN("1")), func(it item) bool { return it.Title == "1" }, ""},
		{"a title that is a list", with("title", avL(avS("x"))), nil, "title"},
		{"NULL bedrooms", with("bedrooms", avNull), func(it item) bool { return it.Bedrooms == nil }, ""},
		{"NULL title", with("title", avNull), func(it item) bool { return it.Title == "" }, ""},
		{"NULL version", with("version", avNull), func(it item) bool { return it.Version == 0 && !it.legacy }, ""},
		{"a version that is nil", with("version", nil), func(it item) bool { return it.Version == 0 && !it.legacy }, ""},
		{"deleting as text", with("deleting", avS("true")), nil, "deleting"},
		{"an image order in text", with(imageMap, avM("i", avM("key", avS("k"), "order", avS("1")))), nil, imageMap},
		{"an image as text", with(imageMap, avM("i", avS("k"))), nil, imageMap},
		{"images as text", with(imageList, avS("k")), nil, imageList},
		{"an image key that is a number", with(imageList, avL(avS("k"), avN("7"))), nil, "images[1]"},
		{"id in another case", with("ID", avS("other")), func(it item) bool {
			return it.ID == "other" || it.ID == ours["id"].(*types.AttributeValueMemberS).Value
		}, ""},
		{"a version in another case", with("Version", avS("x")), nil, ""},
		{"an image key in another case", with(imageMap, avM("i", avM("KEY", avS("k")))), func(it item) bool { return it.Images["i"].Key == "k" }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkSameDecoding(t, tt.m, "")
			it, err := decodeNew(tt.m)
			switch {
			case tt.check == nil && err == nil:
				t.Fatalf("decoded %s, want an error naming %s", decodedText(it), tt.err)
			case tt.check == nil && !strings.Contains(err.Error(), tt.err):
				t.Errorf("error %q, want one naming %s", err, tt.err)
			case tt.check != nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.check != nil && !tt.check(it):
				t.Errorf("decoded %s", decodedText(it))
			}
		})
	}
	// The old Lambdas' items read as version 1 with their list of keys as
	// images, and keep the attributes we do not know (in stored).
	loft := fixtureItems(t)["legacy/loft-chicago.json"]
	it, err := decodeNew(loft)
	if err != nil || !it.legacy || it.Version != 1 || len(it.Images) != 2 || it.stored["status"] == nil || it.Bedrooms != nil {
		t.Errorf("loft: %s, %v", decodedText(it), err)
	}
}

// TestItemAttrsMatchTags: itemAttrs lists item's attributes, each at its
// field, as its dynamodbav tags name them.
func TestItemAttrsMatchTags(t *testing.T) {
	var it item
	v := reflect.ValueOf(&it).Elem()
	byName := map[string]any{}
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("dynamodbav"), ",")
		if name != "" && name != "-" {
			byName[name] = v.Field(i).Addr().Interface()
		}
	}
	for _, a := range itemAttrs {
		if p, ok := byName[a.name]; !ok || p != a.ptr(&it) {
			t.Errorf("itemAttrs: %s is not the field tagged %s", a.name, a.name)
		}
		delete(byName, a.name)
	}
	for name := range byName {
		t.Errorf("item's attribute %s is not in itemAttrs", name)
	}
}

// FuzzDecodeItem builds an item from the input (a base item, then
// attributes set to values the input picks, with the input's text as a
// name, a text and a number) and decodes it both ways (go test runs the
// seeds; -fuzz explores further).
func FuzzDecodeItem(f *testing.F) {
	bases := baseItems(f)
	f.Add([]byte{0}, "", "")
	f.Add([]byte{1, 2, 0, 3, 1}, "Id", "3.5")
	f.Add([]byte{2, 30, 9, 31, 10, 5, 7}, "ImageSet", "1e3")
	f.Add([]byte{5, 40, 0, 41, 1, 42, 4}, "\u212Aey", "-0")
	f.Add([]byte{9, 0, 10, 1, 11, 7, 0}, "status", "NaN")
	f.Add([]byte{3, 16, 12, 16, 13, 2, 20}, "order", "9223372036854775808")
	names := attrsToVary()
	f.Fuzz(func(t *testing.T, ops []byte, text, number string) {
		if len(ops) == 0 {
			return
		}
		r := &fuzzReader{ops: ops[1:], text: text, number: number}
		m := clone(bases[int(ops[0])%len(bases)].m)
		for n := 0; n < 32 && len(r.ops) > 0; n++ {
			name := text
			if i := int(r.next()); i < len(names) {
				name = names[i]
			}
			if r.next()%16 == 0 {
				delete(m, name)
				continue
			}
			m[name] = r.value(2)
		}
		checkSameDecoding(t, m, "")
	})
}

// fuzzReader turns the fuzz input into attribute values.
type fuzzReader struct {
	ops          []byte
	text, number string
}

func (r *fuzzReader) next() byte {
	if len(r.ops) == 0 {
		return 0
	}
	b := r.ops[0]
	r.ops = r.ops[1:]
	return b
}

// value is a value of any type; depth bounds the nesting of lists and maps.
func (r *fuzzReader) value(depth int) types.AttributeValue {
	b := r.next()
	switch b % 12 {
	case 0:
		return avS(r.text)
	case 1:
		return avN(r.number)
	case 2:
		return avN(r.text)
	case 3:
		return avS(r.number)
	case 4:
		return &types.AttributeValueMemberBOOL{Value: b&16 != 0}
	case 5:
		return avNull
	case 6:
		return nil
	case 7:
		if depth == 0 {
			return avL()
		}
		l := &types.AttributeValueMemberL{}
		for range r.next() % 4 {
			l.Value = append(l.Value, r.value(depth-1))
		}
		return l
	case 8, 9:
		// A map, most often one like imageSet's entries.
		m := map[string]types.AttributeValue{}
		if depth == 0 {
			return &types.AttributeValueMemberM{Value: m}
		}
		keys := append([]string{r.text, "img-1", "img-2"}, imageAttrNames...)
		keys = append(keys, "KEY", "Order", "cT", "SIZE")
		for range r.next() % 6 {
			m[keys[int(r.next())%len(keys)]] = r.value(depth - 1)
		}
		return &types.AttributeValueMemberM{Value: m}
	case 10:
		return &types.AttributeValueMemberSS{Value: []string{r.text}}
	default:
		return oddValues[int(r.next())%len(oddValues)]
	}
}

// BenchmarkDecodeItem decodes an item of ours (three images, bedrooms, an
// owner) and an old Lambdas' item (two images, an extra attribute), as the
// store did (attributevalue, reference) and does (decode).
//
//	go test -run '^$' -bench DecodeItem -benchmem -count 3 ./dynamo/
func BenchmarkDecodeItem(b *testing.B) {
	for _, bc := range []struct {
		name string
		m    map[string]types.AttributeValue
	}{
		{"ours", ourItem(b, 3, 2, "user-1")},
		{"legacy", fixtureItems(b)["legacy/loft-chicago.json"]},
	} {
		b.Run(bc.name+"/reference", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeReference(bc.m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeNew(bc.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
