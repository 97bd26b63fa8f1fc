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

// CanChange is the permission rule: an admin may change every property,
// anyone else only the properties they own (the anonymous caller, only
// those without an owner; the API's mutations need a signed-in caller
// anyway). A store enforces it inside its write's condition, through
// ChangeScope, and uses CanChange to explain a failed condition.
func CanChange(c Caller, p *Property) bool {
	owner, all := c.ChangeScope()
	return all || p.OwnerID == owner
}

// ChangeScope is CanChange in the form a write condition takes: all when c
// may change every property, otherwise exactly the properties whose
// OwnerID is owner ("": those without an owner).
func (c Caller) ChangeScope() (owner string, all bool) {
	if c.IsAdmin() {
		return "", true
	}
	return c.Subject, false
}

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
