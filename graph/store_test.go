package graph_test

import (
	"context"
	"fmt"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/graph"
)

var _ graph.Store = fakeStore{}

// fakeStore is graph.Store without storage, so the GraphQL layer is tested
// in milliseconds: no property exists, every listing is empty unless told
// otherwise, and every write succeeds as if it were the first.
type fakeStore struct {
	reads int // what ListReads answers; 0: the page and one more
	// description, when set, fills every listing with First properties
	// that have it.
	description string
	// page, when set, is what every listing answers.
	page *property.Page
	// err, when set, is what every call but ListReads returns; panic, when
	// set, is what it panics with.
	err   error
	panic any
}

// fail returns s.err, or panics with s.panic.
func (s fakeStore) fail() error {
	if s.panic != nil {
		panic(s.panic)
	}
	return s.err
}

func (s fakeStore) Get(ctx context.Context, id string) (*property.Property, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return nil, property.NotFound(id)
}

func (s fakeStore) List(ctx context.Context, q property.ListQuery) (*property.Page, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	if s.page != nil {
		return s.page, nil
	}
	page := &property.Page{}
	for i := 0; s.description != "" && i < q.First; i++ {
		page.Items = append(page.Items, &property.Property{ID: fmt.Sprint(i), Description: s.description})
		page.Cursors = append(page.Cursors, fmt.Sprint(i))
	}
	return page, nil
}

func (s fakeStore) ListReads(q property.ListQuery) int {
	if s.reads > 0 {
		return s.reads
	}
	return q.First + 1
}

// written is the property a write returns: in's id, owned by caller.
func written(id string, caller property.Caller) *property.Property {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &property.Property{ID: id, Title: "Flat", OwnerID: caller.Subject, Version: 1, CreatedAt: at, UpdatedAt: at}
}

func (s fakeStore) Create(ctx context.Context, caller property.Caller, in property.CreateInput) (*property.Property, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	p := written(property.NewID(), caller)
	p.Title = in.Title
	return p, nil
}

func (s fakeStore) Update(ctx context.Context, caller property.Caller, in property.UpdateInput) (*property.Property, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return written(in.ID, caller), nil
}

func (s fakeStore) Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (int, error) {
	return 0, s.fail()
}

func (s fakeStore) AddImages(ctx context.Context, caller property.Caller, in property.AddImagesInput) (*property.Property, []property.Image, error) {
	if err := s.fail(); err != nil {
		return nil, nil, err
	}
	return written(in.ID, caller), nil, nil
}

func (s fakeStore) RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return written(in.ID, caller), nil
}
