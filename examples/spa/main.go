// Command spa serves a single-page app, plain HTML and JavaScript
// (package site), that logs in to the example server's API on another
// origin and calls it with a token:
//
//	go run ./examples/server -cors-origin http://localhost:5173 &
//	go run ./examples/spa            # then open http://localhost:5173
//
// -addr is the address to listen on (default 127.0.0.1:5173) and -api the
// API's origin (default http://127.0.0.1:8080, the example server's). The
// origin the browser shows for the page (http://localhost:5173 here) must
// be one the API allows with -cors-origin: origins are compared as
// strings, so http://127.0.0.1:5173 is another one. See docs/cors.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authkit/auth/examples/spa/site"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "spa:", err)
		os.Exit(1)
	}
}

// run parses args and serves the app until ctx ends. If ready is not nil
// it receives the listening address.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("spa", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5173", "address to listen on")
	api := fs.String("api", "http://127.0.0.1:8080", "the API's `origin`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	h, err := site.Handler(*api)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	slog.New(slog.NewTextHandler(stderr, nil)).Info("listening", "addr", "http://"+ln.Addr().String(), "api", *api,
		"open", "http://localhost:"+port, "hint", "the API must allow the origin the browser shows: -cors-origin http://localhost:"+port)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
