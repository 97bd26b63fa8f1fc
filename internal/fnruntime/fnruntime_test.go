package fnruntime

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, yml, function string
		want                []string
		wantErr             bool
	}{
		{"quoted, unquoted and beside CloudFormation tags", `
functions:
  api:
    environment:
      TABLE: !If [CreateTable, !Ref PropertyTable, x]
      GOGC: '400'
      GOMEMLIMIT: 400MiB
      GOMAXPROCS: 1
`, "api", []string{"GOGC=400", "GOMEMLIMIT=400MiB", "GOMAXPROCS=1"}, false},
		{"only some set", "functions:\n  api:\n    environment:\n      GOGC: '200'\n", "api", []string{"GOGC=200"}, false},
		{"no environment", "functions:\n  api:\n    handler: bootstrap\n", "api", nil, false},
		{"another function's", "functions:\n  other:\n    environment:\n      GOGC: '1'\n  api:\n    handler: bootstrap\n", "api", nil, false},
		{"no such function", "functions:\n  other: {}\n", "api", nil, true},
		{"not YAML", "functions: [", "api", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse([]byte(tt.yml), tt.function)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestServerlessYML reads the project's own file: the function runs on
// one P (serverless.yml, issue 12), which the benchmarks must start it with.
func TestServerlessYML(t *testing.T) {
	env, err := Env("../../serverless.yml", "api")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(env, "GOMAXPROCS=1") {
		t.Errorf("serverless.yml's api function: %q, want GOMAXPROCS=1 among them", env)
	}
}
