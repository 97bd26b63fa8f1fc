package lambdart_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/lambdart"
)

func newServer(t *testing.T) *lambdart.Server {
	t.Helper()
	s, err := lambdart.NewServer(lambdart.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// call plays the runtime client's side of the Runtime API.
func call(t *testing.T, s *lambdart.Server, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+"/"+lambdart.APIVersion+"/runtime"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type outcome struct {
	res lambdart.Result
	err error
}

func invokeAsync(s *lambdart.Server, payload string) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := s.Invoke(ctx, []byte(payload))
		ch <- outcome{res, err}
	}()
	return ch
}

func TestRuntimeAPI(t *testing.T) {
	t.Run("response", func(t *testing.T) {
		s := newServer(t)
		done := invokeAsync(s, `{"n":1}`)
		resp, body := call(t, s, http.MethodGet, "/invocation/next", "")
		select {
		case <-s.Ready():
		default:
			t.Error("Ready not closed after /next")
		}
		if got, want := body, `{"n":1}`; got != want {
			t.Errorf("event = %s, want %s", got, want)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		if id == "" || err != nil || time.UnixMilli(ms).Before(time.Now()) {
			t.Errorf("headers = %v", resp.Header)
		}
		if r, _ := call(t, s, http.MethodPost, "/invocation/"+id+"/response", `{"ok":true}`); r.StatusCode != http.StatusAccepted {
			t.Errorf("response: status %d, want 202", r.StatusCode)
		}
		o := <-done
		if o.err != nil || string(o.res.Payload) != `{"ok":true}` || o.res.RequestID != id || o.res.Err != nil {
			t.Errorf("Invoke = %+v, %v", o.res, o.err)
		}
		if o.res.Received.Before(o.res.Queued) || o.res.Done.Before(o.res.Received) {
			t.Errorf("times out of order: %+v", o.res)
		}
		if r, _ := call(t, s, http.MethodPost, "/invocation/"+id+"/response", `{}`); r.StatusCode != http.StatusBadRequest {
			t.Errorf("second response: status %d, want 400", r.StatusCode)
		}
	})
	t.Run("error", func(t *testing.T) {
		s := newServer(t)
		done := invokeAsync(s, `{}`)
		resp, _ := call(t, s, http.MethodGet, "/invocation/next", "")
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		r, _ := call(t, s, http.MethodPost, "/invocation/"+id+"/error",
			`{"errorMessage":"boom","errorType":"errorString"}`, "Lambda-Runtime-Function-Error-Type", "Function.Boom")
		if r.StatusCode != http.StatusAccepted {
			t.Errorf("error: status %d, want 202", r.StatusCode)
		}
		o := <-done
		if o.err != nil || o.res.Err == nil || o.res.Err.Type != "Function.Boom" || o.res.Err.Message != "boom" || o.res.Payload != nil {
			t.Errorf("Invoke = %+v, %v", o.res, o.err)
		}
	})
	t.Run("unknown request id", func(t *testing.T) {
		s := newServer(t)
		if r, _ := call(t, s, http.MethodPost, "/invocation/nope/response", `{}`); r.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", r.StatusCode)
		}
	})
	t.Run("init error", func(t *testing.T) {
		s := newServer(t)
		done := invokeAsync(s, `{}`)
		r, _ := call(t, s, http.MethodPost, "/init/error", `{"errorMessage":"no config","errorType":"Runtime.InitError"}`)
		if r.StatusCode != http.StatusAccepted {
			t.Errorf("init/error: status %d, want 202", r.StatusCode)
		}
		o := <-done
		var fe *lambdart.FunctionError
		if !errors.As(o.err, &fe) || fe.Message != "no config" || fe.Type != "Runtime.InitError" {
			t.Errorf("Invoke error = %v, want the init error", o.err)
		}
		if s.InitErrorValue() == nil {
			t.Error("InitErrorValue = nil")
		}
	})
	t.Run("abandoned invocation is not handed out", func(t *testing.T) {
		s := newServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Invoke(ctx, []byte(`{"stale":true}`)); err == nil {
			t.Fatal("Invoke with a cancelled context succeeded")
		}
		done := invokeAsync(s, `{"fresh":true}`)
		resp, body := call(t, s, http.MethodGet, "/invocation/next", "")
		if body != `{"fresh":true}` {
			t.Errorf("event = %s, want the fresh one", body)
		}
		call(t, s, http.MethodPost, "/invocation/"+resp.Header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", `1`)
		<-done
	})
}

// TestFunction runs a real aws-lambda-go binary against the server.
func TestFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := lambdart.Build(ctx, t.TempDir(), "./testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	f, err := lambdart.Start(bin, nil, lambdart.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	invoke := func(payload string) (lambdart.Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return f.Invoke(ctx, []byte(payload))
	}

	res, err := invoke(`{"hello":"world"}`)
	if err != nil || string(res.Payload) != `{"hello":"world"}` {
		t.Fatalf("echo = %s, %v; output:\n%s", res.Payload, err, f.Output())
	}
	res, err = invoke(`{"fail":"nope"}`)
	if err != nil || res.Err == nil || res.Err.Message != "nope" {
		t.Errorf("fail = %+v, %v", res, err)
	}
	res, err = invoke(`{"panic":true}`)
	if err != nil || res.Err == nil || !strings.Contains(res.Err.Message, "asked to panic") {
		t.Errorf("panic = %+v, %v", res, err)
	}
	// aws-lambda-go exits after reporting a panic, as Lambda expects.
	select {
	case <-f.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("process still running after a panic")
	}
	_, err = invoke(`{}`)
	var exit *lambdart.ExitError
	if !errors.As(err, &exit) {
		t.Errorf("invoke after exit: err = %v, want an ExitError", err)
	}
}
