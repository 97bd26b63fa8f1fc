package property

import (
	"context"
	"slices"
)

// Caller is who acts: the subject and groups of a verified token, or the
// anonymous caller when a request carries none.
type Caller struct {
	Subject string
	Groups  []string
}

// AdminGroup is the group whose members may change every property.
const AdminGroup = "admin"

// Anonymous is the caller of a request without a token.
var Anonymous = Caller{}

// IsAnonymous reports whether c carries no identity.
func (c Caller) IsAnonymous() bool { return c.Subject == "" }

// IsAdmin reports whether c belongs to the admin group.
func (c Caller) IsAdmin() bool { return slices.Contains(c.Groups, AdminGroup) }

type callerKey struct{}

// NewContext returns ctx carrying caller.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries, or Anonymous.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
