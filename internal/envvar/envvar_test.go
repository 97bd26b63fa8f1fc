package envvar_test

import (
	"flag"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/envvar"
)

func TestReader(t *testing.T) {
	vars := map[string]string{
		"n": " 7 ", "big": "11", "word": "x", "d": "2s", "neg": "-1s", "b": "true", "bad_b": "yes please",
		"l": " a, ,b ,", "s": "  v  ",
	}
	r := envvar.New(func(k string) string { return vars[k] })
	tests := []struct {
		name      string
		got, want any
	}{
		{"Int", r.Int("n", 1, 0, 10), 7},
		{"Int unset is the default", r.Int("unset", 3, 0, 10), 3},
		{"Int zero is zero", envvar.New(func(string) string { return "0" }).Int("z", 20, 0, 10), 0},
		{"Int out of range keeps the default", r.Int("big", 1, 0, 10), 1},
		{"Int not a number keeps the default", r.Int("word", 1, 0, 10), 1},
		{"Duration", r.Duration("d", time.Second), 2 * time.Second},
		{"Duration unset", r.Duration("unset", time.Second), time.Second},
		{"Duration not positive", r.Duration("neg", time.Second), time.Second},
		{"Bool", r.Bool("b", false), true},
		{"Bool bad", r.Bool("bad_b", false), false},
		{"List", strings.Join(r.List("l"), "|"), "a|b"},
		{"String trims", r.String("s"), "v"},
		{"Required", r.Required("s"), "v"},
		{"Required missing", r.Required("missing"), ""},
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
		`big must be a whole number from 0 to 10, not "11"`,
		`word must be a whole number from 0 to 10, not "x"`,
		`neg must be a positive duration such as 5s, not "-1s"`,
		`bad_b must be true or false, not "yes please"`,
		`missing is required`,
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

func TestCommandProblems(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		table string
		env   map[string]string
		want  []string
	}{
		{"all well", nil, "t", map[string]string{"N": "3"}, nil},
		{"arguments left", []string{"extra"}, "t", nil, []string{`unexpected arguments ["extra"]`}},
		{"no table", nil, "", nil, []string{"PROPERTY_TABLE_NAME (or -table) is required"}},
		{"every problem at once", []string{"x"}, "", map[string]string{"N": "zero"}, []string{
			`unexpected arguments ["x"]`, "PROPERTY_TABLE_NAME (or -table) is required", "N must be"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			r := envvar.New(func(k string) string { return tt.env[k] })
			r.Int("N", 1, 1, 10)
			got := envvar.CommandProblems(fs, tt.table, r)
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}
