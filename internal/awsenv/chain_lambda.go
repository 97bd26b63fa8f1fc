//go:build lambda.norpc

package awsenv

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const hasDefaultChain = false

// defaultChain is left out of the Lambda build; see Credentials.
func defaultChain(context.Context, string, bool) (aws.CredentialsProvider, error) {
	return nil, errors.New("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
		"(the Lambda runtime sets them; this build has no other credential source)")
}
