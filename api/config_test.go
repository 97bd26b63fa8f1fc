package api_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/api"
	"github.com/propertyhq/property/images"
)

// Values of CURSOR_SECRET keys; long enough to be accepted.
const (
	configKey1 = "k1-0123456789abcdef"
	configKey2 = "k2-fedcba9876543210"
)

// configMinimalEnv is the smallest valid local environment.
var configMinimalEnv = map[string]string{
	"PROPERTY_TABLE_NAME": "properties",
	"AWS_REGION":          "us-east-1",
}

// configLambdaEnv is the smallest valid environment inside Lambda.
var configLambdaEnv = configWith(configMinimalEnv, map[string]string{
	"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
	"AUTH_ISSUER":            "https://issuer.example",
	"AUTH_CLIENT_ID":         "client",
	"CURSOR_SECRET":          configKey1,
})

// configWith returns a copy of env with set applied; an empty value unsets.
func configWith(env, set map[string]string) map[string]string {
	out := maps.Clone(env)
	for k, v := range set {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func configGetenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// mustLoadConfig returns the config env gives, failing tb on an error.
func mustLoadConfig(tb testing.TB, env map[string]string) api.Config {
	tb.Helper()
	c, err := api.LoadConfig(configGetenv(env))
	if err != nil {
		tb.Fatalf("LoadConfig(%v) = %v", env, err)
	}
	return c
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		c := mustLoadConfig(t, configWith(configMinimalEnv, map[string]string{"PROPERTY_TABLE_NAME": "  properties "}))
		for _, tt := range []struct {
			name      string
			got, want any
		}{
			{"Table", c.Table, "properties"},
			{"Region", c.Region, "us-east-1"},
			{"Port", c.Port, 8080},
			{"DynamoTimeout", c.DynamoTimeout, 5 * time.Second},
			{"CursorTTL", c.CursorTTL, 24 * time.Hour},
			{"ListReadCap", c.ListReadCap, 1000},
			{"MaxBodyBytes", c.MaxBodyBytes, int64(65536)},
			{"Playground", c.Playground, true},
			{"LogLevel", c.LogLevel, slog.LevelInfo},
			{"Lambda", c.Lambda, false},
			{"AllowedOrigins", len(c.AllowedOrigins), 0},
			{"CursorSecrets", len(c.CursorSecrets), 0},
			{"MaxAliases", c.MaxAliases, 20},
			{"MaxResponseBytes", c.MaxResponseBytes, 5 << 20},
			{"S3Timeout", c.S3Timeout, images.DefaultTimeout},
			{"S3MaxAttempts", c.S3MaxAttempts, images.DefaultMaxAttempts},
			{"S3MaxBackoff", c.S3MaxBackoff, images.DefaultMaxBackoff},
			{"DeadlineMargin", c.DeadlineMargin, time.Second},
		} {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		}
	})
	t.Run("Lambda", func(t *testing.T) {
		c := mustLoadConfig(t, configLambdaEnv)
		if !c.Lambda {
			t.Errorf("Lambda = false, want true")
		}
		if c.Playground {
			t.Errorf("Playground = true, want false in Lambda")
		}
	})
	t.Run("Playground switched on in Lambda", func(t *testing.T) {
		c := mustLoadConfig(t, configWith(configLambdaEnv, map[string]string{"PLAYGROUND": "true"}))
		if !c.Playground {
			t.Errorf("Playground = false, want true")
		}
	})
	t.Run("values given", func(t *testing.T) {
		c := mustLoadConfig(t, configWith(configMinimalEnv, map[string]string{
			"PORT": "9000", "DYNAMODB_TIMEOUT": "2s", "CURSOR_TTL": "1h", "LIST_READ_CAP": "50",
			"MAX_BODY_BYTES": "2048", "PLAYGROUND": "false", "LOG_LEVEL": "DEBUG",
			"MAX_ALIASES": "0", "MAX_RESPONSE_BYTES": "100000",
			"S3_TIMEOUT": "1500ms", "S3_MAX_ATTEMPTS": "2", "S3_MAX_BACKOFF": "250ms",
			"LAMBDA_DEADLINE_MARGIN": "2s",
		}))
		for _, tt := range []struct {
			name      string
			got, want any
		}{
			{"Port", c.Port, 9000},
			{"DynamoTimeout", c.DynamoTimeout, 2 * time.Second},
			{"CursorTTL", c.CursorTTL, time.Hour},
			{"ListReadCap", c.ListReadCap, 50},
			{"MaxBodyBytes", c.MaxBodyBytes, int64(2048)},
			{"Playground", c.Playground, false},
			{"LogLevel", c.LogLevel, slog.LevelDebug},
			{"MaxAliases", c.MaxAliases, 0},
			{"MaxResponseBytes", c.MaxResponseBytes, 100000},
			{"S3Timeout", c.S3Timeout, 1500 * time.Millisecond},
			{"S3MaxAttempts", c.S3MaxAttempts, 2},
			{"S3MaxBackoff", c.S3MaxBackoff, 250 * time.Millisecond},
			{"DeadlineMargin", c.DeadlineMargin, 2 * time.Second},
			// 2 × 1.5 s + 1 × 0.25 s
			{"S3CallBound", c.S3CallBound(), 3250 * time.Millisecond},
		} {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		}
	})
}

func TestLoadConfigInvalid(t *testing.T) {
	short := "tooshort"
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"PORT not a number", configWith(configMinimalEnv, map[string]string{"PORT": "abc"}), "PORT"},
		{"PORT 0", configWith(configMinimalEnv, map[string]string{"PORT": "0"}), "PORT"},
		{"PORT 70000", configWith(configMinimalEnv, map[string]string{"PORT": "70000"}), "PORT"},
		{"DYNAMODB_TIMEOUT negative", configWith(configMinimalEnv, map[string]string{"DYNAMODB_TIMEOUT": "-1s"}), "DYNAMODB_TIMEOUT"},
		{"DYNAMODB_TIMEOUT not a duration", configWith(configMinimalEnv, map[string]string{"DYNAMODB_TIMEOUT": "abc"}), "DYNAMODB_TIMEOUT"},
		{"S3_TIMEOUT 0", configWith(configMinimalEnv, map[string]string{"S3_TIMEOUT": "0s"}), "S3_TIMEOUT"},
		{"S3_MAX_ATTEMPTS 0", configWith(configMinimalEnv, map[string]string{"S3_MAX_ATTEMPTS": "0"}), "S3_MAX_ATTEMPTS"},
		{"S3_MAX_BACKOFF not a duration", configWith(configMinimalEnv, map[string]string{"S3_MAX_BACKOFF": "soon"}), "S3_MAX_BACKOFF"},
		{"LAMBDA_DEADLINE_MARGIN negative", configWith(configMinimalEnv, map[string]string{"LAMBDA_DEADLINE_MARGIN": "-1s"}), "LAMBDA_DEADLINE_MARGIN"},
		{"LIST_READ_CAP 0", configWith(configMinimalEnv, map[string]string{"LIST_READ_CAP": "0"}), "LIST_READ_CAP"},
		{"MAX_RESPONSE_BYTES over Lambda's payload", configWith(configMinimalEnv, map[string]string{"MAX_RESPONSE_BYTES": "7000000"}), "MAX_RESPONSE_BYTES"},
		{"PLAYGROUND maybe", configWith(configMinimalEnv, map[string]string{"PLAYGROUND": "maybe"}), "PLAYGROUND"},
		{"LOG_LEVEL loud", configWith(configMinimalEnv, map[string]string{"LOG_LEVEL": "loud"}), "LOG_LEVEL"},
		{"ALLOWED_ORIGIN *", configWith(configMinimalEnv, map[string]string{"ALLOWED_ORIGIN": "*"}), "ALLOWED_ORIGIN"},
		{"ALLOWED_ORIGIN * among origins", configWith(configMinimalEnv, map[string]string{"ALLOWED_ORIGIN": "https://a.example, *"}), "ALLOWED_ORIGIN"},
		{"CURSOR_SECRET too short", configWith(configMinimalEnv, map[string]string{"CURSOR_SECRET": short}), "CURSOR_SECRET"},
		{"CURSOR_SECRET one key too short", configWith(configMinimalEnv, map[string]string{"CURSOR_SECRET": configKey1 + "," + short}), "CURSOR_SECRET"},
		{"PROPERTY_TABLE_NAME blank", configWith(configMinimalEnv, map[string]string{"PROPERTY_TABLE_NAME": "  "}), "PROPERTY_TABLE_NAME"},
		{"Lambda without CURSOR_SECRET", configWith(configLambdaEnv, map[string]string{"CURSOR_SECRET": ""}), "CURSOR_SECRET"},
		{"Lambda without AUTH_ISSUER", configWith(configLambdaEnv, map[string]string{"AUTH_ISSUER": "", "AUTH_CLIENT_ID": ""}), "AUTH_ISSUER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.LoadConfig(configGetenv(tt.env))
			if err == nil {
				t.Fatalf("LoadConfig(%v) = nil error, want one naming %s", tt.env, tt.wantVar)
			}
			if !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("LoadConfig error %q does not name %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), short) {
				t.Errorf("LoadConfig error %q shows a cursor secret", err)
			}
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := api.LoadConfig(configGetenv(map[string]string{"PORT": "abc"}))
	if err == nil {
		t.Fatal("LoadConfig(empty) = nil error")
	}
	for _, name := range []string{"PROPERTY_TABLE_NAME", "AWS_REGION", "PORT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("LoadConfig error %q does not name %s", err, name)
		}
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("LoadConfig error %T is not a joined error", err)
	}
	if got, want := len(joined.Unwrap()), 3; got != want {
		t.Errorf("LoadConfig reported %d problems, want %d: %v", got, want, err)
	}
}

func TestLoadConfigLists(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		got  func(api.Config) []string
		want []string
	}{
		{"origins trimmed, trailing slash dropped",
			configWith(configMinimalEnv, map[string]string{"ALLOWED_ORIGIN": "https://a.example, https://b.example/"}),
			func(c api.Config) []string { return c.AllowedOrigins },
			[]string{"https://a.example", "https://b.example"}},
		{"empty origins skipped",
			configWith(configMinimalEnv, map[string]string{"ALLOWED_ORIGIN": " ,https://a.example,, "}),
			func(c api.Config) []string { return c.AllowedOrigins },
			[]string{"https://a.example"}},
		{"cursor secrets in order",
			configWith(configMinimalEnv, map[string]string{"CURSOR_SECRET": configKey1 + ", " + configKey2}),
			func(c api.Config) []string { return c.CursorSecrets },
			[]string{configKey1, configKey2}},
		{"cursor secrets reversed",
			configWith(configMinimalEnv, map[string]string{"CURSOR_SECRET": configKey2 + "," + configKey1 + ","}),
			func(c api.Config) []string { return c.CursorSecrets },
			[]string{configKey2, configKey1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(mustLoadConfig(t, tt.env)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
