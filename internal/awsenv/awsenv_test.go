package awsenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestCredentials(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		endpoint string
		// want is the key id of the static keys expected; "" expects the
		// default chain.
		want, wantSecret, wantToken string
	}{
		{"environment keys (Lambda)", map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIDLAMBDA", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
		}, "", "AKIDLAMBDA", "secret", "session"},
		{"environment keys win over a local endpoint", map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret",
		}, "http://127.0.0.1:8000", "AKIDENV", "secret", ""},
		{"local endpoint without keys", nil, "http://127.0.0.1:8000", "local", "local", ""},
		{"a key id without its secret is not a key", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDHALF"}, "http://127.0.0.1:8000", "local", "local", ""},
		{"AWS without keys: the default chain", map[string]string{"AWS_PROFILE": "dev"}, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := credentialsFrom(context.Background(), func(k string) string { return tt.env[k] }, "us-east-1", tt.endpoint, false)
			if tt.want == "" && !hasDefaultChain {
				// The Lambda build has no chain to fall back to.
				if err == nil {
					t.Fatalf("provider = %T, want an error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			static, ok := p.(credentials.StaticCredentialsProvider)
			if tt.want == "" {
				if ok || p == nil {
					t.Fatalf("provider = %T, want the default chain", p)
				}
				return
			}
			if !ok {
				t.Fatalf("provider = %T, want static keys", p)
			}
			v := static.Value
			if v.AccessKeyID != tt.want || v.SecretAccessKey != tt.wantSecret || v.SessionToken != tt.wantToken {
				t.Errorf("keys = %q %q %q, want %q %q %q", v.AccessKeyID, v.SecretAccessKey, v.SessionToken, tt.want, tt.wantSecret, tt.wantToken)
			}
		})
	}
}
