// Package property is the domain of the Property API: the Property type, the
// rules a property must satisfy, the caller acting on it and the coded errors
// every other package speaks. It knows nothing of HTTP, GraphQL or AWS.
package property

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Property is one listing as the API shows it.
type Property struct {
	ID          string
	Title       string
	Description string
	// Price is in currency units with at most two decimals.
	Price   float64
	Address string
	City    string
	State   string
	Zip     string
	// Bedrooms is optional (nil when not given).
	Bedrooms *int
	Images   []Image
	// OwnerID is the subject of the caller who created the property; empty for
	// properties created before authentication existed.
	OwnerID string
	// Version starts at 1 and grows by exactly 1 with every successful write.
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Image is one image object recorded on a property.
type Image struct {
	// Key is the object key in the images bucket.
	Key string
	// ContentType and Size are what the upload was signed for.
	ContentType string
	Size        int
}

// Upload is a signed image upload: PUT the bytes to URL with exactly these
// headers before ExpiresAt.
type Upload struct {
	Key       string
	URL       string
	Headers   []Header
	ExpiresAt time.Time
}

// Header is one HTTP header.
type Header struct {
	Name  string
	Value string
}

// ImageRoot is the bucket folder that holds one folder per property.
const ImageRoot = "properties/"

// ImagePrefix is the folder of a property's images in the bucket.
func ImagePrefix(propertyID string) string { return ImageRoot + propertyID + "/" }

// NewImage names a new image of a property: a random, unguessable key
// under the property's prefix.
func NewImage(propertyID string, req ImageRequest) Image {
	return Image{Key: ImagePrefix(propertyID) + uuid.NewString(), ContentType: req.ContentType, Size: req.ContentLength}
}

// ImageID is the last element of an image key, unique within its property.
func ImageID(key string) string {
	if i := strings.LastIndex(key, "/"); i >= 0 {
		return key[i+1:]
	}
	return key
}

// OwnsImageKey reports whether key is an image key of property id.
func OwnsImageKey(id, key string) bool {
	rest, ok := strings.CutPrefix(key, ImagePrefix(id))
	_, err := uuid.Parse(rest)
	return ok && err == nil && uuid.MustParse(rest).String() == rest
}

// Order is the order of a listing.
type Order string

// Orders of a listing; the zero value means OrderCreatedDesc.
const (
	OrderCreatedDesc Order = "CREATED_AT_DESC"
	OrderCreatedAsc  Order = "CREATED_AT_ASC"
	OrderPriceAsc    Order = "PRICE_ASC"
	OrderPriceDesc   Order = "PRICE_DESC"
)

// Valid reports whether o is one of the known orders.
func (o Order) Valid() bool {
	switch o {
	case OrderCreatedDesc, OrderCreatedAsc, OrderPriceAsc, OrderPriceDesc:
		return true
	}
	return false
}

// Filter narrows a listing. Nil fields do not filter.
type Filter struct {
	City     *string
	State    *string
	MinPrice *float64
	MaxPrice *float64
	OwnerID  *string
}

// ListQuery asks for one page of a listing.
type ListQuery struct {
	First  int
	After  string
	Filter Filter
	Order  Order
}

// Page is one page of a listing with the cursors to go on from.
type Page struct {
	Items []*Property
	// Cursors holds one opaque cursor per item, in the same order.
	Cursors     []string
	HasNextPage bool
	// EndCursor resumes after the last item read. It can lie beyond the last
	// item returned when the read cap stopped the page early.
	EndCursor string
}

// NewID returns a fresh random property id.
func NewID() string { return uuid.NewString() }

// IdempotentID returns the id a create with the given caller and client key
// gets, so that a repeated create lands on the same item. Derived with a
// name-based UUID (v5): stable across deployments and needing no secret.
func IdempotentID(caller Caller, key string) string {
	// Length-prefixed, so no (subject, key) pair can spell another's.
	return uuid.NewSHA1(idempotencyNamespace, []byte(strconv.Itoa(len(caller.Subject))+":"+caller.Subject+key)).String()
}

var idempotencyNamespace = uuid.MustParse("6f1c1d7e-1a52-4c39-9d0e-4b7c4b1f3a10")

// ValidID reports whether id has the form this API issues (a canonical,
// lower-case UUID). Anything else cannot exist, so callers answer without I/O.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
