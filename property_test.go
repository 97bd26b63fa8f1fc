package property_test

import (
	"context"
	"strings"
	"testing"

	property "github.com/propertyhq/property"
)

func TestValidID(t *testing.T) {
	const id = "3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"canonical lower case", id, true},
		{"fresh id", property.NewID(), true},
		{"upper case", strings.ToUpper(id), false},
		{"braces", "{" + id + "}", false},
		{"urn", "urn:uuid:" + id, false},
		{"no dashes", strings.ReplaceAll(id, "-", ""), false},
		{"empty", "", false},
		{"35 characters", id[:35], false},
		{"37 characters", id + "a", false},
		{"36 characters of garbage", strings.Repeat("x", 36), false},
		{"dashes misplaced", "3f1c9a528-f0e-4d7c-9a43-0c1f2e3d4b5a", false},
		{"key form", "PROPERTY#1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := property.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestNewIDUnique(t *testing.T) {
	if a, b := property.NewID(), property.NewID(); a == b {
		t.Errorf("NewID() returned %q twice", a)
	}
}

func TestIdempotentID(t *testing.T) {
	alice := property.Caller{Subject: "alice"}
	bob := property.Caller{Subject: "bob"}
	t.Run("stable for the same caller and key", func(t *testing.T) {
		// Groups are not part of the identity: the same subject with other
		// groups must land on the same item.
		admin := property.Caller{Subject: "alice", Groups: []string{property.AdminGroup}}
		if got, want := property.IdempotentID(admin, "k1"), property.IdempotentID(alice, "k1"); got != want {
			t.Errorf("IdempotentID = %q, want %q", got, want)
		}
	})
	t.Run("valid ids", func(t *testing.T) {
		for _, c := range []property.Caller{alice, bob, property.Anonymous} {
			for _, key := range []string{"k1", "", strings.Repeat("é", property.MaxClientKeyLen)} {
				if id := property.IdempotentID(c, key); !property.ValidID(id) {
					t.Errorf("ValidID(IdempotentID(%q, %q)) = false for %q", c.Subject, key, id)
				}
			}
		}
	})
	tests := []struct {
		name   string
		c1, c2 property.Caller
		k1, k2 string
	}{
		{"different callers", alice, bob, "k1", "k1"},
		{"different keys", alice, alice, "k1", "k2"},
		{"key moved into subject", property.Caller{Subject: "alicek"}, alice, "1", "k1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := property.IdempotentID(tt.c1, tt.k1), property.IdempotentID(tt.c2, tt.k2)
			if a == b {
				t.Errorf("IdempotentID(%q, %q) = IdempotentID(%q, %q) = %q, want different",
					tt.c1.Subject, tt.k1, tt.c2.Subject, tt.k2, a)
			}
		})
	}
}

func TestOrderValid(t *testing.T) {
	tests := []struct {
		order property.Order
		want  bool
	}{
		{property.OrderCreatedDesc, true},
		{property.OrderCreatedAsc, true},
		{property.OrderPriceAsc, true},
		{property.OrderPriceDesc, true},
		{"", false},
		{"price_asc", false},
		{"PRICE", false},
		{"CREATED_AT_DESC ", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.order), func(t *testing.T) {
			if got := tt.order.Valid(); got != tt.want {
				t.Errorf("Order(%q).Valid() = %v, want %v", tt.order, got, tt.want)
			}
		})
	}
}

func TestCaller(t *testing.T) {
	tests := []struct {
		name          string
		caller        property.Caller
		wantAnonymous bool
		wantAdmin     bool
	}{
		{"anonymous", property.Anonymous, true, false},
		{"user", property.Caller{Subject: "alice"}, false, false},
		{"user in other groups", property.Caller{Subject: "alice", Groups: []string{"agents", "Admin", "admins"}}, false, false},
		{"admin", property.Caller{Subject: "root", Groups: []string{"agents", property.AdminGroup}}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.caller.IsAnonymous(); got != tt.wantAnonymous {
				t.Errorf("IsAnonymous() = %v, want %v", got, tt.wantAnonymous)
			}
			if got := tt.caller.IsAdmin(); got != tt.wantAdmin {
				t.Errorf("IsAdmin() = %v, want %v", got, tt.wantAdmin)
			}
		})
	}
}

func TestCallerContext(t *testing.T) {
	t.Run("default anonymous", func(t *testing.T) {
		c := property.CallerFrom(context.Background())
		if !c.IsAnonymous() || c.IsAdmin() || len(c.Groups) != 0 {
			t.Errorf("CallerFrom(empty context) = %+v, want Anonymous", c)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		want := property.Caller{Subject: "alice", Groups: []string{"agents", property.AdminGroup}}
		got := property.CallerFrom(property.NewContext(context.Background(), want))
		if got.Subject != want.Subject || strings.Join(got.Groups, ",") != strings.Join(want.Groups, ",") {
			t.Errorf("CallerFrom(NewContext(%+v)) = %+v", want, got)
		}
	})
	t.Run("inner context wins", func(t *testing.T) {
		ctx := property.NewContext(context.Background(), property.Caller{Subject: "alice"})
		ctx = property.NewContext(ctx, property.Caller{Subject: "bob"})
		if got, want := property.CallerFrom(ctx).Subject, "bob"; got != want {
			t.Errorf("Subject = %q, want %q", got, want)
		}
	})
}
