package devenv_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propertyhq/property/internal/devenv"
)

func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dev.env")
	vars := []devenv.Var{
		{"PLAIN", "http://127.0.0.1:8080/"},
		{"EMPTY", ""},
		{"QUOTE", "it's $HOME and `x`"},
		{"SPACES", " a b "},
	}
	if err := devenv.Write(path, "line one\nline two", vars); err != nil {
		t.Fatal(err)
	}
	got, err := devenv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(vars) {
		t.Errorf("read %d variables, want %d: %v", len(got), len(vars), got)
	}
	for _, v := range vars {
		if got[v.Name] != v.Value {
			t.Errorf("%s = %q, want %q", v.Name, got[v.Name], v.Value)
		}
	}
	// The shell reads the same values (the file is for sourcing).
	if sh, err := exec.LookPath("sh"); err == nil {
		out, err := exec.Command(sh, "-c", `. "$1"; printf '%s|' "$PLAIN" "$EMPTY" "$QUOTE" "$SPACES"`, "sh", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "http://127.0.0.1:8080/||it's $HOME and `x`| a b |"; string(out) != want {
			t.Errorf("sourced: %q, want %q", out, want)
		}
	}
}

func TestReadRejects(t *testing.T) {
	for name, body := range map[string]string{
		"no equals":   "JUST_A_WORD\n",
		"open quote":  "A='abc\n",
		"stray text":  "A='a'b\n",
		"spaced name": "A B=1\n",
		"empty name":  "=1\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dev.env")
			if err := os.WriteFile(path, []byte("# ok\n"+body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := devenv.Read(path); err == nil || !strings.Contains(err.Error(), ":2:") {
				t.Errorf("Read = %v, want an error naming line 2", err)
			}
		})
	}
	if _, err := devenv.Read(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}
