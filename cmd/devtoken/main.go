// Command devtoken prints a token of the local issuer that `make dev` runs,
// for the Playground's Authorization header or curl:
//
//	make token SUB=user-1 GROUPS=admin
//
// It prints the token alone on stdout.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/propertyhq/property/internal/devissuer"
)

func main() {
	sub := flag.String("sub", "user-1", "subject (user id) of the token")
	groups := flag.String("groups", "", "comma-separated groups, e.g. admin")
	ttl := flag.Duration("ttl", 12*time.Hour, "lifetime")
	key := flag.String("key", ".data/dev-issuer/key.pem", "the local issuer's key (created if missing)")
	flag.Parse()

	port := 8080
	if p, err := strconv.Atoi(os.Getenv("PORT")); err == nil {
		port = p
	}
	iss, err := devissuer.Load(devissuer.LocalURL(port), *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
	var gs []string
	for _, g := range strings.Split(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	tok, err := iss.Mint(devissuer.Token{Subject: *sub, Groups: gs, TTL: *ttl})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
	fmt.Println(tok)
}
