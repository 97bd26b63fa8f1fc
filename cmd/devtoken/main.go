// Command devtoken prints a token of the local issuer that `make dev` runs,
// for the Playground's Authorization header or curl:
//
//	make token SUB=user-1 TOKEN_GROUPS=admin
//
// It finds the running issuer (its URL and key) in .data/dev.env, which the
// local server writes once it listens, so the token verifies whatever PORT
// `make dev` uses. It prints the token alone on stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/propertyhq/property/internal/devenv"
	"github.com/propertyhq/property/internal/devissuer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devtoken", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "user-1", "subject (user id) of the token")
	groups := fs.String("groups", "", "comma-separated groups, e.g. admin")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	key := fs.String("key", "", "the local issuer's key (default: the running `make dev`'s, else .data/dev-issuer/key.pem)")
	envFile := fs.String("env", devenv.Path, "where `make dev` records its stack")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	issuer, keyPath, err := locate(*envFile, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "devtoken:", err)
		return 1
	}
	if *key != "" {
		keyPath = *key
	}
	iss, err := devissuer.Load(issuer, keyPath)
	if err != nil {
		fmt.Fprintln(stderr, "devtoken:", err)
		return 1
	}
	var gs []string
	for _, g := range strings.Split(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	tok, err := iss.Mint(devissuer.Token{Subject: *sub, Groups: gs, TTL: *ttl})
	if err != nil {
		fmt.Fprintln(stderr, "devtoken:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// locate returns the issuer URL and key file of the running `make dev`
// from envFile. Without one (make dev not running) it falls back to
// $PORT (default 8080) and $DEV_ISSUER_KEY, and says so.
func locate(envFile string, getenv func(string) string, stderr io.Writer) (issuer, key string, err error) {
	vars, err := devenv.Read(envFile)
	switch {
	case err == nil && vars["DEV_ISSUER_URL"] != "":
		key = vars["DEV_ISSUER_KEY"]
		if key == "" {
			key = ".data/dev-issuer/key.pem"
		}
		return vars["DEV_ISSUER_URL"], key, nil
	case err == nil:
		return "", "", fmt.Errorf("%s names no DEV_ISSUER_URL: the running make dev has no local issuer (AUTH_ISSUER is set), so sign in with that issuer instead", envFile)
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", err
	}
	port := devenv.DefaultPort
	if p := strings.TrimSpace(getenv("PORT")); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return "", "", fmt.Errorf("PORT must be a number, not %q", p)
		}
	}
	key = getenv("DEV_ISSUER_KEY")
	if key == "" {
		key = ".data/dev-issuer/key.pem"
	}
	issuer = devissuer.LocalURL(port)
	fmt.Fprintf(stderr, "devtoken: make dev is not running (no %s): minting for %s; start make dev (with the same PORT) before using the token\n", envFile, issuer)
	return issuer, key, nil
}
