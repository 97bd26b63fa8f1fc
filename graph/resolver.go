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
	Create(ctx context.Context, caller property.Caller, in property.CreateInput) (*property.Property, error)
	Update(ctx context.Context, caller property.Caller, in property.UpdateInput) (*property.Property, error)
	Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (*property.Property, error)
}

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Store Store
}
