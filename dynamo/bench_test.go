// getrusage (benchCPU) is what limits these benchmarks to Linux and macOS.

//go:build linux || darwin

package dynamo_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/testenv"
)

// The SDK benchmarks make the same request the store makes for one
// operation, without the store around it, so that the store's own cost
// (and, in api's benchmarks, the GraphQL stack's) can be read off as the
// difference. They run against the local engine, so they measure the
// client side plus a loopback round trip, not DynamoDB's service time.

// benchFixture is a client, a fresh table, a store on both and one
// property created through the store.
type benchFixture struct {
	client *dynamodb.Client
	table  string
	store  *dynamo.Store
	p      *property.Property
}

func newBenchFixture(b *testing.B) benchFixture {
	b.Helper()
	f := benchFixture{client: testenv.Client(b), table: testenv.Table(b)}
	var err error
	if f.store, err = dynamo.New(f.client, dynamo.Options{Table: f.table, Cursors: testenv.Cursors(b)}); err != nil {
		b.Fatal(err)
	}
	f.p = mustCreate(b, f.store, sample("Bench", 250000))
	return f
}

// key is the property's primary key as the store writes it (PROPERTY#<id>,
// METADATA); a GetItem that finds nothing below means it has changed.
func (f benchFixture) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + f.p.ID},
		"SK": &types.AttributeValueMemberS{Value: "METADATA"},
	}
}

// benchMeasure times op after a warm-up, so that the first calls on a fresh
// table and fresh connections (and the local engine's JIT) do not count.
//
// Besides the wall time (ns/op) it reports the CPU time the test process
// spent per operation (cpu-ns/op): that leaves out the time spent waiting
// for DynamoDB Local and for other processes, so on a busy machine it is
// the steadier measure of what this side of the wire costs.
func benchMeasure(b *testing.B, op func() error) {
	b.Helper()
	for range 50 {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu, n := benchCPU(b), 0
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(benchCPU(b)-cpu)/float64(n), "cpu-ns/op")
}

func BenchmarkSDKGetItem(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	in := &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: f.key(), ConsistentRead: aws.Bool(true)}
	benchMeasure(b, func() error {
		out, err := f.client.GetItem(ctx, in)
		if err == nil && len(out.Item) == 0 {
			err = errors.New("no item at the store's key")
		}
		return err
	})
}

func BenchmarkStoreGet(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	benchMeasure(b, func() error {
		_, err := f.store.Get(ctx, f.p.ID)
		return err
	})
}

// BenchmarkSDKUpdateItem is the store's Update of one field by an anonymous
// caller: the same update and condition expressions, built the same way,
// and the same return values, but no decoding of the answer.
func BenchmarkSDKUpdateItem(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	key := f.key()
	version := f.p.Version
	benchMeasure(b, func() error {
		now := time.Now().UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000000+0000")
		upd := expression.Set(expression.Name("updatedAt"), expression.Value(now)).
			Set(expression.Name("version"), expression.Plus(expression.Name("version"), expression.Value(1))).
			Set(expression.Name("wtok"), expression.Value("bench-token")).
			Set(expression.Name("title"), expression.Value("Bench")).
			Set(expression.Name("fpt"), expression.Value("benchFP1"))
		cond := expression.AttributeExists(expression.Name("PK")).
			And(expression.AttributeNotExists(expression.Name("deleting"))).
			And(expression.Name("version").Equal(expression.Value(version))).
			And(expression.AttributeNotExists(expression.Name("ownerId")))
		expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
		if err != nil {
			return err
		}
		_, err = f.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(f.table), Key: key,
			UpdateExpression:                    expr.Update(),
			ConditionExpression:                 expr.Condition(),
			ExpressionAttributeNames:            expr.Names(),
			ExpressionAttributeValues:           expr.Values(),
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		version++
		return err
	})
}

func BenchmarkStoreUpdate(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	title := "Bench"
	version := f.p.Version
	benchMeasure(b, func() error {
		_, err := f.store.Update(ctx, property.Anonymous, property.UpdateInput{ID: f.p.ID, ExpectedVersion: version, Title: &title})
		version++
		return err
	})
}

// benchCPU is the CPU time (user and system) this process has used.
func benchCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
