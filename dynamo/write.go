package dynamo

// The write path. Every change of an existing property is a write: one
// conditional UpdateItem whose condition carries the owner rule and the
// expected version, and whose failure is explained from the item DynamoDB
// returns with it (ALL_OLD), without a second read. The rules the condition
// enforces (ownedBy, versionIs, writable) and the explanation of a
// failure (explain) sit here beside the one method that runs a write (run).

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
)

// write describes one conditional UpdateItem of the property id by caller.
type write struct {
	op     string // names the write in errors: "update", "image removal", ...
	id     string
	caller property.Caller
	// token is the request's write token, which upd stores (bump): a failed
	// condition whose old item carries it is our own earlier success.
	token string
	upd   expression.UpdateBuilder
	cond  expression.ConditionBuilder
	// expected is the version the client expects, when it gave one.
	expected *int
	// change is the same change applied to an item in memory. With it, an
	// old item that needs an upgrade (legacy.go) takes the upgrading write,
	// and a failed condition at the right version and owner is explained
	// by the error change returns on the old item (the image limit).
	change func(*item) error
}

// bump is the part of every change: a new version, updatedAt and the
// request's write token.
func (s *Store) bump(token string) expression.UpdateBuilder {
	return expression.Set(expression.Name("updatedAt"), expression.Value(formatTime(s.timestamp()))).
		Set(expression.Name("version"), expression.Plus(expression.Name("version"), expression.Value(1))).
		Set(expression.Name("wtok"), expression.Value(token))
}

// ownedBy adds the owner rule to cond: only the owner (or an admin,
// unconditionally) may change a property, checked inside the write's own
// condition so it costs no extra read. The rule is the domain's
// (property.CanChange, in the form Caller.ChangeScope gives it).
func ownedBy(cond expression.ConditionBuilder, caller property.Caller) expression.ConditionBuilder {
	owner, all := caller.ChangeScope()
	switch {
	case all:
		return cond
	case owner == "":
		return cond.And(expression.AttributeNotExists(expression.Name("ownerId")))
	}
	return cond.And(expression.Name("ownerId").Equal(expression.Value(owner)))
}

// mayChange reports whether caller passes the owner rule for it.
func mayChange(caller property.Caller, it *item) bool {
	return property.CanChange(caller, &property.Property{OwnerID: it.OwnerID})
}

// versionIs is the condition "at version v". A legacy item has no version
// and reads as version 1, so at 1 a missing version matches too: deletes
// need no upgrade and stay at one round trip.
func versionIs(v int) expression.ConditionBuilder {
	cond := expression.Name("version").Equal(expression.Value(v))
	if v == 1 {
		cond = cond.Or(expression.AttributeNotExists(expression.Name("version")))
	}
	return cond
}

// writable is the condition every change of an existing property carries:
// it exists, is not being deleted, is at the expected version (if given)
// and the caller may change it.
func writable(caller property.Caller, expected *int) expression.ConditionBuilder {
	cond := expression.AttributeExists(expression.Name("PK")).
		And(expression.AttributeNotExists(expression.Name("deleting")))
	if expected != nil {
		cond = cond.And(expression.Name("version").Equal(expression.Value(*expected)))
	} else {
		// A legacy item has no version; it takes the upgrading write.
		cond = cond.And(expression.AttributeExists(expression.Name("version")))
	}
	return ownedBy(cond, caller)
}

// allows reports whether old passes the write's rules: it is there, at the
// expected version (if given), and the caller may change it.
func (w *write) allows(old *item) bool {
	return old != nil && !old.Deleting && (w.expected == nil || old.Version == *w.expected) && mayChange(w.caller, old)
}

// explain turns the old item of a failed condition (ALL_OLD) into the
// write's outcome: our own earlier success, NOT_FOUND, FORBIDDEN or
// CONFLICT, in that order, without a second read.
func (w *write) explain(old *item) (*property.Property, error) {
	if old == nil || old.Deleting {
		return nil, property.NotFound(w.id)
	}
	cur, err := old.property()
	if err != nil {
		return nil, err
	}
	switch {
	case w.token != "" && old.WriteToken == w.token:
		return cur, nil
	case !mayChange(w.caller, old):
		return nil, property.Errorf(property.EFORBIDDEN, "Only the owner of property %q or an admin may change it.", w.id)
	}
	return nil, property.Conflict(cur)
}

// run runs w and returns the property as the write left it. When the
// condition fails, explain tells why; when the version and the owner were
// not the reason, change names the term that failed. A legacy item always
// fails the condition, and so does an item whose images are in the earlier
// layout when w is an image change; change then upgrades it in a second
// write (upgrade).
func (s *Store) run(ctx context.Context, w write) (*property.Property, error) {
	mayUpgrade := w.change != nil
	for {
		after, old, failed, err := s.conditionalUpdate(ctx, &w)
		if err != nil {
			return nil, err
		}
		if !failed {
			return found(after, w.id)
		}
		if mayUpgrade && old != nil && old.needsUpgrade() {
			p, redo, err := s.upgrade(ctx, w, old)
			if !redo {
				return p, err
			}
			// Upgraded meanwhile by someone else: the normal write again.
			mayUpgrade = false
			continue
		}
		p, err := w.explain(old)
		if property.ErrorCode(err) == property.ECONFLICT && w.allows(old) && w.change != nil {
			// On a copy: the change only says whether it can be made.
			cp := *old
			cp.Images = maps.Clone(old.Images)
			if cp.Images == nil {
				cp.Images = map[string]image{}
			}
			if cerr := w.change(&cp); cerr != nil {
				return nil, cerr
			}
		}
		return p, property.Stale(err, w.expected)
	}
}

// legacyAttempts bounds the upgrading writes one change makes while the
// item keeps changing under it.
const legacyAttempts = 3

// upgrade applies w.change to old, an item that needs an upgrade (a legacy
// item, or one whose images are in this API's earlier layout) and whose
// normal write failed its condition or could not be made, in one UpdateItem
// that also brings it to our shape: the next version (2 for a legacy item),
// the index attributes, our timestamps and the images in our layout. The
// write is conditioned on the item being exactly as old shows it
// (unchangedSince), so it cannot overwrite anyone. If the item was
// meanwhile upgraded by someone else (the backfill) and w may still be
// made, redo says to make the normal write again.
func (s *Store) upgrade(ctx context.Context, w write, old *item) (p *property.Property, redo bool, err error) {
	for range legacyAttempts {
		if !old.needsUpgrade() && w.allows(old) && old.WriteToken != w.token {
			return nil, true, nil
		}
		if !old.needsUpgrade() || !w.allows(old) {
			p, err := w.explain(old)
			return p, false, err
		}
		it, err := old.shaped()
		if err != nil {
			return nil, false, err
		}
		if err := w.change(&it); err != nil {
			return nil, false, err
		}
		it.Version = old.Version + 1
		it.UpdatedAt = formatTime(s.timestamp())
		it.WriteToken = w.token
		created, _, err := it.times()
		if err != nil {
			return nil, false, err
		}
		it.derive(created)
		up := write{op: "upgrade", id: w.id, upd: updateOf(shapeSettings(&it, old.stored, true)),
			cond: ownedBy(unchangedSince(old), w.caller)}
		after, next, failed, err := s.conditionalUpdate(ctx, &up)
		if err != nil {
			return nil, false, err
		}
		if !failed {
			p, err := found(after, w.id)
			return p, false, err
		}
		if next == nil {
			return nil, false, property.NotFound(w.id)
		}
		old = next
	}
	// An old Lambda kept changing the item: report the state last seen.
	p, err = w.explain(old)
	return p, false, err
}

// conditionalUpdate makes one UpdateItem of w. It returns the item as the
// write left it (ALL_NEW; nil if that reads as absent), or, when the
// condition failed, failed and the item as it was (ALL_OLD; nil when there
// was none), so callers can tell why without a second read.
func (s *Store) conditionalUpdate(ctx context.Context, w *write) (after, old *item, failed bool, err error) {
	expr, err := expression.NewBuilder().WithUpdate(w.upd).WithCondition(w.cond).Build()
	if err != nil {
		return nil, nil, false, fmt.Errorf("build %s of %s: %w", w.op, w.id, err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: s.key(w.id),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		after, err := decode(out.Attributes)
		if err != nil {
			return nil, nil, false, fmt.Errorf("%s of %s: %w", w.op, w.id, err)
		}
		return after, nil, false, nil
	}
	old, ok, cerr := conditionFailure(err)
	if !ok {
		return nil, nil, false, translate(err, "%s of property %s", w.op, w.id)
	}
	if cerr != nil {
		return nil, nil, false, fmt.Errorf("%s of %s: %w", w.op, w.id, cerr)
	}
	return nil, old, true, nil
}

// conditionFailure reports whether err is a failed write condition and, if
// so, decodes the item DynamoDB returned with it (nil when there was none).
// A marked-for-deletion item is returned as is, so callers can tell.
func conditionFailure(err error) (*item, bool, error) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, false, nil
	}
	if len(ccf.Item) == 0 {
		return nil, true, nil
	}
	var it item
	if err := it.decode(ccf.Item); err != nil {
		return nil, true, fmt.Errorf("unmarshal condition item: %w", err)
	}
	return &it, true, nil
}
