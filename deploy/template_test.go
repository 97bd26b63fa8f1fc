package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/propertyhq/property/dynamo"
)

// The templates `make package` writes, relative to this directory: prod
// where the framework puts it (and what CI deploys), dev beside the build.
//
// "adopt" is dev packaged with every switch the other way (the Makefile's
// package target): an existing table, an alarm address, self sign-up.
var stages = []struct {
	name, stage, path string
	// What the stage's params must produce.
	playground, protected bool
	// existingTable is the existingTableName param ("": the stack's table).
	existingTable string
	alarmEmail    string
	selfSignUp    bool
}{
	{name: "prod", stage: "prod", path: "../.serverless/cloudformation-template-update-stack.json", playground: false, protected: true},
	{name: "dev", stage: "dev", path: "../.build/serverless/dev/cloudformation-template-update-stack.json", playground: true, protected: false},
	{name: "adopt", stage: "dev", path: "../.build/serverless/adopt/cloudformation-template-update-stack.json", playground: true, protected: false,
		existingTable: "properties-legacy", alarmEmail: "ops@example.com", selfSignUp: true},
}

// The sources a template is packaged from; a template older than any of
// them is stale.
var sources = []string{"../serverless.yml", "../dynamo/table.json", "../Makefile"}

// Logical ids in serverless.yml (and the framework's names for the function
// "api" and its log group).
const (
	functionID = "ApiLambdaFunction"
	logGroupID = "ApiLogGroup"
	roleID     = "ApiRole"
	tableID    = "PropertyTable"
	bucketID   = "ImagesBucket"
	poolID     = "UserPool"
	clientID   = "UserPoolClient"
	secretID   = "CursorSecret"
	topicID    = "AlarmTopic"
	keyID      = "AlarmKey"
	apiID      = "HttpApi"
)

// allowedFor is every IAM action the function may have, with the resources
// it may have it on: exactly the calls the code makes (dynamo/, images/; the
// pre-signed PUT and GET act with the role's rights), its own logging and
// its traces. The table is the stack's own, or the existing one the stage
// names.
func allowedFor(existingTable string) map[string][]string {
	table, index := tableArn, indexArn
	if existingTable != "" {
		table = fmt.Sprintf(`{"Fn::Sub":"arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/%s"}`, existingTable)
		index = fmt.Sprintf(`{"Fn::Sub":"arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/%s/index/*"}`, existingTable)
	}
	return map[string][]string{
		"dynamodb:GetItem":         {table, index},
		"dynamodb:PutItem":         {table, index},
		"dynamodb:UpdateItem":      {table, index},
		"dynamodb:DeleteItem":      {table, index},
		"dynamodb:Query":           {table, index},
		"s3:PutObject":             {imagesArn},
		"s3:GetObject":             {imagesArn},
		"s3:DeleteObject":          {imagesArn},
		"s3:ListBucket":            {bucketArn}, // with an s3:prefix condition, checked below
		"logs:CreateLogStream":     {logGroupArn},
		"logs:PutLogEvents":        {logGroupArn},
		"xray:PutTraceSegments":    {anyResource}, // X-Ray has no resource-level permissions
		"xray:PutTelemetryRecords": {anyResource},
	}
}

// Resource expressions, as JSON.
const (
	tableArn    = `{"Fn::GetAtt":["PropertyTable","Arn"]}`
	indexArn    = `{"Fn::Sub":"${PropertyTable.Arn}/index/*"}`
	bucketArn   = `{"Fn::GetAtt":["ImagesBucket","Arn"]}`
	imagesArn   = `{"Fn::Sub":"${ImagesBucket.Arn}/properties/*"}`
	logGroupArn = `{"Fn::GetAtt":["ApiLogGroup","Arn"]}`
	anyResource = `"*"`
	// imagePrefix is what s3:ListBucket is limited to (property.ImagePrefix).
	imagePrefix = "properties/*"
)

type resource struct {
	Type       string         `json:"Type"`
	Condition  string         `json:"Condition"`
	Properties map[string]any `json:"Properties"`
	DependsOn  any            `json:"DependsOn"`

	DeletionPolicy      string `json:"DeletionPolicy"`
	UpdateReplacePolicy string `json:"UpdateReplacePolicy"`
}

type template struct {
	Resources  map[string]resource `json:"Resources"`
	Conditions map[string]any      `json:"Conditions"`
	Outputs    map[string]any      `json:"Outputs"`
	raw        []byte
}

// load reads a packaged template. Without one it fails when CI is set and
// skips otherwise, saying how to make it.
func load(t *testing.T, path string) *template {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; run `make package` (it runs `serverless package` offline, no AWS account needed)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		missing("no packaged template at %s", filepath.Clean(path))
	} else if err != nil {
		t.Fatal(err)
	}
	for _, src := range sources {
		if s, err := os.Stat(src); err == nil && s.ModTime().After(info.ModTime()) {
			missing("%s is older than %s", filepath.Clean(path), filepath.Clean(src))
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &template{raw: b}
	if err := json.Unmarshal(b, tpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tpl.resolveConditions(t)
	return tpl
}

// resolveConditions leaves the template as CloudFormation would deploy it
// for the stage: without the resources whose condition is false, and with
// every Fn::If replaced by the branch its condition picks.
func (tpl *template) resolveConditions(t *testing.T) {
	t.Helper()
	for id, r := range tpl.Resources {
		if !tpl.exists(t, r) {
			delete(tpl.Resources, id)
			continue
		}
		r.Properties, _ = tpl.resolveIf(t, r.Properties).(map[string]any)
		tpl.Resources[id] = r
	}
	tpl.Outputs, _ = tpl.resolveIf(t, tpl.Outputs).(map[string]any)
}

func (tpl *template) resolveIf(t *testing.T, v any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if args, ok := v["Fn::If"].([]any); ok && len(v) == 1 {
			if len(args) != 3 {
				t.Fatalf("Fn::If %v", args)
			}
			name, _ := args[0].(string)
			c, ok := tpl.Conditions[name]
			if !ok {
				t.Fatalf("Fn::If names an undefined condition %q", name)
			}
			if evalCondition(t, tpl.Conditions, c) {
				return tpl.resolveIf(t, args[1])
			}
			return tpl.resolveIf(t, args[2])
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = tpl.resolveIf(t, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = tpl.resolveIf(t, e)
		}
		return out
	}
	return v
}

// get returns a resource of the given type, failing the test without it.
func (tpl *template) get(t reporter, id, typ string) resource {
	t.Helper()
	r, ok := tpl.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	if r.Type != typ {
		t.Fatalf("%s is a %s, want %s", id, r.Type, typ)
	}
	return r
}

// ofType returns the ids of the resources of type typ, sorted.
func (tpl *template) ofType(typ string) []string {
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// exists evaluates a resource's condition (literal Fn::Equals, Fn::Not,
// Fn::And, Fn::Or: all the framework leaves after resolving params).
func (tpl *template) exists(t *testing.T, r resource) bool {
	t.Helper()
	if r.Condition == "" {
		return true
	}
	c, ok := tpl.Conditions[r.Condition]
	if !ok {
		t.Fatalf("condition %s is not defined", r.Condition)
	}
	return evalCondition(t, tpl.Conditions, c)
}

func evalCondition(t *testing.T, all map[string]any, c any) bool {
	t.Helper()
	m, ok := c.(map[string]any)
	if !ok || len(m) != 1 {
		t.Fatalf("cannot evaluate condition %v", c)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				t.Fatalf("Fn::Equals %v", arg)
			}
			a, aok := args[0].(string)
			b, bok := args[1].(string)
			if !aok || !bok {
				t.Fatalf("Fn::Equals of non-literals %v: a stage's params must decide it", arg)
			}
			return a == b
		case "Fn::Not":
			return !evalCondition(t, all, args[0])
		case "Fn::And", "Fn::Or":
			and := fn == "Fn::And"
			for _, a := range args {
				if evalCondition(t, all, a) != and {
					return !and
				}
			}
			return and
		case "Condition":
			return evalCondition(t, all, all[arg.(string)])
		}
	}
	t.Fatalf("cannot evaluate condition %v", c)
	return false
}

// js parses a JSON literal for comparisons with template values.
func js(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func truthy(v any) bool { return v == true || v == "true" }

func ref(id string) string { return fmt.Sprintf(`{"Ref":%q}`, id) }

func TestTemplate(t *testing.T) {
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			tpl := load(t, st.path)
			fn := tpl.get(t, functionID, "AWS::Lambda::Function")
			if got, want := fn.Properties["FunctionName"], "property-"+st.stage+"-api"; got != want {
				t.Fatalf("FunctionName = %v, want %v: %s was packaged for another stage", got, want, st.path)
			}
			table := tableExpr(st.existingTable)
			t.Run("function", func(t *testing.T) { checkFunction(t, tpl, fn) })
			t.Run("environment", func(t *testing.T) { checkEnvironment(t, tpl, fn, st.playground, table) })
			t.Run("cursor secret", func(t *testing.T) { checkCursorSecret(t, tpl, fn) })
			t.Run("routes", func(t *testing.T) { checkRoutes(t, tpl, st.playground) })
			t.Run("table", func(t *testing.T) { checkTable(t, tpl, st.stage, st.protected, st.existingTable) })
			t.Run("bucket", func(t *testing.T) { checkBucket(t, tpl, fn) })
			t.Run("iam", func(t *testing.T) { checkIAM(t, tpl, allowedFor(st.existingTable)) })
			t.Run("user pool", func(t *testing.T) { checkUserPool(t, tpl, st.selfSignUp) })
			t.Run("logs and alarms", func(t *testing.T) { checkLogsAndAlarms(t, tpl, fn, table) })
			t.Run("alarm delivery", func(t *testing.T) { checkAlarmDelivery(t, tpl, st.alarmEmail) })
			t.Run("time budget", func(t *testing.T) { checkTimeBudget(t, fn) })
			t.Run("nothing unresolved", func(t *testing.T) { checkResolved(t, tpl) })
		})
	}
}

func checkFunction(t *testing.T, tpl *template, fn resource) {
	p := fn.Properties
	if got, want := p["Runtime"], "provided.al2023"; got != want {
		t.Errorf("Runtime = %v, want %v", got, want)
	}
	if got, want := canon(p["Architectures"]), `["arm64"]`; got != want {
		t.Errorf("Architectures = %v, want %v", got, want)
	}
	if got, want := p["Handler"], "bootstrap"; got != want {
		t.Errorf("Handler = %v, want %v", got, want)
	}
	code, _ := p["Code"].(map[string]any)
	if key, _ := code["S3Key"].(string); !strings.HasSuffix(key, "/bootstrap.zip") {
		t.Errorf("Code.S3Key = %q, want the artifact make build writes (bootstrap.zip)", key)
	}
	if mem, _ := p["MemorySize"].(float64); mem < 128 {
		t.Errorf("MemorySize = %v", p["MemorySize"])
	}
	// API Gateway gives up after 30 s; a longer function would work on for
	// nobody.
	if to, _ := p["Timeout"].(float64); to < 1 || to > 29 {
		t.Errorf("Timeout = %v, want 1..29 s", p["Timeout"])
	}
	if got, want := canon(p["Role"]), fmt.Sprintf(`{"Fn::GetAtt":[%q,"Arn"]}`, roleID); got != want {
		t.Errorf("Role = %s, want %s", got, want)
	}
}

// tableExpr is how the template names the table the function serves.
func tableExpr(existingTable string) string {
	if existingTable != "" {
		return fmt.Sprintf("%q", existingTable)
	}
	return ref(tableID)
}

func checkEnvironment(t *testing.T, tpl *template, fn resource, playground bool, table string) {
	env, _ := fn.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	want := map[string]string{
		"PROPERTY_TABLE_NAME": table,
		"AUTH_CLIENT_ID":      ref(clientID),
		"IMAGES_BUCKET":       ref(bucketID),
		"AUTH_ISSUER":         `{"Fn::Sub":"https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}`,
		"PLAYGROUND":          fmt.Sprintf("%q", fmt.Sprint(playground)),
	}
	for k, w := range want {
		if got := canon(vars[k]); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	origins, _ := vars["ALLOWED_ORIGIN"].(string)
	for _, o := range strings.Split(origins, ",") {
		if !regexp.MustCompile(`^https?://[^/*]+$`).MatchString(o) {
			t.Errorf("ALLOWED_ORIGIN holds %q, want origins like https://app.example.com", o)
		}
	}
	if lvl, _ := vars["LOG_LEVEL"].(string); !slices.Contains([]string{"debug", "info", "warn", "error"}, lvl) {
		t.Errorf("LOG_LEVEL = %q", lvl)
	}
}

func checkRoutes(t *testing.T, tpl *template, playground bool) {
	want := []string{"GET /graphql", "OPTIONS /graphql", "POST /graphql"}
	if playground {
		want = append([]string{"GET /"}, want...)
	}
	var got []string
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		r := tpl.Resources[id]
		if !tpl.exists(t, r) {
			continue
		}
		got = append(got, r.Properties["RouteKey"].(string))
		integ := strings.TrimSuffix(strings.TrimPrefix(canon(r.Properties["Target"]), `{"Fn::Join":["/",["integrations",{"Ref":"`), `"}]]}`)
		in := tpl.get(t, integ, "AWS::ApiGatewayV2::Integration")
		if canon(in.Properties["IntegrationUri"]) != fmt.Sprintf(`{"Fn::GetAtt":[%q,"Arn"]}`, functionID) || in.Properties["PayloadFormatVersion"] != "2.0" {
			t.Errorf("route %v does not reach the function with payload 2.0: %v", r.Properties["RouteKey"], in.Properties)
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Api") {
		if c, ok := tpl.Resources[id].Properties["CorsConfiguration"]; ok {
			t.Errorf("%s has API Gateway CORS %v; the app answers CORS itself", id, c)
		}
	}
	stage := tpl.get(t, "HttpApiStage", "AWS::ApiGatewayV2::Stage")
	s, _ := stage.Properties["DefaultRouteSettings"].(map[string]any)
	rate, _ := s["ThrottlingRateLimit"].(float64)
	burst, _ := s["ThrottlingBurstLimit"].(float64)
	if rate <= 0 || burst < rate {
		t.Errorf("route throttling rate %v, burst %v: want a rate > 0 and a burst >= the rate", s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"])
	}
}

func checkTable(t *testing.T, tpl *template, stage string, protected bool, existingTable string) {
	tables := tpl.ofType("AWS::DynamoDB::Table")
	if existingTable != "" {
		// The stack serves the existing table and must never create (or,
		// on a later update, delete) one.
		if len(tables) != 0 {
			t.Fatalf("tables = %v, want none: the stage serves %s", tables, existingTable)
		}
		if got, want := canon(tpl.Outputs["TableName"]), fmt.Sprintf(`{"Value":%q}`, existingTable); got != want {
			t.Errorf("output TableName = %s, want %s", got, want)
		}
		return
	}
	if len(tables) != 1 || tables[0] != tableID {
		t.Fatalf("tables = %v, want just %s", tables, tableID)
	}
	p := tpl.Resources[tableID].Properties

	// Every key of the code's definition arrives unchanged...
	var def map[string]any
	if err := json.Unmarshal(dynamo.TableDefinitionJSON(), &def); err != nil {
		t.Fatal(err)
	}
	for k, v := range def {
		if got, want := canon(p[k]), canon(v); got != want {
			t.Errorf("%s differs from dynamo/table.json:\n got %s\nwant %s", k, got, want)
		}
	}
	// ...and means the same table: keys and indexes as CreateTable sees them.
	sub := map[string]any{}
	for k := range def {
		sub[k] = p[k]
	}
	var got dynamodb.CreateTableInput
	if err := json.Unmarshal([]byte(canon(sub)), &got); err != nil {
		t.Fatal(err)
	}
	want, err := dynamo.TableDefinition("")
	if err != nil {
		t.Fatal(err)
	}
	if canon(got.KeySchema) != canon(want.KeySchema) {
		t.Errorf("KeySchema = %s, want %s", canon(got.KeySchema), canon(want.KeySchema))
	}
	if canon(got.GlobalSecondaryIndexes) != canon(want.GlobalSecondaryIndexes) {
		t.Errorf("GlobalSecondaryIndexes = %s, want %s", canon(got.GlobalSecondaryIndexes), canon(want.GlobalSecondaryIndexes))
	}
	if canon(got.AttributeDefinitions) != canon(want.AttributeDefinitions) || got.BillingMode != want.BillingMode {
		t.Errorf("attributes or billing differ from the code's definition")
	}
	if got.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %q, want on-demand", got.BillingMode)
	}

	if pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any); !truthy(pitr["PointInTimeRecoveryEnabled"]) {
		t.Errorf("point-in-time recovery is off: %v", p["PointInTimeRecoverySpecification"])
	}
	if sse, _ := p["SSESpecification"].(map[string]any); !truthy(sse["SSEEnabled"]) {
		t.Errorf("encryption with KMS is off: %v", p["SSESpecification"])
	}
	if got := truthy(p["DeletionProtectionEnabled"]); got != protected {
		t.Errorf("DeletionProtectionEnabled = %v, want %v", p["DeletionProtectionEnabled"], protected)
	}
	if protected && tpl.Resources[tableID].DeletionPolicy != "Retain" {
		t.Errorf("DeletionPolicy = %q, want Retain", tpl.Resources[tableID].DeletionPolicy)
	}
	if got, want := p["TableName"], "property-"+stage; got != want {
		t.Errorf("TableName = %v, want %v", got, want)
	}
}

func checkBucket(t *testing.T, tpl *template, fn resource) {
	b := tpl.get(t, bucketID, "AWS::S3::Bucket").Properties
	block, _ := b["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if !truthy(block[k]) {
			t.Errorf("PublicAccessBlockConfiguration.%s = %v, want true", k, block[k])
		}
	}
	enc := canon(b["BucketEncryption"])
	if !strings.Contains(enc, `"SSEAlgorithm"`) {
		t.Errorf("no default encryption: %s", enc)
	}
	// Browsers PUT straight to the bucket, from the origins the API allows.
	cors, _ := b["CorsConfiguration"].(map[string]any)
	rules := list(cors["CorsRules"])
	env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	wantOrigins := fmt.Sprintf(`{"Fn::Split":[",",%q]}`, env["ALLOWED_ORIGIN"])
	putOK := false
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if slices.ContainsFunc(list(rule["AllowedMethods"]), func(m any) bool { return m == "PUT" }) {
			putOK = canon(rule["AllowedOrigins"]) == wantOrigins
		}
		if strings.Contains(canon(rule["AllowedOrigins"]), `"*"`) {
			t.Errorf("CORS rule allows any origin: %v", rule)
		}
	}
	if !putOK {
		t.Errorf("no CORS rule lets the allowed origins (%s) PUT: %v", wantOrigins, rules)
	}
	lc := canon(b["LifecycleConfiguration"])
	if !strings.Contains(lc, `"AbortIncompleteMultipartUpload"`) || !strings.Contains(lc, `"Status":"Enabled"`) {
		t.Errorf("no lifecycle rule for abandoned uploads: %s", lc)
	}
}

func checkIAM(t *testing.T, tpl *template, allowed map[string][]string) {
	granted := map[string]bool{}
	check := func(where string, doc any) {
		d, _ := doc.(map[string]any)
		for i, s := range list(d["Statement"]) {
			st, _ := s.(map[string]any)
			at := fmt.Sprintf("%s statement %d", where, i)
			for _, k := range []string{"NotAction", "NotResource"} {
				if _, ok := st[k]; ok {
					t.Errorf("%s uses %s", at, k)
				}
			}
			if st["Effect"] != "Allow" {
				continue
			}
			for _, a := range list(st["Action"]) {
				action, _ := a.(string)
				ok, known := allowed[action]
				if !known {
					t.Errorf("%s allows %v, which is not on the allow-list", at, a)
					continue
				}
				granted[action] = true
				for _, r := range list(st["Resource"]) {
					if !slices.ContainsFunc(ok, func(w string) bool { return canon(js(t, w)) == canon(r) }) {
						t.Errorf("%s allows %s on %s; only on %v", at, action, canon(r), ok)
					}
				}
				if action == "s3:ListBucket" {
					if got, want := canon(st["Condition"]), fmt.Sprintf(`{"StringLike":{"s3:prefix":%q}}`, imagePrefix); got != want {
						t.Errorf("%s: s3:ListBucket condition = %s, want %s", at, got, want)
					}
				}
			}
		}
	}
	for _, id := range tpl.ofType("AWS::IAM::Role") {
		p := tpl.Resources[id].Properties
		if m, ok := p["ManagedPolicyArns"]; ok {
			t.Errorf("role %s has managed policies %v, whose rights nobody checks", id, m)
		}
		if got, want := canon(p["AssumeRolePolicyDocument"]), `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}`; got != want {
			t.Errorf("role %s trusts %s, want only Lambda", id, got)
		}
		for _, pol := range list(p["Policies"]) {
			pm, _ := pol.(map[string]any)
			check(fmt.Sprintf("role %s policy %v", id, pm["PolicyName"]), pm["PolicyDocument"])
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, id := range tpl.ofType(typ) {
			check(id, tpl.Resources[id].Properties["PolicyDocument"])
		}
	}
	// Nothing the code calls may be missing either.
	for action := range allowed {
		if !granted[action] {
			t.Errorf("%s is never granted; the function needs it", action)
		}
	}
	// The log group the role may write to is the function's own.
	lg := tpl.get(t, logGroupID, "AWS::Logs::LogGroup")
	fn := tpl.Resources[functionID]
	if got, want := lg.Properties["LogGroupName"], fmt.Sprintf("/aws/lambda/%v", fn.Properties["FunctionName"]); got != want {
		t.Errorf("%s is %v, not the function's log group %v", logGroupID, got, want)
	}
}

func checkUserPool(t *testing.T, tpl *template, selfSignUp bool) {
	pool := tpl.get(t, poolID, "AWS::Cognito::UserPool").Properties
	// Admins invite users unless the stage lets anyone sign up.
	admin, _ := pool["AdminCreateUserConfig"].(map[string]any)
	if got, want := truthy(admin["AllowAdminCreateUserOnly"]), !selfSignUp; got != want {
		t.Errorf("AllowAdminCreateUserOnly = %v, want %v", admin["AllowAdminCreateUserOnly"], want)
	}
	c := tpl.get(t, clientID, "AWS::Cognito::UserPoolClient").Properties
	if canon(c["UserPoolId"]) != ref(poolID) {
		t.Errorf("%s belongs to %v", clientID, c["UserPoolId"])
	}
	// A browser cannot keep a client secret.
	if truthy(c["GenerateSecret"]) {
		t.Errorf("%s has a client secret", clientID)
	}
}

// checkResolved finds framework variables left in the template, and
// variables that would need AWS credentials to package.
func checkResolved(t *testing.T, tpl *template) {
	s := string(tpl.raw)
	for _, v := range regexp.MustCompile(`\$\{(ssm|cf|aws|s3|param|self|opt|env|file|sls)[:(][^}]*\}`).FindAllString(s, -1) {
		t.Errorf("unresolved framework variable %s", v)
	}
}
