package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestLimitLocalMemory(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	tests := []struct {
		name string
		env  string
		want int64
	}{
		{"unset: the local default", "", localMemoryLimit},
		// The runtime read GOMEMLIMIT at start; it must not be overridden.
		{"set: left to the runtime", "100MiB", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			limitLocalMemory(func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.env
				}
				return ""
			})
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("memory limit = %d, want %d", got, tt.want)
			}
		})
	}
}
