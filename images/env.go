package images

import "github.com/propertyhq/property/internal/envvar"

// ReadEnv reads the bucket's Options through r, which collects the
// problems: IMAGES_BUCKET (empty: no images), S3_ENDPOINT,
// IMAGES_PUBLIC_URL, UPLOAD_URL_TTL, IMAGE_URL_TTL, S3_TIMEOUT,
// S3_MAX_ATTEMPTS and S3_MAX_BACKOFF, with this package's defaults. The
// region is DynamoDB's (one region for both).
func ReadEnv(r *envvar.Reader, region string) Options {
	return Options{
		Bucket:      r.String("IMAGES_BUCKET"),
		Region:      region,
		Endpoint:    r.String("S3_ENDPOINT"),
		PublicURL:   r.String("IMAGES_PUBLIC_URL"),
		UploadTTL:   r.Duration("UPLOAD_URL_TTL", DefaultUploadTTL),
		DownloadTTL: r.Duration("IMAGE_URL_TTL", DefaultDownloadTTL),
		Timeout:     r.Duration("S3_TIMEOUT", DefaultTimeout),
		MaxAttempts: r.Int("S3_MAX_ATTEMPTS", DefaultMaxAttempts, 1, 10),
		MaxBackoff:  r.Duration("S3_MAX_BACKOFF", DefaultMaxBackoff),
	}
}
