package api_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// envReads finds the environment variables a kind of file reads.
var envReads = []struct {
	match func(path string) bool
	re    *regexp.Regexp
}{
	// Go: os.Getenv, os.LookupEnv, a getenv func passed in, and the
	// methods of an internal/envvar Reader (named r or vars).
	{func(p string) bool { return strings.HasSuffix(p, ".go") },
		regexp.MustCompile(`\b(?:Getenv|LookupEnv|getenv|(?:r|vars)\.(?:Int|Duration|Bool|String|Required|List|Set))\("([A-Z][A-Z0-9_]+)"`)},
	// Shell: ${NAME:-default}, ${NAME-default}, ${NAME:?message}.
	{func(p string) bool { return strings.HasSuffix(p, ".sh") },
		regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]+):?[-?=]`)},
	// The browser tests.
	{func(p string) bool { return strings.HasSuffix(p, ".mjs") },
		regexp.MustCompile(`process\.env\.([A-Z][A-Z0-9_]+)`)},
	// scripts/smoke.mjs reads its numbers through a num('NAME', default) helper.
	{func(p string) bool { return strings.HasSuffix(p, ".mjs") },
		regexp.MustCompile(`\bnum\('([A-Z][A-Z0-9_]+)'`)},
}

// notOurs are variables the code reads but does not own: the system's.
var notOurs = []string{"HOME", "PATH", "TMPDIR"}

// sdkOnly are variables the README lists that the AWS SDK (or CLI) or the
// Go runtime (GOGC, GOMAXPROCS) reads, not this code.
var sdkOnly = []string{"AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "GOGC", "GOMAXPROCS"}

// TestREADMEListsEveryVariable keeps the README's Configuration tables and
// the code in step: every variable the code, scripts and browser tests
// read has a row, and every row names a variable something reads.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := readmeVariables(t, string(readme))
	read := map[string][]string{} // name -> files
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != ".." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		for _, r := range envReads {
			if !r.match(name) {
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range r.re.FindAllStringSubmatch(string(b), -1) {
				if !slices.Contains(read[m[1]], path) {
					read[m[1]] = append(read[m[1]], path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(read) < 30 {
		t.Fatalf("found only %d variables in the code; is the scan broken? %v", len(read), read)
	}
	var missing, stale []string
	for name, files := range read {
		if !documented[name] && !slices.Contains(notOurs, name) {
			missing = append(missing, name+" (read in "+strings.Join(files, ", ")+")")
		}
	}
	for name := range documented {
		if read[name] == nil && !slices.Contains(sdkOnly, name) {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, m := range missing {
		t.Errorf("README.md, Configuration: no row for %s", m)
	}
	for _, s := range stale {
		t.Errorf("README.md, Configuration: %s has a row but nothing reads it", s)
	}
}

// readmeVariables returns the backquoted names in the first column of the
// tables in the README's Configuration section.
func readmeVariables(t *testing.T, readme string) map[string]bool {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no ## Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	names := map[string]bool{}
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			names[m[1]] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("README.md, Configuration: no variables table")
	}
	return names
}

// TestEveryTargetListed: every target the Makefile declares .PHONY is in
// `make help` and in the README's targets table.
func TestEveryTargetListed(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(mk), "\\\n", " ")
	var targets []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			targets = append(targets, strings.Fields(rest)...)
		}
	}
	if len(targets) < 20 {
		t.Fatalf("found %d .PHONY targets: %v", len(targets), targets)
	}
	help := regexp.MustCompile(`(?m)^\t@echo '  ([a-z-]+) `).FindAllStringSubmatch(string(mk), -1)
	inHelp := map[string]bool{}
	for _, m := range help {
		inHelp[m[1]] = true
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Two commands\n")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, target := range targets {
		if target == "help" {
			continue
		}
		if !inHelp[target] {
			t.Errorf("Makefile: `make help` does not list %s", target)
		}
		if !strings.Contains(section, "`make "+target+"`") {
			t.Errorf("README.md, Two commands: the targets table does not list `make %s`", target)
		}
	}
}
