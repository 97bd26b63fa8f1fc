// Command lambda serves the Property API: behind API Gateway when started by
// the Lambda runtime (AWS_LAMBDA_RUNTIME_API set), otherwise over HTTP on
// 127.0.0.1:$PORT with the Playground at /. Built as `bootstrap` for the
// provided.al2023 runtime (make build).
//
// Everything expensive (configuration, SDK clients, the GraphQL schema) is
// built once per process, before the first event; each event only runs the
// handler.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/propertyhq/property/api"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "property api:", err)
		if addr := os.Getenv("AWS_LAMBDA_RUNTIME_API"); addr != "" {
			if rerr := reportInitError(addr, err); rerr != nil {
				fmt.Fprintln(os.Stderr, "property api: report init error:", rerr)
			}
		}
		os.Exit(1)
	}
}

func run() error {
	start := time.Now()
	cfg, err := api.LoadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	// Locally the port is taken first, so a busy one fails before anything
	// starts or claims to serve.
	var ln net.Listener
	var signals <-chan stopContext
	if !cfg.Lambda {
		if ln, err = listen(cfg.Port); err != nil {
			return err
		}
		defer ln.Close()
		signals = notifyStop()
	}
	h, err := api.NewHandler(context.Background(), cfg, log)
	if err != nil {
		return err
	}
	// Once per process: how long main took to build the handler (cold
	// start = the runtime and package init before main, this, the first
	// request).
	log.Info("ready", slog.Float64("handler_ms", float64(time.Since(start).Microseconds())/1000))
	if cfg.Lambda {
		lambda.Start(gateway(h, log, cfg.DeadlineMargin))
		return nil
	}
	return serve(cfg, ln, h, log, <-signals)
}

// stopContext is done at SIGINT or SIGTERM; stop releases the signals.
type stopContext struct {
	ctx  context.Context
	stop context.CancelFunc
}

// notifyStop registers SIGINT and SIGTERM while the caller goes on: the
// process's first signal.Notify waits for the runtime to start its signal
// thread, 1 to 2 ms of a local cold start that building the handler now
// overlaps.
func notifyStop() <-chan stopContext {
	c := make(chan stopContext, 1)
	go func() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		c <- stopContext{ctx, stop}
	}()
	return c
}

// listen takes 127.0.0.1:port, saying how to pick another when it is taken.
func listen(port int) (net.Listener, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		other := port + 1
		if port == 8080 {
			other = 18080
		}
		return nil, fmt.Errorf("%s is already in use: stop what holds it, or pick another port, e.g. PORT=%d make dev", addr, other)
	}
	return ln, err
}

// serve runs the handler on ln until SIGINT or SIGTERM.
func serve(cfg api.Config, ln net.Listener, h http.Handler, log *slog.Logger, sig stopContext) error {
	limitLocalMemory(os.Getenv)
	url := "http://" + ln.Addr().String() + "/"
	// Twice MAX_IN_FLIGHT connections: as many requests as run, as many
	// again read and waiting for a turn; other clients wait in the kernel.
	conns := &connLimit{n: 2 * cfg.MaxInFlight}
	ln = conns.listener(ln)
	srv := &http.Server{
		Handler:           conns.handler(limitInFlight(h, cfg.MaxInFlight)),
		ConnState:         conns.track,
		ReadHeaderTimeout: 10 * time.Second,
		// A kept-alive connection nobody uses gives its place back.
		IdleTimeout: time.Minute,
	}
	ctx := sig.ctx
	defer sig.stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	unannounce, err := api.Serving(cfg, url)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer unannounce()
	log.Info("serving", slog.String("url", url), slog.Bool("playground", cfg.Playground))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
