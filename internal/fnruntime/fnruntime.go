// Package fnruntime reads the Go runtime settings serverless.yml gives a
// function (GOGC, GOMEMLIMIT, GOMAXPROCS), so that the benchmarks start the
// API as Lambda does: `load -function-runtime serverless.yml` (make
// bench-cpu) and the cold start benchmarks in lambda/.
package fnruntime

import (
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
)

// Keys are the Go runtime's variables Env picks from the environment.
var Keys = []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"}

// Env returns, as KEY=VALUE, those of Keys that the environment of
// function in the serverless.yml at path sets.
func Env(path, function string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(b, function)
}

func parse(yml []byte, function string) ([]string, error) {
	var doc struct {
		Functions map[string]struct {
			Environment map[string]any `yaml:"environment"`
		} `yaml:"functions"`
	}
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		return nil, err
	}
	fn, ok := doc.Functions[function]
	if !ok {
		return nil, fmt.Errorf("no function %q", function)
	}
	var env []string
	for _, k := range Keys {
		if v, ok := fn.Environment[k]; ok {
			env = append(env, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return env, nil
}
