package dynamo

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Existing reports which of ids name a stored property (one being deleted
// counts as gone), with BatchGetItem in batches of 100, keys only.
func (s *Store) Existing(ctx context.Context, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	proj, err := expression.NewBuilder().
		WithProjection(expression.NamesList(expression.Name("PK"), expression.Name("deleting"))).Build()
	if err != nil {
		return nil, err
	}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		// Any id is asked, not only the form this API issues: the old
		// Lambdas' properties have folders too.
		if id != "" {
			keys = append(keys, s.key(id))
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		batch := keys[:n]
		keys = keys[n:]
		for len(batch) > 0 {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{*s.table: {
					Keys: batch, ConsistentRead: aws.Bool(true),
					ProjectionExpression: proj.Projection(), ExpressionAttributeNames: proj.Names(),
				}},
			})
			if err != nil {
				return nil, translate(err, "check %d properties", len(batch))
			}
			for _, av := range out.Responses[*s.table] {
				key, _ := av["PK"].(*types.AttributeValueMemberS)
				_, deleting := av["deleting"]
				if key != nil && !deleting {
					found[strings.TrimPrefix(key.Value, pkPrefix)] = true
				}
			}
			// Keys DynamoDB did not get to (throttling) are asked again.
			batch = out.UnprocessedKeys[*s.table].Keys
			if len(batch) > 0 {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return found, nil
}
