package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// ciRolePath is the CI deploy role's template (README, Deploying: CI).
const ciRolePath = "ci-role.json"

func loadCIRole(t *testing.T) *template {
	t.Helper()
	b, err := os.ReadFile(ciRolePath)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &template{raw: b}
	if err := json.Unmarshal(b, tpl); err != nil {
		t.Fatalf("%s: %v", ciRolePath, err)
	}
	return tpl
}

// creates names, for each resource type the stack has, the call
// CloudFormation makes (with the deploying role's rights) to create it.
var creates = map[string]string{
	"AWS::S3::Bucket":                "s3:CreateBucket",
	"AWS::S3::BucketPolicy":          "s3:PutBucketPolicy",
	"AWS::Logs::LogGroup":            "logs:CreateLogGroup",
	"AWS::Logs::MetricFilter":        "logs:PutMetricFilter",
	"AWS::Lambda::Function":          "lambda:CreateFunction",
	"AWS::Lambda::Permission":        "lambda:AddPermission",
	"AWS::ApiGatewayV2::Api":         "apigateway:POST",
	"AWS::ApiGatewayV2::Stage":       "apigateway:POST",
	"AWS::ApiGatewayV2::Integration": "apigateway:POST",
	"AWS::ApiGatewayV2::Route":       "apigateway:POST",
	"AWS::DynamoDB::Table":           "dynamodb:CreateTable",
	"AWS::SecretsManager::Secret":    "secretsmanager:CreateSecret",
	"AWS::Cognito::UserPool":         "cognito-idp:CreateUserPool",
	"AWS::Cognito::UserPoolClient":   "cognito-idp:CreateUserPoolClient",
	"AWS::Cognito::UserPoolGroup":    "cognito-idp:CreateGroup",
	"AWS::IAM::Role":                 "iam:CreateRole",
	"AWS::KMS::Key":                  "kms:CreateKey",
	"AWS::SNS::Topic":                "sns:CreateTopic",
	"AWS::SNS::Subscription":         "sns:Subscribe",
	"AWS::CloudWatch::Alarm":         "cloudwatch:PutMetricAlarm",
}

// unscoped are the only actions the role may have on any resource: those
// that take no resource (create calls whose id is not known before, and
// account-level calls HTTP API access logging makes).
var unscoped = []string{
	"cloudformation:ValidateTemplate", "cognito-idp:CreateUserPool", "kms:CreateKey",
	"secretsmanager:GetRandomPassword", "logs:DescribeLogGroups",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
}

func TestCIRole(t *testing.T) {
	role := loadCIRole(t)
	checkCIRole(t, role)
	// Every resource the packaged stacks have can be created with it, and
	// CloudFormation can resolve the cursor secret's dynamic reference.
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			checkCIRoleCovers(t, role, load(t, st.path))
		})
	}
}

// grants returns the role's allowed statements, by action.
func grants(t reporter, role *template) map[string][]map[string]any {
	t.Helper()
	r := role.get(t, "DeployRole", "AWS::IAM::Role").Properties
	out := map[string][]map[string]any{}
	for _, pol := range list(r["Policies"]) {
		doc, _ := pol.(map[string]any)["PolicyDocument"].(map[string]any)
		for _, s := range list(doc["Statement"]) {
			st, _ := s.(map[string]any)
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if _, ok := st[k]; ok {
					t.Errorf("statement %v uses %s", st["Sid"], k)
				}
			}
			if st["Effect"] != "Allow" {
				continue
			}
			for _, a := range list(st["Action"]) {
				out[fmt.Sprint(a)] = append(out[fmt.Sprint(a)], st)
			}
		}
	}
	return out
}

func checkCIRole(t reporter, role *template) {
	t.Helper()
	// Trusted: GitHub's OIDC tokens for this repository's dev and prod
	// environments, and nothing else.
	r := role.get(t, "DeployRole", "AWS::IAM::Role").Properties
	trust, _ := r["AssumeRolePolicyDocument"].(map[string]any)
	want := `{"Statement":[{"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"token.actions.githubusercontent.com:sub":[{"Fn::Sub":"repo:${GitHubRepository}:environment:dev"},{"Fn::Sub":"repo:${GitHubRepository}:environment:prod"}]}},` +
		`"Effect":"Allow","Principal":{"Federated":{"Fn::If":["CreateProvider",{"Ref":"GitHubOIDCProvider"},{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"}]}}}],"Version":"2012-10-17"}`
	if got := canon(trust); got != want {
		t.Errorf("trust policy\n got %s\nwant %s", got, want)
	}
	prov := role.get(t, "GitHubOIDCProvider", "AWS::IAM::OIDCProvider").Properties
	// (IAM no longer checks GitHub's thumbprints, but the resource
	// schema still requires the list.)
	delete(prov, "ThumbprintList")
	if got, want := canon(prov), `{"ClientIdList":["sts.amazonaws.com"],"Url":"https://token.actions.githubusercontent.com"}`; got != want {
		t.Errorf("OIDC provider = %s, want %s", got, want)
	}
	if m, ok := r["ManagedPolicyArns"]; ok {
		t.Errorf("managed policies %v: their rights are not checked here", m)
	}

	for action, sts := range grants(t, role) {
		if _, name, _ := strings.Cut(action, ":"); action == "*" || strings.HasSuffix(name, "*") {
			t.Errorf("%s: a wildcard action", action)
		}
		for _, st := range sts {
			for _, res := range list(st["Resource"]) {
				s := canon(res)
				switch {
				case res == "*":
					if !slices.Contains(unscoped, action) {
						t.Errorf("%s on any resource (statement %v)", action, st["Sid"])
					}
				// API Gateway's ARNs name no account: they are the caller's.
				case !strings.Contains(s, "${AWS::AccountId}") && !strings.Contains(s, ":s3:::property-") &&
					!strings.Contains(s, ":apigateway:${AWS::Region}::/"):
					t.Errorf("%s on %s: not limited to this account", action, s)
				case strings.Contains(s, ":*\"") || strings.HasSuffix(s, ":*\"}"):
					t.Errorf("%s on %s: any resource of the service", action, s)
				}
			}
		}
	}
	g := grants(t, role)
	// The secret: only the stack's cursor secrets may be read.
	for _, st := range g["secretsmanager:GetSecretValue"] {
		if got, want := canon(st["Resource"]), `[{"Fn::Sub":"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:property-*-cursor-*"}]`; got != want {
			t.Errorf("secretsmanager:GetSecretValue on %s, want only %s", got, want)
		}
	}
	// The function's role goes to Lambda only.
	for _, st := range g["iam:PassRole"] {
		if got, want := canon(st["Condition"]), `{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}`; got != want {
			t.Errorf("iam:PassRole condition = %s, want %s", got, want)
		}
	}
}

// checkCIRoleCovers: the role may create every resource of the stack and
// read the secret its dynamic reference names.
func checkCIRoleCovers(t reporter, role, stack *template) {
	t.Helper()
	g := grants(t, role)
	for id, r := range stack.Resources {
		action, known := creates[r.Type]
		if !known {
			t.Errorf("%s is a %s: add what creates it to deploy/ci-role.json and to creates", id, r.Type)
			continue
		}
		if len(g[action]) == 0 {
			t.Errorf("the deploy role cannot %s (for %s)", action, id)
		}
	}
	for _, a := range []string{"iam:PassRole", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "s3:PutObject", "secretsmanager:GetSecretValue"} {
		if len(g[a]) == 0 {
			t.Errorf("the deploy role cannot %s", a)
		}
	}
	// The secret's ARN (its name and the suffix Secrets Manager adds) is
	// within what the role may read.
	if sec, ok := stack.Resources[secretID]; ok {
		name := fmt.Sprint(sec.Properties["Name"])
		if ok, _ := path.Match("property-*-cursor-*", name+"-AbC123"); !ok {
			t.Errorf("the cursor secret %q is outside the deploy role's property-*-cursor-*", name)
		}
	}
}
