package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/propertyhq/property/api"
)

// reporter is what the checks below report to: a *testing.T, or a
// recorder when a test proves a check catches a broken template.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// checkCursorSecret: the stack generates the cursor key (a fresh account
// deploys without creating it by hand), and the function gets it through a
// dynamic reference CloudFormation resolves, never written in the template.
func checkCursorSecret(t reporter, tpl *template, fn resource) {
	sec := tpl.get(t, secretID, "AWS::SecretsManager::Secret").Properties
	if _, typed := sec["SecretString"]; typed {
		t.Errorf("%s has a SecretString in the template; it must be generated", secretID)
	}
	gen, _ := sec["GenerateSecretString"].(map[string]any)
	if n, _ := gen["PasswordLength"].(float64); n < 32 {
		t.Errorf("GenerateSecretString.PasswordLength = %v, want at least 32", gen["PasswordLength"])
	}
	// A comma separates CURSOR_SECRET's keys: the generated key has none.
	excluded, _ := gen["ExcludeCharacters"].(string)
	if !truthy(gen["ExcludePunctuation"]) && !strings.Contains(excluded, ",") {
		t.Errorf("the generated key may contain a comma: %v", gen)
	}
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got, want := canon(vars["CURSOR_SECRET"]), fmt.Sprintf(`{"Fn::Sub":"{{resolve:secretsmanager:${%s}:SecretString}}"}`, secretID); got != want {
		t.Errorf("CURSOR_SECRET = %s, want %s", got, want)
	}
	// Only this secret exists in the stack, and nothing grants the function
	// a secretsmanager action (checkIAM's allow-list has none).
	if got := tpl.ofType("AWS::SecretsManager::Secret"); !slices.Equal(got, []string{secretID}) {
		t.Errorf("secrets = %v, want just %s", got, secretID)
	}
}

// checkAlarmDelivery proves a notification can reach someone: the topic is
// unencrypted or encrypted with a key CloudWatch may use (never the
// AWS-managed alias/aws/sns, whose policy CloudWatch is not in), and the
// stage's alarm address is subscribed.
func checkAlarmDelivery(t reporter, tpl *template, email string) {
	topic := tpl.get(t, topicID, "AWS::SNS::Topic").Properties
	if k, ok := topic["KmsMasterKeyId"]; ok {
		if canon(k) != ref(keyID) {
			t.Fatalf("AlarmTopic KmsMasterKeyId = %s, want %s: CloudWatch cannot publish to a topic under an AWS-managed key", canon(k), ref(keyID))
		}
		key := tpl.get(t, keyID, "AWS::KMS::Key").Properties
		checkKeyPolicy(t, key["KeyPolicy"])
	}
	var subs []map[string]any
	for _, id := range tpl.ofType("AWS::SNS::Subscription") {
		subs = append(subs, tpl.Resources[id].Properties)
	}
	if email == "" {
		if len(subs) != 0 {
			t.Errorf("subscriptions %v without an alarmEmail", subs)
		}
		return
	}
	if len(subs) != 1 {
		t.Fatalf("subscriptions = %v, want one for %s", subs, email)
	}
	want := fmt.Sprintf(`{"Endpoint":%q,"Protocol":"email","TopicArn":%s}`, email, ref(topicID))
	if got := canon(subs[0]); got != want {
		t.Errorf("subscription = %s, want %s", got, want)
	}
}

// checkKeyPolicy: CloudWatch may encrypt with the key (kms:GenerateDataKey*
// and kms:Decrypt, as SNS asks on its behalf), and the account keeps
// control of the key (without that statement nobody could manage it).
func checkKeyPolicy(t reporter, policy any) {
	t.Helper()
	p, _ := policy.(map[string]any)
	var cloudwatch, account bool
	for _, s := range list(p["Statement"]) {
		st, _ := s.(map[string]any)
		if st["Effect"] != "Allow" {
			continue
		}
		principal, _ := st["Principal"].(map[string]any)
		actions := list(st["Action"])
		has := func(a string) bool { return slices.Contains(actions, any(a)) }
		switch {
		case principal["Service"] == "cloudwatch.amazonaws.com":
			cloudwatch = has("kms:Decrypt") && (has("kms:GenerateDataKey*") || has("kms:GenerateDataKey"))
			for _, a := range actions {
				if a != "kms:Decrypt" && a != "kms:GenerateDataKey*" && a != "kms:GenerateDataKey" {
					t.Errorf("CloudWatch may %v with the alarm key; it needs only to encrypt", a)
				}
			}
		case canon(principal["AWS"]) == `{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}`:
			account = has("kms:*")
		}
	}
	if !cloudwatch {
		t.Errorf("the alarm key's policy does not let cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*): %s", canon(policy))
	}
	if !account {
		t.Errorf("the alarm key's policy does not leave the account in control of it: %s", canon(policy))
	}
}

// metric is one CloudWatch metric an alarm watches.
type metric struct {
	namespace, name string
	dims            map[string]string // name -> canonical JSON of the value
	stat            string
}

// alarmMetrics returns the metrics an alarm watches: its one metric, or
// every metric its math expression sums.
func alarmMetrics(t reporter, p map[string]any) []metric {
	t.Helper()
	dims := func(v any) map[string]string {
		m := map[string]string{}
		for _, d := range list(v) {
			dm, _ := d.(map[string]any)
			m[fmt.Sprint(dm["Name"])] = canon(dm["Value"])
		}
		return m
	}
	if name, ok := p["MetricName"].(string); ok {
		stat, _ := p["Statistic"].(string)
		if es, ok := p["ExtendedStatistic"].(string); ok {
			stat = es
		}
		return []metric{{namespace: fmt.Sprint(p["Namespace"]), name: name, dims: dims(p["Dimensions"]), stat: stat}}
	}
	var out []metric
	returned := 0
	for _, q := range list(p["Metrics"]) {
		qm, _ := q.(map[string]any)
		if truthy(qm["ReturnData"]) {
			returned++
			if e := fmt.Sprint(qm["Expression"]); e != "SUM(METRICS())" {
				t.Errorf("alarm expression %q, want SUM(METRICS())", e)
			}
			continue
		}
		ms, _ := qm["MetricStat"].(map[string]any)
		m, _ := ms["Metric"].(map[string]any)
		out = append(out, metric{namespace: fmt.Sprint(m["Namespace"]), name: fmt.Sprint(m["MetricName"]), dims: dims(m["Dimensions"]), stat: fmt.Sprint(ms["Stat"])})
	}
	if returned != 1 {
		t.Errorf("alarm returns %d series, want 1", returned)
	}
	return out
}

// checkLogsAndAlarms: logs expire, every alarm notifies the topic, and the
// outages this API can have each trip one: the function failing, throttled
// or near its timeout; API Gateway answering 5xx; resolvers failing (HTTP
// 200 with a coded error, logged at ERROR); DynamoDB throttling or failing
// any call the function makes.
func checkLogsAndAlarms(t reporter, tpl *template, fn resource, table string) {
	for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
		if days, _ := tpl.Resources[id].Properties["RetentionInDays"].(float64); days <= 0 {
			t.Errorf("log group %s keeps logs forever", id)
		}
	}
	var watched []metric
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		p := tpl.Resources[id].Properties
		if got, want := canon(p["AlarmActions"]), "["+ref(topicID)+"]"; got != want {
			t.Errorf("alarm %s notifies %s, want %s", id, got, want)
		}
		watched = append(watched, alarmMetrics(t, p)...)
		if m, _ := p["MetricName"].(string); m == "Duration" {
			threshold, _ := p["Threshold"].(float64)
			timeout, _ := fn.Properties["Timeout"].(float64)
			if threshold < 0.6*timeout*1000 || threshold >= timeout*1000 {
				t.Errorf("duration alarm at %v ms; want it near the %v s timeout (60-100 %%)", threshold, timeout)
			}
		}
	}
	watches := func(namespace, name, stat string, dims map[string]string) bool {
		return slices.ContainsFunc(watched, func(m metric) bool {
			if m.namespace != namespace || m.name != name || (stat != "" && m.stat != stat) {
				return false
			}
			for k, v := range dims {
				if m.dims[k] != v {
					return false
				}
			}
			return true
		})
	}
	fnDim := map[string]string{"FunctionName": ref(functionID)}
	for _, tt := range []struct {
		what, namespace, name, stat string
		dims                        map[string]string
	}{
		{"function errors", "AWS/Lambda", "Errors", "Sum", fnDim},
		{"function throttles", "AWS/Lambda", "Throttles", "Sum", fnDim},
		{"function p99 duration", "AWS/Lambda", "Duration", "p99", fnDim},
		{"API 5xx", "AWS/ApiGateway", "5xx", "Sum", map[string]string{"ApiId": ref(apiID), "Stage": `"$default"`}},
	} {
		if !watches(tt.namespace, tt.name, tt.stat, tt.dims) {
			t.Errorf("no alarm on %s (%s %s %s %v)", tt.what, tt.namespace, tt.name, tt.stat, tt.dims)
		}
	}
	// DynamoDB reports per table and operation: every call the function
	// may make (the role's dynamodb actions) must be watched.
	for action := range allowedFor("") {
		op, ok := strings.CutPrefix(action, "dynamodb:")
		if !ok {
			continue
		}
		for _, name := range []string{"ThrottledRequests", "SystemErrors"} {
			if !watches("AWS/DynamoDB", name, "Sum", map[string]string{"TableName": table, "Operation": fmt.Sprintf("%q", op)}) {
				t.Errorf("no alarm on DynamoDB %s of %s on %s", name, op, table)
			}
		}
	}
	checkErrorLogAlarm(t, tpl, watches)
}

// checkErrorLogAlarm: a metric filter on the function's log group counts
// the lines the API logs at ERROR (graph/errors.go logs every
// INTERNAL_SERVER_ERROR and SERVICE_UNAVAILABLE so), and an alarm watches
// that count. The filter is tried on lines the API's own logger writes.
func checkErrorLogAlarm(t reporter, tpl *template, watches func(namespace, name, stat string, dims map[string]string) bool) {
	filters := tpl.ofType("AWS::Logs::MetricFilter")
	found := false
	for _, id := range filters {
		p := tpl.Resources[id].Properties
		if canon(p["LogGroupName"]) != ref(logGroupID) {
			continue
		}
		pattern, _ := p["FilterPattern"].(string)
		m := regexp.MustCompile(`^\{ \$\.(\w+) = "([^"]*)" \}$`).FindStringSubmatch(pattern)
		if m == nil {
			t.Errorf("filter %s: pattern %q is not the { $.field = \"value\" } this test can evaluate", id, pattern)
			continue
		}
		matches := func(level slog.Level) bool {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Log(nil, level, "operation failed", slog.String("code", "SERVICE_UNAVAILABLE"))
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v", err)
			}
			return fmt.Sprint(line[m[1]]) == m[2]
		}
		if !matches(slog.LevelError) || matches(slog.LevelInfo) || matches(slog.LevelWarn) {
			t.Errorf("filter %s (%q) must match the API's ERROR lines and only those", id, pattern)
			continue
		}
		for _, tr := range list(p["MetricTransformations"]) {
			tm, _ := tr.(map[string]any)
			if tm["MetricValue"] != "1" {
				t.Errorf("filter %s counts %v per line, want 1", id, tm["MetricValue"])
			}
			if watches(fmt.Sprint(tm["MetricNamespace"]), fmt.Sprint(tm["MetricName"]), "Sum", nil) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no alarm on the function's ERROR log lines (metric filters: %v)", filters)
	}
}

// operations are the API's operations with the SDK calls each makes one
// after another in its slowest path, plus whether it may verify a token
// against a key set not yet fetched (one JWKS request, auth's 5 s client
// timeout). Listings with a filter are left out: they read page after page
// within LIST_READ_CAP, and the deadline margin, not the timeout, bounds
// them (README, Deploying: "Time budget").
var operations = []struct {
	name         string
	dynamo, s3   int
	verifysToken bool
}{
	{"property", 1, 0, false},               // GetItem
	{"properties (no filter)", 1, 0, false}, // Query
	{"createProperty", 1, 0, true},          // PutItem (upload URLs are signed locally)
	// An update of a legacy item: the failed write, then the upgrade.
	{"updateProperty", 2, 0, true},
	{"addPropertyImages", 2, 0, true},
	// The update (legacy: two), then DeleteObject.
	{"removePropertyImage", 2, 1, true},
	// The deletion mark, ListObjectsV2 and DeleteObjects (one page: at most
	// MAX_IMAGES objects, far below 1,000), DeleteItem.
	{"deleteProperty", 2, 2, true},
}

// jwksTimeout is auth's HTTP client timeout for the key set (auth.New).
const jwksTimeout = 5 * time.Second

// checkTimeBudget recomputes the README's formula from the function's
// environment: for every operation, margin + JWKS + dynamo × DynamoDB's
// call bound + s3 × S3's must fit in the function's timeout, so that a slow
// but answering dependency never runs a request into the deadline.
func checkTimeBudget(t reporter, fn resource) {
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	env := map[string]string{
		// What LoadConfig requires and the template gives as references.
		"PROPERTY_TABLE_NAME": "t", "AWS_REGION": "us-east-1", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
		"CURSOR_SECRET": "0123456789abcdef0123", "AUTH_ISSUER": "https://issuer.example", "AUTH_CLIENT_ID": "c",
	}
	for k, v := range vars {
		if s, ok := v.(string); ok {
			if _, set := env[k]; !set {
				env[k] = s
			}
		}
	}
	cfg, err := api.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the function's environment does not load: %v", err)
	}
	timeout := time.Duration(fn.Properties["Timeout"].(float64)) * time.Second
	for _, op := range operations {
		worst := cfg.DeadlineMargin + time.Duration(op.dynamo)*cfg.DynamoCallBound() + time.Duration(op.s3)*cfg.S3CallBound()
		if op.verifysToken {
			worst += jwksTimeout
		}
		if worst > timeout {
			t.Errorf("%s: worst case %v (margin %v, %d DynamoDB calls of up to %v, %d S3 calls of up to %v) exceeds the function's %v timeout",
				op.name, worst, cfg.DeadlineMargin, op.dynamo, cfg.DynamoCallBound(), op.s3, cfg.S3CallBound(), timeout)
		}
	}
}
