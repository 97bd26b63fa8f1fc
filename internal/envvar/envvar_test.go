package envvar_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/envvar"
)

func TestReader(t *testing.T) {
	vars := map[string]string{
		"N": " 7 ", "BIG": "11", "WORD": "x", "D": "2s", "NEG": "-1s", "B": "true", "BAD_B": "yes please",
		"L": " a, ,b ,", "S": "  v  ",
	}
	r := envvar.New(func(k string) string { return vars[k] })
	tests := []struct {
		name      string
		got, want any
	}{
		{"Int", r.Int("N", 1, 0, 10), 7},
		{"Int unset is the default", r.Int("UNSET", 3, 0, 10), 3},
		{"Int zero is zero", envvar.New(func(string) string { return "0" }).Int("Z", 20, 0, 10), 0},
		{"Int out of range keeps the default", r.Int("BIG", 1, 0, 10), 1},
		{"Int not a number keeps the default", r.Int("WORD", 1, 0, 10), 1},
		{"Duration", r.Duration("D", time.Second), 2 * time.Second},
		{"Duration unset", r.Duration("UNSET", time.Second), time.Second},
		{"Duration not positive", r.Duration("NEG", time.Second), time.Second},
		{"Bool", r.Bool("B", false), true},
		{"Bool bad", r.Bool("BAD_B", false), false},
		{"List", strings.Join(r.List("L"), "|"), "a|b"},
		{"String trims", r.String("S"), "v"},
		{"Required", r.Required("S"), "v"},
		{"Required missing", r.Required("MISSING"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	var got []string
	for _, err := range r.Errs() {
		got = append(got, err.Error())
	}
	want := []string{
		`BIG must be a whole number from 0 to 10, not "11"`,
		`WORD must be a whole number from 0 to 10, not "x"`,
		`NEG must be a positive duration such as 5s, not "-1s"`,
		`BAD_B must be true or false, not "yes please"`,
		`MISSING is required`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems =\n%q\nwant\n%q", got, want)
	}
	if r.Err() == nil || envvar.New(func(string) string { return "" }).Err() != nil {
		t.Errorf("Err must be nil exactly when there is no problem")
	}
}

// The commands read their settings through this package, not through the
// API's configuration: none of them links the GraphQL server.
func TestCommandsDoNotLinkTheAPI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../cmd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "99designs/gqlgen") || strings.HasSuffix(p, "/property/api") || strings.HasSuffix(p, "/property/server") {
			t.Errorf("a command links %s", p)
		}
	}
}
