package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/reqlog"
)

type presenter struct {
	log    *slog.Logger
	images Images // signs the image urls of a CONFLICT's current property
}

// present gives every error an extensions.code. Errors gqlgen raises itself
// (parse, validation, persisted query, complexity) keep their code; domain
// errors get theirs; anything else is internal: logged here, once, with the
// request's attributes, and shown as "Internal error.".
func (p presenter) present(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	if _, ok := gerr.Extensions["code"]; ok {
		return gerr
	}
	cause := gerr.Unwrap()
	if cause == nil {
		// gqlgen's own error about the request (e.g. an argument value it
		// could not coerce): the client's mistake.
		setCode(gerr, apierr.BadUserInput)
		return gerr
	}
	code := property.ErrorCode(cause)
	out := &gqlerror.Error{
		Message:   property.ErrorMessage(cause),
		Path:      gerr.Path,
		Locations: gerr.Locations,
	}
	setCode(out, apierr.FromDomain(code))
	var perr *property.Error
	switch code {
	case property.EINTERNAL, property.EUNAVAILABLE:
		if !errors.Is(cause, errPanic) { // recover logged it, with its stack
			attrs := append(reqlog.Attrs(ctx), slog.String("error", cause.Error()), slog.String("code", code))
			p.log.LogAttrs(ctx, slog.LevelError, "operation failed", attrs...)
		}
		// The id that finds this log line (and, in Lambda, API Gateway's
		// access log entry) for whoever reports the error.
		if id := reqlog.RequestID(ctx); id != "" {
			out.Extensions["requestId"] = id
		}
		if code == property.EUNAVAILABLE {
			out.Extensions["retryable"] = true
		}
	case property.EINVALID:
		if errors.As(cause, &perr) && perr.Field != "" {
			out.Extensions["field"] = perr.Field
		}
	case property.ECONFLICT:
		if errors.As(cause, &perr) && perr.Current != nil {
			out.Extensions["currentVersion"] = perr.Current.Version
			out.Extensions["current"] = propertyJSON(ctx, perr.Current, p.images)
		}
	}
	return out
}

// recover turns a panic into an internal error, logged with its stack.
func (p presenter) recover(ctx context.Context, v any) error {
	attrs := append(reqlog.Attrs(ctx), slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
	p.log.LogAttrs(ctx, slog.LevelError, "panic in resolver", attrs...)
	return errPanic
}

// errPanic is what a recovered panic becomes: an internal error, logged
// once by recover (with the stack) and not again by present.
var errPanic = property.Errorf(property.EINTERNAL, "Internal error.")

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// propertyJSON shapes p like the schema's Property type, for extensions
// (propertyjson_test.go holds it to the schema's fields). An image's url is
// signed with images; without images a property has none.
func propertyJSON(ctx context.Context, p *property.Property, images Images) map[string]any {
	imgs := make([]map[string]any, 0, len(p.Images))
	for _, img := range p.Images {
		e := map[string]any{"key": img.Key}
		if images != nil {
			if u, err := images.URL(ctx, img.Key); err == nil {
				e["url"] = u
			}
		}
		imgs = append(imgs, e)
	}
	var bedrooms any
	if p.Bedrooms != nil {
		bedrooms = *p.Bedrooms
	}
	return map[string]any{
		"id": p.ID, "title": p.Title, "description": p.Description, "price": p.Price,
		"address": p.Address, "city": p.City, "state": p.State, "zip": p.Zip, "bedrooms": bedrooms,
		"images": imgs, "version": p.Version, "ownerId": p.OwnerID,
		"createdAt": p.CreatedAt.UTC().Format(timeFormat), "updatedAt": p.UpdatedAt.UTC().Format(timeFormat),
	}
}
