package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
)

// plan is how one listing query is served: an index, the key condition that
// selects and orders its items, and the filter for what the key cannot do.
type plan struct {
	index     string
	hashName  string
	hashValue string
	sortName  string
	forward   bool
	keyCond   expression.KeyConditionBuilder
	filter    *expression.ConditionBuilder
	binding   string
}

func newPlan(q property.ListQuery) plan {
	f := q.Filter
	byPrice := q.Order == property.OrderPriceAsc || q.Order == property.OrderPriceDesc
	p := plan{
		forward:  q.Order == property.OrderCreatedAsc || q.Order == property.OrderPriceAsc,
		sortName: "csk",
		binding:  binding(q),
	}
	if byPrice {
		p.sortName = "psk"
	}
	var filters []expression.ConditionBuilder
	switch {
	case f.City != nil:
		p.hashName, p.hashValue = "cpk", normalize(*f.City)
		p.index = map[bool]string{false: indexCityCreated, true: indexCityPrice}[byPrice]
	case f.OwnerID != nil && !byPrice:
		p.hashName, p.hashValue, p.index = "opk", *f.OwnerID, indexOwnerCreated
	default:
		p.hashName, p.hashValue = "lpk", listAll
		p.index = map[bool]string{false: indexCreated, true: indexPrice}[byPrice]
	}
	if f.OwnerID != nil && p.hashName != "opk" {
		filters = append(filters, expression.Name("ownerId").Equal(expression.Value(*f.OwnerID)))
	}
	if f.State != nil {
		filters = append(filters, expression.Name("skey").Equal(expression.Value(normalize(*f.State))))
	}

	p.keyCond = expression.Key(p.hashName).Equal(expression.Value(p.hashValue))
	if byPrice {
		// Prices become a key range: cents are the sort key's fixed-width
		// prefix, so [min, max+1 cent) covers every id at those prices.
		lo, hi := f.MinPrice, f.MaxPrice
		sk := expression.Key("psk")
		switch {
		case lo != nil && hi != nil:
			p.keyCond = p.keyCond.And(sk.Between(expression.Value(centsKey(property.Cents(*lo))), expression.Value(centsKey(property.Cents(*hi)+1))))
		case lo != nil:
			p.keyCond = p.keyCond.And(sk.GreaterThanEqual(expression.Value(centsKey(property.Cents(*lo)))))
		case hi != nil:
			p.keyCond = p.keyCond.And(sk.LessThan(expression.Value(centsKey(property.Cents(*hi) + 1))))
		}
	} else {
		// The bounds are whole cents already, like stored prices:
		// ListQuery.Validate rounds them (a bound such as
		// 0.30000000000000004 becomes 0.3), so they compare exactly.
		if f.MinPrice != nil {
			filters = append(filters, expression.Name("price").GreaterThanEqual(expression.Value(*f.MinPrice)))
		}
		if f.MaxPrice != nil {
			filters = append(filters, expression.Name("price").LessThanEqual(expression.Value(*f.MaxPrice)))
		}
	}
	if len(filters) > 0 {
		c := filters[0]
		for _, more := range filters[1:] {
			c = c.And(more)
		}
		p.filter = &c
	}
	return p
}

// binding is the canonical form of a query's order and filter; a cursor is
// valid only for the binding it was sealed with.
func binding(q property.ListQuery) string {
	f := q.Filter
	var b strings.Builder
	b.WriteString("v1|")
	b.WriteString(string(q.Order))
	add := func(name string, s *string) {
		if s != nil {
			b.WriteString("|" + name + "=" + strconv.Quote(normalize(*s)))
		}
	}
	addPrice := func(name string, v *float64) {
		if v != nil {
			b.WriteString("|" + name + "=" + strconv.FormatInt(property.Cents(*v), 10))
		}
	}
	add("city", f.City)
	add("state", f.State)
	addPrice("min", f.MinPrice)
	addPrice("max", f.MaxPrice)
	if f.OwnerID != nil {
		b.WriteString("|owner=" + strconv.Quote(*f.OwnerID))
	}
	return b.String()
}

// startKey turns an index sort key into the ExclusiveStartKey that resumes
// right after the item it belongs to.
func (p plan) startKey(sortKey string) (map[string]types.AttributeValue, bool) {
	id, ok := idFromSortKey(sortKey)
	if !ok {
		return nil, false
	}
	return map[string]types.AttributeValue{
		"PK":       &types.AttributeValueMemberS{Value: pk(id)},
		"SK":       &types.AttributeValueMemberS{Value: skMetadata},
		p.hashName: &types.AttributeValueMemberS{Value: p.hashValue},
		p.sortName: &types.AttributeValueMemberS{Value: sortKey},
	}, true
}

func (p plan) sortKeyOf(it *item) string {
	if p.sortName == "psk" {
		return it.PriceKey
	}
	return it.CreatedKey
}

// DefaultReadCap is Options.ReadCap's default: the items one request may
// read from the listing indexes.
const DefaultReadCap = 1000

// ListReads is the most items List(q) may read: the page and one more when
// the key condition selects exactly the matching items, the read cap when a
// filter may drop items after they are read.
func (s *Store) ListReads(q property.ListQuery) int {
	if newPlan(q).filter == nil {
		return min(q.First+1, s.readCap)
	}
	return s.readCap
}

// badCursor is the message for an after that does not open: a cursor
// works for CURSOR_TTL, for the filter and order that made it, and only
// with the server's cursor keys.
const badCursor = "after is not a valid cursor for this query: it expired, was altered, or came from another filter, order or server. Request the first page again (without after)."

// List returns one page of properties. It keeps querying until the page is
// full, the index is exhausted or the read cap is reached, and builds every
// cursor from an item it read, never from DynamoDB's LastEvaluatedKey alone,
// so that a filter cannot make pages skip or repeat items.
//
// The read cap is shared by every List of one request when ctx carries a
// property.Reads (the GraphQL layer puts one in each operation's context);
// without one it applies to this call alone.
func (s *Store) List(ctx context.Context, q property.ListQuery) (*property.Page, error) {
	p := newPlan(q)
	var start map[string]types.AttributeValue
	if q.After != "" {
		pos, err := s.cursors.Open(p.binding, q.After)
		if err != nil {
			return nil, property.Invalid("after", badCursor)
		}
		var ok bool
		if start, ok = p.startKey(string(pos)); !ok {
			return nil, property.Invalid("after", badCursor)
		}
	}
	b := expression.NewBuilder().WithKeyCondition(p.keyCond)
	if p.filter != nil {
		b = b.WithFilter(*p.filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build list query: %w", err)
	}
	budget := property.ReadsFrom(ctx)
	if budget == nil {
		budget = &property.Reads{}
	}

	need := q.First + 1 // one more than the page tells whether another follows
	var (
		items     []*item
		lastRead  string
		exhausted bool
		chunk     = need
	)
	for len(items) < need {
		want := need - len(items)
		if p.filter != nil {
			// A filter drops items after they are read: read more per call,
			// growing while matches stay rare, within the cap.
			want = max(chunk, want)
			chunk *= 2
		}
		limit := budget.Reserve(s.readCap, want)
		if limit == 0 {
			break // the request's reads are spent
		}
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: s.table, IndexName: aws.String(p.index),
			KeyConditionExpression:    expr.KeyCondition(),
			FilterExpression:          expr.Filter(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
			ScanIndexForward:          aws.Bool(p.forward),
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(limit)),
		})
		if err != nil {
			return nil, translate(err, "list properties on %s", p.index)
		}
		budget.Release(limit - int(out.ScannedCount))
		for _, av := range out.Items {
			var it item
			if err := it.decode(av); err != nil {
				return nil, fmt.Errorf("list properties: unmarshal item: %w", err)
			}
			items = append(items, &it)
		}
		if out.LastEvaluatedKey == nil {
			exhausted = true
			break
		}
		start = out.LastEvaluatedKey
		if v, ok := out.LastEvaluatedKey[p.sortName].(*types.AttributeValueMemberS); ok {
			lastRead = v.Value
		}
	}

	page := &property.Page{}
	full := len(items) > q.First
	if full {
		items = items[:q.First]
	}
	for _, it := range items {
		prop, err := it.property()
		if err != nil {
			return nil, fmt.Errorf("list properties: %w", err)
		}
		page.Items = append(page.Items, prop)
		page.Cursors = append(page.Cursors, s.cursors.Seal(p.binding, []byte(p.sortKeyOf(it))))
	}
	if n := len(page.Cursors); n > 0 {
		page.EndCursor = page.Cursors[n-1]
	}
	switch {
	case full:
		page.HasNextPage = true
	case !exhausted:
		// The read cap stopped the page: resume after the last item read so
		// the next request makes progress even if this page is short; when
		// nothing could be read, resume where this page was asked to start.
		page.HasNextPage = true
		switch {
		case lastRead != "":
			page.EndCursor = s.cursors.Seal(p.binding, []byte(lastRead))
		case page.EndCursor == "" && q.After != "":
			page.EndCursor = q.After
		}
	}
	return page, nil
}
