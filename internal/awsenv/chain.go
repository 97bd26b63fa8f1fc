//go:build !lambda.norpc

package awsenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// hasDefaultChain says whether this build can fall back to the default chain.
const hasDefaultChain = true

// defaultChain is the SDK's default credential chain, resolved lazily on
// the first call that needs credentials (and cached by the SDK).
func defaultChain(ctx context.Context, region string) (aws.CredentialsProvider, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg.Credentials, nil
}
