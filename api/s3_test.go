package api_test

import (
	"context"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/propertyhq/property/internal/s3auth"
	"github.com/propertyhq/property/internal/testenv"
)

const testBucket = "images"

// fakeS3 is a test's in-process S3-compatible server.
type fakeS3 struct {
	URL    string
	Client *s3.Client
}

var (
	mu      sync.Mutex
	servers = map[testing.TB]*fakeS3{}
)

// newS3 starts an S3 server with the images bucket for tb and returns its
// endpoint; s3Of gives a client to inspect it.
func newS3(tb testing.TB) string {
	tb.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		tb.Fatal(err)
	}
	// S3's checks of pre-signed URLs, with the key the API signs with
	// (images.New: the environment's, else "local").
	keyID, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if keyID == "" {
		keyID, secret = "local", "local"
	}
	srv := httptest.NewServer(s3auth.Verify(s3auth.Options{AccessKeyID: keyID, SecretAccessKey: secret, Region: testenv.Region},
		gofakes3.New(backend).Server()))
	tb.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		Region: testenv.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	mu.Lock()
	servers[tb] = &fakeS3{URL: srv.URL, Client: client}
	mu.Unlock()
	tb.Cleanup(func() { mu.Lock(); delete(servers, tb); mu.Unlock() })
	return srv.URL
}

// s3Of returns the S3 server of tb's API.
func s3Of(tb testing.TB) *fakeS3 {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	f := servers[tb]
	if f == nil {
		tb.Fatal("no S3 server for this test")
	}
	return f
}

// objects lists the keys under prefix.
func (f *fakeS3) objects(tb testing.TB, prefix string) []string {
	tb.Helper()
	out, err := f.Client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)})
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
