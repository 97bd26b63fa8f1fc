package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
)

// EnvEndpoint is the environment variable holding the DynamoDB endpoint.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

// shared is the state RunTests leaves for Endpoint.
var shared struct {
	sync.Mutex
	ran    bool   // RunTests was called
	reason string // why no engine is available ("" = available)
}

// RunTests is for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }
//
// If DYNAMODB_ENDPOINT is set it uses that endpoint. Otherwise it starts an
// in-memory engine, sets DYNAMODB_ENDPOINT, runs the tests and stops the
// engine. It also sets dummy AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and
// AWS_REGION=us-east-1 when they are unset.
//
// When DynamoDB Local is not installed (no jar, no java) it prints why and
// returns 1 if CI is set; otherwise the tests still run and Endpoint skips
// the ones that need the engine. Any other start-up failure returns 1.
func RunTests(m *testing.M) int {
	setDefaultEnv()
	if os.Getenv(EnvEndpoint) != "" {
		setShared("")
		return m.Run()
	}

	e, err := Start(context.Background(), Options{})
	if err != nil {
		if errors.Is(err, ErrUnavailable) && os.Getenv("CI") == "" {
			fmt.Fprintf(os.Stderr, "%v\n(tests that need DynamoDB Local will be skipped)\n", err)
			setShared(err.Error())
			return m.Run()
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv(EnvEndpoint, e.Endpoint())
	setShared("")

	// Stop the engine on Ctrl-C / SIGTERM too, then die of the signal as the
	// test binary would have. (On Linux the kernel also kills the engine if
	// the test binary dies without stopping it.)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			_ = e.Stop()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig)
			}
		case <-quit:
		}
	}()

	code := m.Run()
	close(quit)
	signal.Stop(sigs)
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func setShared(reason string) {
	shared.Lock()
	defer shared.Unlock()
	shared.ran, shared.reason = true, reason
}

// setDefaultEnv gives the AWS SDK the credentials and region it insists on;
// DynamoDB Local accepts any.
func setDefaultEnv() {
	for _, kv := range [][2]string{
		{"AWS_ACCESS_KEY_ID", "local"},
		{"AWS_SECRET_ACCESS_KEY", "local"},
		{"AWS_REGION", "us-east-1"},
	} {
		if os.Getenv(kv[0]) == "" {
			os.Setenv(kv[0], kv[1])
		}
	}
}

// Endpoint returns the DynamoDB endpoint for a test (DYNAMODB_ENDPOINT, set
// by RunTests). If no engine is available it skips the test, or fails it
// when CI is set, with a message saying what to install.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		return ep
	}
	shared.Lock()
	ran, reason := shared.ran, shared.reason
	shared.Unlock()
	if !ran {
		tb.Fatalf("dynamolocal: %s is not set; call dynamolocal.RunTests from TestMain:\n\tfunc TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }", EnvEndpoint)
		return ""
	}
	if reason == "" {
		reason = "dynamolocal: " + EnvEndpoint + " is not set"
	}
	if os.Getenv("CI") != "" {
		tb.Fatal(reason)
		return ""
	}
	tb.Skip(reason)
	return ""
}
