// Package graph is the GraphQL layer: thin resolvers over a small store
// interface, the gqlgen server with its transports and limits, and the one
// place where domain errors become GraphQL error codes.
package graph

import (
	"context"

	property "github.com/propertyhq/property"
)

// Store is what the resolvers need from storage.
type Store interface {
	Get(ctx context.Context, id string) (*property.Property, error)
	List(ctx context.Context, q property.ListQuery) (*property.Page, error)
	// ListReads is the most items List(q) may read: what a listing is
	// costed at, besides its page.
	ListReads(q property.ListQuery) int
	Create(ctx context.Context, caller property.Caller, in property.CreateInput) (*property.Property, error)
	Update(ctx context.Context, caller property.Caller, in property.UpdateInput) (*property.Property, error)
	// Delete says how many image objects it removed.
	Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (int, error)
	AddImages(ctx context.Context, caller property.Caller, in property.AddImagesInput) (*property.Property, []property.Image, error)
	RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error)
}

// Images signs image URLs, locally.
type Images interface {
	SignUpload(ctx context.Context, img property.Image) (property.Upload, error)
	URL(ctx context.Context, key string) (string, error)
}

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Store Store
	// Images is nil when no bucket is configured; properties then have no
	// images (the store refuses them).
	Images Images
}

// uploads signs one upload per image.
func (r *Resolver) uploads(ctx context.Context, imgs []property.Image) ([]*property.Upload, error) {
	out := make([]*property.Upload, 0, len(imgs))
	if r.Images == nil {
		return out, nil
	}
	for _, img := range imgs {
		u, err := r.Images.SignUpload(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, &u)
	}
	return out, nil
}
