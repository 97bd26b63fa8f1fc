// Package envvar reads settings from environment variables, the only place
// the API and its commands take configuration from. A Reader collects every
// problem instead of stopping at the first, so a misconfigured deployment
// is told everything at once. Each setting's default is passed in by the
// package that uses the setting and owns the default (dynamo, images,
// graph, server, ...); this package knows none of them and imports nothing
// but the standard library, so a command that reads a few variables pulls
// in nothing else.
package envvar

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables through a getenv function (os.Getenv, or a map
// in tests) and remembers what was wrong with them.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// New returns a Reader over getenv.
func New(getenv func(string) string) *Reader { return &Reader{getenv: getenv} }

// Err joins every problem found so far (nil when none); errors.Join's
// Unwrap() []error lists them one by one.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Errs returns the problems found so far, one per variable.
func (r *Reader) Errs() []error { return r.errs }

// Fail records a problem the caller found itself (a rule spanning
// variables), in order with the others.
func (r *Reader) Fail(err error) { r.errs = append(r.errs, err) }

// String returns the variable with surrounding space trimmed.
func (r *Reader) String(name string) string { return strings.TrimSpace(r.getenv(name)) }

// Set reports whether the variable is set to anything but space.
func (r *Reader) Set(name string) bool { return r.String(name) != "" }

// Required returns the variable, recording a problem when it is empty.
func (r *Reader) Required(name string) string {
	s := r.String(name)
	if s == "" {
		r.Fail(fmt.Errorf("%s is required", name))
	}
	return s
}

// Int returns the variable as a whole number from lo to hi, def when unset.
func (r *Reader) Int(name string, def, lo, hi int) int {
	s := r.String(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.Fail(fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, lo, hi, s))
		return def
	}
	return n
}

// Duration returns the variable as a positive duration, def when unset.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	s := r.String(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.Fail(fmt.Errorf("%s must be a positive duration such as 5s, not %q", name, s))
		return def
	}
	return d
}

// Bool returns the variable as true or false, def when unset.
func (r *Reader) Bool(name string, def bool) bool {
	s := r.String(name)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		r.Fail(fmt.Errorf("%s must be true or false, not %q", name, s))
		return def
	}
	return b
}

// List returns the variable's comma-separated items, trimmed, empty ones
// left out.
func (r *Reader) List(name string) []string {
	var out []string
	for _, s := range strings.Split(r.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CommandProblems lists what is wrong with how a command that works on one
// table was started: arguments left after its flags, no table (its -table
// flag or PROPERTY_TABLE_NAME) and every variable r could not read. The
// command adds its own flags' problems and prints them all at once.
func CommandProblems(fs *flag.FlagSet, table string, r *Reader) []string {
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if table == "" {
		problems = append(problems, "PROPERTY_TABLE_NAME (or -table) is required")
	}
	for _, err := range r.Errs() {
		problems = append(problems, err.Error())
	}
	return problems
}
