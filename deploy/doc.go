// Package deploy holds no code: its test checks the CloudFormation template
// the Serverless Framework packages from serverless.yml (`make package`),
// so the deployed stack keeps to what the code needs and no more.
package deploy
