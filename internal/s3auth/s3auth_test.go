package s3auth_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/images"
	"github.com/propertyhq/property/internal/s3auth"
)

const (
	bucket = "images"
	region = "us-east-1"
	keyID  = "local-key"
	secret = "local-secret"
)

// server is gofakes3 behind Verify on a real loopback port.
func server(t *testing.T, now func() time.Time) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s3auth.Verify(s3auth.Options{AccessKeyID: keyID, SecretAccessKey: secret, Region: region, Now: now},
		gofakes3.New(backend).Server()))
	t.Cleanup(srv.Close)
	return srv.URL
}

// signer is the API's own bucket client, signing with the given key.
func signer(t *testing.T, endpoint, id, key string, now func() time.Time) *images.Bucket {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", key)
	b, err := images.New(context.Background(), images.Options{Bucket: bucket, Region: region, Endpoint: endpoint, Now: now, UploadTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// put uploads body as a browser would, with the given headers.
func put(t *testing.T, rawURL string, headers map[string]string, body []byte) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Code, Message string }
	_ = xml.Unmarshal(b, &e)
	return resp.StatusCode, e.Code, e.Message
}

// TestPresignedPut: the local bucket refuses what S3 refuses, with S3's
// codes, and takes the upload the API signed.
func TestPresignedPut(t *testing.T) {
	endpoint := server(t, nil)
	body := []byte("\x89PNG fake image")
	img := property.NewImage("3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a", property.ImageRequest{ContentType: "image/png", ContentLength: len(body)})
	good := signer(t, endpoint, keyID, secret, time.Now)
	up, err := good.SignUpload(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(up.URL, "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost") {
		t.Fatalf("upload URL does not sign Content-Length and Content-Type: %s", up.URL)
	}
	png := map[string]string{"Content-Type": "image/png"}
	forged := func() string {
		u, _ := url.Parse(up.URL)
		q := u.Query()
		sig := []byte(q.Get("X-Amz-Signature"))
		sig[0] ^= 1
		q.Set("X-Amz-Signature", string(sig))
		u.RawQuery = q.Encode()
		return u.String()
	}
	without := func(param string) string {
		u, _ := url.Parse(up.URL)
		q := u.Query()
		q.Del(param)
		u.RawQuery = q.Encode()
		return u.String()
	}
	// Signed for a minute, presented two minutes later.
	late := server(t, func() time.Time { return time.Now().Add(2 * time.Minute) })
	expired, err := signer(t, late, keyID, secret, time.Now).SignUpload(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := signer(t, endpoint, "someone-else", secret, time.Now).SignUpload(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, err := signer(t, endpoint, keyID, "not-the-secret", time.Now).SignUpload(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		url     string
		headers map[string]string
		body    []byte
		status  int
		code    string
		message string
	}{
		{"forged signature", forged(), png, body, 403, "SignatureDoesNotMatch", "signature we calculated does not match"},
		{"other secret", otherSecret.URL, png, body, 403, "SignatureDoesNotMatch", ""},
		{"other content type", up.URL, map[string]string{"Content-Type": "image/jpeg"}, body, 403, "SignatureDoesNotMatch", ""},
		{"no content type", up.URL, nil, body, 403, "SignatureDoesNotMatch", ""},
		{"larger body", up.URL, png, append(body, 'x'), 403, "SignatureDoesNotMatch", ""},
		{"smaller body", up.URL, png, body[1:], 403, "SignatureDoesNotMatch", ""},
		{"expired", expired.URL, png, body, 403, "AccessDenied", "Request has expired"},
		{"unknown access key", otherKey.URL, png, body, 403, "InvalidAccessKeyId", ""},
		{"no date", without("X-Amz-Date"), png, body, 400, "AuthorizationQueryParametersError", "X-Amz-Date"},
		{"unsigned", endpoint + "/" + bucket + "/" + img.Key, png, body, 403, "AccessDenied", "Access Denied"},
		{"as signed", up.URL, png, body, 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := put(t, tc.url, tc.headers, tc.body)
			if status != tc.status || code != tc.code || !strings.Contains(msg, tc.message) {
				t.Errorf("status %d, code %q, message %q; want %d %q %q", status, code, msg, tc.status, tc.code, tc.message)
			}
		})
	}

	// Reads through a signed URL, and the SDK's own calls (signed in the
	// Authorization header), go through.
	t.Run("signed GET and SDK calls", func(t *testing.T) {
		u, err := good.URL(context.Background(), img.Key)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Fatalf("GET: %d %q", resp.StatusCode, got)
		}
		n, err := good.DeleteAll(context.Background(), property.ImagePrefix("3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"))
		if err != nil || n != 1 {
			t.Errorf("DeleteAll = %d, %v; want 1", n, err)
		}
	})
}
