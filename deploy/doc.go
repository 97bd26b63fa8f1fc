// Package deploy holds no code. Its tests check the CloudFormation templates
// the Serverless Framework packages from serverless.yml (`make package`)
// and the CI deploy role's template beside this file (ci-role.json): both
// against CloudFormation's resource schemas, the stack against what the
// code needs and no more (IAM, the time budget, the cursor secret), its
// alarms against the outages they must report, and the role against what
// deploying the stack takes. They also keep the framework version pinned to
// osls's and test scripts/smoke.mjs, the post-deploy smoke test.
package deploy
