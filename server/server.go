// Package server assembles the HTTP handler the API is served by, locally
// and in Lambda alike: request id, one structured log line per request,
// CORS, the request guard, and the GraphQL endpoint and Playground.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/rs/cors"

	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/reqlog"
)

// Options configure the handler.
type Options struct {
	// GraphQL serves /graphql once a request has passed the guard.
	GraphQL http.Handler
	// Logger receives one line per request (default slog.Default()).
	Logger *slog.Logger
	// AllowedOrigins may call the API from a browser; empty allows none.
	AllowedOrigins []string
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Playground serves GraphiQL at /.
	Playground bool
	// PlaygroundFiles, when set, is a node_modules tree holding the files
	// the Playground page loads from its CDN (same versions, same hashes):
	// the server then serves them itself, so the page works offline. When
	// a file is missing or differs the page keeps the CDN and Logger says
	// why. make dev sets it; Lambda does not.
	PlaygroundFiles fs.FS
	// Verifier checks bearer tokens; nil refuses every token (requests
	// without one are anonymous either way).
	Verifier TokenVerifier
	// ExplainToken, when set, words a refused token's error for its holder
	// (which check failed); nil keeps one message for every refusal, as
	// production should.
	ExplainToken func(error) string
	// CacheMaxAge is how long, in seconds, CDNs may cache an anonymous GET
	// query's successful answer (0: never; the configuration starts from
	// DefaultCacheMaxAge).
	CacheMaxAge int
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 64 << 10
	DefaultCacheMaxAge  = 30
)

// New returns the API's http.Handler.
func New(opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", guard(opt.MaxBodyBytes,
		authenticate(opt.Verifier, opt.ExplainToken, opt.Logger, cacheHeaders(opt.CacheMaxAge, opt.GraphQL))))
	if opt.Playground {
		data := playground
		if opt.PlaygroundFiles != nil {
			local, files, err := localPlayground(opt.PlaygroundFiles)
			if err != nil {
				opt.Logger.Warn("the Playground loads its files from the CDN: no usable local copy", slog.String("reason", err.Error()))
			} else {
				data = local
				mux.Handle("GET "+playgroundAssetPath, playgroundAssets(files))
			}
		}
		mux.Handle("GET /{$}", playgroundHandler(data))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		noRoute(w)
	})
	copt := cors.Options{
		AllowedOrigins:   opt.AllowedOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: false,
		MaxAge:           600,
	}
	if len(opt.AllowedOrigins) == 0 {
		// rs/cors allows every origin when given none; we mean none.
		copt.AllowOriginFunc = func(string) bool { return false }
	}
	return requestLog(opt.Logger, cors.New(copt).Handler(mux))
}

// validRequestID reports whether a client's X-Request-Id may be kept: 1 to
// 64 of A-Z a-z 0-9 . _ = + / - (API Gateway's request ids are base64).
// A loop, not a regexp: the repetition {1,64} compiled at package init cost
// every cold start about a millisecond, and matching it every request.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '=', c == '+', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestLog gives each request an id, echoes it in X-Request-Id, and logs
// one structured line when the request ends, with whatever the handlers
// recorded (operation, property id) along the way.
func requestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		ctx := reqlog.New(r.Context())
		reqlog.Add(ctx, slog.String("requestId", id))
		w.Header().Set("X-Request-Id", id)
		rec := NewRecorder(w)
		defer func() {
			if v := recover(); v != nil {
				log.LogAttrs(ctx, slog.LevelError, "panic", append(reqlog.Attrs(ctx), slog.Any("panic", v))...)
				if !rec.Wrote() {
					apierr.Write(rec, http.StatusInternalServerError, apierr.Internal, "Internal error.")
				}
			}
			attrs := append(reqlog.Attrs(ctx),
				slog.String("method", r.Method), reqlog.String("path", r.URL.Path),
				slog.Int("status", rec.Status()), slog.Duration("duration", time.Since(start)))
			log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// noRoute answers a path the API does not serve.
func noRoute(w http.ResponseWriter) {
	apierr.Write(w, http.StatusNotFound, apierr.NotFound, "No such route; the API is at /graphql.")
}

// Recorder is an http.ResponseWriter that remembers whether a handler wrote
// anything and with which status: the request log reports it, and the
// Lambda gateway supplies net/http's implicit 200 when nothing was written.
type Recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// NewRecorder wraps w.
func NewRecorder(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, status: http.StatusOK}
}

// Status is the status written first, or 200 (net/http's implicit one).
func (s *Recorder) Status() int { return s.status }

// Wrote reports whether a status or body has been written.
func (s *Recorder) Wrote() bool { return s.wrote }

func (s *Recorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *Recorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *Recorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
