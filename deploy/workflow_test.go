package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

type workflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		Needs       any    `yaml:"needs"`
		If          string `yaml:"if"`
		Environment any    `yaml:"environment"`
		Steps       []struct {
			Name string `yaml:"name"`
			Uses string `yaml:"uses"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestDeployWorkflow: tests gate both deploys; dev deploys from pushes to
// main, prod from version tags or manual runs through the prod
// environment; prod stops before deploying without its origins; each
// deploy is followed by the smoke test. (actionlint checks the syntax.)
func TestDeployWorkflow(t *testing.T) {
	b, err := os.ReadFile("../.github/workflows/deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if _, ok := wf.On["workflow_dispatch"]; !ok {
		t.Error("no manual run (workflow_dispatch)")
	}
	push, _ := wf.On["push"].(map[string]any)
	if !strings.Contains(canon(push["tags"]), `"v*"`) || !strings.Contains(canon(push["branches"]), `"main"`) {
		t.Errorf("on.push = %s, want branches [main] and tags [v*]", canon(push))
	}
	for _, tt := range []struct {
		job, env string
		ifHas    []string
		first    string // a step that must come before the deploy, if any
	}{
		{"dev", "dev", []string{"github.event_name == 'push'", "refs/heads/main"}, ""},
		{"prod", "prod", []string{"refs/tags/v", "workflow_dispatch"}, "PROD_ALLOWED_ORIGINS"},
	} {
		t.Run(tt.job, func(t *testing.T) {
			job, ok := wf.Jobs[tt.job]
			if !ok {
				t.Fatalf("no job %s", tt.job)
			}
			if !slices.Contains(list(job.Needs), any("test")) {
				t.Errorf("needs = %v, want the tests", job.Needs)
			}
			if job.Environment != tt.env {
				t.Errorf("environment = %v, want %s", job.Environment, tt.env)
			}
			for _, s := range tt.ifHas {
				if !strings.Contains(job.If, s) {
					t.Errorf("if: %s does not test %s", job.If, s)
				}
			}
			deploy, smoke, check := -1, -1, -1
			for i, st := range job.Steps {
				switch {
				case strings.Contains(st.Run, "npx --no -- serverless deploy"):
					deploy = i
				case strings.Contains(st.Run, "scripts/smoke.mjs"):
					smoke = i
				case tt.first != "" && strings.Contains(st.Name+st.Run, tt.first) && strings.Contains(st.Run, "exit 1"):
					check = i
				}
			}
			if deploy < 0 || smoke < deploy {
				t.Errorf("deploy step %d, smoke test step %d: want a smoke test after the deploy", deploy, smoke)
			}
			if tt.first != "" && (check < 0 || check > deploy) {
				t.Errorf("no step failing on a missing %s before the deploy (step %d, deploy %d)", tt.first, check, deploy)
			}
		})
	}
}
