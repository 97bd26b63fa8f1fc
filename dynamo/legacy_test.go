package dynamo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/uuid"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
	"github.com/propertyhq/property/service"
)

// Fixture ids (see testdata/legacy/README.md).
const (
	legacyLoft     = "357cbe09-31f5-405b-89b6-25032da5d711"
	legacyBungalow = "60c72bb5-07bd-461a-8584-aa7cbf176c0a"
	legacyCondo    = "4a016e03-b261-4696-940a-adbb7587451a"
	legacyStudio   = "6580cc78-c8fd-4517-9c66-586a40985569"
	legacyHouse    = "03996322-55dc-43b5-8ed4-f702ae2b4fd3"

	legacyOwner   = "admin-migration"
	legacyTimeOld = "2006-01-02T15:04:05.000000-0700"
	// legacyTimeOurs is this API's earlier stored format, still the time
	// in the csk sort key; legacyTimeStored what every write stores now.
	legacyTimeOurs   = "2006-01-02T15:04:05.000Z"
	legacyTimeStored = "2006-01-02T15:04:05.000000+0000"
	legacyGenerated  = 500
)

var (
	legacyAdmin = property.Caller{Subject: "admin-1", Groups: []string{property.AdminGroup}}
	legacyAgent = property.Caller{Subject: "agent-7"}
)

// legacyFixtures reads testdata/legacy/*.json, sorted by file name.
func legacyFixtures(tb testing.TB) map[string]map[string]types.AttributeValue {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "legacy", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no legacy fixtures: %v", err)
	}
	out := map[string]map[string]types.AttributeValue{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		it, err := legacyItemFromJSON(data)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = it
	}
	return out
}

// legacyItemFromJSON parses one item in DynamoDB JSON.
func legacyItemFromJSON(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, len(raw))
	for name, v := range raw {
		av, err := legacyAVFromJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

func legacyAVFromJSON(data json.RawMessage) (types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil || len(v) != 1 {
		return nil, fmt.Errorf("not one typed DynamoDB value: %s", data)
	}
	for typ, body := range v {
		switch typ {
		case "S", "N":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, err
			}
			if typ == "N" {
				return &types.AttributeValueMemberN{Value: s}, nil
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "BOOL":
			var b bool
			err := json.Unmarshal(body, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(body, &ss); err != nil {
				return nil, err
			}
			if typ == "NS" {
				return &types.AttributeValueMemberNS{Value: ss}, nil
			}
			return &types.AttributeValueMemberSS{Value: ss}, nil
		case "B":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: b}, err
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(body, &l); err != nil {
				return nil, err
			}
			out := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
			for _, e := range l {
				av, err := legacyAVFromJSON(e)
				if err != nil {
					return nil, err
				}
				out.Value = append(out.Value, av)
			}
			return out, nil
		case "M":
			m, err := legacyItemFromJSON(body)
			return &types.AttributeValueMemberM{Value: m}, err
		}
		return nil, fmt.Errorf("unknown DynamoDB type %q", typ)
	}
	panic("unreachable")
}

// legacyAVText is a canonical text of a value, for comparing table dumps.
func legacyAVText(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + fmt.Sprintf("%q", v.Value)
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberB:
		return "B:" + base64.StdEncoding.EncodeToString(v.Value)
	case *types.AttributeValueMemberSS:
		ss := append([]string(nil), v.Value...)
		sort.Strings(ss)
		return fmt.Sprintf("SS:%q", ss)
	case *types.AttributeValueMemberNS:
		ss := append([]string(nil), v.Value...)
		sort.Strings(ss)
		return fmt.Sprintf("NS:%q", ss)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = legacyAVText(e)
		}
		return "L[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		return "M" + legacyItemText(v.Value)
	}
	return fmt.Sprintf("%T", av)
}

func legacyItemText(m map[string]types.AttributeValue) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("{")
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q=%s", n, legacyAVText(m[n]))
	}
	b.WriteString("}")
	return b.String()
}

// legacyDump reads the whole table (consistently) as canonical text by PK.
func legacyDump(tb testing.TB, db *dynamodb.Client, table string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	var start map[string]types.AttributeValue
	for {
		page, err := db.Scan(context.Background(), &dynamodb.ScanInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
		})
		if err != nil {
			tb.Fatalf("scan: %v", err)
		}
		for _, it := range page.Items {
			out[it["PK"].(*types.AttributeValueMemberS).Value] = legacyItemText(it)
		}
		if start = page.LastEvaluatedKey; start == nil {
			return out
		}
	}
}

func legacyRaw(tb testing.TB, db *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + id},
			"SK": &types.AttributeValueMemberS{Value: "METADATA"},
		},
	})
	if err != nil {
		tb.Fatalf("get raw %s: %v", id, err)
	}
	return out.Item
}

// legacyPut writes items as the old Lambdas did, 25 per batch.
func legacyPut(tb testing.TB, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	tb.Helper()
	for len(items) > 0 {
		n := min(25, len(items))
		reqs := make([]types.WriteRequest, n)
		for i, it := range items[:n] {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		items = items[n:]
		pending := map[string][]types.WriteRequest{table: reqs}
		for len(pending) > 0 {
			out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				tb.Fatalf("batch write: %v", err)
			}
			pending = out.UnprocessedItems
		}
	}
}

// legacySpec is what the test knows of a generated item, to predict listings.
type legacySpec struct {
	id, city, state string
	cents           int64
	created         string // our format
}

var legacyNS = uuid.MustParse("9a3c2f70-1b7e-4f43-8d4e-0f6d3c1e2b5a")

// legacyGenerate makes n legacy items by varying the fixtures: id, title,
// price, timestamps and image keys.
func legacyGenerate(tb testing.TB, n int) ([]map[string]types.AttributeValue, []legacySpec) {
	tb.Helper()
	fx := legacyFixtures(tb)
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	sort.Strings(names)
	items := make([]map[string]types.AttributeValue, 0, n)
	specs := make([]legacySpec, 0, n)
	for i := range n {
		base := fx[names[i%len(names)]]
		oldID := base["id"].(*types.AttributeValueMemberS).Value
		id := uuid.NewSHA1(legacyNS, fmt.Appendf(nil, "legacy-%d", i)).String()
		it := make(map[string]types.AttributeValue, len(base))
		for k, v := range base {
			it[k] = v
		}
		s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
		it["PK"], it["id"] = s("PROPERTY#"+id), s(id)
		it["title"] = s(fmt.Sprintf("%s #%d", base["title"].(*types.AttributeValueMemberS).Value, i))
		var price float64
		fmt.Sscan(base["price"].(*types.AttributeValueMemberN).Value, &price)
		cents := property.Cents(price) + int64(i)*100 + int64(i%7)
		it["price"] = &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", cents/100, cents%100)}
		created, err := time.Parse(legacyTimeOld, base["createdAt"].(*types.AttributeValueMemberS).Value)
		if err != nil {
			tb.Fatal(err)
		}
		created = created.Add(time.Duration(i) * 7 * time.Minute)
		it["createdAt"] = s(created.Format(legacyTimeOld))
		if _, ok := base["updatedAt"]; ok {
			it["updatedAt"] = s(created.Add(time.Hour).Format(legacyTimeOld))
		}
		if l, ok := base["images"].(*types.AttributeValueMemberL); ok {
			keys := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
			for _, k := range l.Value {
				keys.Value = append(keys.Value, s(strings.Replace(k.(*types.AttributeValueMemberS).Value, oldID, id, 1)))
			}
			it["images"] = keys
		}
		items = append(items, it)
		specs = append(specs, legacySpec{
			id: id, cents: cents,
			city:    strings.ToLower(it["city"].(*types.AttributeValueMemberS).Value),
			state:   strings.ToLower(it["state"].(*types.AttributeValueMemberS).Value),
			created: created.UTC().Truncate(time.Millisecond).Format(legacyTimeOurs),
		})
	}
	return items, specs
}

// legacyObjects is an in-memory image bucket.
type legacyObjects struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (o *legacyObjects) DeleteAll(_ context.Context, prefix string) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for k := range o.keys {
		if strings.HasPrefix(k, prefix) {
			delete(o.keys, k)
			n++
		}
	}
	return n, nil
}

// SignUpload and URL name the object; nothing here fetches them.
func (o *legacyObjects) SignUpload(_ context.Context, img property.Image) (property.Upload, error) {
	return property.Upload{Key: img.Key, URL: "mem:///" + img.Key}, nil
}

func (o *legacyObjects) URL(_ context.Context, key string) (string, error) {
	return "mem:///" + key, nil
}

func (o *legacyObjects) Delete(_ context.Context, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.keys, key)
	return nil
}

// legacyEnv is a table holding the fixtures, a store on it (with calls
// counted) and a plain client for raw reads.
type legacyEnv struct {
	table string
	db    *dynamodb.Client
	store *dynamo.Store
	calls *testenv.Calls
}

func newLegacyEnv(tb testing.TB, opt dynamo.Options, clientOpts ...func(*dynamodb.Options)) *legacyEnv {
	tb.Helper()
	e := &legacyEnv{table: testenv.Table(tb), calls: &testenv.Calls{}}
	e.db = testenv.Client(tb)
	opt.Table, opt.Cursors = e.table, testenv.Cursors(tb)
	s, err := dynamo.New(testenv.Client(tb, append(clientOpts, e.calls.Option)...), opt)
	if err != nil {
		tb.Fatal(err)
	}
	e.store = s
	var items []map[string]types.AttributeValue
	for _, it := range legacyFixtures(tb) {
		items = append(items, it)
	}
	legacyPut(tb, e.db, e.table, items)
	return e
}

func legacyPtr[T any](v T) *T { return &v }

func legacyTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(legacyTimeOurs, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestLegacyRead(t *testing.T) {
	e := newLegacyEnv(t, dynamo.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		id               string
		want             property.Property
		images           []string
		created, updated string
	}{
		{
			id: legacyLoft,
			want: property.Property{Title: "Sunny loft near the park", Description: "Two bedrooms, tall windows and a view over Lincoln Park.",
				Price: 425000, Address: "1200 N Clark St", City: "Chicago", State: "IL", Zip: "60610"},
			images: []string{
				"properties/" + legacyLoft + "/0d6c1f4e-5a7b-4c1e-9b8e-3f2a1d0c9e8b.jpg",
				"properties/" + legacyLoft + "/7e2b9a10-44c3-4f5d-8a61-2b7c8d9e0f1a.png",
			},
			created: "2023-03-14T09:26:53.589Z", updated: "2024-01-15T10:30:00.000Z",
		},
		{
			id: legacyBungalow,
			want: property.Property{Title: "Craftsman bungalow", Description: "Restored 1920s bungalow with original woodwork.",
				Price: 512250.5, Address: "3100 SE Belmont St", City: "Portland", State: "OR", Zip: "97214"},
			created: "2022-11-02T17:05:41.120Z", updated: "2022-11-02T17:05:41.120Z",
		},
		{
			// Absent description and zip read as "", an empty list as no images.
			id:      legacyCondo,
			want:    property.Property{Title: "Waterfront condo", Price: 935000, Address: "500 Brickell Key Dr", City: "Miami", State: "FL"},
			created: "2023-07-30T22:14:09.000Z", updated: "2023-08-01T08:00:00.500Z",
		},
		{
			id: legacyStudio,
			want: property.Property{Title: "Studio downtown", Description: "Compact studio steps from the train.",
				Price: 189500.99, Address: "77 W Wacker Dr", City: "chicago", State: "Il", Zip: "60601"},
			images:  []string{"properties/" + legacyStudio + "/c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"},
			created: "2024-02-29T23:59:59.999Z", updated: "2024-03-01T00:00:00.000Z",
		},
		{
			// No updatedAt: it reads as createdAt.
			id: legacyHouse,
			want: property.Property{Title: "Family house with garden", Description: "Four bedrooms, a large garden and a two-car garage.",
				Price: 689000, Address: "42 Maple Ave", City: "Evanston", State: "IL", Zip: "60201"},
			created: "2021-06-01T12:00:00.000Z", updated: "2021-06-01T12:00:00.000Z",
		},
	} {
		t.Run(tc.want.Title, func(t *testing.T) {
			got, err := e.store.Get(ctx, tc.id)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			want := tc.want
			want.ID, want.Version = tc.id, 1
			want.CreatedAt, want.UpdatedAt = legacyTime(t, tc.created), legacyTime(t, tc.updated)
			var keys []string
			for _, img := range got.Images {
				keys = append(keys, img.Key)
			}
			if !reflect.DeepEqual(keys, tc.images) {
				t.Errorf("image keys = %q, want %q", keys, tc.images)
			}
			got.Images, want.Images = nil, nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
	// Listings are served by indexes a legacy item is not in yet.
	page, err := e.store.List(ctx, property.ListQuery{First: 10, Order: property.OrderCreatedDesc})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("listing before the backfill: %d items, %v; want none", len(page.Items), err)
	}
}

func TestLegacyUpdate(t *testing.T) {
	ctx := context.Background()

	t.Run("upgrades in the same write", func(t *testing.T) {
		e := newLegacyEnv(t, dynamo.Options{})
		e.calls.Reset()
		p, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyLoft, ExpectedVersion: 1, Title: legacyPtr("Sunny loft, renovated")})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		// The normal write fails its condition; its ALL_OLD item builds the
		// upgrading write.
		if got := e.calls.Counts()["UpdateItem"]; got != 2 {
			t.Errorf("first update of a legacy item: %d UpdateItem calls, want 2", got)
		}
		if p.Version != 2 || p.Title != "Sunny loft, renovated" || p.Price != 425000 || p.City != "Chicago" || len(p.Images) != 2 {
			t.Errorf("updated property = %+v", p)
		}
		if want := legacyTime(t, "2023-03-14T09:26:53.589Z"); !p.CreatedAt.Equal(want) {
			t.Errorf("createdAt = %v, want %v", p.CreatedAt, want)
		}
		raw := legacyRaw(t, e.db, e.table, legacyLoft)
		for name, want := range map[string]string{
			"version": "N:2", "lpk": `S:"ALL"`, "cpk": `S:"chicago"`, "skey": `S:"il"`,
			"csk": `S:"2023-03-14T09:26:53.589Z#` + legacyLoft + `"`,
			"psk": `S:"0000042500000#` + legacyLoft + `"`,
			// in the ORM's format, as stored: the old model reads it as before
			"createdAt": `S:"2023-03-14T09:26:53.589793+0000"`,
			"status":    `S:"ACTIVE"`, // an attribute of the old Lambdas is kept
		} {
			if got := legacyAVText(raw[name]); got != want {
				t.Errorf("stored %s = %s, want %s", name, got, want)
			}
		}
		if _, err := time.Parse(legacyTimeStored, raw["updatedAt"].(*types.AttributeValueMemberS).Value); err != nil {
			t.Errorf("stored updatedAt not in the ORM's format: %v", err)
		}
		// The old model's list stays as it was, in the same order; the map
		// the API reads is added beside it.
		if got, want := legacyAVText(raw["images"]), legacyAVText(legacyFixtures(t)["loft-chicago"]["images"]); got != want {
			t.Errorf("stored images = %s, want the list as the old Lambdas wrote it, %s", got, want)
		}
		if imgs, ok := raw["imageSet"].(*types.AttributeValueMemberM); !ok || len(imgs.Value) != 2 {
			t.Errorf("stored imageSet = %s, want a map of 2", legacyAVText(raw["imageSet"]))
		}
		if _, ok := raw["wtok"]; !ok {
			t.Error("no write token stored")
		}

		// From now on the item is ours: one round trip.
		e.calls.Reset()
		p, err = e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyLoft, ExpectedVersion: 2, Price: legacyPtr(415000.0)})
		if err != nil || p.Version != 3 {
			t.Fatalf("second update: %+v, %v", p, err)
		}
		if got := e.calls.Counts()["UpdateItem"]; got != 1 {
			t.Errorf("second update: %d UpdateItem calls, want 1", got)
		}
		ids := legacyListIDs(t, e.store, property.ListQuery{First: 10, Filter: property.Filter{City: legacyPtr("CHICAGO")}})
		if !reflect.DeepEqual(ids, []string{legacyLoft}) {
			t.Errorf("chicago listing after the update = %q, want the loft", ids)
		}
	})

	t.Run("stale version", func(t *testing.T) {
		e := newLegacyEnv(t, dynamo.Options{})
		e.calls.Reset()
		_, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyBungalow, ExpectedVersion: 2, Title: legacyPtr("x")})
		if perr, ok := legacyConflict(err); !ok || perr.Current.Version != 1 {
			t.Fatalf("update at version 2 of a legacy item: %v, want CONFLICT at version 1", err)
		}
		if got := e.calls.Counts()["UpdateItem"]; got != 1 {
			t.Errorf("%d UpdateItem calls, want 1", got)
		}
	})

	t.Run("only admins until it has an owner", func(t *testing.T) {
		e := newLegacyEnv(t, dynamo.Options{})
		_, err := e.store.Update(ctx, legacyAgent, property.UpdateInput{ID: legacyBungalow, ExpectedVersion: 1, Title: legacyPtr("x")})
		if property.ErrorCode(err) != property.EFORBIDDEN {
			t.Fatalf("update by a non-admin: %v, want FORBIDDEN", err)
		}
	})

	t.Run("one of concurrent updates wins", func(t *testing.T) {
		e := newLegacyEnv(t, dynamo.Options{})
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyStudio, ExpectedVersion: 1, Title: legacyPtr(fmt.Sprintf("writer %d", i))})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch property.ErrorCode(err) {
			case "":
				won++
			case property.ECONFLICT:
			default:
				t.Errorf("concurrent update: %v", err)
			}
		}
		if p := mustGetLegacy(t, e.store, legacyStudio); won != 1 || p.Version != 2 {
			t.Errorf("%d writers won, version %d; want 1 winner at version 2", won, p.Version)
		}
	})

	t.Run("the backfill upgrades it between the two writes", func(t *testing.T) {
		var env *legacyEnv
		var once sync.Once
		n := 0
		hook := func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				return s.Initialize.Add(middleware.InitializeMiddlewareFunc("backfillBetween",
					func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
						if _, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
							if n++; n == 2 {
								once.Do(func() {
									if _, err := dynamo.Backfill(ctx, env.db, env.table, dynamo.BackfillOptions{}); err != nil {
										t.Errorf("backfill: %v", err)
									}
								})
							}
						}
						return next.HandleInitialize(ctx, in)
					}), middleware.Before)
			})
		}
		env = newLegacyEnv(t, dynamo.Options{}, hook)
		env.calls.Reset()
		p, err := env.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: legacyHouse, ExpectedVersion: 1, Zip: legacyPtr("60202")})
		if err != nil || p.Version != 2 || p.Zip != "60202" {
			t.Fatalf("update racing the backfill: %+v, %v; want version 2", p, err)
		}
		// normal write, upgrading write (lost to the backfill), normal write
		if got := env.calls.Counts()["UpdateItem"]; got != 3 {
			t.Errorf("%d UpdateItem calls, want 3", got)
		}
	})

	t.Run("images", func(t *testing.T) {
		objects := &legacyObjects{keys: map[string]bool{}}
		e := newLegacyEnv(t, dynamo.Options{Uploads: true, MaxImages: 2})
		svc := service.New(e.store, objects)
		_, _, err := e.store.AddImages(ctx, legacyAdmin, property.AddImagesInput{ID: legacyLoft,
			Images: []property.ImageRequest{{ContentType: "image/png", ContentLength: 10}}})
		if property.ErrorCode(err) != property.EINVALID {
			t.Fatalf("third image on a legacy item with two: %v, want BAD_USER_INPUT", err)
		}
		p, added, err := e.store.AddImages(ctx, legacyAdmin, property.AddImagesInput{ID: legacyCondo,
			Images: []property.ImageRequest{{ContentType: "image/png", ContentLength: 10}}})
		if err != nil || p.Version != 2 || len(p.Images) != 1 || p.Images[0].Key != added[0].Key {
			t.Fatalf("add an image to a legacy item: %+v, %v", p, err)
		}
		objects.keys[p.Images[0].Key] = true

		// The studio's legacy image has a key the API accepts: removing it
		// upgrades the item too.
		key := "properties/" + legacyStudio + "/c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
		objects.keys[key] = true
		p, err = svc.RemoveImage(ctx, legacyAdmin, property.RemoveImageInput{ID: legacyStudio, Key: key})
		if err != nil || p.Version != 2 || len(p.Images) != 0 || objects.keys[key] {
			t.Fatalf("remove a legacy image: %+v, %v (object left: %v)", p, err, objects.keys[key])
		}
		_, err = e.store.RemoveImage(ctx, legacyAdmin, property.RemoveImageInput{ID: legacyBungalow, Key: "properties/" + legacyBungalow + "/" + uuid.NewString()})
		if property.ErrorCode(err) != property.EINVALID {
			t.Fatalf("remove a missing image of a legacy item: %v, want BAD_USER_INPUT", err)
		}
	})
}

func TestLegacyDelete(t *testing.T) {
	ctx := context.Background()

	t.Run("without images configured", func(t *testing.T) {
		e := newLegacyEnv(t, dynamo.Options{})
		_, err := e.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: legacyCondo, ExpectedVersion: legacyPtr(2)})
		if property.ErrorCode(err) != property.ECONFLICT {
			t.Errorf("delete at version 2: %v, want CONFLICT", err)
		}
		if _, err := e.store.Delete(ctx, legacyAgent, property.DeleteInput{ID: legacyCondo}); property.ErrorCode(err) != property.EFORBIDDEN {
			t.Errorf("delete by a non-admin: %v, want FORBIDDEN", err)
		}
		e.calls.Reset()
		if _, err := e.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: legacyCondo, ExpectedVersion: legacyPtr(1)}); err != nil {
			t.Fatalf("delete at version 1: %v", err)
		}
		if got := e.calls.Counts()["DeleteItem"]; got != 1 || len(e.calls.Counts()) != 1 {
			t.Errorf("delete made %v, want one DeleteItem", e.calls.Counts())
		}
		if _, err := e.store.Delete(ctx, legacyAdmin, property.DeleteInput{ID: legacyHouse}); err != nil {
			t.Fatalf("delete without a version: %v", err)
		}
		for _, id := range []string{legacyCondo, legacyHouse} {
			if _, err := e.store.Get(ctx, id); property.ErrorCode(err) != property.ENOTFOUND {
				t.Errorf("get %s after delete: %v, want NOT_FOUND", id, err)
			}
		}
	})

	t.Run("with images configured", func(t *testing.T) {
		loftKeys := []string{
			"properties/" + legacyLoft + "/0d6c1f4e-5a7b-4c1e-9b8e-3f2a1d0c9e8b.jpg",
			"properties/" + legacyLoft + "/7e2b9a10-44c3-4f5d-8a61-2b7c8d9e0f1a.png",
		}
		other := "properties/" + legacyStudio + "/c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
		objects := &legacyObjects{keys: map[string]bool{loftKeys[0]: true, loftKeys[1]: true, other: true}}
		e := newLegacyEnv(t, dynamo.Options{Uploads: true})
		svc := service.New(e.store, objects)
		n, err := svc.Delete(ctx, legacyAdmin, property.DeleteInput{ID: legacyLoft, ExpectedVersion: legacyPtr(1)})
		if err != nil || n != 2 {
			t.Fatalf("delete with images: %d objects, %v; want 2", n, err)
		}
		if !objects.keys[other] || len(objects.keys) != 1 {
			t.Errorf("objects left: %v, want only the studio's", objects.keys)
		}
		if raw := legacyRaw(t, e.db, e.table, legacyLoft); raw != nil {
			t.Errorf("item left after delete: %s", legacyItemText(raw))
		}
		if n, err := svc.Delete(ctx, legacyAdmin, property.DeleteInput{ID: legacyBungalow}); err != nil || n != 0 {
			t.Errorf("delete of a legacy item without images: %d, %v", n, err)
		}
	})
}

// legacyListIDs walks every page of q and returns the ids in order.
func legacyListIDs(tb testing.TB, s *dynamo.Store, q property.ListQuery) []string {
	tb.Helper()
	var ids []string
	for range 1000 {
		page, err := s.List(context.Background(), q)
		if err != nil {
			tb.Fatalf("list %+v: %v", q, err)
		}
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
		if !page.HasNextPage {
			return ids
		}
		q.After = page.EndCursor
	}
	tb.Fatal("listing never ended")
	return nil
}

func mustGetLegacy(tb testing.TB, s *dynamo.Store, id string) *property.Property {
	tb.Helper()
	p, err := s.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("get %s: %v", id, err)
	}
	return p
}

func legacyConflict(err error) (*property.Error, bool) {
	var perr *property.Error
	if !errors.As(err, &perr) || perr.Code != property.ECONFLICT || perr.Current == nil {
		return nil, false
	}
	return perr, true
}

// legacyBackfillEnv is a table of legacyGenerated legacy items.
type legacyBackfillEnv struct {
	table string
	db    *dynamodb.Client
	store *dynamo.Store
	specs []legacySpec
}

func newLegacyBackfillEnv(tb testing.TB) *legacyBackfillEnv {
	tb.Helper()
	e := &legacyBackfillEnv{table: testenv.Table(tb), db: testenv.Client(tb)}
	items, specs := legacyGenerate(tb, legacyGenerated)
	legacyPut(tb, e.db, e.table, items)
	e.specs = specs
	s, err := dynamo.New(e.db, dynamo.Options{Table: e.table, Cursors: testenv.Cursors(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	e.store = s
	return e
}

// legacyCount counts the items still without a version.
func legacyCount(dump map[string]string) int {
	n := 0
	for _, it := range dump {
		if !strings.Contains(it, `"version"=`) {
			n++
		}
	}
	return n
}

// updateItemCounter counts the UpdateItem calls a client makes.
type updateItemCounter struct{ calls testenv.Calls }

func (c *updateItemCounter) n() int { return c.calls.Counts()["UpdateItem"] }

func TestLegacyBackfill(t *testing.T) {
	e := newLegacyBackfillEnv(t)
	ctx := context.Background()
	before := legacyDump(t, e.db, e.table)
	if len(before) != legacyGenerated || legacyCount(before) != legacyGenerated {
		t.Fatalf("loaded %d items, %d legacy; want %d of each", len(before), legacyCount(before), legacyGenerated)
	}
	// Before the backfill, a legacy item is found by id.
	if p := mustGetLegacy(t, e.store, e.specs[3].id); p.Version != 1 {
		t.Errorf("legacy item read at version %d, want 1", p.Version)
	}

	var counter updateItemCounter
	db := testenv.Client(t, counter.calls.Option)
	progress := filepath.Join(t.TempDir(), e.table+".json")
	opts := dynamo.BackfillOptions{Owner: legacyOwner, Segments: 4, PageSize: 25, ProgressFile: progress}

	t.Run("dry run changes nothing", func(t *testing.T) {
		var out bytes.Buffer
		dry := opts
		dry.DryRun, dry.Out = true, &out
		rep, err := dynamo.Backfill(ctx, db, e.table, dry)
		if err != nil || rep.Upgraded != legacyGenerated || !rep.Complete {
			t.Fatalf("dry run: %+v, %v; want %d to upgrade", rep, err, legacyGenerated)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != legacyGenerated || !strings.HasPrefix(lines[0], "would upgrade property ") ||
			!strings.Contains(lines[0], `ownerId="`+legacyOwner+`"`) || !strings.Contains(lines[0], " csk=") {
			t.Errorf("dry run printed %d lines, first %q", len(lines), lines[0])
		}
		if got := legacyDump(t, e.db, e.table); !reflect.DeepEqual(got, before) {
			t.Error("the dry run changed the table")
		}
		if _, err := os.Stat(progress); !os.IsNotExist(err) {
			t.Errorf("the dry run wrote a progress file: %v", err)
		}
		if counter.n() != 0 {
			t.Errorf("the dry run made %d UpdateItem calls", counter.n())
		}
	})

	t.Run("interrupted half-way, then resumed", func(t *testing.T) {
		half := opts
		half.MaxWrites = legacyGenerated / 2
		rep, err := dynamo.Backfill(ctx, db, e.table, half)
		if err != nil || rep.Complete || rep.Upgraded != legacyGenerated/2 {
			t.Fatalf("first half: %+v, %v", rep, err)
		}
		if got := counter.n(); got != legacyGenerated/2 {
			t.Errorf("first half made %d UpdateItem calls, want %d", got, legacyGenerated/2)
		}
		if got := legacyCount(legacyDump(t, e.db, e.table)); got != legacyGenerated/2 {
			t.Errorf("%d legacy items after the first half, want %d", got, legacyGenerated/2)
		}
		var rec struct {
			Table         string `json:"table"`
			TotalSegments int    `json:"totalSegments"`
			Complete      bool   `json:"complete"`
			Segments      []struct {
				Done             bool                       `json:"done"`
				LastEvaluatedKey map[string]json.RawMessage `json:"lastEvaluatedKey"`
			} `json:"segments"`
		}
		data, err := os.ReadFile(progress)
		if err != nil || json.Unmarshal(data, &rec) != nil {
			t.Fatalf("progress file: %v\n%s", err, data)
		}
		if rec.Table != e.table || rec.TotalSegments != 4 || rec.Complete || len(rec.Segments) != 4 {
			t.Errorf("progress after the first half: %s", data)
		}

		rep, err = dynamo.Backfill(ctx, db, e.table, opts)
		if err != nil || !rep.Complete || !rep.Resumed || rep.Upgraded != legacyGenerated/2 || rep.Changed != 0 || rep.Failed != 0 {
			t.Fatalf("second half: %+v, %v", rep, err)
		}
		if got := counter.n(); got != legacyGenerated {
			t.Errorf("both halves made %d UpdateItem calls, want exactly %d", got, legacyGenerated)
		}
		after := legacyDump(t, e.db, e.table)
		for pk, it := range after {
			for _, want := range []string{`"version"=N:1`, `"ownerId"=S:"` + legacyOwner + `"`, `"opk"=`, `"lpk"=S:"ALL"`, `"csk"=`, `"psk"=`, `"skey"=`, `"cpk"=`, `"imageSet"=M{`} {
				if !strings.Contains(it, want) {
					t.Fatalf("%s after the backfill lacks %s: %s", pk, want, it)
				}
			}
			// images stays the old model's list (absent where it was).
			if strings.Contains(it, `"images"=M`) {
				t.Fatalf("%s after the backfill has images as a map: %s", pk, it)
			}
		}
		if p := mustGetLegacy(t, e.store, e.specs[3].id); p.Version != 1 || p.OwnerID != legacyOwner {
			t.Errorf("upgraded item read as %+v", p)
		}
	})

	t.Run("a second run changes nothing", func(t *testing.T) {
		before := legacyDump(t, e.db, e.table)
		n := counter.n()
		rep, err := dynamo.Backfill(ctx, db, e.table, opts)
		if err != nil || !rep.Complete || rep.Resumed || rep.Upgraded != 0 || rep.Owned != 0 {
			t.Fatalf("second run: %+v, %v", rep, err)
		}
		if counter.n() != n {
			t.Errorf("second run made %d UpdateItem calls", counter.n()-n)
		}
		if got := legacyDump(t, e.db, e.table); !reflect.DeepEqual(got, before) {
			t.Error("second run changed the table")
		}
	})

	t.Run("every listing finds them all", func(t *testing.T) {
		legacyCheckListings(t, e.store, e.specs)
	})
}

// legacyCheckListings lists every order with each filter and compares
// with what specs predict.
func legacyCheckListings(t *testing.T, s *dynamo.Store, specs []legacySpec) {
	t.Helper()
	filters := map[string]property.Filter{
		"none":                  {},
		"city":                  {City: legacyPtr("CHICAGO")},
		"state":                 {State: legacyPtr("il")},
		"price":                 {MinPrice: legacyPtr(450000.0), MaxPrice: legacyPtr(700000.0)},
		"city, state and price": {City: legacyPtr("Chicago"), State: legacyPtr("IL"), MinPrice: legacyPtr(200000.0)},
		"owner":                 {OwnerID: legacyPtr(legacyOwner)},
		"owner and state":       {OwnerID: legacyPtr(legacyOwner), State: legacyPtr("OR")},
	}
	matches := func(sp legacySpec, f property.Filter) bool {
		return (f.City == nil || strings.EqualFold(*f.City, sp.city)) &&
			(f.State == nil || strings.EqualFold(*f.State, sp.state)) &&
			(f.MinPrice == nil || sp.cents >= property.Cents(*f.MinPrice)) &&
			(f.MaxPrice == nil || sp.cents <= property.Cents(*f.MaxPrice))
	}
	for _, order := range []property.Order{property.OrderCreatedDesc, property.OrderCreatedAsc, property.OrderPriceAsc, property.OrderPriceDesc} {
		for name, f := range filters {
			t.Run(string(order)+"/"+name, func(t *testing.T) {
				var want []legacySpec
				for _, sp := range specs {
					if matches(sp, f) {
						want = append(want, sp)
					}
				}
				key := func(sp legacySpec) string {
					if order == property.OrderPriceAsc || order == property.OrderPriceDesc {
						return fmt.Sprintf("%013d#%s", sp.cents, sp.id)
					}
					return sp.created + "#" + sp.id
				}
				desc := order == property.OrderCreatedDesc || order == property.OrderPriceDesc
				sort.Slice(want, func(i, j int) bool {
					if desc {
						return key(want[i]) > key(want[j])
					}
					return key(want[i]) < key(want[j])
				})
				wantIDs := make([]string, len(want))
				for i, sp := range want {
					wantIDs[i] = sp.id
				}
				got := legacyListIDs(t, s, property.ListQuery{First: 100, Order: order, Filter: f})
				if len(wantIDs) == 0 {
					t.Fatal("the filter matches nothing: a useless case")
				}
				if !reflect.DeepEqual(got, wantIDs) {
					t.Errorf("listing has %d items, want %d (in order)", len(got), len(wantIDs))
				}
			})
		}
	}
}

func TestLegacyBackfillConcurrentUpdate(t *testing.T) {
	e := newLegacyBackfillEnv(t)
	ctx := context.Background()
	const racers = 3
	var (
		mu    sync.Mutex
		raced = map[string]bool{}
	)
	// Before each of the backfill's first writes, the API updates the same
	// item: the backfill read it as legacy, the API upgrades it first.
	hook := beforeUpdate("apiUpdateFirst", func(ctx context.Context, id string) {
		mu.Lock()
		race := len(raced) < racers && !raced[id]
		if race {
			raced[id] = true
		}
		mu.Unlock()
		if race {
			if _, err := e.store.Update(ctx, legacyAdmin, property.UpdateInput{ID: id, ExpectedVersion: 1,
				Title: legacyPtr("changed during the backfill"), Price: legacyPtr(1234.5)}); err != nil {
				t.Errorf("concurrent update of %s: %v", id, err)
			}
		}
	})
	db := testenv.Client(t, hook)
	// A budget that paces this run to about a second: a full second's
	// worth is there at the start, the rest is paced.
	const budget = 1500
	start := time.Now()
	rep, err := dynamo.Backfill(ctx, db, e.table, dynamo.BackfillOptions{Owner: legacyOwner, Segments: 3, PageSize: 50, WriteBudget: budget})
	elapsed := time.Since(start)
	t.Logf("backfill took %v: %+v", elapsed, rep)
	if err != nil || !rep.Complete {
		t.Fatalf("backfill: %+v, %v", rep, err)
	}
	if rep.Upgraded != legacyGenerated-racers || rep.Changed != racers || rep.Owned != racers {
		t.Errorf("report %+v: want %d upgraded, %d changed concurrently and then given an owner", rep, legacyGenerated-racers, racers)
	}
	if rep.WriteUnits < legacyGenerated+racers {
		t.Errorf("report %+v: less than a unit per write", rep)
	}
	if least := time.Duration((rep.WriteUnits - budget) / budget * float64(time.Second)); elapsed < least*9/10 {
		t.Errorf("backfill spending %.0f write units at %d/s took %v, want at least %v", rep.WriteUnits, budget, elapsed, least)
	}
	for id := range raced {
		p := mustGetLegacy(t, e.store, id)
		if p.Title != "changed during the backfill" || p.Price != 1234.5 || p.Version != 2 || p.OwnerID != legacyOwner {
			t.Errorf("concurrently updated %s is now %+v: the update was lost or the owner not given", id, p)
		}
	}
	for i := range e.specs {
		if raced[e.specs[i].id] {
			e.specs[i].cents = 123450
		}
	}
	legacyCheckListings(t, e.store, e.specs)
}

// beforeUpdate is client middleware that calls f with the property id of
// each UpdateItem before the call is sent: a test's way to let "someone
// else" write the item first.
func beforeUpdate(name string, f func(ctx context.Context, id string)) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc(name,
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
						f(ctx, strings.TrimPrefix(u.Key["PK"].(*types.AttributeValueMemberS).Value, "PROPERTY#"))
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}
