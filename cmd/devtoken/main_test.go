package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propertyhq/property/internal/devenv"
)

// claims decodes a token's payload without checking it (auth's tests check
// signatures; this checks what was minted for whom).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDevtoken(t *testing.T) {
	dir := t.TempDir()
	running := filepath.Join(dir, "dev.env")
	if err := devenv.Write(running, "test", []devenv.Var{
		{Name: "DEV_ISSUER_URL", Value: "http://127.0.0.1:18488/dev-issuer"},
		{Name: "DEV_ISSUER_KEY", Value: filepath.Join(dir, "key.pem")},
	}); err != nil {
		t.Fatal(err)
	}
	noIssuer := filepath.Join(dir, "no-issuer.env")
	if err := devenv.Write(noIssuer, "test", []devenv.Var{{Name: "DEV_API_URL", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		wantIss    string
		wantGroups string
		wantErr    string // in stderr; "" = exit 0
		wantNote   string
	}{
		{name: "running stack on another port", args: []string{"-env", running, "-groups", "admin, editors"},
			env: map[string]string{"PORT": "9999"}, wantIss: "http://127.0.0.1:18488/dev-issuer", wantGroups: "admin,editors"},
		{name: "not running: PORT", args: []string{"-env", filepath.Join(dir, "missing"), "-key", filepath.Join(dir, "k2.pem")},
			env: map[string]string{"PORT": "18080"}, wantIss: "http://127.0.0.1:18080/dev-issuer", wantNote: "make dev is not running"},
		{name: "not running: default port", args: []string{"-env", filepath.Join(dir, "missing"), "-key", filepath.Join(dir, "k2.pem")},
			wantIss: "http://127.0.0.1:8080/dev-issuer", wantNote: "make dev is not running"},
		{name: "bad PORT", args: []string{"-env", filepath.Join(dir, "missing")}, env: map[string]string{"PORT": "x"}, wantErr: "PORT must be a number"},
		{name: "stack without local issuer", args: []string{"-env", noIssuer}, wantErr: "names no DEV_ISSUER_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, func(k string) string { return tc.env[k] }, &out, &errb)
			if tc.wantErr != "" {
				if code == 0 || !strings.Contains(errb.String(), tc.wantErr) {
					t.Fatalf("exit %d, stderr %q; want failure with %q", code, errb.String(), tc.wantErr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.wantNote) || (tc.wantNote == "" && errb.Len() > 0) {
				t.Errorf("stderr %q, want %q", errb.String(), tc.wantNote)
			}
			c := claims(t, out.String())
			if c["iss"] != tc.wantIss {
				t.Errorf("iss = %v, want %s", c["iss"], tc.wantIss)
			}
			var groups []string
			if gs, ok := c["cognito:groups"].([]any); ok {
				for _, g := range gs {
					groups = append(groups, g.(string))
				}
			}
			if got := strings.Join(groups, ","); got != tc.wantGroups {
				t.Errorf("groups = %q, want %q", got, tc.wantGroups)
			}
		})
	}
}
