package dynamo

import (
	"fmt"
	"sort"
	"strings"
	"time"

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
	timeLayout  = "2006-01-02T15:04:05.000Z"
	centsDigits = 13

	indexCreated      = "byCreated"
	indexPrice        = "byPrice"
	indexCityCreated  = "byCityCreated"
	indexCityPrice    = "byCityPrice"
	indexOwnerCreated = "byOwnerCreated"
)

// item is a property as stored. Besides the domain fields it carries the
// concurrency and idempotency bookkeeping and the index attributes.
type item struct {
	PK          string           `dynamodbav:"PK"`
	SK          string           `dynamodbav:"SK"`
	ID          string           `dynamodbav:"id"`
	Title       string           `dynamodbav:"title"`
	Description string           `dynamodbav:"description"`
	Price       float64          `dynamodbav:"price"`
	Address     string           `dynamodbav:"address"`
	City        string           `dynamodbav:"city"`
	State       string           `dynamodbav:"state"`
	Zip         string           `dynamodbav:"zip"`
	OwnerID     string           `dynamodbav:"ownerId,omitempty"`
	Version     int              `dynamodbav:"version"`
	CreatedAt   string           `dynamodbav:"createdAt"`
	UpdatedAt   string           `dynamodbav:"updatedAt"`
	Images      map[string]image `dynamodbav:"images"`
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

	// legacy marks an item the platform's old Lambdas wrote (it has no
	// version) and stored keeps its attributes as read; see legacy.go.
	legacy bool
	stored map[string]types.AttributeValue
}

// image is one recorded image; Order keeps the upload order in a map that
// lets one image be removed without rewriting the others.
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
func createdKey(createdAt, id string) string { return createdAt + keySep + id }

// priceKey sorts by price, then id: zero-padded cents sort like numbers.
func priceKey(cents int64, id string) string { return centsKey(cents) + keySep + id }

func centsKey(cents int64) string { return fmt.Sprintf("%0*d", centsDigits, cents) }

func newItem(p *property.Property) item {
	it := item{
		PK: pk(p.ID), SK: skMetadata, ID: p.ID,
		Title: p.Title, Description: p.Description, Price: p.Price,
		Address: p.Address, City: p.City, State: p.State, Zip: p.Zip,
		OwnerID: p.OwnerID, Version: p.Version,
		CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
		Images: map[string]image{},
	}
	for i, img := range p.Images {
		it.Images[property.ImageID(img.Key)] = image{Key: img.Key, Order: int64(i), ContentType: img.ContentType, Size: img.Size}
	}
	it.indexAttributes()
	return it
}

// indexAttributes derives the index attributes from the domain fields.
func (it *item) indexAttributes() {
	it.ListPK = listAll
	it.CityPK = normalize(it.City)
	it.StateKey = normalize(it.State)
	it.OwnerPK = it.OwnerID
	it.CreatedKey = createdKey(it.CreatedAt, it.ID)
	it.PriceKey = priceKey(property.Cents(it.Price), it.ID)
}

func (it *item) property() (*property.Property, error) {
	// times reads both our timestamps and the old Lambdas' (legacy.go).
	created, updated, err := it.times()
	if err != nil {
		return nil, err
	}
	p := &property.Property{
		ID: it.ID, Title: it.Title, Description: it.Description, Price: it.Price,
		Address: it.Address, City: it.City, State: it.State, Zip: it.Zip,
		OwnerID: it.OwnerID, Version: it.Version, CreatedAt: created, UpdatedAt: updated,
		Images: make([]property.Image, 0, len(it.Images)),
	}
	imgs := make([]image, 0, len(it.Images))
	for _, img := range it.Images {
		imgs = append(imgs, img)
	}
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].Order < imgs[j].Order })
	for _, img := range imgs {
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
