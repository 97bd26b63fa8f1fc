package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	property "github.com/propertyhq/property"
)

// requireCaller is the @auth directive: the field needs a signed-in caller.
func requireCaller(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	if property.CallerFrom(ctx).IsAnonymous() {
		return nil, property.Errorf(property.EUNAUTHENTICATED, "Sign in to do this: send Authorization: Bearer <token>.")
	}
	return next(ctx)
}
