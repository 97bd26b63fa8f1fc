package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
)

func (s *Store) checkImages(n int) error {
	if n > s.maxImages {
		return property.Invalid("images", "A property has at most %d images.", s.maxImages)
	}
	if n > 0 && s.objects == nil {
		return property.Invalid("images", "Image uploads are not configured on this server.")
	}
	return nil
}

// AddImages records new images on a property in one UpdateItem whose
// condition also enforces the image limit, and returns the property and the
// images added (whose uploads the caller signs). The same write adds them to
// the map under imageSet and appends their keys to the old model's list
// under images.
func (s *Store) AddImages(ctx context.Context, caller property.Caller, in property.AddImagesInput) (*property.Property, []property.Image, error) {
	if !property.ValidID(in.ID) {
		return nil, nil, property.NotFound(in.ID)
	}
	if err := s.checkImages(len(in.Images)); err != nil {
		return nil, nil, err
	}
	token := uuid.NewString()
	upd := s.bump(token)
	// Orders from the clock keep upload order across requests without
	// reading the item first.
	base := s.now().UnixNano()
	added := make([]property.Image, len(in.Images))
	keys := make([]string, len(in.Images))
	for i, req := range in.Images {
		img := property.NewImage(in.ID, req)
		added[i], keys[i] = img, img.Key
		upd = upd.Set(expression.Name(imageMap+"."+property.ImageID(img.Key)),
			expression.Value(image{Key: img.Key, Order: base + int64(i), ContentType: img.ContentType, Size: img.Size}))
	}
	upd = upd.Set(expression.Name(imageList), expression.ListAppend(
		expression.IfNotExists(expression.Name(imageList), expression.Value(keyList(nil))), expression.Value(keyList(keys))))
	// An item without the map (legacy, or images in the earlier layout)
	// fails the condition and is upgraded by update (a path into a missing
	// map would be refused, not conditioned).
	cond := s.writable(caller, in.ExpectedVersion).
		And(expression.Name(imageMap).AttributeType(expression.Map)).
		And(expression.Name(imageMap).Size().LessThanEqual(expression.Value(s.maxImages - len(in.Images))))
	p, err := s.update(ctx, caller, in.ID, token, upd, cond, in.ExpectedVersion, func(old *item) error {
		if len(old.Images)+len(in.Images) > s.maxImages {
			return tooManyImages(s.maxImages, len(old.Images))
		}
		return nil
	}, addImagesChange(added, base, s.maxImages))
	if err != nil {
		return nil, nil, err
	}
	return p, added, nil
}

func tooManyImages(maxImages, has int) error {
	return property.Invalid("images", "A property has at most %d images; this one has %d.", maxImages, has)
}

func noSuchImage() error {
	return property.Invalid("key", "The property has no image with that key.")
}

// RemoveImage forgets one image, then deletes its object. The write comes
// first, so the item never points at a deleted object; an object left behind
// by a failed delete is removed with the property.
func (s *Store) RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	if !property.ValidID(in.ID) {
		return nil, property.NotFound(in.ID)
	}
	p, err := s.removeImage(ctx, caller, in)
	if err != nil {
		return nil, err
	}
	if s.objects != nil {
		if err := s.objects.Delete(ctx, in.Key); err != nil {
			return nil, fmt.Errorf("remove image %s: %w", in.Key, err)
		}
	}
	return p, nil
}

// removeImage takes the image out of the map and out of the old model's
// list. It is the one image operation that needs two round trips: DynamoDB
// removes a list element only by its index, and the index is known only
// after a read. So: one consistent GetItem, then one UpdateItem that removes
// imageSet.<id> and images[i], conditioned on the version read (and on
// in.ExpectedVersion being it, when given), on the caller, and on images[i]
// still being the key (the old Lambdas change the list without a version).
// If the item changed in between, the failed condition's ALL_OLD item is the
// new read, for a bounded number of attempts; an item that needs an upgrade
// takes updateLegacy's single write instead.
func (s *Store) removeImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	old, err := s.read(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	token := uuid.NewString()
	for range legacyAttempts {
		if old == nil || old.Deleting {
			return nil, property.NotFound(in.ID)
		}
		if old.WriteToken == token {
			// The SDK retried a write whose first attempt had committed.
			return old.property()
		}
		if (in.ExpectedVersion != nil && old.Version != *in.ExpectedVersion) || !mayChange(caller, old) {
			return s.explainFailure(old, caller, token, in.ID)
		}
		id, ok := old.imageIDOf(in.Key)
		if !ok {
			return nil, noSuchImage()
		}
		if old.needsUpgrade() {
			return s.updateLegacy(ctx, caller, in.ID, token, old, in.ExpectedVersion, removeImageChange(in.Key),
				func() (*property.Property, error) { return s.removeImage(ctx, caller, in) })
		}
		entry := expression.Name(imageMap + "." + id)
		upd := s.bump(token).Remove(entry)
		cond := s.writable(caller, &old.Version).And(expression.AttributeExists(entry))
		if i := slices.Index(mustKeys(old.listedKeys()), in.Key); i >= 0 {
			at := expression.Name(fmt.Sprintf("%s[%d]", imageList, i))
			upd = upd.Remove(at)
			cond = cond.And(at.Equal(expression.Value(in.Key)))
		} else {
			// Not in the list (an old Lambda took it out already): only
			// the map changes, as long as the list still lacks it.
			cond = cond.And(expression.Not(expression.Contains(expression.Name(imageList), in.Key)))
		}
		after, next, failed, err := s.conditionalUpdate(ctx, "image removal", in.ID, upd, cond)
		if err != nil {
			return nil, err
		}
		if !failed {
			return found(after, in.ID)
		}
		old = next
	}
	// The item kept changing under the removal: report it as it is.
	if old == nil || old.Deleting {
		return nil, property.NotFound(in.ID)
	}
	return s.explainFailure(old, caller, token, in.ID)
}

// mustKeys is the list of listedKeys, or none when there is no list.
func mustKeys(keys []string, ok bool) []string {
	if !ok {
		return nil
	}
	return keys
}

// read is one consistent GetItem, decoded (nil when there is no item).
func (s *Store) read(ctx context.Context, id string) (*item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: s.key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, translate(err, "read property %s", id)
	}
	it, err := decode(out.Item)
	if err != nil {
		return nil, fmt.Errorf("property %s: %w", id, err)
	}
	return it, nil
}

// conditionalUpdate runs one UpdateItem under cond. It returns the item as
// the write left it (ALL_NEW; nil if that reads as absent), or, when the
// condition failed, failed and the item as it was (ALL_OLD; nil when there
// was none), so callers can tell why without a second read.
func (s *Store) conditionalUpdate(ctx context.Context, op, id string, upd expression.UpdateBuilder,
	cond expression.ConditionBuilder) (after, old *item, failed bool, err error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, nil, false, fmt.Errorf("build %s of %s: %w", op, id, err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: s.key(id),
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
			return nil, nil, false, fmt.Errorf("%s of %s: %w", op, id, err)
		}
		return after, nil, false, nil
	}
	old, ok, cerr := conditionFailure(err)
	if !ok {
		return nil, nil, false, translate(err, "%s of property %s", op, id)
	}
	if cerr != nil {
		return nil, nil, false, fmt.Errorf("%s of %s: %w", op, id, cerr)
	}
	return nil, old, true, nil
}

// bump is the part of every change: a new version, updatedAt and the
// request's write token.
func (s *Store) bump(token string) expression.UpdateBuilder {
	return expression.Set(expression.Name("updatedAt"), expression.Value(formatTime(s.timestamp()))).
		Set(expression.Name("version"), expression.Plus(expression.Name("version"), expression.Value(1))).
		Set(expression.Name("wtok"), expression.Value(token))
}

// writable is the condition every change of an existing property carries:
// it exists, is not being deleted, is at the expected version (if given)
// and the caller may change it.
func (s *Store) writable(caller property.Caller, expected *int) expression.ConditionBuilder {
	cond := expression.AttributeExists(expression.Name("PK")).
		And(expression.AttributeNotExists(expression.Name("deleting")))
	if expected != nil {
		cond = cond.And(expression.Name("version").Equal(expression.Value(*expected)))
	} else {
		// A legacy item has no version; it takes update's upgrading path.
		cond = cond.And(expression.AttributeExists(expression.Name("version")))
	}
	if owner, ok := ownerCondition(caller); ok {
		cond = cond.And(owner)
	}
	return cond
}

// update runs one conditional UpdateItem returning ALL_NEW. When the
// condition fails, explainFailure tells our own earlier success, NOT_FOUND,
// FORBIDDEN and CONFLICT apart; when the version was not the reason, other
// (if given) names the term of cond that failed. A legacy item always fails
// cond, and so does an item whose images are in the earlier layout when
// cond is an image change's; change (the same change, in memory) then
// upgrades it in a second write (updateLegacy).
func (s *Store) update(ctx context.Context, caller property.Caller, id, token string, upd expression.UpdateBuilder,
	cond expression.ConditionBuilder, expected *int, other func(old *item) error, change func(*item) error) (*property.Property, error) {
	after, old, failed, err := s.conditionalUpdate(ctx, "update", id, upd, cond)
	if err != nil {
		return nil, err
	}
	if !failed {
		return found(after, id)
	}
	if old != nil && old.needsUpgrade() && change != nil {
		return s.updateLegacy(ctx, caller, id, token, old, expected, change, func() (*property.Property, error) {
			return s.update(ctx, caller, id, token, upd, cond, expected, other, nil)
		})
	}
	p, err := s.explainFailure(old, caller, token, id)
	versionOK := old != nil && (expected == nil || old.Version == *expected)
	if property.ErrorCode(err) == property.ECONFLICT && versionOK && other != nil {
		if oerr := other(old); oerr != nil {
			return nil, oerr
		}
	}
	return p, property.Stale(err, expected)
}
