package dynamo_test

import (
	"context"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/internal/testenv"
)

func mustCreate(tb testing.TB, s interface {
	Create(context.Context, property.Caller, property.CreateInput) (*property.Property, error)
}, in property.CreateInput) *property.Property {
	tb.Helper()
	if err := in.Validate(); err != nil {
		tb.Fatalf("validate: %v", err)
	}
	p, err := s.Create(context.Background(), property.Anonymous, in)
	if err != nil {
		tb.Fatalf("create: %v", err)
	}
	return p
}

func sample(title string, price float64) property.CreateInput {
	return property.CreateInput{Title: title, Description: "A fine place.", Price: price,
		Address: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := testenv.Store(t)
	p := mustCreate(t, s, sample("Loft", 1234.5))
	got, err := s.Get(ctx, p.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Title != "Loft" || got.Version != 1 || got.Price != 1234.5 {
		t.Fatalf("got %+v", got)
	}
	title := "Bigger loft"
	up, err := s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: &title})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if up.Version != 2 || up.Title != title {
		t.Fatalf("updated %+v", up)
	}
	_, err = s.Update(ctx, property.Anonymous, property.UpdateInput{ID: p.ID, ExpectedVersion: 1, Title: &title})
	if got, want := property.ErrorCode(err), property.ECONFLICT; got != want {
		t.Fatalf("stale update: code %q, want %q (%v)", got, want, err)
	}
	if _, err := s.Delete(ctx, property.Anonymous, property.DeleteInput{ID: p.ID}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.Get(ctx, p.ID)
	if got, want := property.ErrorCode(err), property.ENOTFOUND; got != want {
		t.Fatalf("get after delete: code %q, want %q", got, want)
	}
	page, err := s.List(ctx, property.ListQuery{First: 10, Order: property.OrderCreatedDesc})
	if err != nil || len(page.Items) != 0 || page.HasNextPage {
		t.Fatalf("list after delete: %+v %v", page, err)
	}
}
