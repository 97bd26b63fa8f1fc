//go:build !lambda.norpc

package awsenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// hasDefaultChain says whether this build can fall back to the default chain.
const hasDefaultChain = true

// defaultChain is the SDK's default credential chain, resolved lazily on
// the first call that needs credentials (and cached by the SDK).
func defaultChain(ctx context.Context, region string, noIMDS bool) (aws.CredentialsProvider, error) {
	loaders := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if noIMDS {
		loaders = append(loaders, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg.Credentials, nil
}
