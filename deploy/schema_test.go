package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7/schema"
)

// The CloudFormation resource schemas, as goformation publishes them (one
// JSON Schema generated from AWS's resource specification): every resource
// type's properties, their types and which are required.
var cfnSchema = sync.OnceValues(func() (map[string]any, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(schema.CloudformationSchema), &s); err != nil {
		return nil, err
	}
	defs, _ := s["definitions"].(map[string]any)
	return defs, nil
})

// pseudoParameters may be named by Ref and Fn::Sub in any template.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// validateTemplate checks a template as CloudFormation would before
// creating anything: every resource's type exists, its attributes and
// properties are known names of the right JSON types, required properties
// are there, and every Ref, Fn::GetAtt, Fn::Sub variable, DependsOn and
// Condition names something the template defines. Intrinsic functions are
// accepted where any value is (their results are not typed), except that
// both branches of an Fn::If are checked.
func validateTemplate(raw []byte) []string {
	defs, err := cfnSchema()
	if err != nil {
		return []string{err.Error()}
	}
	var tpl struct {
		Resources  map[string]map[string]any
		Parameters map[string]any
		Conditions map[string]any
		Outputs    map[string]any
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return []string{err.Error()}
	}
	v := &validator{defs: defs}
	ids := make([]string, 0, len(tpl.Resources))
	for id := range tpl.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := tpl.Resources[id]
		typ, _ := r["Type"].(string)
		def, ok := defs[typ].(map[string]any)
		if !ok {
			v.errorf(id, "unknown resource type %q", typ)
			continue
		}
		v.check(id, r, def)
	}

	// References.
	defined := func(name string) bool {
		_, res := tpl.Resources[name]
		_, par := tpl.Parameters[name]
		return res || par || slices.Contains(pseudoParameters, name)
	}
	var refs func(at string, x any)
	refs = func(at string, x any) {
		switch x := x.(type) {
		case map[string]any:
			if len(x) == 1 {
				for fn, arg := range x {
					switch fn {
					case "Ref":
						if name, _ := arg.(string); !defined(name) {
							v.errorf(at, "Ref to undefined %q", arg)
						}
					case "Fn::GetAtt":
						var res string
						switch a := arg.(type) {
						case []any:
							if len(a) == 2 {
								res, _ = a[0].(string)
							}
						case string:
							res, _, _ = strings.Cut(a, ".")
						}
						if _, ok := tpl.Resources[res]; !ok {
							v.errorf(at, "Fn::GetAtt of undefined resource %q", res)
						}
					case "Fn::Sub":
						str, vars := "", map[string]any{}
						switch a := arg.(type) {
						case string:
							str = a
						case []any:
							if len(a) == 2 {
								str, _ = a[0].(string)
								vars, _ = a[1].(map[string]any)
							}
						}
						for _, m := range regexp.MustCompile(`\$\{([^!}][^}]*)\}`).FindAllStringSubmatch(str, -1) {
							name, _, _ := strings.Cut(m[1], ".")
							if _, local := vars[m[1]]; !local && !defined(name) {
								v.errorf(at, "Fn::Sub names undefined ${%s}", m[1])
							}
						}
					case "Fn::If", "Condition":
						name := ""
						if a, ok := arg.([]any); ok && len(a) > 0 {
							name, _ = a[0].(string)
						} else {
							name, _ = arg.(string)
						}
						if _, ok := tpl.Conditions[name]; !ok {
							v.errorf(at, "%s names undefined condition %q", fn, name)
						}
					}
				}
			}
			for k, e := range x {
				refs(at+"."+k, e)
			}
		case []any:
			for i, e := range x {
				refs(fmt.Sprintf("%s[%d]", at, i), e)
			}
		}
	}
	for _, id := range ids {
		r := tpl.Resources[id]
		refs(id, r["Properties"])
		if r["DependsOn"] != nil {
			for _, d := range list(r["DependsOn"]) {
				if name, _ := d.(string); tpl.Resources[name] == nil {
					v.errorf(id, "DependsOn undefined resource %q", name)
				}
			}
		}
		if c, ok := r["Condition"].(string); ok {
			if _, ok := tpl.Conditions[c]; !ok {
				v.errorf(id, "Condition %q is not defined", c)
			}
		}
	}
	refs("Outputs", tpl.Outputs)
	refs("Conditions", tpl.Conditions)
	return v.errs
}

type validator struct {
	defs map[string]any
	errs []string
}

func (v *validator) errorf(at, format string, args ...any) {
	v.errs = append(v.errs, at+": "+fmt.Sprintf(format, args...))
}

// intrinsic reports whether x is a call of an intrinsic function, whose
// value CloudFormation computes.
func intrinsic(x any) (string, any, bool) {
	m, ok := x.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// check validates x against the JSON Schema s, reporting at path at.
func (v *validator) check(at string, x any, s map[string]any) {
	if ref, ok := s["$ref"].(string); ok {
		def, ok := v.defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		if !ok {
			v.errorf(at, "schema names unknown %s", ref)
			return
		}
		v.check(at, x, def)
		return
	}
	if fn, arg, ok := intrinsic(x); ok {
		if a, isList := arg.([]any); fn == "Fn::If" && isList && len(a) == 3 {
			for i, branch := range a[1:] {
				if n, _, _ := intrinsic(branch); n == "Ref" && canon(branch) == `{"Ref":"AWS::NoValue"}` {
					continue
				}
				v.check(fmt.Sprintf("%s(if branch %d)", at, i+1), branch, s)
			}
		}
		return
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, alt := range alts {
			sub := &validator{defs: v.defs}
			sub.check(at, x, alt.(map[string]any))
			if len(sub.errs) == 0 {
				return
			}
		}
		v.errorf(at, "matches none of the allowed shapes")
		return
	}
	if enum, ok := s["enum"].([]any); ok {
		if str, isStr := x.(string); isStr && !slices.Contains(enum, any(str)) {
			v.errorf(at, "%q is not one of %v", str, enum)
		}
	}
	types := []string{}
	switch t := s["type"].(type) {
	case string:
		types = append(types, t)
	case []any:
		for _, e := range t {
			types = append(types, fmt.Sprint(e))
		}
	}
	if len(types) == 0 && s["properties"] != nil {
		types = []string{"object"}
	}
	if len(types) == 0 {
		return
	}
	for _, t := range types {
		if v.is(t, x) {
			switch t {
			case "object":
				v.object(at, x.(map[string]any), s)
			case "array":
				if items, ok := s["items"].(map[string]any); ok {
					for i, e := range x.([]any) {
						v.check(fmt.Sprintf("%s[%d]", at, i), e, items)
					}
				}
			}
			return
		}
	}
	v.errorf(at, "%s is not of type %s", canon(x), strings.Join(types, " or "))
}

// is reports whether x can stand for a value of JSON Schema type t, with
// CloudFormation's leniency: scalars convert to strings, and numbers and
// booleans may be written as strings.
func (v *validator) is(t string, x any) bool {
	switch t {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		switch x.(type) {
		case string, float64, bool:
			return true
		}
	case "number", "integer":
		switch x := x.(type) {
		case float64:
			return true
		case string:
			_, err := strconv.ParseFloat(x, 64)
			return err == nil
		}
	case "boolean":
		switch x := x.(type) {
		case bool:
			return true
		case string:
			return x == "true" || x == "false"
		}
	}
	return false
}

func (v *validator) object(at string, x map[string]any, s map[string]any) {
	props, _ := s["properties"].(map[string]any)
	patterns, _ := s["patternProperties"].(map[string]any)
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p, ok := props[k].(map[string]any); ok {
			v.check(at+"."+k, x[k], p)
			continue
		}
		matched := false
		for pat, p := range patterns {
			if regexp.MustCompile(pat).MatchString(k) {
				v.check(at+"."+k, x[k], p.(map[string]any))
				matched = true
				break
			}
		}
		if !matched && s["additionalProperties"] == false {
			v.errorf(at, "unknown property %q", k)
		}
	}
	for _, r := range list(s["required"]) {
		if name, _ := r.(string); name != "" {
			if _, ok := x[name]; !ok {
				v.errorf(at, "required property %q is missing", name)
			}
		}
	}
}

// TestTemplateSchema validates every packaged template and the CI role's
// against CloudFormation's resource schemas.
func TestTemplateSchema(t *testing.T) {
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			for _, e := range validateTemplate(load(t, st.path).raw) {
				t.Error(e)
			}
		})
	}
	t.Run("ci role", func(t *testing.T) {
		b, err := os.ReadFile(ciRolePath)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range validateTemplate(b) {
			t.Error(e)
		}
	})
}

// TestTemplateSchemaCatches breaks the prod template one way at a time: the
// check must report each mistake.
func TestTemplateSchemaCatches(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(resources map[string]any)
		want   string
	}{
		{"misspelt property", func(r map[string]any) {
			p := r[functionID].(map[string]any)["Properties"].(map[string]any)
			p["MemorySise"] = p["MemorySize"]
			delete(p, "MemorySize")
		}, `ApiLambdaFunction.Properties: unknown property "MemorySise"`},
		{"misspelt nested property", func(r map[string]any) {
			p := r["ImagesBucket"].(map[string]any)["Properties"].(map[string]any)
			p["PublicAccessBlockConfiguration"].(map[string]any)["BlockPublicAcl"] = true
		}, `ImagesBucket.Properties.PublicAccessBlockConfiguration: unknown property "BlockPublicAcl"`},
		{"misspelt resource attribute", func(r map[string]any) {
			a := r["Api5xxAlarm"].(map[string]any)
			a["Propertes"] = a["Properties"]
			delete(a, "Properties")
		}, `Api5xxAlarm: unknown property "Propertes"`},
		{"missing required property", func(r map[string]any) {
			delete(r["Api5xxAlarm"].(map[string]any)["Properties"].(map[string]any), "ComparisonOperator")
		}, `Api5xxAlarm.Properties: required property "ComparisonOperator" is missing`},
		{"wrong type", func(r map[string]any) {
			r[functionID].(map[string]any)["Properties"].(map[string]any)["Timeout"] = "ten"
		}, `ApiLambdaFunction.Properties.Timeout: "ten" is not of type number`},
		{"list for an object", func(r map[string]any) {
			r[tableID].(map[string]any)["Properties"].(map[string]any)["SSESpecification"] = []any{true}
		}, `PropertyTable.Properties.SSESpecification: [true] is not of type object`},
		{"unknown type", func(r map[string]any) {
			r["AlarmTopic"].(map[string]any)["Type"] = "AWS::SNS::Topics"
		}, `AlarmTopic: unknown resource type "AWS::SNS::Topics"`},
		{"Ref to nothing", func(r map[string]any) {
			r["AlarmEmailSubscription"].(map[string]any)["Properties"].(map[string]any)["TopicArn"] = map[string]any{"Ref": "AlarmTopik"}
		}, `Ref to undefined "AlarmTopik"`},
		{"GetAtt of nothing", func(r map[string]any) {
			r[functionID].(map[string]any)["Properties"].(map[string]any)["Role"] = map[string]any{"Fn::GetAtt": []any{"ApiRol", "Arn"}}
		}, `Fn::GetAtt of undefined resource "ApiRol"`},
		{"Sub of nothing", func(r map[string]any) {
			r["ImagesBucketPolicy"].(map[string]any)["Properties"].(map[string]any)["Bucket"] = map[string]any{"Fn::Sub": "${ImageBucket}"}
		}, `Fn::Sub names undefined ${ImageBucket}`},
		{"undefined condition", func(r map[string]any) {
			r[tableID].(map[string]any)["Condition"] = "MakeTable"
		}, `Condition "MakeTable" is not defined`},
		{"wrong branch of an Fn::If", func(r map[string]any) {
			p := r[poolID].(map[string]any)["Properties"].(map[string]any)
			p["AdminCreateUserConfig"].(map[string]any)["AllowAdminCreateUserOnly"] = map[string]any{"Fn::If": []any{"SelfSignUpEnabled", "no", true}}
		}, `AllowAdminCreateUserOnly(if branch 1): "no" is not of type boolean`},
	}
	raw := load(t, stages[0].path).raw
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tpl map[string]any
			if err := json.Unmarshal(raw, &tpl); err != nil {
				t.Fatal(err)
			}
			tt.mutate(tpl["Resources"].(map[string]any))
			b, _ := json.Marshal(tpl)
			// The one mistake, and at most its consequence (a misspelt
			// Properties is also a missing one).
			errs := validateTemplate(b)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) || len(errs) > 2 {
				t.Errorf("errors = %q, want one containing %q", errs, tt.want)
			}
		})
	}
}
