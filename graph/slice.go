package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceSerially replaces graphql.MarshalSliceConcurrently in the
// generated code (see graph/internal/serialslices, run by go generate): the
// same signature, the same field context per element (its index in the
// path of an error) and, unless omitPanicHandler, the same recovery of a
// panic into an error on that element, but one element after the other on
// the caller's goroutine. workerLimit has no meaning here.
func marshalSliceSerially(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		fc := &graphql.FieldContext{Index: &i}
		childCtx := graphql.WithFieldContext(ctx, fc)
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
