package api_test

import "testing"

// TestBedrooms follows the field added end to end through GraphQL: given,
// updated, returned, null when not given, refused out of range with a coded
// error naming it, and in the CONFLICT payload.
func TestBedrooms(t *testing.T) {
	h := newAPI(t, nil)
	const withBedrooms = `id version bedrooms`
	create := `mutation($input: CreatePropertyInput!) { createProperty(input: $input) { property { ` + withBedrooms + ` } } }`
	update := `mutation($input: UpdatePropertyInput!) { updateProperty(input: $input) { property { ` + withBedrooms + ` } } }`
	read := `query($id: ID!) { property(id: $id) { ` + withBedrooms + ` } }`

	in := createInput("Counted", 1000)
	d := mustData(t, h, create, map[string]any{"input": in})
	if got := get(d, "createProperty", "property", "bedrooms"); got != nil {
		t.Errorf("bedrooms not given = %v, want null", got)
	}

	in["bedrooms"] = 2
	d = mustData(t, h, create, map[string]any{"input": in})
	id := str(d, "createProperty", "property", "id")
	if got, want := num(d, "createProperty", "property", "bedrooms"), 2.0; got != want {
		t.Errorf("created bedrooms = %v, want %v", got, want)
	}
	d = mustData(t, h, update, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "bedrooms": 100}})
	if got, want := num(d, "updateProperty", "property", "bedrooms"), 100.0; got != want {
		t.Errorf("updated bedrooms = %v, want %v", got, want)
	}
	d = mustData(t, h, read, map[string]any{"id": id})
	if got, want := num(d, "property", "bedrooms"), 100.0; got != want {
		t.Errorf("read bedrooms = %v, want %v", got, want)
	}

	for _, n := range []int{-1, 101} {
		bad := createInput("Out of range", 1000)
		bad["bedrooms"] = n
		expectInvalid(t, gql(t, h, create, map[string]any{"input": bad}), "bedrooms")
		expectInvalid(t, gql(t, h, update, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2, "bedrooms": n}}), "bedrooms")
	}

	r := gql(t, h, update, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "bedrooms": 3}})
	if got, want := r.code(), "CONFLICT"; got != want {
		t.Fatalf("stale update: code %q, want %q (%s)", got, want, r.Raw)
	}
	cur, _ := r.Errors[0].Extensions["current"].(map[string]any)
	if got, want := num(cur, "bedrooms"), 100.0; got != want {
		t.Errorf("CONFLICT current.bedrooms = %v, want %v", got, want)
	}
	if _, ok := cur["ownerId"]; !ok {
		t.Errorf("CONFLICT current lacks ownerId: %v", cur)
	}
}
