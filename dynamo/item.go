package dynamo

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/text/cases"

	property "github.com/propertyhq/property"
)

// Key formats and index names stay inside this package.
const (
	pkPrefix    = "PROPERTY#"
	skMetadata  = "METADATA"
	listAll     = "ALL"
	keySep      = "#"
	centsDigits = 13
	// timeLayout is how createdAt and updatedAt are stored: the old
	// Lambdas' ORM's UTC datetime format (its UTCDateTimeAttribute), so
	// their model keeps reading every item this API writes (README,
	// "Adopting the existing table"). Fixed width, it sorts as text.
	timeLayout = "2006-01-02T15:04:05.000000+0000"
	// sortTimeLayout is the time in the csk index sort key: milliseconds in
	// UTC, the encoding the indexes and the cursors issued so far hold, so
	// neither changes with the stored format above.
	sortTimeLayout = "2006-01-02T15:04:05.000Z"

	indexCreated      = "byCreated"
	indexPrice        = "byPrice"
	indexCityCreated  = "byCityCreated"
	indexCityPrice    = "byCityPrice"
	indexOwnerCreated = "byOwnerCreated"

	// imageList is the old Lambdas' images attribute, which their model
	// declares as a list of object keys: every write that changes images
	// keeps it as the keys in display order, so the old model reads them.
	// imageMap holds this API's image map (id -> key, order, type, size),
	// which lets one image be added without a read; the old model ignores
	// it. See "Adopting the existing table" in the README.
	imageList = "images"
	imageMap  = "imageSet"
)

// item is a property as stored. Besides the domain fields it carries the
// concurrency and idempotency bookkeeping and the index attributes.
type item struct {
	// Property holds the domain fields (Title, Price, ...), encoded by the
	// table of fields (fields.go); only those of its fields are used: the
	// item's own ID, OwnerID, Version, timestamps and Images below shadow
	// the rest.
	property.Property `dynamodbav:"-"`

	PK        string           `dynamodbav:"PK"`
	SK        string           `dynamodbav:"SK"`
	ID        string           `dynamodbav:"id"`
	OwnerID   string           `dynamodbav:"ownerId,omitempty"`
	Version   int              `dynamodbav:"version"`
	CreatedAt string           `dynamodbav:"createdAt"`
	UpdatedAt string           `dynamodbav:"updatedAt"`
	Images    map[string]image `dynamodbav:"imageSet"` // the old model's list under images: imageKeys
	// Deleting marks an item whose deletion has begun; it reads as absent.
	Deleting bool `dynamodbav:"deleting,omitempty"`
	// WriteToken is the token of the request that wrote the item last, so a
	// retried write can recognise its own earlier success.
	WriteToken string `dynamodbav:"wtok"`
	// Idem is the fingerprint of the input of an idempotent create.
	Idem string `dynamodbav:"idem,omitempty"`

	// Index attributes. Removing lpk/cpk/opk hides an item from listings.
	ListPK  string `dynamodbav:"lpk,omitempty"`
	CityPK  string `dynamodbav:"cpk,omitempty"`
	OwnerPK string `dynamodbav:"opk,omitempty"`
	// StateKey is the normalised state, for case-insensitive filtering.
	StateKey   string `dynamodbav:"skey,omitempty"`
	CreatedKey string `dynamodbav:"csk,omitempty"`
	PriceKey   string `dynamodbav:"psk,omitempty"`

	// prints is the fingerprint: for each field printedFields lists, a
	// short hash of it as this API last wrote it, by attribute name. It is
	// stored as flat attributes (fpt, fpd, ...) beside the fields; see
	// MarshalDynamoDBAttributeValue.
	prints map[string]string

	// legacy marks an item the platform's old Lambdas wrote (it has no
	// version) and stored keeps its attributes as read; see legacy.go.
	legacy bool
	stored map[string]types.AttributeValue
}

// image is one recorded image; Order keeps the upload order in a map that
// lets one image be added without rewriting the others.
type image struct {
	Key         string `dynamodbav:"key"`
	Order       int64  `dynamodbav:"order"`
	ContentType string `dynamodbav:"ct"`
	Size        int    `dynamodbav:"size"`
}

func pk(id string) string { return pkPrefix + id }

var folder = cases.Fold()

// normalize is the form city and state are matched in.
func normalize(s string) string { return folder.String(strings.TrimSpace(s)) }

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// createdKey sorts by creation time, then id: fixed-width UTC text sorts
// like the time it spells.
func createdKey(created time.Time, id string) string {
	return created.UTC().Truncate(time.Millisecond).Format(sortTimeLayout) + keySep + id
}

// priceKey sorts by price, then id: zero-padded cents sort like numbers.
func priceKey(cents int64, id string) string { return centsKey(cents) + keySep + id }

func centsKey(cents int64) string { return fmt.Sprintf("%0*d", centsDigits, cents) }

func newItem(p *property.Property) item {
	it := item{
		PK: pk(p.ID), SK: skMetadata, ID: p.ID,
		OwnerID: p.OwnerID, Version: p.Version,
		CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
		Images: map[string]image{},
	}
	copyFields(&it.Property, p)
	for i, img := range p.Images {
		it.Images[property.ImageID(img.Key)] = image{Key: img.Key, Order: int64(i), ContentType: img.ContentType, Size: img.Size}
	}
	it.derive(p.CreatedAt)
	return it
}

// derive sets what is derived from the domain fields: the index attributes
// and the fingerprint. An index attribute whose field is missing or blank
// stays empty, and an empty one is never written (see derivedSettings): the
// item is then in the indexes it can be in, and always in the unfiltered
// listings, whose keys (ALL, creation time and price, each with the id)
// are never empty.
func (it *item) derive(created time.Time) {
	it.ListPK = listAll
	it.CityPK = normalize(it.City)
	it.StateKey = normalize(it.State)
	it.OwnerPK = it.OwnerID
	it.CreatedKey = createdKey(created, it.ID)
	it.PriceKey = priceKey(property.Cents(it.Price), it.ID)
	it.prints = make(map[string]string, len(printedFields))
	for _, f := range printedFields {
		it.prints[f.attr] = fieldPrint(f.value(it))
	}
}

// printedField is one field the fingerprint covers: its attribute, the
// attribute of its fingerprint, and its value as the API reads it (a
// missing text field reads as "", a missing price as 0).
//
// Every write of this API that sets a field sets its fingerprint too (flat
// attributes, so an update can set one without reading the item). The old
// Lambdas change fields without touching them: the backfill's repair mode
// finds their changes by comparing (backfill.go).
type printedField struct {
	field, attr string
	value       func(*item) string
}

// fieldPrint is the fingerprint of one field's value: 48 bits of SHA-256,
// plenty to notice a change.
func fieldPrint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// centsText is a price as its fingerprint sees it: whole cents.
func centsText(price float64) string { return strconv.FormatInt(property.Cents(price), 10) }

// MarshalDynamoDBAttributeValue encodes the item with its fingerprint.
func (it item) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	av, err := attributevalue.Marshal(storedItem(it))
	if err != nil {
		return nil, err
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("item encoded as a %T", av)
	}
	if err := encodeFields(m.Value, &it.Property); err != nil {
		return nil, err
	}
	for attr, v := range it.prints {
		m.Value[attr] = &types.AttributeValueMemberS{Value: v}
	}
	m.Value[imageList] = keyList(it.imageKeys())
	return m, nil
}

// sortedImages are the item's images in display (upload) order.
func (it *item) sortedImages() []image {
	imgs := make([]image, 0, len(it.Images))
	for _, img := range it.Images {
		imgs = append(imgs, img)
	}
	sort.Slice(imgs, func(i, j int) bool {
		if imgs[i].Order != imgs[j].Order {
			return imgs[i].Order < imgs[j].Order
		}
		return imgs[i].Key < imgs[j].Key
	})
	return imgs
}

// imageKeys are the keys of the item's images in display order: the list
// the old Lambdas' model reads under images.
func (it *item) imageKeys() []string {
	imgs := it.sortedImages()
	keys := make([]string, len(imgs))
	for i, img := range imgs {
		keys[i] = img.Key
	}
	return keys
}

// keyList is keys as the old model's list of text (L of S; empty, not
// NULL, when there are none).
func keyList(keys []string) *types.AttributeValueMemberL {
	l := &types.AttributeValueMemberL{Value: make([]types.AttributeValue, len(keys))}
	for i, k := range keys {
		l.Value[i] = &types.AttributeValueMemberS{Value: k}
	}
	return l
}

// imageIDOf is the map id of the item's image with key, if it has one.
func (it *item) imageIDOf(key string) (string, bool) {
	for id, img := range it.Images {
		if img.Key == key {
			return id, true
		}
	}
	return "", false
}

func (it *item) property() (*property.Property, error) {
	// times reads both our timestamps and the old Lambdas' (legacy.go).
	created, updated, err := it.times()
	if err != nil {
		return nil, err
	}
	p := &property.Property{
		ID: it.ID, OwnerID: it.OwnerID, Version: it.Version, CreatedAt: created, UpdatedAt: updated,
		Images: make([]property.Image, 0, len(it.Images)),
	}
	copyFields(p, &it.Property)
	for _, img := range it.sortedImages() {
		p.Images = append(p.Images, property.Image{Key: img.Key, ContentType: img.ContentType, Size: img.Size})
	}
	return p, nil
}

// idFromSortKey returns the id that ends an index sort key.
func idFromSortKey(sk string) (string, bool) {
	i := strings.LastIndex(sk, keySep)
	if i < 0 || !property.ValidID(sk[i+1:]) {
		return "", false
	}
	return sk[i+1:], true
}
