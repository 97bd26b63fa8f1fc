// Package lambdart is a stand-in for the AWS Lambda Runtime API, so tests and
// benchmarks can run a function binary the way Lambda runs it: start the
// process with AWS_LAMBDA_RUNTIME_API pointing here, hand it events through
// /runtime/invocation/next and collect what it posts back. The official
// runtime interface emulator is not needed (nor Docker).
//
// A Server plays one execution environment: one process polls it, one
// invocation at a time, like Lambda. Start builds on it to run a binary.
package lambdart

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the Runtime API version in every path.
const APIVersion = "2018-06-01"

const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"
)

// FunctionError is what a function posted to .../error or /init/error.
type FunctionError struct {
	// Type is the Lambda-Runtime-Function-Error-Type header, else the
	// body's errorType.
	Type    string
	Message string
	// Body is the raw payload.
	Body []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	// Payload is the response body the function posted; nil on error.
	Payload []byte
	// Err is set when the function posted to .../error instead.
	Err *FunctionError
	// Queued, Received and Done are when Invoke queued the event, when the
	// function took it from /next, and when its answer arrived.
	Queued, Received, Done time.Time
}

// Options configure a Server.
type Options struct {
	// Timeout sets each invocation's deadline (Lambda-Runtime-Deadline-Ms);
	// default 30s.
	Timeout time.Duration
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string
}

// Server speaks the Runtime API on 127.0.0.1.
type Server struct {
	opt   Options
	ln    net.Listener
	http  *http.Server
	queue chan *invocation

	mu       sync.Mutex
	inflight map[string]*invocation

	ready     chan struct{} // closed at the first /next: init is over
	readyOnce sync.Once
	initErr   chan struct{} // closed when /init/error arrived
	initOnce  sync.Once
	initValue *FunctionError
	closed    chan struct{}
	closeOnce sync.Once
}

type invocation struct {
	id      string
	payload []byte
	result  Result
	done    chan struct{}
}

// NewServer starts a Runtime API on a free port of 127.0.0.1.
func NewServer(opt Options) (*Server, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.FunctionARN == "" {
		opt.FunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:lambdart"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdart: listen: %w", err)
	}
	s := &Server{
		opt:      opt,
		ln:       ln,
		queue:    make(chan *invocation, 64),
		inflight: map[string]*invocation{},
		ready:    make(chan struct{}),
		initErr:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
	base := "/" + APIVersion + "/runtime"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/invocation/next", s.next)
	mux.HandleFunc("POST "+base+"/invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+base+"/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST "+base+"/init/error", s.initError)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API ("127.0.0.1:port").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed when the function first asks for an event, that is when
// its initialisation is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitErrorValue returns the reported initialisation error, or nil.
func (s *Server) InitErrorValue() *FunctionError {
	select {
	case <-s.initErr:
		return s.initValue
	default:
		return nil
	}
}

// Invoke queues payload as the next event and waits until the function
// answers it, reports an initialisation error, or ctx ends.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), payload: payload, done: make(chan struct{})}
	inv.result.RequestID = inv.id
	inv.result.Queued = time.Now()
	s.mu.Lock()
	s.inflight[inv.id] = inv
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, inv.id)
		s.mu.Unlock()
	}()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-s.closed:
		return Result{}, errClosed
	}
	select {
	case <-inv.done:
		return inv.result, nil
	case <-s.initErr:
		return Result{}, fmt.Errorf("lambdart: init failed: %w", s.initValue)
	case <-ctx.Done():
		return Result{}, fmt.Errorf("lambdart: invocation %s: %w", inv.id, ctx.Err())
	case <-s.closed:
		return Result{}, errClosed
	}
}

var errClosed = errors.New("lambdart: server closed")

// Close stops the server; a function waiting in /next gets an error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.readyOnce.Do(func() { close(s.ready) })
	var inv *invocation
	var now time.Time
	for inv == nil {
		select {
		case inv = <-s.queue:
		case <-r.Context().Done():
			return
		case <-s.closed:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"errorType": "ServiceUnavailable", "errorMessage": "runtime API closed"})
			return
		}
		now = time.Now()
		s.mu.Lock()
		if _, waiting := s.inflight[inv.id]; waiting {
			inv.result.Received = now
		} else {
			inv = nil // its caller gave up before the function took it
		}
		s.mu.Unlock()
	}
	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(now.Add(s.opt.Timeout).UnixMilli(), 10))
	h.Set(headerFunctionARN, s.opt.FunctionARN)
	h.Set(headerTraceID, fmt.Sprintf("Root=1-%08x-%s;Sampled=0", now.Unix(), strings.ReplaceAll(inv.id, "-", "")[:24]))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// lookup returns the in-flight invocation named by the path, answering 400
// as Lambda does for an unknown id.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *invocation {
	s.mu.Lock()
	inv := s.inflight[r.PathValue("id")]
	if inv != nil && inv.result.Received.IsZero() {
		inv = nil // not handed out yet
	}
	s.mu.Unlock()
	if inv == nil {
		invalidRequestID(w)
	}
	return inv
}

func invalidRequestID(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	inv := s.lookup(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorType": "InvalidPayload", "errorMessage": err.Error()})
		return
	}
	// aws-lambda-go streams the response and, when reading it fails midway,
	// reports the failure in trailers (readable once the body is read).
	if t := r.Trailer.Get(headerErrorType); t != "" {
		s.finish(w, inv, nil, &FunctionError{Type: t, Body: []byte(r.Trailer.Get(trailerErrorBody))})
		return
	}
	s.finish(w, inv, body, nil)
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	if inv := s.lookup(w, r); inv != nil {
		s.finish(w, inv, nil, readError(r))
	}
}

// finish records the first answer to an invocation; a second one is
// refused like an unknown id.
func (s *Server) finish(w http.ResponseWriter, inv *invocation, payload []byte, fe *FunctionError) {
	s.mu.Lock()
	_, ok := s.inflight[inv.id]
	delete(s.inflight, inv.id)
	if ok {
		inv.result.Payload, inv.result.Err, inv.result.Done = payload, fe, time.Now()
	}
	s.mu.Unlock()
	if !ok {
		invalidRequestID(w)
		return
	}
	close(inv.done)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	fe := readError(r)
	s.initOnce.Do(func() {
		s.initValue = fe
		close(s.initErr)
	})
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func readError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var payload struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &payload)
	fe := &FunctionError{Type: r.Header.Get(headerErrorType), Message: payload.Message, Body: body}
	if fe.Type == "" {
		fe.Type = payload.Type
	}
	return fe
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// newRequestID returns a UUID-shaped random id, like Lambda's.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
