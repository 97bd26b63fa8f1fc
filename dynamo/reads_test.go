package dynamo_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
)

// TestListReads: what a listing is costed at follows the plan, with no
// call to DynamoDB.
func TestListReads(t *testing.T) {
	const readCap = 300
	s, err := dynamo.New(dynamodb.New(dynamodb.Options{Region: "us-east-1"}),
		dynamo.Options{Table: "t", Cursors: cursor.NewRandom(time.Hour), ReadCap: readCap})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	num := func(f float64) *float64 { return &f }
	tests := []struct {
		name string
		q    property.ListQuery
		want int
	}{
		{"unfiltered", property.ListQuery{First: 20}, 21},
		{"by city", property.ListQuery{First: 20, Filter: property.Filter{City: str("x")}}, 21},
		{"by owner", property.ListQuery{First: 5, Filter: property.Filter{OwnerID: str("u")}}, 6},
		{"price range by price", property.ListQuery{First: 20, Order: property.OrderPriceAsc, Filter: property.Filter{MinPrice: num(1)}}, 21},
		{"a full page", property.ListQuery{First: 100}, 101},
		{"by state", property.ListQuery{First: 1, Filter: property.Filter{State: str("IL")}}, readCap},
		{"price range by date", property.ListQuery{First: 20, Filter: property.Filter{MaxPrice: num(1)}}, readCap},
		{"owner by price", property.ListQuery{First: 20, Order: property.OrderPriceDesc, Filter: property.Filter{OwnerID: str("u")}}, readCap},
		{"owner in a city", property.ListQuery{First: 20, Filter: property.Filter{OwnerID: str("u"), City: str("x")}}, readCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.ListReads(tt.q); got != tt.want {
				t.Errorf("ListReads = %d, want %d", got, tt.want)
			}
		})
	}
}
