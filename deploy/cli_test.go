package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFrameworkVersion: serverless.yml accepts exactly the osls version
// package.json pins. A range (^4.3.1) would let the commercial Serverless
// v4, which refuses to run without a login, deploy this service too.
func TestFrameworkVersion(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile("../package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	osls := pkg.DevDependencies["osls"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(osls) {
		t.Fatalf("package.json pins osls at %q, want an exact version", osls)
	}
	yml, err := os.ReadFile("../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := frameworkVersion(string(yml)); got != osls {
		t.Errorf("serverless.yml frameworkVersion = %q, want exactly osls's %q (package.json)", got, osls)
	}
}

// frameworkVersion is serverless.yml's frameworkVersion, unquoted.
func frameworkVersion(yml string) string {
	m := regexp.MustCompile(`(?m)^frameworkVersion:\s*['"]?([^'"\s#]*)['"]?\s*(#.*)?$`).FindStringSubmatch(yml)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestFrameworkVersionParse(t *testing.T) {
	for yml, want := range map[string]string{
		"service: x\nframeworkVersion: '4.3.1'\n": "4.3.1",
		"frameworkVersion: \"4.3.1\" # pinned\n":  "4.3.1",
		"frameworkVersion: ^4.3.1\n":              "^4.3.1",
		"frameworkVersion: '>=4.3.1'\n":           ">=4.3.1",
		"service: x\n":                            "",
		"  frameworkVersion: '4.3.1' # nested\n":  "",
	} {
		if got := frameworkVersion(yml); got != want {
			t.Errorf("frameworkVersion(%q) = %q, want %q", yml, got, want)
		}
	}
}

// bareCLI finds a framework command that would not run the pinned osls:
// `npx serverless` without --no downloads whatever the registry's
// `serverless` is (the commercial v4) when node_modules is missing.
var bareCLI = regexp.MustCompile(`\bnpx\s+(?:-y\s+|--yes\s+)?(?:serverless|sls|osls)\b|^\s*(?:\$\s*)?(?:serverless|sls)\s+(?:deploy|package|info|remove|invoke|logs)\b`)

// TestDocumentedCommands: every documented or scripted framework command
// runs the project's osls (`make ...` or `npx --no -- serverless ...`).
func TestDocumentedCommands(t *testing.T) {
	files := []string{"../README.md", "../Makefile", "../serverless.yml"}
	for _, dir := range []string{"../docs", "../.github", "../scripts", "../examples"} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".sh")) {
				files = append(files, p)
			}
			return nil
		})
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if bareCLI.MatchString(line) {
				t.Errorf("%s:%d runs the framework without the pinned osls (use make or `npx --no -- serverless`): %s", filepath.Clean(f), i+1, strings.TrimSpace(line))
			}
		}
	}
}

func TestBareCLI(t *testing.T) {
	for line, bare := range map[string]bool{
		"npx serverless deploy --stage dev":          true,
		"  npx sls info":                             true,
		"npx -y serverless package":                  true,
		"serverless deploy --stage prod":             true,
		"$ sls remove --stage dev":                   true,
		"npx --no -- serverless deploy --stage dev":  false,
		"make deploy STAGE=dev":                      false,
		"the Serverless Framework deploys the stack": false,
		"SERVERLESS ?= npx --no -- serverless":       false,
	} {
		if got := bareCLI.MatchString(line); got != bare {
			t.Errorf("bareCLI(%q) = %v, want %v", line, got, bare)
		}
	}
}
