// Command lambda serves the Property API: behind API Gateway when started by
// the Lambda runtime (AWS_LAMBDA_RUNTIME_API set), otherwise over HTTP on
// 127.0.0.1:$PORT with the Playground at /.
package main

import (
	"context"
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
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/propertyhq/property/cursor"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/graph"
	"github.com/propertyhq/property/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "property api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	h, err := newHandler(context.Background(), cfg, log)
	if err != nil {
		return err
	}
	if cfg.Lambda {
		lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
		return nil
	}
	return serve(cfg, h, log)
}

// newHandler wires configuration, SDK clients and the GraphQL schema into
// the one handler both modes serve. It runs once per process.
func newHandler(ctx context.Context, cfg config, log *slog.Logger) (http.Handler, error) {
	codec := cursor.NewRandom(cfg.CursorTTL)
	if len(cfg.CursorSecrets) > 0 {
		var err error
		if codec, err = cursor.New(cfg.CursorSecrets, cfg.CursorTTL); err != nil {
			return nil, err
		}
	} else {
		log.Warn("CURSOR_SECRET is not set: cursors are signed with a random key and die with this process")
	}
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Region: cfg.Region, Endpoint: cfg.DynamoEndpoint, Timeout: cfg.DynamoTimeout})
	if err != nil {
		return nil, err
	}
	store, err := dynamo.New(db, dynamo.Options{Table: cfg.Table, Cursors: codec, ReadCap: cfg.ListReadCap})
	if err != nil {
		return nil, err
	}
	gql := graph.NewHandler(&graph.Resolver{Store: store}, graph.Options{
		Introspection:   cfg.Playground,
		ComplexityLimit: cfg.ComplexityLimit,
		Logger:          log,
	})
	return server.New(server.Options{
		GraphQL:        gql,
		Logger:         log,
		AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Playground:     cfg.Playground,
	}), nil
}

// serve runs the handler on loopback until SIGINT or SIGTERM.
func serve(cfg config, h http.Handler, log *slog.Logger) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port))
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving", slog.String("url", "http://"+addr+"/"), slog.Bool("playground", cfg.Playground))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
