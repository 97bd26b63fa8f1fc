package dynamo

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ClientOptions say where DynamoDB is and how long to wait for it.
type ClientOptions struct {
	Region string
	// Endpoint points at a local engine; empty means AWS. A local endpoint
	// gets dummy credentials unless the environment provides some.
	Endpoint string
	// Timeout bounds each HTTP attempt, so an engine that hangs fails a
	// request promptly instead of holding it (default 5s).
	Timeout time.Duration
	// APIOptions are extra SDK middleware (tests count calls with them).
	APIOptions []func(*dynamodb.Options)
}

// NewClient returns a DynamoDB client built from the default AWS config.
func NewClient(ctx context.Context, opt ClientOptions) (*dynamodb.Client, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithRegion(opt.Region),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(opt.Timeout).
			WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 64 })),
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if opt.Endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		// A local engine accepts any key; asking the instance metadata
		// service for one would only add a slow failure.
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if opt.Endpoint != "" {
			o.BaseEndpoint = aws.String(opt.Endpoint)
			// DynamoDB Local's CRC32 header does not always match its body,
			// which only makes the SDK log warnings; AWS's is checked.
			o.DisableValidateResponseChecksum = true
		}
		for _, f := range opt.APIOptions {
			f(o)
		}
	}), nil
}
