// Package images keeps property images in S3: it signs upload and download
// URLs (locally, without a call to S3) and deletes objects. Image bytes go
// straight between the browser and S3, never through the API.
package images

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/internal/awsenv"
)

// Options configure a Bucket.
type Options struct {
	Bucket string
	Region string
	// Endpoint points at a local S3-compatible server (path-style).
	Endpoint string
	// UploadTTL is how long an upload URL works (default DefaultUploadTTL).
	UploadTTL time.Duration
	// DownloadTTL is how long an image URL works (default
	// DefaultDownloadTTL).
	DownloadTTL time.Duration
	// PublicURL, when a CDN fronts the bucket, replaces signed image URLs
	// with PublicURL + "/" + key.
	PublicURL string
	// Timeout bounds each HTTP attempt to S3 (default DefaultTimeout).
	Timeout time.Duration
	// MaxAttempts bounds the attempts the SDK makes for one call, the first
	// included (default DefaultMaxAttempts).
	MaxAttempts int
	// MaxBackoff caps the randomised wait before each retry (default
	// DefaultMaxBackoff).
	MaxBackoff time.Duration
	// APIOptions are extra SDK middleware (tests count or fail calls).
	APIOptions []func(*s3.Options)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Defaults of Options. As for DynamoDB (dynamo.ClientOptions), the longest
// one call can take while S3 does not answer is
// MaxAttempts*Timeout + (MaxAttempts-1)*MaxBackoff: 11 s with these.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultMaxAttempts = 3
	DefaultMaxBackoff  = time.Second
	DefaultUploadTTL   = 15 * time.Minute
	DefaultDownloadTTL = time.Hour
)

// Bucket is the images bucket.
type Bucket struct {
	s3      *s3.Client
	presign *s3.PresignClient
	opt     Options
}

// New returns a Bucket. It makes no network call.
func New(ctx context.Context, opt Options) (*Bucket, error) {
	if opt.Bucket == "" {
		return nil, errors.New("images: bucket required")
	}
	if opt.UploadTTL <= 0 {
		opt.UploadTTL = DefaultUploadTTL
	}
	if opt.DownloadTTL <= 0 {
		opt.DownloadTTL = DefaultDownloadTTL
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	// s3.New with the options the API uses, not the default config loader
	// (see internal/awsenv); a local server takes any key.
	creds, err := awsenv.Credentials(ctx, opt.Region, opt.Endpoint, false)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	o := s3.Options{
		Region:      opt.Region,
		Credentials: creds,
		// The standard retryer with its bounds stated, so the longest a call
		// can take is known and configurable (S3_MAX_ATTEMPTS, S3_MAX_BACKOFF).
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opt.MaxAttempts
			o.MaxBackoff = opt.MaxBackoff
		}),
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(opt.Timeout),
	}
	if opt.Endpoint != "" {
		o.BaseEndpoint = aws.String(opt.Endpoint)
		o.UsePathStyle = true
	}
	client := s3.New(o, opt.APIOptions...)
	return &Bucket{s3: client, presign: s3.NewPresignClient(client), opt: opt}, nil
}

// SignUpload signs a PUT of one image. Content-Type and Content-Length are
// part of the signature, so S3 refuses another type or size.
func (b *Bucket) SignUpload(ctx context.Context, img property.Image) (property.Upload, error) {
	key, contentType, length := img.Key, img.ContentType, int64(img.Size)
	expires := b.opt.Now().Add(b.opt.UploadTTL).UTC().Truncate(time.Second)
	req, err := b.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.opt.Bucket), Key: aws.String(key),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(length),
	}, s3.WithPresignExpires(b.opt.UploadTTL))
	if err != nil {
		return property.Upload{}, fmt.Errorf("sign upload of %s: %w", key, err)
	}
	return property.Upload{Key: key, URL: req.URL, ExpiresAt: expires, Headers: []property.Header{
		{Name: "Content-Type", Value: contentType},
		{Name: "Content-Length", Value: strconv.FormatInt(length, 10)},
	}}, nil
}

// URL returns where a browser loads the image: the CDN's URL when one is
// configured, else a short-lived signed GET.
func (b *Bucket) URL(ctx context.Context, key string) (string, error) {
	if b.opt.PublicURL != "" {
		return b.opt.PublicURL + "/" + key, nil
	}
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.opt.Bucket), Key: aws.String(key),
	}, s3.WithPresignExpires(b.opt.DownloadTTL))
	if err != nil {
		return "", fmt.Errorf("sign download of %s: %w", key, err)
	}
	return req.URL, nil
}

// Delete removes one object; a missing object is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.opt.Bucket), Key: aws.String(key)})
	if err != nil {
		return property.Unavailable(fmt.Errorf("delete image %s: %w", key, err))
	}
	return nil
}

// DeleteAll removes every object under prefix, uploads that were never
// recorded included, page by page, and returns how many it removed.
func (b *Bucket) DeleteAll(ctx context.Context, prefix string) (int, error) {
	n := 0
	pages := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.opt.Bucket), Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return n, property.Unavailable(fmt.Errorf("list images under %s: %w", prefix, err))
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		out, err := b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.opt.Bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return n, property.Unavailable(fmt.Errorf("delete images under %s: %w", prefix, err))
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return n, property.Unavailable(fmt.Errorf("delete image %s: %s", aws.ToString(e.Key), aws.ToString(e.Message)))
		}
		n += len(ids)
	}
	return n, nil
}

// PropertyIDs calls fn with the id of every property that has objects in
// the bucket, page by page; fn sees each id once per listing.
func (b *Bucket) PropertyIDs(ctx context.Context, fn func(ids []string) error) error {
	pages := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.opt.Bucket), Prefix: aws.String(property.ImageRoot), Delimiter: aws.String("/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return property.Unavailable(fmt.Errorf("list image folders: %w", err))
		}
		ids := make([]string, 0, len(page.CommonPrefixes))
		for _, p := range page.CommonPrefixes {
			id := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(p.Prefix), property.ImageRoot), "/")
			ids = append(ids, id)
		}
		if err := fn(ids); err != nil {
			return err
		}
	}
	return nil
}
