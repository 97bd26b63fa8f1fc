package property_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	property "github.com/propertyhq/property"
)

// ptr returns a pointer to v, for the optional fields of the inputs.
func ptr[T any](v T) *T { return &v }

// checkInvalid fails tb unless err is an EINVALID *property.Error naming
// field.
func checkInvalid(tb testing.TB, err error, field string) {
	tb.Helper()
	if got, want := property.ErrorCode(err), property.EINVALID; got != want {
		tb.Fatalf("ErrorCode(%v) = %q, want %q", err, got, want)
	}
	var e *property.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v is not a *property.Error", err)
	}
	if got, want := e.Field, field; got != want {
		tb.Errorf("Field = %q, want %q (%v)", got, want, err)
	}
}

// checkValid fails tb when err is not nil.
func checkValid(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("Validate() = %v, want nil", err)
	}
}

func jpeg(size int) property.ImageRequest {
	return property.ImageRequest{ContentType: "image/jpeg", ContentLength: size}
}

func png(size int) property.ImageRequest {
	return property.ImageRequest{ContentType: "image/png", ContentLength: size}
}

func validCreate() property.CreateInput {
	return property.CreateInput{
		Title:       "Sunny loft",
		Description: "Two rooms above the bakery.",
		Price:       250000.5,
		Address:     "1 Main St",
		City:        "Springfield",
		State:       "IL",
		Zip:         "62701",
	}
}

// textField is one required text field of CreateInput, reached both on
// CreateInput and on the optional pointer of UpdateInput.
type textField struct {
	name   string
	max    int
	create func(*property.CreateInput) *string
	update func(*property.UpdateInput) **string
}

var textFields = []textField{
	{"title", property.MaxTitleLen,
		func(in *property.CreateInput) *string { return &in.Title },
		func(in *property.UpdateInput) **string { return &in.Title }},
	{"description", property.MaxDescriptionLen,
		func(in *property.CreateInput) *string { return &in.Description },
		func(in *property.UpdateInput) **string { return &in.Description }},
	{"address", property.MaxAddressLen,
		func(in *property.CreateInput) *string { return &in.Address },
		func(in *property.UpdateInput) **string { return &in.Address }},
	{"city", property.MaxCityLen,
		func(in *property.CreateInput) *string { return &in.City },
		func(in *property.UpdateInput) **string { return &in.City }},
	{"state", property.MaxStateLen,
		func(in *property.CreateInput) *string { return &in.State },
		func(in *property.UpdateInput) **string { return &in.State }},
	{"zip", property.MaxZipLen,
		func(in *property.CreateInput) *string { return &in.Zip },
		func(in *property.UpdateInput) **string { return &in.Zip }},
}

// textCase is one value for a text field and whether it is valid.
type textCase struct {
	name  string
	value string
	valid bool
}

// textCases are the values every required text field is checked with.
// "é" is two bytes in UTF-8, so max × "é" is valid only when characters,
// not bytes, are counted.
func textCases(max int) []textCase {
	return []textCase{
		{"empty", "", false},
		{"whitespace only", " \t\n\u00a0 ", false},
		{"max multi-byte characters", strings.Repeat("é", max), true},
		{"max characters within spaces", "  " + strings.Repeat("é", max) + "  ", true},
		{"one character too long", strings.Repeat("é", max+1), false},
		{"NUL", "a\x00b", false},
	}
}

// priceCase is one price and, when valid, the price it is normalised to.
type priceCase struct {
	name  string
	price float64
	valid bool
	want  float64
}

var priceCases = []priceCase{
	{"NaN", math.NaN(), false, 0},
	{"+Inf", math.Inf(1), false, 0},
	{"-Inf", math.Inf(-1), false, 0},
	{"negative", -0.01, false, 0},
	{"MaxPrice", property.MaxPrice, false, 0},
	{"above MaxPrice", property.MaxPrice + 1, false, 0},
	{"just below MaxPrice rounds up to it", math.Nextafter(property.MaxPrice, 0), false, 0},
	{"three decimals 1.005", 1.005, false, 0},
	{"three decimals 0.001", 0.001, false, 0},
	{"three decimals near MaxPrice", 9999999999.991, false, 0},
	{"zero", 0, true, 0},
	{"float noise 0.1+0.2", 0.1 + 0.2, true, 0.3},
	{"two decimals", 12.34, true, 12.34},
	{"one decimal", 250000.5, true, 250000.5},
	{"large with cents", 149999990.55, true, 149999990.55},
	{"largest", 9999999999.99, true, 9999999999.99},
}

func TestCreateInputValidate(t *testing.T) {
	type test struct {
		name  string
		edit  func(*property.CreateInput)
		field string // "" means valid
	}
	tests := []test{
		{"valid", func(*property.CreateInput) {}, ""},
		{"clientMutationId empty", func(in *property.CreateInput) { in.ClientMutationID = ptr("") }, "clientMutationId"},
		{"clientMutationId 64 characters", func(in *property.CreateInput) { in.ClientMutationID = ptr(strings.Repeat("k", 64)) }, ""},
		{"clientMutationId 64 multi-byte characters", func(in *property.CreateInput) { in.ClientMutationID = ptr(strings.Repeat("é", 64)) }, ""},
		{"clientMutationId 65 characters", func(in *property.CreateInput) { in.ClientMutationID = ptr(strings.Repeat("k", 65)) }, "clientMutationId"},
		{"images empty", func(in *property.CreateInput) { in.Images = []property.ImageRequest{} }, ""},
		{"images given", func(in *property.CreateInput) {
			in.Images = []property.ImageRequest{jpeg(1000), png(property.MaxImageBytes)}
		}, ""},
		{"image of unknown type", func(in *property.CreateInput) {
			in.Images = []property.ImageRequest{jpeg(1000), {ContentType: "image/gif", ContentLength: 1000}}
		}, "contentType"},
		{"image of no bytes", func(in *property.CreateInput) { in.Images = []property.ImageRequest{jpeg(0)} }, "contentLength"},
		{"image too large", func(in *property.CreateInput) { in.Images = []property.ImageRequest{jpeg(property.MaxImageBytes + 1)} }, "contentLength"},
		{"bedrooms 0", func(in *property.CreateInput) { in.Bedrooms = ptr(0) }, ""},
		{"bedrooms 100", func(in *property.CreateInput) { in.Bedrooms = ptr(100) }, ""},
		{"bedrooms -1", func(in *property.CreateInput) { in.Bedrooms = ptr(-1) }, "bedrooms"},
		{"bedrooms 101", func(in *property.CreateInput) { in.Bedrooms = ptr(101) }, "bedrooms"},
	}
	for _, f := range textFields {
		for _, c := range textCases(f.max) {
			field := f.name
			if c.valid {
				field = ""
			}
			tests = append(tests, test{f.name + "/" + c.name, func(in *property.CreateInput) { *f.create(in) = c.value }, field})
		}
	}
	for _, c := range priceCases {
		field := "price"
		if c.valid {
			field = ""
		}
		tests = append(tests, test{"price/" + c.name, func(in *property.CreateInput) { in.Price = c.price }, field})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validCreate()
			tt.edit(&in)
			err := in.Validate()
			if tt.field == "" {
				checkValid(t, err)
				return
			}
			checkInvalid(t, err, tt.field)
		})
	}
}

func TestCreateInputValidateNormalises(t *testing.T) {
	t.Run("trims text in place", func(t *testing.T) {
		for _, f := range textFields {
			t.Run(f.name, func(t *testing.T) {
				in := validCreate()
				*f.create(&in) = " \t Sunny loft \n"
				checkValid(t, in.Validate())
				if got, want := *f.create(&in), "Sunny loft"; got != want {
					t.Errorf("%s = %q, want %q", f.name, got, want)
				}
			})
		}
	})
	t.Run("price to cents", func(t *testing.T) {
		for _, c := range priceCases {
			if !c.valid {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				in := validCreate()
				in.Price = c.price
				checkValid(t, in.Validate())
				if got, want := in.Price, c.want; got != want {
					t.Errorf("Price = %v, want %v", got, want)
				}
				if got, want := property.Cents(in.Price), int64(math.Round(c.want*100)); got != want {
					t.Errorf("Cents(%v) = %d, want %d", in.Price, got, want)
				}
			})
		}
	})
}

func validUpdate() property.UpdateInput {
	return property.UpdateInput{ID: "3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a", ExpectedVersion: 1, Title: ptr("New title")}
}

func TestUpdateInputValidate(t *testing.T) {
	type test struct {
		name  string
		edit  func(*property.UpdateInput)
		field string // "" means valid
	}
	tests := []test{
		{"valid", func(*property.UpdateInput) {}, ""},
		{"expectedVersion 0", func(in *property.UpdateInput) { in.ExpectedVersion = 0 }, "expectedVersion"},
		{"expectedVersion -1", func(in *property.UpdateInput) { in.ExpectedVersion = -1 }, "expectedVersion"},
		{"expectedVersion 2", func(in *property.UpdateInput) { in.ExpectedVersion = 2 }, ""},
		{"no field given", func(in *property.UpdateInput) { in.Title = nil }, "input"},
		{"only price given", func(in *property.UpdateInput) { in.Title, in.Price = nil, ptr(10.0) }, ""},
		{"only bedrooms given", func(in *property.UpdateInput) { in.Title, in.Bedrooms = nil, ptr(0) }, ""},
		{"bedrooms 101", func(in *property.UpdateInput) { in.Bedrooms = ptr(101) }, "bedrooms"},
		{"bedrooms -1", func(in *property.UpdateInput) { in.Bedrooms = ptr(-1) }, "bedrooms"},
	}
	for _, f := range textFields {
		for _, c := range textCases(f.max) {
			field := f.name
			if c.valid {
				field = ""
			}
			tests = append(tests, test{f.name + "/" + c.name, func(in *property.UpdateInput) {
				in.Title = nil
				*f.update(in) = ptr(c.value)
			}, field})
		}
	}
	for _, c := range priceCases {
		field := "price"
		if c.valid {
			field = ""
		}
		tests = append(tests, test{"price/" + c.name, func(in *property.UpdateInput) { in.Price = ptr(c.price) }, field})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validUpdate()
			tt.edit(&in)
			err := in.Validate()
			if tt.field == "" {
				checkValid(t, err)
				return
			}
			checkInvalid(t, err, tt.field)
		})
	}
}

func TestUpdateInputValidateNormalises(t *testing.T) {
	t.Run("trims given text in place", func(t *testing.T) {
		for _, f := range textFields {
			t.Run(f.name, func(t *testing.T) {
				in := validUpdate()
				in.Title = nil
				*f.update(&in) = ptr("  Sunny loft\t")
				checkValid(t, in.Validate())
				if got, want := **f.update(&in), "Sunny loft"; got != want {
					t.Errorf("%s = %q, want %q", f.name, got, want)
				}
			})
		}
	})
	t.Run("leaves absent fields nil", func(t *testing.T) {
		in := validUpdate()
		checkValid(t, in.Validate())
		if in.Description != nil || in.Price != nil || in.Address != nil || in.City != nil || in.State != nil || in.Zip != nil {
			t.Errorf("Validate set an absent field: %+v", in)
		}
	})
	t.Run("price to cents", func(t *testing.T) {
		for _, c := range priceCases {
			if !c.valid {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				in := validUpdate()
				in.Price = ptr(c.price)
				checkValid(t, in.Validate())
				if got, want := *in.Price, c.want; got != want {
					t.Errorf("Price = %v, want %v", got, want)
				}
			})
		}
	})
}

func TestDeleteInputValidate(t *testing.T) {
	tests := []struct {
		name    string
		version *int
		field   string // "" means valid
	}{
		{"no expectedVersion", nil, ""},
		{"expectedVersion 1", ptr(1), ""},
		{"expectedVersion 7", ptr(7), ""},
		{"expectedVersion 0", ptr(0), "expectedVersion"},
		{"expectedVersion -1", ptr(-1), "expectedVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := property.DeleteInput{ID: "3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a", ExpectedVersion: tt.version}
			err := in.Validate()
			if tt.field == "" {
				checkValid(t, err)
				return
			}
			checkInvalid(t, err, tt.field)
		})
	}
}

func TestListQueryValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*property.ListQuery)
		field string // "" means valid
	}{
		{"valid", func(*property.ListQuery) {}, ""},
		{"first 0", func(q *property.ListQuery) { q.First = 0 }, "first"},
		{"first -1", func(q *property.ListQuery) { q.First = -1 }, "first"},
		{"first 101", func(q *property.ListQuery) { q.First = property.MaxPageSize + 1 }, "first"},
		{"first 1", func(q *property.ListQuery) { q.First = 1 }, ""},
		{"first 100", func(q *property.ListQuery) { q.First = property.MaxPageSize }, ""},
		{"order given", func(q *property.ListQuery) { q.Order = property.OrderPriceDesc }, ""},
		{"unknown order", func(q *property.ListQuery) { q.Order = "NEWEST" }, "orderBy"},
		{"order in lower case", func(q *property.ListQuery) { q.Order = "price_asc" }, "orderBy"},
		{"city empty", func(q *property.ListQuery) { q.Filter.City = ptr("") }, "city"},
		{"city whitespace only", func(q *property.ListQuery) { q.Filter.City = ptr("  \t") }, "city"},
		{"city too long", func(q *property.ListQuery) { q.Filter.City = ptr(strings.Repeat("é", property.MaxCityLen+1)) }, "city"},
		{"city given", func(q *property.ListQuery) { q.Filter.City = ptr("Springfield") }, ""},
		{"state empty", func(q *property.ListQuery) { q.Filter.State = ptr("") }, "state"},
		{"state whitespace only", func(q *property.ListQuery) { q.Filter.State = ptr(" \n ") }, "state"},
		{"state given", func(q *property.ListQuery) { q.Filter.State = ptr("IL") }, ""},
		{"ownerId empty", func(q *property.ListQuery) { q.Filter.OwnerID = ptr(" ") }, "ownerId"},
		{"minPrice negative", func(q *property.ListQuery) { q.Filter.MinPrice = ptr(-1.0) }, "minPrice"},
		{"minPrice NaN", func(q *property.ListQuery) { q.Filter.MinPrice = ptr(math.NaN()) }, "minPrice"},
		{"minPrice three decimals", func(q *property.ListQuery) { q.Filter.MinPrice = ptr(1.005) }, "minPrice"},
		{"maxPrice negative", func(q *property.ListQuery) { q.Filter.MaxPrice = ptr(-1.0) }, "maxPrice"},
		{"maxPrice NaN", func(q *property.ListQuery) { q.Filter.MaxPrice = ptr(math.NaN()) }, "maxPrice"},
		{"maxPrice three decimals", func(q *property.ListQuery) { q.Filter.MaxPrice = ptr(0.001) }, "maxPrice"},
		{"minPrice above maxPrice", func(q *property.ListQuery) { q.Filter.MinPrice, q.Filter.MaxPrice = ptr(10.0), ptr(9.99) }, "minPrice"},
		{"minPrice equal to maxPrice", func(q *property.ListQuery) { q.Filter.MinPrice, q.Filter.MaxPrice = ptr(10.0), ptr(10.0) }, ""},
		{"price range", func(q *property.ListQuery) { q.Filter.MinPrice, q.Filter.MaxPrice = ptr(0.0), ptr(9999999999.99) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := property.ListQuery{First: 10}
			tt.edit(&q)
			err := q.Validate()
			if tt.field == "" {
				checkValid(t, err)
				return
			}
			checkInvalid(t, err, tt.field)
		})
	}
}

func TestListQueryValidateNormalises(t *testing.T) {
	t.Run("default order", func(t *testing.T) {
		q := property.ListQuery{First: 10}
		checkValid(t, q.Validate())
		if got, want := q.Order, property.OrderCreatedDesc; got != want {
			t.Errorf("Order = %q, want %q", got, want)
		}
	})
	t.Run("given order kept", func(t *testing.T) {
		q := property.ListQuery{First: 10, Order: property.OrderPriceAsc}
		checkValid(t, q.Validate())
		if got, want := q.Order, property.OrderPriceAsc; got != want {
			t.Errorf("Order = %q, want %q", got, want)
		}
	})
	t.Run("filter text trimmed in place", func(t *testing.T) {
		q := property.ListQuery{First: 10, Filter: property.Filter{City: ptr("  Springfield "), State: ptr("\tIL\n")}}
		checkValid(t, q.Validate())
		if got, want := *q.Filter.City, "Springfield"; got != want {
			t.Errorf("City = %q, want %q", got, want)
		}
		if got, want := *q.Filter.State, "IL"; got != want {
			t.Errorf("State = %q, want %q", got, want)
		}
	})
}

// mustValidCreate returns in after Validate, failing tb if it is invalid.
func mustValidCreate(tb testing.TB, in property.CreateInput) property.CreateInput {
	tb.Helper()
	if err := in.Validate(); err != nil {
		tb.Fatalf("Validate(%+v) = %v", in, err)
	}
	return in
}

func TestFingerprint(t *testing.T) {
	base := mustValidCreate(t, validCreate())
	t.Run("equal for equal validated inputs", func(t *testing.T) {
		in := validCreate()
		in.Title = "  " + in.Title + "\n"
		in.Price = 250000.25 + 0.25
		other := mustValidCreate(t, in)
		if got, want := other.Fingerprint(), base.Fingerprint(); got != want {
			t.Errorf("Fingerprint = %q, want %q", got, want)
		}
	})
	t.Run("independent of ClientMutationID", func(t *testing.T) {
		for _, key := range []*string{ptr("a"), ptr("b")} {
			in := validCreate()
			in.ClientMutationID = key
			other := mustValidCreate(t, in)
			if got, want := other.Fingerprint(), base.Fingerprint(); got != want {
				t.Errorf("Fingerprint with key %q = %q, want %q", *key, got, want)
			}
		}
	})
	tests := []struct {
		name string
		edit func(*property.CreateInput)
	}{
		{"title", func(in *property.CreateInput) { in.Title += "!" }},
		{"description", func(in *property.CreateInput) { in.Description += "!" }},
		{"address", func(in *property.CreateInput) { in.Address += "!" }},
		{"city", func(in *property.CreateInput) { in.City += "!" }},
		{"state", func(in *property.CreateInput) { in.State += "!" }},
		{"zip", func(in *property.CreateInput) { in.Zip += "!" }},
		{"price by one cent", func(in *property.CreateInput) { in.Price += 0.01 }},
		{"images", func(in *property.CreateInput) { in.Images = []property.ImageRequest{jpeg(1000)} }},
		{"bedrooms given", func(in *property.CreateInput) { in.Bedrooms = ptr(2) }},
		{"text moved between fields", func(in *property.CreateInput) {
			in.Title, in.Description = in.Title+in.Description[:1], in.Description[1:]
		}},
	}
	for _, tt := range tests {
		t.Run("differs by "+tt.name, func(t *testing.T) {
			in := validCreate()
			tt.edit(&in)
			other := mustValidCreate(t, in)
			if other.Fingerprint() == base.Fingerprint() {
				t.Errorf("Fingerprint(%+v) = Fingerprint(%+v), want different", other, base)
			}
		})
	}
}
