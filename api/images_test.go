package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/propertyhq/property/api"
)

const addImagesMutation = `mutation($input: AddPropertyImagesInput!) {
  addPropertyImages(input: $input) { property { id version images { key url } } uploads { key url headers { name value } expiresAt } }
}`

const removeImageMutation = `mutation($input: RemovePropertyImageInput!) {
  removePropertyImage(input: $input) { removedKey property { id version images { key } } }
}`

func pngRequest(n int) map[string]any {
	return map[string]any{"contentType": "image/png", "contentLength": n}
}

// upload PUTs body to a returned upload exactly as a browser would.
func upload(tb testing.TB, up any, body []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, str(up, "url"), bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range get(up, "headers").([]any) {
		if str(h, "name") == "Content-Length" {
			continue // net/http sets it from the body
		}
		req.Header.Set(str(h, "name"), str(h, "value"))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("upload: status %d: %s", resp.StatusCode, b)
	}
}

func fetch(tb testing.TB, url string) []byte {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET image: status %d", resp.StatusCode)
	}
	return b
}

func imageBytes(i int) []byte { return []byte(fmt.Sprintf("\x89PNG fake image %d", i)) }

func TestImagesLifecycle(t *testing.T) {
	var s3Calls atomic.Int32
	h := newAPIWith(t, nil, api.WithS3(countS3(&s3Calls)))
	fs := s3Of(t)

	in := createInput("With photos", 100)
	var reqs []any
	for i := range 3 {
		reqs = append(reqs, pngRequest(len(imageBytes(i))))
	}
	in["images"] = reqs
	d := mustData(t, h, createMutation+``, map[string]any{"input": in})
	id := str(d, "createProperty", "property", "id")
	ups := get(d, "createProperty", "uploads").([]any)
	if len(ups) != 3 {
		t.Fatalf("uploads = %d, want 3", len(ups))
	}
	if n := s3Calls.Load(); n != 0 {
		t.Errorf("create made %d S3 calls, want 0 (signing is local)", n)
	}
	want := map[string][]byte{}
	var order []string // keys in upload order, as images must list them
	for i, up := range ups {
		order = append(order, str(up, "key"))
		if !strings.HasPrefix(str(up, "key"), "properties/"+id+"/") {
			t.Errorf("key %q is not under the property's prefix", str(up, "key"))
		}
		upload(t, up, imageBytes(i))
		want[str(up, "key")] = imageBytes(i)
	}

	check := func(n int) map[string]any {
		t.Helper()
		s3Calls.Store(0)
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		imgs := get(d, "property", "images").([]any)
		if len(imgs) != n {
			t.Fatalf("images = %d, want %d", len(imgs), n)
		}
		for i, img := range imgs {
			if str(img, "key") != order[i] {
				t.Errorf("image %d is %s, want %s (upload order)", i, str(img, "key"), order[i])
			}
			if got := fetch(t, str(img, "url")); !bytes.Equal(got, want[str(img, "key")]) {
				t.Errorf("image %s: got %q", str(img, "key"), got)
			}
		}
		if c := s3Calls.Load(); c != 0 {
			t.Errorf("reading a property made %d S3 calls, want 0", c)
		}
		return d
	}
	check(3)

	d = mustData(t, h, addImagesMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "images": []any{pngRequest(len(imageBytes(3))), pngRequest(len(imageBytes(4)))}}})
	if got, want := num(d, "addPropertyImages", "property", "version"), 2.0; got != want {
		t.Errorf("version after add = %v, want %v", got, want)
	}
	for i, up := range get(d, "addPropertyImages", "uploads").([]any) {
		order = append(order, str(up, "key"))
		upload(t, up, imageBytes(3+i))
		want[str(up, "key")] = imageBytes(3 + i)
	}
	check(5)

	removed := order[1]
	d = mustData(t, h, removeImageMutation, map[string]any{"input": map[string]any{"id": id, "key": removed}})
	if got, want := num(d, "removePropertyImage", "property", "version"), 3.0; got != want {
		t.Errorf("version after remove = %v, want %v", got, want)
	}
	delete(want, removed)
	order = append(order[:1], order[2:]...)
	check(4)
	if keys := fs.objects(t, removed); len(keys) != 0 {
		t.Errorf("removed object still there: %v", keys)
	}

	// An upload that was never recorded (a URL used after a failed create,
	// say) sits under the prefix too; deleting the property removes it.
	stray := "properties/" + id + "/stray"
	if _, err := fs.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(stray), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	d = mustData(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id}})
	if got, want := num(d, "deleteProperty", "deletedImages"), 5.0; got != want {
		t.Errorf("deletedImages = %v, want %v (4 recorded + 1 stray)", got, want)
	}
	if keys := fs.objects(t, "properties/"+id+"/"); len(keys) != 0 {
		t.Errorf("objects left after delete: %v", keys)
	}
	if d := mustData(t, h, propertyQuery, map[string]any{"id": id}); get(d, "property") != nil {
		t.Error("property still readable after delete")
	}
}

func TestImageRules(t *testing.T) {
	h := newAPI(t, nil)
	id := mustCreate(t, h, createInput("Rules", 1))
	other := mustCreate(t, h, createInput("Other", 1))
	many := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = pngRequest(10)
		}
		return out
	}
	withImages := func(imgs []any) map[string]any {
		in := createInput("Imgs", 1)
		in["images"] = imgs
		return map[string]any{"input": in}
	}
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		field string
	}{
		{"bad content type", createMutation, withImages([]any{map[string]any{"contentType": "image/gif", "contentLength": 10}}), "contentType"},
		{"empty image", createMutation, withImages([]any{pngRequest(0)}), "contentLength"},
		{"image over 10 MiB", createMutation, withImages([]any{pngRequest(10<<20 + 1)}), "contentLength"},
		{"21 images on create", createMutation, withImages(many(21)), "images"},
		{"no images to add", addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": []any{}}}, "images"},
		{"over the limit by adding", addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": many(21)}}, "images"},
		{"key of another property", removeImageMutation, map[string]any{"input": map[string]any{"id": id, "key": "properties/" + other + "/3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"}}, "key"},
		{"key that is not an image of it", removeImageMutation, map[string]any{"input": map[string]any{"id": id, "key": "properties/" + id + "/3f1c9a52-8f0e-4d7c-9a43-0c1f2e3d4b5a"}}, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectInvalid(t, gql(t, h, tt.query, tt.vars), tt.field)
		})
	}
	t.Run("limit counts what is stored", func(t *testing.T) {
		mustData(t, h, addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": many(15)}})
		expectInvalid(t, gql(t, h, addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": many(6)}}), "images")
		d := mustData(t, h, addImagesMutation, map[string]any{"input": map[string]any{"id": id, "images": many(5)}})
		if got, want := len(get(d, "addPropertyImages", "property", "images").([]any)), 20; got != want {
			t.Errorf("images = %d, want %d", got, want)
		}
	})
}

// TestDeleteSurvivesAnS3Failure: S3 failing in the middle of a delete leaves
// the item (hidden) and its objects, and repeating the delete finishes it.
func TestDeleteSurvivesAnS3Failure(t *testing.T) {
	var failDeletes atomic.Bool
	h := newAPIWith(t, nil, api.WithS3(failing(&failDeletes)))
	fs := s3Of(t)
	in := createInput("Fragile", 1)
	in["images"] = []any{pngRequest(5), pngRequest(5)}
	d := mustData(t, h, createMutation, map[string]any{"input": in})
	id := str(d, "createProperty", "property", "id")
	for _, up := range get(d, "createProperty", "uploads").([]any) {
		upload(t, up, []byte("bytes"))
	}

	failDeletes.Store(true)
	r := gql(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id}})
	if got, want := r.code(), "SERVICE_UNAVAILABLE"; got != want {
		t.Fatalf("code = %q, want %q (%s)", got, want, r.Raw)
	}
	if keys := fs.objects(t, "properties/"+id+"/"); len(keys) != 2 {
		t.Errorf("objects after failed delete = %v, want both", keys)
	}
	if d := mustData(t, h, propertyQuery, map[string]any{"id": id}); get(d, "property") != nil {
		t.Error("a property being deleted must read as absent")
	}
	if d := mustData(t, h, listQuery, map[string]any{"first": 10}); len(get(d, "properties", "nodes").([]any)) != 0 {
		t.Error("a property being deleted must not be listed")
	}

	failDeletes.Store(false)
	d = mustData(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id}})
	if got, want := num(d, "deleteProperty", "deletedImages"), 2.0; got != want {
		t.Errorf("deletedImages = %v, want %v", got, want)
	}
	if keys := fs.objects(t, "properties/"+id+"/"); len(keys) != 0 {
		t.Errorf("objects after second delete: %v", keys)
	}
	r = gql(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": id}})
	if got, want := r.code(), "NOT_FOUND"; got != want {
		t.Errorf("third delete: code = %q, want %q", got, want)
	}
}

// countS3 counts requests sent to S3. It sits in the Deserialize step,
// which presigning never reaches: a signed URL is not a call.
func countS3(n *atomic.Int32) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("count", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
		})
	}
}

// failing makes S3 deletions fail (without retries) while on is set.
func failing(on *atomic.Bool) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("fail", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch middleware.GetOperationName(ctx) {
				case "DeleteObjects", "DeleteObject":
					if on.Load() {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected S3 outage")
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	}
}
