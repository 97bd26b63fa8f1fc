package property_test

import (
	"testing"

	property "github.com/propertyhq/property"
)

func TestCanChange(t *testing.T) {
	alice := property.Caller{Subject: "alice"}
	admin := property.Caller{Subject: "root", Groups: []string{property.AdminGroup}}
	owned := &property.Property{OwnerID: "alice"}
	others := &property.Property{OwnerID: "bob"}
	unowned := &property.Property{}
	tests := []struct {
		name   string
		caller property.Caller
		p      *property.Property
		want   bool
	}{
		{"owner", alice, owned, true},
		{"someone else's", alice, others, false},
		{"signed-in, unowned", alice, unowned, false},
		{"admin, someone else's", admin, others, true},
		{"admin, unowned", admin, unowned, true},
		{"anonymous, unowned", property.Anonymous, unowned, true},
		{"anonymous, owned", property.Anonymous, owned, false},
		{"a group named like admin is not admin", property.Caller{Subject: "eve", Groups: []string{"Admin"}}, others, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := property.CanChange(tt.caller, tt.p); got != tt.want {
				t.Errorf("CanChange(%+v, owner %q) = %v, want %v", tt.caller, tt.p.OwnerID, got, tt.want)
			}
			// ChangeScope states the same rule as a condition: every
			// property, or exactly those owned by owner.
			owner, all := tt.caller.ChangeScope()
			if got := all || tt.p.OwnerID == owner; got != tt.want {
				t.Errorf("ChangeScope() = %q, %v: admits owner %q = %v, want %v", owner, all, tt.p.OwnerID, got, tt.want)
			}
		})
	}
}
