package images_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/images"
)

func mustBucket(tb testing.TB, opt images.Options) *images.Bucket {
	tb.Helper()
	tb.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	if opt.Bucket == "" {
		opt.Bucket = "images"
	}
	opt.Region = "eu-west-1"
	b, err := images.New(context.Background(), opt)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The fake S3 in the API tests checks no signatures, so the URLs
// themselves are checked here.
func TestSignUpload(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)
	b := mustBucket(t, images.Options{UploadTTL: 10 * time.Minute, Now: func() time.Time { return now }})
	img := property.NewImage("0b9c3c1e-5f1a-4c8e-9d6b-2f3e4a5b6c7d", property.ImageRequest{ContentType: "image/webp", ContentLength: 1234})
	up, err := b.SignUpload(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	tests := []struct{ name, got, want string }{
		{"key", up.Key, img.Key},
		{"path", u.Path, "/" + img.Key},
		{"host names the bucket", strings.SplitN(u.Host, ".", 2)[0], "images"},
		{"operation", q.Get("x-id"), "PutObject"},
		{"algorithm", q.Get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256"},
		{"expiry", q.Get("X-Amz-Expires"), "600"},
		{"signed headers", q.Get("X-Amz-SignedHeaders"), "content-length;content-type;host"},
		{"expiresAt", up.ExpiresAt.Format(time.RFC3339), "2026-01-15T10:40:00Z"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !strings.HasPrefix(up.Key, property.ImagePrefix("0b9c3c1e-5f1a-4c8e-9d6b-2f3e4a5b6c7d")) {
		t.Errorf("key %q is not under the property's prefix", up.Key)
	}
	if q.Get("X-Amz-Signature") == "" {
		t.Error("no signature")
	}
	headers := map[string]string{}
	for _, h := range up.Headers {
		headers[h.Name] = h.Value
	}
	if headers["Content-Type"] != "image/webp" || headers["Content-Length"] != "1234" {
		t.Errorf("headers = %v, want the signed Content-Type and Content-Length", headers)
	}
}

func TestImageURL(t *testing.T) {
	key := "properties/0b9c3c1e-5f1a-4c8e-9d6b-2f3e4a5b6c7d/3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"
	t.Run("signed GET", func(t *testing.T) {
		b := mustBucket(t, images.Options{DownloadTTL: 30 * time.Minute})
		raw, err := b.URL(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		if got, want := u.Query().Get("x-id"), "GetObject"; got != want {
			t.Errorf("operation = %q, want %q", got, want)
		}
		if got, want := u.Query().Get("X-Amz-Expires"), "1800"; got != want {
			t.Errorf("expiry = %q, want %q", got, want)
		}
	})
	t.Run("CDN", func(t *testing.T) {
		b := mustBucket(t, images.Options{PublicURL: "https://img.example.com/"})
		got, err := b.URL(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://img.example.com/" + key; got != want {
			t.Errorf("url = %q, want %q", got, want)
		}
	})
}
