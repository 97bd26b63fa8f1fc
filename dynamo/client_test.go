package dynamo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/propertyhq/property/dynamo"
)

// TestNewClientCheckCredentials: a command started without credentials
// fails in NewClient with ErrNoCredentials, and never asks the instance
// metadata service (here a local stand-in that counts requests) unless
// AWS_EC2_METADATA_DISABLED=false invites it, which shows the count can
// fail.
func TestNewClientCheckCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		endpoint  string
		wantErr   bool
		wantProbe bool
	}{
		{name: "no credentials", wantErr: true},
		{name: "metadata invited", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "false"}, wantErr: true, wantProbe: true},
		{name: "keys in the environment", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}},
		{name: "local endpoint", endpoint: "http://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var probes atomic.Int32
			imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				probes.Add(1)
				http.Error(w, "no role", http.StatusNotFound)
			}))
			defer imds.Close()
			dir := t.TempDir()
			for k, v := range map[string]string{
				"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
				"AWS_PROFILE": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
				"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
				"AWS_CONFIG_FILE":                   filepath.Join(dir, "config"),
				"AWS_SHARED_CREDENTIALS_FILE":       filepath.Join(dir, "credentials"),
				"AWS_EC2_METADATA_DISABLED":         "",
				"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL,
			} {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{
				Region: "us-east-1", Endpoint: tc.endpoint, MaxAttempts: 1, CheckCredentials: true,
			})
			if got := errors.Is(err, dynamo.ErrNoCredentials); got != tc.wantErr {
				t.Errorf("NewClient: %v; want ErrNoCredentials: %v", err, tc.wantErr)
			}
			if got := probes.Load() > 0; got != tc.wantProbe {
				t.Errorf("metadata service asked %d times; want asked: %v", probes.Load(), tc.wantProbe)
			}
		})
	}
}
