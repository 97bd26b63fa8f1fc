package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/images"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }

func TestSweepRemovesOnlyOrphanedFolders(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	if err := backend.CreateBucket("images"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	bucket, err := images.New(ctx, images.Options{Bucket: "images", Region: testenv.Region, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	store, err := dynamo.New(testenv.Client(t), dynamo.Options{Table: testenv.Table(t), Cursors: testenv.Cursors(t)})
	if err != nil {
		t.Fatal(err)
	}
	in := property.CreateInput{Title: "Kept", Description: "d", Price: 1, Address: "a", City: "c", State: "s", Zip: "z"}
	live, err := store.Create(ctx, property.Anonymous, in)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := store.Create(ctx, property.Anonymous, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Delete(ctx, property.Anonymous, property.DeleteInput{ID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	client := s3.New(s3.Options{Region: testenv.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true})
	put := func(key string) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("images"), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	// Uploads that arrived after their property was deleted, and a live
	// property's image.
	put(property.ImagePrefix(gone.ID) + "late-1")
	put(property.ImagePrefix(gone.ID) + "late-2")
	put(property.ImagePrefix(live.ID) + "photo")

	r, err := sweep(ctx, store, bucket, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r, (report{checked: 2, orphaned: 1}); got != want {
		t.Errorf("dry run: %+v, want %+v", got, want)
	}
	if got := keys(t, client); len(got) != 3 {
		t.Fatalf("dry run removed objects: %v", got)
	}

	r, err = sweep(ctx, store, bucket, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r, (report{checked: 2, orphaned: 1, removed: 2}); got != want {
		t.Errorf("sweep: %+v, want %+v", got, want)
	}
	if got, want := keys(t, client), []string{property.ImagePrefix(live.ID) + "photo"}; !slices.Equal(got, want) {
		t.Errorf("objects left = %v, want %v", got, want)
	}
}

func keys(tb testing.TB, c *s3.Client) []string {
	tb.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("images")})
	if err != nil {
		tb.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}
