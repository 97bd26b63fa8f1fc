package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
)

func (s *Store) checkImages(n int) error {
	if n > s.maxImages {
		return property.Invalid("images", "A property has at most %d images.", s.maxImages)
	}
	if n > 0 && !s.uploads {
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
	cond := writable(caller, in.ExpectedVersion).
		And(expression.Name(imageMap).AttributeType(expression.Map)).
		And(expression.Name(imageMap).Size().LessThanEqual(expression.Value(s.maxImages - len(in.Images))))
	p, err := s.run(ctx, write{op: "update", id: in.ID, caller: caller, token: token, upd: upd, cond: cond,
		expected: in.ExpectedVersion, change: addImagesChange(added, base, s.maxImages)})
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

// RemoveImage forgets one image. Its object is the caller's to delete,
// after this write, so the item never points at a deleted object (package
// service does both).
func (s *Store) RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	if !property.ValidID(in.ID) {
		return nil, property.NotFound(in.ID)
	}
	return s.removeImage(ctx, caller, in)
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
// takes the upgrading write (upgrade) instead.
func (s *Store) removeImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	old, err := s.read(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	w := write{op: "image removal", id: in.ID, caller: caller, token: uuid.NewString(),
		expected: in.ExpectedVersion, change: removeImageChange(in.Key)}
	for range legacyAttempts {
		if old == nil || old.Deleting {
			return nil, property.NotFound(in.ID)
		}
		if old.WriteToken == w.token {
			// The SDK retried a write whose first attempt had committed.
			return old.property()
		}
		if !w.allows(old) {
			return w.explain(old)
		}
		id, ok := old.imageIDOf(in.Key)
		if !ok {
			return nil, noSuchImage()
		}
		if old.needsUpgrade() {
			p, redo, err := s.upgrade(ctx, w, old)
			if redo {
				return s.removeImage(ctx, caller, in)
			}
			return p, err
		}
		entry := expression.Name(imageMap + "." + id)
		upd := s.bump(w.token).Remove(entry)
		cond := writable(caller, &old.Version).And(expression.AttributeExists(entry))
		if i := slices.Index(mustKeys(old.listedKeys()), in.Key); i >= 0 {
			at := expression.Name(fmt.Sprintf("%s[%d]", imageList, i))
			upd = upd.Remove(at)
			cond = cond.And(at.Equal(expression.Value(in.Key)))
		} else {
			// Not in the list (an old Lambda took it out already): only
			// the map changes, as long as the list still lacks it.
			cond = cond.And(expression.Not(expression.Contains(expression.Name(imageList), in.Key)))
		}
		w.upd, w.cond = upd, cond
		after, next, failed, err := s.conditionalUpdate(ctx, &w)
		if err != nil {
			return nil, err
		}
		if !failed {
			return found(after, in.ID)
		}
		old = next
	}
	// The item kept changing under the removal: report it as it is.
	return w.explain(old)
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
