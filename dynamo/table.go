package dynamo

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableJSON is the one definition of the table: keys, attribute types and
// indexes, in CloudFormation's AWS::DynamoDB::Table Properties shape. The dev
// setup and the tests create tables from it; serverless.yml includes it.
//
//go:embed table.json
var tableJSON []byte

// TableDefinition returns the table's CreateTable input under the given name.
func TableDefinition(name string) (*dynamodb.CreateTableInput, error) {
	var in dynamodb.CreateTableInput
	if err := json.Unmarshal(tableJSON, &in); err != nil {
		return nil, fmt.Errorf("parse table.json: %w", err)
	}
	in.TableName = aws.String(name)
	return &in, nil
}

// TableDefinitionJSON returns the raw embedded definition, for tools that
// compare it with a deployed template.
func TableDefinitionJSON() []byte { return append([]byte(nil), tableJSON...) }

// EnsureTable creates the table with its indexes unless it exists, waits
// until it is active, and reports whether it created it. Meant for local
// engines and tests; production tables are created by the deployment.
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string) (created bool, err error) {
	in, err := TableDefinition(name)
	if err != nil {
		return false, err
	}
	_, err = client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return false, fmt.Errorf("create table %s: %w", name, err)
	}
	created = err == nil
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return created, fmt.Errorf("wait for table %s: %w", name, err)
	}
	return created, nil
}

// DeleteTable drops a table; tests use it to clean up after themselves.
func DeleteTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("delete table %s: %w", name, err)
	}
	return nil
}
