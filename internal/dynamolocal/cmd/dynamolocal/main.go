//go:build unix

// Command dynamolocal runs DynamoDB Local for development (scripts/dev.sh).
//
//	dynamolocal [-db DIR] [-port N] [-- COMMAND [ARG...]]
//
// It starts the engine (in memory unless -db is given; a relative DIR is
// relative to the project root), then runs COMMAND with DYNAMODB_ENDPOINT
// set to the engine's URL and exits with COMMAND's status, stopping the
// engine on the way out. Signals (Ctrl-C, SIGTERM, SIGHUP) are passed on to
// COMMAND's process group; a second one kills it. Without COMMAND it prints
// the endpoint and runs until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/propertyhq/property/internal/dynamolocal"
)

func main() {
	os.Exit(run())
}

func run() int {
	db := flag.String("db", "", "data directory (default: in memory)")
	port := flag.Int("port", 0, "port to listen on (default: a free one)")
	quiet := flag.Bool("q", false, "do not show the engine's output")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-db DIR] [-port N] [-q] [-- COMMAND [ARG...]]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()

	// Catch signals from the start so that a Ctrl-C while the engine boots
	// still stops it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)

	opt := dynamolocal.Options{DBPath: *db, Port: *port}
	if !*quiet {
		opt.Stdout, opt.Stderr = os.Stderr, os.Stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	e, err := dynamolocal.Start(ctx, opt)
	if ctx.Err() != nil {
		if e != nil {
			e.Stop()
		}
		return 130
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Stop()

	where := "in memory"
	if *db != "" {
		where = "data in " + *db
	}
	fmt.Fprintf(os.Stderr, "DynamoDB Local: %s (%s)\n", e.Endpoint(), where)

	if flag.NArg() == 0 {
		<-sigs
		return 0
	}

	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), dynamolocal.EnvEndpoint+"="+e.Endpoint())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	pgid := cmd.Process.Pid
	signals := 0
	for {
		select {
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &exit):
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return exit.ExitCode()
			default:
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		case sig := <-sigs:
			signals++
			s := sig.(syscall.Signal)
			if signals > 1 {
				fmt.Fprintln(os.Stderr, "dynamolocal: killing", flag.Arg(0))
				s = syscall.SIGKILL
			}
			_ = syscall.Kill(-pgid, s)
		}
	}
}
