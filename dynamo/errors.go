package dynamo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	property "github.com/propertyhq/property"
)

// translate wraps an SDK error with the operation and, when DynamoDB is down,
// overloaded or out of reach, marks it as worth retrying.
func translate(err error, format string, args ...any) error {
	err = fmt.Errorf(format+": %w", append(args, err)...)
	if unavailable(err) {
		return property.Unavailable(err)
	}
	return err
}

// throttleCodes are the error codes DynamoDB answers when it sheds load.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"LimitExceededException":                 true,
}

func unavailable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && throttleCodes[apiErr.ErrorCode()] {
		return true
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	var netErr net.Error
	var maxAttempts *retry.MaxAttemptsError
	return errors.As(err, &netErr) || errors.As(err, &maxAttempts) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}

// attemptCount counts the attempts the SDK made for one call, so a write can
// tell whether an earlier attempt of its own may have committed.
type attemptCount struct{ n int32 }

func (a *attemptCount) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		// Finalize runs once per attempt after the retry loop has begun.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("countAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				atomic.AddInt32(&a.n, 1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}
