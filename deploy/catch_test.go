package deploy_test

import (
	"fmt"
	"strings"
	"testing"
)

// recorder collects what a check reports, so a test can prove the check
// fails on a broken template. Fatalf ends the check, as on a testing.T.
type recorder struct{ errs []string }

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}

// run runs check and returns what it reported.
func (r *recorder) run(check func(reporter)) (errs []string) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(fatal); !ok {
				panic(v)
			}
		}
		errs = r.errs
	}()
	check(r)
	return r.errs
}

// TestChecksCatch breaks a packaged template one way at a time and expects
// the check that guards against it to say so; the unbroken template passes
// every one of them (TestTemplate).
func TestChecksCatch(t *testing.T) {
	path := stages[2].path // adopt: every optional resource is there
	props := func(tpl *template, id string) map[string]any { return tpl.Resources[id].Properties }
	tests := []struct {
		name   string
		mutate func(tpl *template)
		check  func(r reporter, tpl *template)
		want   string
	}{
		{"topic under the AWS-managed key", func(tpl *template) { props(tpl, topicID)["KmsMasterKeyId"] = "alias/aws/sns" },
			func(r reporter, tpl *template) { checkAlarmDelivery(r, tpl, "ops@example.com") }, "AWS-managed key"},
		{"key policy without CloudWatch", func(tpl *template) {
			pol := props(tpl, keyID)["KeyPolicy"].(map[string]any)
			pol["Statement"] = list(pol["Statement"])[:1]
		}, func(r reporter, tpl *template) { checkAlarmDelivery(r, tpl, "ops@example.com") }, "cloudwatch.amazonaws.com"},
		{"CloudWatch may only decrypt", func(tpl *template) {
			st := list(props(tpl, keyID)["KeyPolicy"].(map[string]any)["Statement"])[1].(map[string]any)
			st["Action"] = []any{"kms:Decrypt"}
		}, func(r reporter, tpl *template) { checkAlarmDelivery(r, tpl, "ops@example.com") }, "cloudwatch.amazonaws.com"},
		{"no subscription", func(tpl *template) { delete(tpl.Resources, "AlarmEmailSubscription") },
			func(r reporter, tpl *template) { checkAlarmDelivery(r, tpl, "ops@example.com") }, "want one for ops@example.com"},
		{"subscription to another address", func(tpl *template) { props(tpl, "AlarmEmailSubscription")["Endpoint"] = "x@example.com" },
			func(r reporter, tpl *template) { checkAlarmDelivery(r, tpl, "ops@example.com") }, "subscription ="},
		{"no p99 duration alarm", func(tpl *template) { delete(tpl.Resources, "FunctionDurationAlarm") },
			checkAlarms, "p99 duration"},
		{"duration alarm past the timeout", func(tpl *template) { props(tpl, "FunctionDurationAlarm")["Threshold"] = 30000.0 },
			checkAlarms, "near the"},
		{"no API 5xx alarm", func(tpl *template) { delete(tpl.Resources, "Api5xxAlarm") }, checkAlarms, "API 5xx"},
		{"no error log filter", func(tpl *template) { delete(tpl.Resources, "ErrorLogMetricFilter") }, checkAlarms, "ERROR log lines"},
		{"filter on INFO lines", func(tpl *template) { props(tpl, "ErrorLogMetricFilter")["FilterPattern"] = `{ $.level = "INFO" }` },
			checkAlarms, "only those"},
		{"DynamoDB throttles without Query", func(tpl *template) {
			p := props(tpl, "TableThrottlesAlarm")
			p["Metrics"] = list(p["Metrics"])[:5]
		}, checkAlarms, "ThrottledRequests of Query"},
		{"no DynamoDB system errors alarm", func(tpl *template) { delete(tpl.Resources, "TableSystemErrorsAlarm") }, checkAlarms, "SystemErrors"},
		{"alarm to nobody", func(tpl *template) { props(tpl, "FunctionErrorsAlarm")["AlarmActions"] = []any{} }, checkAlarms, "notifies"},
		{"timeout too short", func(tpl *template) { props(tpl, functionID)["Timeout"] = 10.0 },
			func(r reporter, tpl *template) { checkTimeBudget(r, tpl.Resources[functionID]) }, "deleteProperty"},
		{"S3 allowed more attempts", func(tpl *template) { env(tpl)["S3_MAX_ATTEMPTS"] = "5" },
			func(r reporter, tpl *template) { checkTimeBudget(r, tpl.Resources[functionID]) }, "exceeds"},
		{"typed cursor secret", func(tpl *template) { props(tpl, secretID)["SecretString"] = "k" },
			func(r reporter, tpl *template) { checkCursorSecret(r, tpl, tpl.Resources[functionID]) }, "generated"},
		{"cursor key with commas", func(tpl *template) {
			props(tpl, secretID)["GenerateSecretString"] = map[string]any{"PasswordLength": 64.0}
		},
			func(r reporter, tpl *template) { checkCursorSecret(r, tpl, tpl.Resources[functionID]) }, "comma"},
		{"cursor secret typed into the environment", func(tpl *template) { env(tpl)["CURSOR_SECRET"] = "0123456789abcdef0123" },
			func(r reporter, tpl *template) { checkCursorSecret(r, tpl, tpl.Resources[functionID]) }, "CURSOR_SECRET ="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := load(t, path)
			tt.mutate(tpl)
			errs := (&recorder{}).run(func(r reporter) { tt.check(r, tpl) })
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("the check reported %q, want a report containing %q", errs, tt.want)
			}
		})
	}
}

func checkAlarms(r reporter, tpl *template) {
	checkLogsAndAlarms(r, tpl, tpl.Resources[functionID], tableExpr(stages[2].existingTable))
}

// env is the function's environment, to change in place.
func env(tpl *template) map[string]any {
	return tpl.Resources[functionID].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

// TestCIRoleChecksCatch breaks the deploy role one way at a time.
func TestCIRoleChecksCatch(t *testing.T) {
	statements := func(role *template) []any {
		pol := list(role.Resources["DeployRole"].Properties["Policies"])[0].(map[string]any)
		return list(pol["PolicyDocument"].(map[string]any)["Statement"])
	}
	setStatements := func(role *template, sts []any) {
		pol := list(role.Resources["DeployRole"].Properties["Policies"])[0].(map[string]any)
		pol["PolicyDocument"].(map[string]any)["Statement"] = sts
	}
	add := func(role *template, st map[string]any) { setStatements(role, append(statements(role), st)) }
	without := func(role *template, sid string) {
		var kept []any
		for _, s := range statements(role) {
			if s.(map[string]any)["Sid"] != sid {
				kept = append(kept, s)
			}
		}
		setStatements(role, kept)
	}
	stack := func(t *testing.T) *template { return load(t, stages[0].path) }
	tests := []struct {
		name   string
		mutate func(role *template)
		covers bool // run the coverage check, not the scope check
		want   string
	}{
		{"any repository may assume it", func(role *template) {
			doc := role.Resources["DeployRole"].Properties["AssumeRolePolicyDocument"].(map[string]any)
			st := list(doc["Statement"])[0].(map[string]any)
			st["Condition"].(map[string]any)["StringLike"] = map[string]any{"token.actions.githubusercontent.com:sub": "repo:*"}
		}, false, "trust policy"},
		{"every secret readable", func(role *template) {
			add(role, map[string]any{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
		}, false, "secretsmanager:GetSecretValue on any resource"},
		{"a wildcard action", func(role *template) {
			add(role, map[string]any{"Effect": "Allow", "Action": "s3:*", "Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::property-*"}})
		}, false, "wildcard action"},
		{"another account's table", func(role *template) {
			add(role, map[string]any{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "arn:aws:dynamodb:us-east-1:999999999999:table/x"})
		}, false, "not limited to this account"},
		{"PassRole to any service", func(role *template) {
			for _, s := range statements(role) {
				if s.(map[string]any)["Sid"] == "PassFunctionRole" {
					delete(s.(map[string]any), "Condition")
				}
			}
		}, false, "iam:PassRole condition"},
		{"cannot create the alarm key", func(role *template) { without(role, "CreateAlarmKey") }, true, "kms:CreateKey"},
		{"cannot resolve the cursor secret", func(role *template) { without(role, "CursorSecret") }, true, "secretsmanager:GetSecretValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := loadCIRole(t)
			tt.mutate(role)
			st := stack(t)
			errs := (&recorder{}).run(func(r reporter) {
				if tt.covers {
					checkCIRoleCovers(r, role, st)
				} else {
					checkCIRole(r, role)
				}
			})
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("the check reported %q, want a report containing %q", errs, tt.want)
			}
		})
	}
}
