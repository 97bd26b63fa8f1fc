package api_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/testenv"
)

// TestLegacyShapesThroughGraphQL: items of the old Lambdas that lack a
// field answer the README's defaults through the schema's non-null fields,
// and updateProperty and deleteProperty work on them (an item without a
// city once answered INTERNAL_SERVER_ERROR).
func TestLegacyShapesThroughGraphQL(t *testing.T) {
	table := testenv.Table(t)
	h := newAPI(t, map[string]string{"PROPERTY_TABLE_NAME": table})
	admin := "Bearer " + mustToken(t, devissuer.Token{Subject: "boss", Groups: []string{"admin"}})
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	const (
		noCity  = "0f7d2c4e-9b1a-4e63-8c55-2a1b3c4d5e6f"
		noTitle = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
		bare    = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
	)
	items := map[string]map[string]types.AttributeValue{
		noCity:  {"title": s("No city"), "price": &types.AttributeValueMemberN{Value: "100"}, "state": s("IL"), "createdAt": s("2023-01-02T03:04:05.678901+0000")},
		noTitle: {"price": &types.AttributeValueMemberN{Value: "200"}, "city": s("Chicago"), "state": s("IL"), "createdAt": s("2023-01-02T03:04:05.000000+0000")},
		bare:    {},
	}
	db := testenv.Client(t)
	for id, it := range items {
		it["PK"], it["SK"], it["id"] = s("PROPERTY#"+id), s("METADATA"), s(id)
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]map[string]any{
		noCity:  {"title": "No city", "city": "", "price": 100.0, "createdAt": "2023-01-02T03:04:05.678Z"},
		noTitle: {"title": "", "city": "Chicago", "description": ""},
		bare:    {"title": "", "price": 0.0, "zip": "", "createdAt": "1970-01-01T00:00:00Z", "updatedAt": "1970-01-01T00:00:00Z", "ownerId": "", "version": 1.0},
	} {
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		for field, v := range want {
			if got := get(d, "property", field); got != v {
				t.Errorf("%s: %s = %#v, want %#v", id, field, got, v)
			}
		}
		r := gqlAs(t, h, admin, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "zip": "60601"}})
		if len(r.Errors) > 0 || num(r.Data, "updateProperty", "property", "version") != 2 {
			t.Errorf("%s: updateProperty: %s", id, r.Raw)
		}
		r = gqlAs(t, h, admin, deleteMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2}})
		if len(r.Errors) > 0 || str(r.Data, "deleteProperty", "deletedId") != id {
			t.Errorf("%s: deleteProperty: %s", id, r.Raw)
		}
	}
}
