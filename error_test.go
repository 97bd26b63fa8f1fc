package property_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	property "github.com/propertyhq/property"
)

func TestErrorCodeAndMessage(t *testing.T) {
	// secret stands for a cause users must never read (a host, a table).
	const secret = "db-7.internal:8000"
	cause := errors.New("dial tcp " + secret + ": connection refused")
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"nil", nil, "", ""},
		{"Errorf", property.Errorf(property.ENOTFOUND, "Property %q not found.", "x"), property.ENOTFOUND, `Property "x" not found.`},
		{"Invalid", property.Invalid("title", "title must not be empty."), property.EINVALID, "title must not be empty."},
		{"wrapped *Error", fmt.Errorf("update %s: %w", "x", property.Errorf(property.EFORBIDDEN, "Not yours.")), property.EFORBIDDEN, "Not yours."},
		{"twice wrapped *Error", fmt.Errorf("a: %w", fmt.Errorf("b: %w", property.Errorf(property.ECONFLICT, "Changed."))), property.ECONFLICT, "Changed."},
		{"NotFound", property.NotFound("x"), property.ENOTFOUND, `Property "x" not found.`},
		{"Conflict", property.Conflict(&property.Property{Version: 3}), property.ECONFLICT, "Property was changed concurrently; it is now at version 3: read it again, reapply your change and send expectedVersion 3."},
		{"Stale", property.Stale(fmt.Errorf("update: %w", property.Conflict(&property.Property{Version: 5})), intp(2)), property.ECONFLICT,
			"expectedVersion is 2, but the property is at version 5: it changed after you read it. Read it again (extensions.current holds it), reapply your change and send expectedVersion 5."},
		{"Stale at the current version", property.Stale(property.Conflict(&property.Property{Version: 5}), intp(5)), property.ECONFLICT,
			"Property was changed concurrently; it is now at version 5: read it again, reapply your change and send expectedVersion 5."},
		{"Stale without a version", property.Stale(property.Conflict(&property.Property{Version: 5}), nil), property.ECONFLICT,
			"Property was changed concurrently; it is now at version 5: read it again, reapply your change and send expectedVersion 5."},
		{"Stale of another code", property.Stale(property.NotFound("x"), intp(1)), property.ENOTFOUND, `Property "x" not found.`},
		{"Unavailable", property.Unavailable(cause), property.EUNAVAILABLE, "The service is temporarily unavailable; please retry."},
		{"wrapped Unavailable", fmt.Errorf("get %s: %w", "x", property.Unavailable(cause)), property.EUNAVAILABLE, "The service is temporarily unavailable; please retry."},
		{"plain error", cause, property.EINTERNAL, "Internal error."},
		{"wrapped plain error", fmt.Errorf("get %s: %w", "x", cause), property.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := property.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.wantCode)
			}
			msg := property.ErrorMessage(tt.err)
			if msg != tt.wantMessage {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, msg, tt.wantMessage)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("ErrorMessage(%v) = %q leaks the cause", tt.err, msg)
			}
		})
	}
}

func intp(n int) *int { return &n }

func TestErrorFields(t *testing.T) {
	t.Run("Invalid names the field", func(t *testing.T) {
		err := fmt.Errorf("create: %w", property.Invalid("zip", "zip must not be empty."))
		var e *property.Error
		if !errors.As(err, &e) {
			t.Fatalf("errors.As(%v, *property.Error) = false", err)
		}
		if got, want := e.Field, "zip"; got != want {
			t.Errorf("Field = %q, want %q", got, want)
		}
	})
	t.Run("Conflict carries the current property", func(t *testing.T) {
		current := &property.Property{ID: "x", Version: 4}
		var e *property.Error
		if !errors.As(property.Conflict(current), &e) {
			t.Fatal("Conflict is not a *property.Error")
		}
		if e.Current != current {
			t.Errorf("Current = %p, want %p", e.Current, current)
		}
	})
	t.Run("Unavailable keeps its cause for the log", func(t *testing.T) {
		cause := errors.New("throttled")
		if err := property.Unavailable(cause); !errors.Is(err, cause) {
			t.Errorf("errors.Is(%v, cause) = false, want true", err)
		}
	})
}
