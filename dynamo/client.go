package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/propertyhq/property/internal/awsenv"
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
	// MaxAttempts bounds the attempts the SDK makes for one call, the first
	// included (default 3). With Timeout it bounds how long a call can take
	// while DynamoDB is unreachable: about MaxAttempts*Timeout plus the
	// backoff between attempts.
	MaxAttempts int
	// MaxBackoff caps the randomised wait before each retry (default 1s;
	// throttling errors back off from 1s, others from 50ms).
	MaxBackoff time.Duration
	// APIOptions are extra SDK middleware (tests count calls with them).
	APIOptions []func(*dynamodb.Options)
	// CheckCredentials makes NewClient find credentials before it returns
	// (ErrNoCredentials when there are none), without asking the EC2
	// instance metadata service unless AWS_EC2_METADATA_DISABLED=false says
	// to: a command started on a laptop without credentials fails at once
	// instead of after a slow probe of a cloud address. Commands set it;
	// the Lambda does not need it (its credentials are in its environment).
	CheckCredentials bool
}

// ErrNoCredentials is NewClient's error when CheckCredentials finds no
// credentials.
var ErrNoCredentials = errors.New("no AWS credentials")

// CredentialsHint says what to set after ErrNoCredentials.
const CredentialsHint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for AWS, " +
	"or DYNAMODB_ENDPOINT for a local engine (with make dev running, make backfill and make sweep " +
	"read it from .data/dev.env); on EC2, AWS_EC2_METADATA_DISABLED=false lets the instance role answer"

// Defaults of ClientOptions. The longest one call can take while DynamoDB
// does not answer is MaxAttempts*Timeout + (MaxAttempts-1)*MaxBackoff: 17 s
// with these defaults, 4 s with the settings serverless.yml gives the
// function (README, Deploying: "Time budget").
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxAttempts = 3
	DefaultMaxBackoff  = time.Second
)

// NewClient returns a DynamoDB client for the region, with the
// environment's credentials (see internal/awsenv).
func NewClient(ctx context.Context, opt ClientOptions) (*dynamodb.Client, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	creds, err := awsenv.Credentials(ctx, opt.Region, opt.Endpoint, opt.CheckCredentials)
	if err != nil {
		return nil, err
	}
	// dynamodb.New with the options the API uses, not the SDK's default
	// config loader (see internal/awsenv): cold starts skip initialising
	// credential sources Lambda never uses.
	o := dynamodb.Options{
		Region:      opt.Region,
		Credentials: creds,
		// The SDK's standard retryer (exponential backoff with full jitter,
		// a retry quota per client) with its bounds stated here, so the
		// longest a call can take is known and configurable.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opt.MaxAttempts
			o.MaxBackoff = opt.MaxBackoff
		}),
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(opt.Timeout).
			WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 64 }),
	}
	if opt.CheckCredentials {
		if creds == nil {
			return nil, ErrNoCredentials
		}
		// A cancelled ctx is not a missing credential: the caller's first
		// call reports it.
		if _, err := o.Credentials.Retrieve(ctx); err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("%w: %v", ErrNoCredentials, err)
		}
	}
	if opt.Endpoint != "" {
		o.BaseEndpoint = aws.String(opt.Endpoint)
		// DynamoDB Local's CRC32 header does not always match its body,
		// which only makes the SDK log warnings; AWS's is checked.
		o.DisableValidateResponseChecksum = true
	}
	return dynamodb.New(o, opt.APIOptions...), nil
}
