package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Build compiles the main package pkg (an import path or a directory) for
// the host, with the lambda.norpc tag the deployed binary is built with,
// into dir, and returns the binary's path.
func Build(ctx context.Context, dir, pkg string) (string, error) {
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, gobin, "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdart: go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// Function is a function binary running against its own Runtime API.
type Function struct {
	// Runtime is the Runtime API the process polls.
	Runtime *Server
	// Started is when the process was started (just before exec).
	Started time.Time

	cmd     *exec.Cmd
	out     *syncBuffer
	exited  chan struct{}
	waitErr error
	stop    sync.Once
}

// Start runs the binary at path with env (KEY=value entries) and little
// else, as Lambda does: AWS_LAMBDA_RUNTIME_API points at a new Server, and
// the usual AWS_LAMBDA_FUNCTION_* variables are set. The process's stdout
// and stderr are kept for Output. Stop ends it.
func Start(path string, env []string, opt Options) (*Function, error) {
	rt, err := NewServer(opt)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Dir = filepath.Dir(path)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=lambdart",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"_HANDLER=bootstrap",
	}, env...)
	f := &Function{Runtime: rt, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	setProcAttr(cmd)
	f.Started = time.Now()
	if err := cmd.Start(); err != nil {
		rt.Close()
		return nil, fmt.Errorf("lambdart: start %s: %w", path, err)
	}
	go func() {
		f.waitErr = cmd.Wait()
		close(f.exited)
	}()
	return f, nil
}

// Invoke sends one event and waits for the function's answer. It fails
// early when the process exits or reports an initialisation error.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-f.exited:
			cancel(&ExitError{Err: f.waitErr, Output: f.Output()})
		case <-ctx.Done():
		}
	}()
	res, err := f.Runtime.Invoke(ctx, payload)
	var exit *ExitError
	if err != nil && errors.As(context.Cause(ctx), &exit) {
		return res, exit
	}
	return res, err
}

// ExitError says that the process exited while an invocation waited.
type ExitError struct {
	Err    error // from exec.Cmd.Wait
	Output string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("lambdart: function exited (%v); output:\n%s", e.Err, e.Output)
}

// Exited is closed when the process has exited.
func (f *Function) Exited() <-chan struct{} { return f.exited }

// Output returns what the process wrote to stdout and stderr so far.
func (f *Function) Output() string { return f.out.String() }

// CPU is the user and system CPU time the process used, once it has exited
// (after Stop); 0 before. It leaves out time spent waiting, so on a busy
// machine it is the steadier measure of what a start costs.
func (f *Function) CPU() time.Duration {
	select {
	case <-f.exited:
	default:
		return 0
	}
	if ps := f.cmd.ProcessState; ps != nil {
		return ps.UserTime() + ps.SystemTime()
	}
	return 0
}

// Stop kills the process (by its PID), waits for it and closes the
// Runtime API. It is safe to call more than once.
func (f *Function) Stop() {
	f.stop.Do(func() {
		select {
		case <-f.exited:
		default:
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
		f.Runtime.Close()
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
