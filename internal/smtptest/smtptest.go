// Package smtptest runs a real SMTP server on the loopback interface for
// the module's tests, built on github.com/emersion/go-smtp, and parses
// what it receives so that a test can take a link out of a message.
//
// It is imported by tests only, never by code that ships: the go-smtp
// dependency reaches no user of the module's packages.
//
// # Use
//
//	srv := smtptest.Start(t, smtptest.Config{TLS: smtptest.StartTLS})
//	// ... send a message to srv.Addr, trusting srv.ClientTLSConfig() ...
//	msg := srv.Wait(t, 1)[0]
//	link := smtptest.LinkIn(t, msg.Text, "https://example.com/confirm/")
package smtptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// WaitTimeout is how long [Server.Wait] waits for messages before it fails
// the test.
const WaitTimeout = 10 * time.Second

// TLSMode says whether and how a [Server] speaks TLS.
type TLSMode int

// The TLS modes of a [Server].
const (
	// NoTLS: plain SMTP, STARTTLS not offered, AUTH allowed in the clear.
	NoTLS TLSMode = iota
	// StartTLS: plain SMTP offering STARTTLS; AUTH only after it.
	StartTLS
	// ImplicitTLS: TLS from the first byte, as on port 465.
	ImplicitTLS
)

// Config configures a [Server]. The zero value is a plain server that
// accepts every message without authentication.
type Config struct {
	// TLS selects plain SMTP, STARTTLS or implicit TLS. A TLS server
	// presents a self-signed certificate, made for it, for the names
	// localhost, 127.0.0.1 and ::1; [Server.ClientTLSConfig] trusts it.
	TLS TLSMode
	// Username and Password, when Username is set, are the only
	// credentials AUTH PLAIN accepts, and MAIL FROM is refused before a
	// successful AUTH.
	Username, Password string
}

// Server is a running SMTP server that records every message it accepts.
// Start stops it when the test ends. Its methods are safe for concurrent
// use.
type Server struct {
	// Addr is the host:port the server listens on, on 127.0.0.1.
	Addr string

	cfg       Config
	clientTLS *tls.Config

	mu      sync.Mutex
	msgs    []Received
	changed chan struct{} // closed and replaced when a message arrives
}

// Start starts a server configured by cfg on a free loopback port and
// registers its shutdown with t.Cleanup. It fails the test if the server
// cannot start.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{cfg: cfg, changed: make(chan struct{})}

	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout = WaitTimeout
	srv.WriteTimeout = WaitTimeout
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 10
	srv.AllowInsecureAuth = cfg.TLS == NoTLS
	logger := &testLogger{t: t}
	srv.ErrorLog = logger

	base, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	tracked := &trackingListener{Listener: base, conns: make(map[*trackedConn]struct{})}
	var ln net.Listener = tracked
	switch cfg.TLS {
	case NoTLS:
	case StartTLS, ImplicitTLS:
		serverTLS, clientTLS, err := newTLSConfigs()
		if err != nil {
			_ = base.Close()
			t.Fatalf("smtptest: %v", err)
		}
		s.clientTLS = clientTLS
		if cfg.TLS == StartTLS {
			srv.TLSConfig = serverTLS
		} else {
			ln = tls.NewListener(tracked, serverTLS)
		}
	default:
		_ = base.Close()
		t.Fatalf("smtptest: unknown TLSMode %d", cfg.TLS)
	}
	s.Addr = base.Addr().String()

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Stop accepting, end every conversation, then wait for the
		// connection goroutines to return, so none outlives the test.
		_ = base.Close()
		tracked.closeAll()
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		defer cancel()
		// Shutdown closes the listeners again, which fails harmlessly;
		// only its wait matters.
		if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("smtptest: connections still open %v after shutdown", WaitTimeout)
		}
		<-served
		logger.stop()
	})
	return s
}

// ClientTLSConfig returns a new TLS client configuration that trusts the
// server's certificate, or nil for a NoTLS server. Its ServerName is empty:
// the client sets it, or derives it from the address it dials.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Wait waits up to [WaitTimeout] until the server has received at least n
// messages and returns them all, oldest first. It fails the test if they
// do not arrive in time.
func (s *Server) Wait(t testing.TB, n int) []Received {
	t.Helper()
	timer := time.NewTimer(WaitTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		got, changed := len(s.msgs), s.changed
		if got >= n {
			msgs := slices.Clone(s.msgs)
			s.mu.Unlock()
			return msgs
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("smtptest: %d messages received in %v, want %d", got, WaitTimeout, n)
			return nil
		}
	}
}

// add records a received message and wakes the waiters.
func (s *Server) add(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

// backend makes a session per connection.
type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s}, nil
}

// session is one SMTP conversation. go-smtp calls its methods from the
// connection's goroutine only.
type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.cfg.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) ||
			username != ss.s.cfg.Username || password != ss.s.cfg.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.cfg.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{
			Code:         554,
			EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message:      fmt.Sprintf("smtptest: malformed message: %v", err),
		}
	}
	rec.From, rec.To = ss.from, slices.Clone(ss.to)
	ss.s.add(rec)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// testLogger sends go-smtp's error log to t.Logf until the test's cleanup,
// after which t must not be used.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("smtptest: "+format, v...)
	}
}

func (l *testLogger) Println(v ...interface{}) {
	l.Printf("%s", fmt.Sprintln(v...))
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// trackingListener remembers the connections it accepted, so that the
// cleanup can close them all.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every connection still open, and any accepted later.
func (l *trackingListener) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackedConn leaves its listener's set when closed.
type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// Silent starts a TCP listener on a free loopback port that accepts
// connections and never answers, not even with a greeting: a stalled
// server, for testing a client's deadlines. It returns the listener's
// host:port; the listener and its connections close when the test ends.
func Silent(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}
