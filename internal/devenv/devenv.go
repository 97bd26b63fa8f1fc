// Package devenv is the record `make dev` keeps of where its stack runs:
// a small file of shell variable assignments (.data/dev.env) that the
// running server writes once it listens and removes when it stops. `make
// token`, `make backfill` and `make sweep` read it, and a person can source
// it for the AWS CLI or an SDK:
//
//	set -a; . .data/dev.env; set +a
//	aws dynamodb scan --table-name "$PROPERTY_TABLE_NAME"
package devenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Path is where the local server writes the record, relative to the
// project's root (where `make dev` runs).
const Path = ".data/dev.env"

// DefaultPort is the port the local server listens on unless PORT says
// otherwise; devtoken, which mints for the local server without reading
// its configuration, assumes the same.
const DefaultPort = 8080

// Var is one line of the file.
type Var struct{ Name, Value string }

// Write replaces the file at path with vars, one NAME='value' line each,
// under a comment header. The file is written whole or not at all.
func Write(path, header string, vars []Var) error {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(&b, "# %s\n", line)
	}
	for _, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v.Name, quote(v.Value))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// quote makes s one shell word that stays literal in single quotes.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Read parses a file Write wrote (comments, blank lines and NAME='value'
// or NAME=value lines). A missing file is an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func Read(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t'\"") {
			return nil, fmt.Errorf("%s:%d: not a NAME=value line", path, n)
		}
		v, err := unquote(value)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", path, n, name, err)
		}
		vars[name] = v
	}
	return vars, sc.Err()
}

// unquote reverses quote; an unquoted value is taken as is.
func unquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		return s, nil
	}
	var out strings.Builder
	for s != "" {
		if !strings.HasPrefix(s, "'") {
			// Between quoted parts only the escaped quote \' may appear.
			if !strings.HasPrefix(s, `\'`) {
				return "", fmt.Errorf("unexpected %q", s)
			}
			out.WriteByte('\'')
			s = s[2:]
			continue
		}
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf("unterminated quote")
		}
		out.WriteString(s[1 : 1+end])
		s = s[2+end:]
	}
	return out.String(), nil
}
