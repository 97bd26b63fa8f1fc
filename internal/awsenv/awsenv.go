// Package awsenv gives the API's SDK clients (DynamoDB, S3) their
// credentials without the SDK's default config loader in the Lambda binary.
//
// config.LoadDefaultConfig links in, and initialises at every cold start,
// everything any credential source might need: SSO, SSO OIDC, sign-in, STS,
// the instance metadata client, shared-file parsing. In Lambda none of it
// is used: the runtime puts the function role's keys in the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), valid for
// the life of the execution environment, which is where the default chain
// would find them first too. The clients are built with dynamodb.New and
// s3.New and exactly the options they need.
package awsenv

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credentials returns the credentials of a client for region whose
// endpoint is endpoint ("" for AWS):
//
//   - the keys in the environment when AWS_ACCESS_KEY_ID and
//     AWS_SECRET_ACCESS_KEY are set (Lambda; CI), with AWS_SESSION_TOKEN;
//   - else, for a local endpoint, dummy keys (a local engine takes any;
//     asking the instance metadata service would only add a slow failure);
//   - else the SDK's default chain (profiles, SSO, roles), for running the
//     API locally against AWS. The Lambda build (tag lambda.norpc, `make
//     build`) leaves that chain out and fails instead, since Lambda always
//     sets the keys.
//
// With noIMDS the default chain does not ask the EC2 instance metadata
// service unless AWS_EC2_METADATA_DISABLED=false says to: a command started
// on a laptop without credentials then fails at once instead of after a slow
// probe of a cloud address.
func Credentials(ctx context.Context, region, endpoint string, noIMDS bool) (aws.CredentialsProvider, error) {
	return credentialsFrom(ctx, os.Getenv, region, endpoint, noIMDS && os.Getenv("AWS_EC2_METADATA_DISABLED") == "")
}

func credentialsFrom(ctx context.Context, getenv func(string) string, region, endpoint string, noIMDS bool) (aws.CredentialsProvider, error) {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")), nil
	}
	if endpoint != "" {
		return credentials.NewStaticCredentialsProvider("local", "local", ""), nil
	}
	return defaultChain(ctx, region, noIMDS)
}
