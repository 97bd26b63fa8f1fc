// Package dynamo stores properties in one DynamoDB table. It is the only
// package that knows the table's keys, indexes and expressions, and it
// translates every SDK error into the domain's codes at its boundary.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
)

// Options configure a Store.
type Options struct {
	// Table is the table's name.
	Table string
	// Cursors seals and opens listing cursors.
	Cursors *cursor.Codec
	// ReadCap bounds the items one request reads from the listing indexes,
	// all its listings together when ctx carries a property.Reads
	// (default DefaultReadCap).
	ReadCap int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Uploads says image uploads are configured; without them a property
	// has no images (a create or an addition of images is refused). The
	// objects themselves are the service's (package service), not the
	// store's: the store talks to DynamoDB only.
	Uploads bool
	// MaxImages bounds the images of one property (default 20).
	MaxImages int
}

// Store reads and writes properties, one round trip per operation where
// DynamoDB allows it.
type Store struct {
	db        *dynamodb.Client
	table     *string
	cursors   *cursor.Codec
	readCap   int
	now       func() time.Time
	uploads   bool
	maxImages int
}

// New returns a Store on client.
func New(client *dynamodb.Client, opt Options) (*Store, error) {
	if opt.Table == "" {
		return nil, errors.New("dynamo: table name required")
	}
	if opt.Cursors == nil {
		return nil, errors.New("dynamo: cursor codec required")
	}
	if opt.ReadCap <= 0 {
		opt.ReadCap = DefaultReadCap
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxImages <= 0 {
		opt.MaxImages = property.DefaultMaxImages
	}
	return &Store{db: client, table: aws.String(opt.Table), cursors: opt.Cursors, readCap: opt.ReadCap,
		now: opt.Now, uploads: opt.Uploads, maxImages: opt.MaxImages}, nil
}

func (s *Store) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk(id)},
		"SK": &types.AttributeValueMemberS{Value: skMetadata},
	}
}

// timestamp is the store's clock at millisecond precision, in UTC.
func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Get returns the property with id, or a NOT_FOUND error.
func (s *Store) Get(ctx context.Context, id string) (*property.Property, error) {
	if !property.ValidID(id) {
		return nil, property.NotFound(id)
	}
	// A client that just wrote expects to read its write: read is
	// consistent.
	it, err := s.read(ctx, id)
	if err != nil {
		return nil, err
	}
	return found(it, id)
}

// Create stores a new property for caller. With a client key the id is
// derived from (caller, key), so a repeated create finds the first one: the
// same input returns it as it is now, other input is an EINVALID error.
func (s *Store) Create(ctx context.Context, caller property.Caller, in property.CreateInput) (*property.Property, error) {
	if err := s.checkImages(len(in.Images)); err != nil {
		return nil, err
	}
	now := s.timestamp()
	p := &property.Property{
		ID: property.NewID(), OwnerID: caller.Subject, Version: 1, CreatedAt: now, UpdatedAt: now,
		Images: []property.Image{},
	}
	for _, f := range fields {
		f.set(p, f.created(&in))
	}
	if in.ClientMutationID != nil {
		p.ID = property.IdempotentID(caller, *in.ClientMutationID)
	}
	for _, req := range in.Images {
		p.Images = append(p.Images, property.NewImage(p.ID, req))
	}
	it := newItem(p)
	it.WriteToken = uuid.NewString()
	if in.ClientMutationID != nil {
		it.Idem = in.Fingerprint()
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal property %s: %w", p.ID, err)
	}
	cond := expression.AttributeNotExists(expression.Name("PK"))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build create condition: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table, Item: av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return p, nil
	}
	old, ok, cerr := conditionFailure(err)
	if !ok {
		return nil, translate(err, "create property %s", p.ID)
	}
	if cerr != nil {
		return nil, fmt.Errorf("create property %s: %w", p.ID, cerr)
	}
	switch {
	case old == nil:
		return nil, fmt.Errorf("create property %s: condition failed without an item", p.ID)
	case old.WriteToken == it.WriteToken:
		// The SDK retried a put whose first attempt had committed.
		return p, nil
	case it.Idem == "" || old.Idem == "":
		return nil, fmt.Errorf("create property %s: id collision", p.ID)
	case old.Deleting:
		return nil, property.Invalid("clientMutationId", "clientMutationId was used for a property that has since been deleted.")
	case old.Idem != it.Idem:
		return nil, property.Invalid("clientMutationId", "clientMutationId was already used with different input.")
	}
	return old.property()
}

// Update applies in while the stored version equals in.ExpectedVersion.
func (s *Store) Update(ctx context.Context, caller property.Caller, in property.UpdateInput) (*property.Property, error) {
	if !property.ValidID(in.ID) {
		return nil, property.NotFound(in.ID)
	}
	token := uuid.NewString()
	upd := setFields(s.bump(token), &in)
	// The index attributes derived from the fields (see derive).
	if in.City != nil {
		upd = upd.Set(expression.Name("cpk"), expression.Value(normalize(*in.City)))
	}
	if in.State != nil {
		upd = upd.Set(expression.Name("skey"), expression.Value(normalize(*in.State)))
	}
	if in.Price != nil {
		upd = upd.Set(expression.Name("psk"), expression.Value(priceKey(property.Cents(*in.Price), in.ID)))
	}
	return s.run(ctx, write{op: "update", id: in.ID, caller: caller, token: token, upd: upd,
		cond: writable(caller, &in.ExpectedVersion), expected: &in.ExpectedVersion, change: updateChange(in)})
}

// Delete removes a property, at in.ExpectedVersion when given, in one
// DeleteItem. A property with image objects is deleted in three steps
// (MarkDeleting, the objects, DeleteMarked) by the service above the store
// (package service); Delete reports no objects.
func (s *Store) Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (int, error) {
	if !property.ValidID(in.ID) {
		return 0, property.NotFound(in.ID)
	}
	_, err := s.deleteItem(ctx, caller, in, false)
	return 0, property.Stale(err, in.ExpectedVersion)
}

// DeleteMarked deletes an item MarkDeleting marked, conditioned only on the
// mark: the last step of a delete with images.
func (s *Store) DeleteMarked(ctx context.Context, caller property.Caller, in property.DeleteInput) error {
	if !property.ValidID(in.ID) {
		return property.NotFound(in.ID)
	}
	_, err := s.deleteItem(ctx, caller, in, true)
	return err
}

// MarkDeleting hides the item: it reads as absent and drops out of every
// listing index. A marked item may be marked again, so a delete that failed
// half-way can be repeated.
func (s *Store) MarkDeleting(ctx context.Context, caller property.Caller, in property.DeleteInput) error {
	if !property.ValidID(in.ID) {
		return property.NotFound(in.ID)
	}
	return property.Stale(s.mark(ctx, caller, in), in.ExpectedVersion)
}

// mark is MarkDeleting's write: the deletion mark, without the version and
// the listing keys, under the delete's condition.
func (s *Store) mark(ctx context.Context, caller property.Caller, in property.DeleteInput) error {
	token := uuid.NewString()
	upd := expression.Set(expression.Name("deleting"), expression.Value(true)).
		Set(expression.Name("wtok"), expression.Value(token)).
		Remove(expression.Name("lpk")).Remove(expression.Name("cpk")).Remove(expression.Name("opk"))
	cond := expression.AttributeExists(expression.Name("PK"))
	if in.ExpectedVersion != nil {
		cond = cond.And(versionIs(*in.ExpectedVersion))
	}
	w := write{op: "deletion mark", id: in.ID, caller: caller, token: token, upd: upd, cond: ownedBy(cond, caller)}
	_, old, failed, err := s.conditionalUpdate(ctx, &w)
	if err != nil || !failed {
		return err
	}
	_, err = w.explain(old)
	return err
}

// deleteItem deletes the item in one DeleteItem: conditioned on owner and
// version, or, after markDeleting, only on the mark.
func (s *Store) deleteItem(ctx context.Context, caller property.Caller, in property.DeleteInput, marked bool) (*property.Property, error) {
	var cond expression.ConditionBuilder
	if marked {
		cond = expression.Name("deleting").Equal(expression.Value(true))
	} else {
		cond = expression.AttributeExists(expression.Name("PK")).
			And(expression.AttributeNotExists(expression.Name("deleting")))
		if in.ExpectedVersion != nil {
			cond = cond.And(versionIs(*in.ExpectedVersion))
		}
		cond = ownedBy(cond, caller)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build delete of %s: %w", in.ID, err)
	}
	var attempts attemptCount
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: s.table, Key: s.key(in.ID),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, attempts.option)
	if err == nil {
		if len(out.Attributes) == 0 {
			return nil, property.NotFound(in.ID)
		}
		return &property.Property{ID: in.ID}, nil
	}
	old, ok, cerr := conditionFailure(err)
	if !ok {
		return nil, translate(err, "delete property %s", in.ID)
	}
	if cerr != nil {
		return nil, fmt.Errorf("delete property %s: %w", in.ID, cerr)
	}
	if old == nil && (marked || attempts.n > 1) {
		// Gone already: deleted by our own earlier attempt (a deleted item
		// keeps no token to recognise) or, once marked, by a concurrent
		// repeat of this delete. Either way the delete has happened.
		return &property.Property{ID: in.ID}, nil
	}
	// A deleted item keeps no token: no earlier success to recognise.
	return (&write{id: in.ID, caller: caller}).explain(old)
}

// decode unmarshals a stored item; nil for no item.
func decode(av map[string]types.AttributeValue) (*item, error) {
	if len(av) == 0 {
		return nil, nil
	}
	var it item
	if err := it.decode(av); err != nil {
		return nil, fmt.Errorf("unmarshal item: %w", err)
	}
	if it.Deleting {
		return nil, nil
	}
	return &it, nil
}

// found is the property of a decoded item, or NOT_FOUND when there is none
// (or it reads as absent).
func found(it *item, id string) (*property.Property, error) {
	if it == nil {
		return nil, property.NotFound(id)
	}
	return it.property()
}
