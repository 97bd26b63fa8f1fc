package graph

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	property "github.com/propertyhq/property"
)

// schemaFields are the field names of the schema's type name.
func schemaFields(tb testing.TB, name string) []string {
	tb.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		tb.Fatal(err)
	}
	def := doc.Definitions.ForName(name)
	if def == nil {
		tb.Fatalf("schema has no type %s", name)
	}
	var out []string
	for _, f := range def.Fields {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type fakeImages struct{}

func (fakeImages) SignUpload(context.Context, property.Image) (property.Upload, error) {
	return property.Upload{}, nil
}

func (fakeImages) URL(_ context.Context, key string) (string, error) {
	return "https://images.test/" + key, nil
}

// TestConflictPayloadIsShapedLikeProperty holds the CONFLICT payload's
// current property to the schema: every field of Property (and of
// PropertyImage) is there, and nothing else.
func TestConflictPayloadIsShapedLikeProperty(t *testing.T) {
	n := 3
	p := &property.Property{ID: "id", Title: "t", Bedrooms: &n, OwnerID: "o", Version: 2,
		CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0),
		Images: []property.Image{{Key: "properties/id/img", ContentType: "image/png", Size: 1}}}
	got := propertyJSON(context.Background(), p, fakeImages{})
	if k, want := keys(got), schemaFields(t, "Property"); !slices.Equal(k, want) {
		t.Errorf("current has keys %v, want Property's fields %v", k, want)
	}
	imgs, _ := got["images"].([]map[string]any)
	if len(imgs) != 1 {
		t.Fatalf("current.images = %v, want one image", got["images"])
	}
	if k, want := keys(imgs[0]), schemaFields(t, "PropertyImage"); !slices.Equal(k, want) {
		t.Errorf("current.images[0] has keys %v, want PropertyImage's fields %v", k, want)
	}
	if got["bedrooms"] != 3 || got["ownerId"] != "o" || imgs[0]["url"] != "https://images.test/properties/id/img" {
		t.Errorf("current = %v", got)
	}
	t.Run("an absent optional field is null", func(t *testing.T) {
		p := *p
		p.Bedrooms = nil
		if v, ok := propertyJSON(context.Background(), &p, fakeImages{})["bedrooms"]; !ok || v != nil {
			t.Errorf("bedrooms = %v (present %v), want null", v, ok)
		}
	})
}
