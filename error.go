package property

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one GraphQL extensions.code at the edge.
const (
	EINVALID         = "invalid"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	EUNAUTHENTICATED = "unauthenticated"
	EFORBIDDEN       = "forbidden"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
)

// Error is an error a user may read: a code and a sentence safe to show.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field by its schema name (EINVALID).
	Field string
	// Current is the stored property when a write lost a race (ECONFLICT).
	Current *Property
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the error for an id that names no property.
func NotFound(id string) *Error {
	return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("Property %q not found.", id)}
}

// Conflict is the error for a write whose expected version is stale.
func Conflict(current *Property) *Error {
	return &Error{
		Code:    ECONFLICT,
		Message: fmt.Sprintf("Property was changed concurrently; it is now at version %d: read it again, reapply your change and send expectedVersion %d.", current.Version, current.Version),
		Current: current,
	}
}

// Stale names both versions in a CONFLICT err when the client sent an
// expectedVersion other than the current one: the usual cause is a client
// that read the property before someone else changed it, not a race of
// its own. Any other err is returned as is.
func Stale(err error, expected *int) error {
	var e *Error
	if expected == nil || !errors.As(err, &e) || e.Code != ECONFLICT || e.Current == nil || e.Current.Version == *expected {
		return err
	}
	out := *e
	out.Message = fmt.Sprintf("expectedVersion is %d, but the property is at version %d: it changed after you read it. "+
		"Read it again (extensions.current holds it), reapply your change and send expectedVersion %d.",
		*expected, e.Current.Version, e.Current.Version)
	return &out
}

// Unavailable wraps a failure of a dependency that is worth retrying; nil
// stays nil.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{err: err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// ErrorCode returns the code of the first *Error in err's chain, EUNAVAILABLE
// for a wrapped dependency outage, and EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	var u *unavailableError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &u):
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err: the *Error's own, or a
// generic sentence that leaks nothing.
func ErrorMessage(err error) string {
	var e *Error
	switch ErrorCode(err) {
	case "":
		return ""
	case EUNAVAILABLE:
		return "The service is temporarily unavailable; please retry."
	case EINTERNAL:
		return "Internal error."
	}
	errors.As(err, &e)
	return e.Message
}
