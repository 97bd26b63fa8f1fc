//go:build dev

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/propertyhq/property/api"
	"github.com/propertyhq/property/internal/devenv"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

// TestLocalIssuer runs the local build's sign-in end to end: the server
// serves its own issuer's key set, and a token minted from the key file (as
// `make token` does) lets a mutation through.
func TestLocalIssuer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	key := filepath.Join(t.TempDir(), "key.pem")
	t.Setenv("DEV_ISSUER_KEY", key)
	t.Setenv("DEV_S3_DIR", t.TempDir())
	env := map[string]string{
		"PROPERTY_TABLE_NAME": testenv.Table(t),
		"AWS_REGION":          testenv.Region,
		"DYNAMODB_ENDPOINT":   dynamolocal.Endpoint(t),
		"PORT":                strconv.Itoa(port),
	}
	cfg, err := api.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.NewHandler(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	// The server records where it runs, and `make token` mints from that
	// record: the issuer's URL (any PORT) and key.
	t.Chdir(t.TempDir())
	stop, err := api.Serving(cfg, "http://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := devenv.Read(devenv.Path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"DEV_ISSUER_URL":      devissuer.LocalURL(port),
		"DEV_ISSUER_KEY":      key,
		"DEV_API_URL":         "http://" + ln.Addr().String() + "/graphql",
		"PROPERTY_TABLE_NAME": env["PROPERTY_TABLE_NAME"],
		"DYNAMODB_ENDPOINT":   env["DYNAMODB_ENDPOINT"],
		"IMAGES_BUCKET":       "images",
	} {
		if rec[name] != want {
			t.Errorf("%s: %s = %q, want %q", devenv.Path, name, rec[name], want)
		}
	}
	if !strings.HasPrefix(rec["S3_ENDPOINT"], "http://127.0.0.1:") || rec["AWS_ENDPOINT_URL_S3"] != rec["S3_ENDPOINT"] {
		t.Errorf("%s: S3_ENDPOINT = %q, AWS_ENDPOINT_URL_S3 = %q", devenv.Path, rec["S3_ENDPOINT"], rec["AWS_ENDPOINT_URL_S3"])
	}
	iss, err := devissuer.Load(rec["DEV_ISSUER_URL"], rec["DEV_ISSUER_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := os.Stat(devenv.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after stop: %s: %v, want it removed", devenv.Path, err)
	}
	token, err := iss.Mint(devissuer.Token{Subject: "dev-user"})
	if err != nil {
		t.Fatal(err)
	}
	post := func(auth string, in map[string]any) map[string]any {
		body, _ := json.Marshal(map[string]any{"query": createMutation, "variables": map[string]any{"input": in}})
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := post("Bearer "+token, createInput("Local", 1))
	if got, want := str(out, "data", "createProperty", "property", "ownerId"), "dev-user"; got != want {
		t.Fatalf("ownerId = %q, want %q (%v)", got, want, out)
	}
	out = post("", createInput("Local", 1))
	if got, want := str(out, "errors", 0, "extensions", "code"), "UNAUTHENTICATED"; got != want {
		t.Errorf("anonymous create: code = %q, want %q", got, want)
	}

	// The local bucket checks upload URLs as S3 does: another type than
	// the signed one is refused with S3's code; the signed upload works.
	img := imageBytes(1)
	in := createInput("Local with a photo", 1)
	in["images"] = []any{pngRequest(len(img))}
	out = post("Bearer "+token, in)
	up := get(out, "data", "createProperty", "uploads", 0)
	if up == nil {
		t.Fatalf("no upload: %v", out)
	}
	req, _ := http.NewRequest(http.MethodPut, str(up, "url"), bytes.NewReader(img))
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	refusal, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(refusal), "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("upload as image/jpeg: status %d %s; want 403 SignatureDoesNotMatch", resp.StatusCode, refusal)
	}
	upload(t, up, img)
}
