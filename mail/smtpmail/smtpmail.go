// Package smtpmail sends mail through an SMTP server: its [Mailer] is a
// [mail.Mailer] that opens one connection per message, secures it with TLS
// (STARTTLS by default), authenticates with AUTH PLAIN when given
// credentials, and hands over the message as [mail.Message.WriteTo]
// renders it.
//
// It uses the standard library only ([net/smtp] over a connection it
// dials itself), so that a context's deadline or cancellation ends a send
// even when the server stalls.
package smtpmail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"

	"github.com/authkit/auth/mail"
)

// DefaultTimeout is the Config.Timeout used when it is zero.
const DefaultTimeout = 30 * time.Second

// Security says how a [Mailer] protects its connection to the server.
type Security int

// The kinds of [Security]. The zero value is StartTLS.
const (
	// StartTLS connects in plain text and upgrades with STARTTLS before
	// anything else; Send refuses to go on, with [ErrStartTLSUnavailable],
	// when the server does not offer it. The submission port, 587.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte. Port 465.
	ImplicitTLS
	// Insecure sends in plain text: for a relay on the same machine or
	// network only, chosen deliberately. New refuses credentials with it
	// unless the server's host is a loopback address or "localhost".
	Insecure
)

// String returns the constant's name.
func (s Security) String() string {
	switch s {
	case StartTLS:
		return "StartTLS"
	case ImplicitTLS:
		return "ImplicitTLS"
	case Insecure:
		return "Insecure"
	}
	return fmt.Sprintf("Security(%d)", int(s))
}

// Errors returned by Send. Callers compare with [errors.Is].
var (
	// ErrStartTLSUnavailable: Security is StartTLS and the server does not
	// offer STARTTLS. Nothing was sent.
	ErrStartTLSUnavailable = errors.New("smtpmail: server does not offer STARTTLS")

	// ErrAuthUnavailable: Username is set and the server does not offer
	// AUTH PLAIN. Nothing was sent.
	ErrAuthUnavailable = errors.New("smtpmail: server does not offer AUTH PLAIN")
)

// Config configures a [Mailer]. Only Addr is required; the zero value of
// every other field means the documented default.
type Config struct {
	// Addr is the server's "host:port", such as "smtp.example.com:587".
	// Required.
	Addr string

	// Username and Password, when Username is set, are sent with AUTH
	// PLAIN before each message. Default: no authentication.
	Username string
	Password string

	// From is the sender of messages whose From is empty, a plain address
	// (see [mail.ValidateAddress]). Default: none; every message must
	// then name its sender.
	From string

	// Security says how the connection is protected. Default: StartTLS.
	Security Security

	// TLSConfig configures TLS for StartTLS and ImplicitTLS; New copies
	// it. Default: the system's roots, TLS 1.2 at least. An empty
	// ServerName becomes the host of Addr.
	TLSConfig *tls.Config

	// Timeout bounds the dial and the whole conversation of one Send,
	// unless the context's deadline comes earlier. Default:
	// [DefaultTimeout].
	Timeout time.Duration

	// LocalName is the name the Mailer gives itself in EHLO. Default:
	// "localhost".
	LocalName string
}

// Mailer sends messages through the SMTP server of its Config. It is
// immutable and safe for concurrent use.
type Mailer struct {
	cfg  Config
	host string
	tls  *tls.Config
}

var _ mail.Mailer = (*Mailer)(nil)

// New validates cfg, fills in its defaults and returns a Mailer. It does
// not connect to the server.
func New(cfg Config) (*Mailer, error) {
	if cfg.Addr == "" {
		return nil, errors.New("smtpmail: Config.Addr is required")
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtpmail: Config.Addr %q: %w", cfg.Addr, err)
	}
	if host == "" || port == "" {
		return nil, fmt.Errorf("smtpmail: Config.Addr %q needs both a host and a port", cfg.Addr)
	}
	if cfg.From != "" {
		if err := mail.ValidateAddress(cfg.From); err != nil {
			return nil, fmt.Errorf("smtpmail: Config.From: %w", err)
		}
	}
	switch cfg.Security {
	case StartTLS, ImplicitTLS, Insecure:
	default:
		return nil, fmt.Errorf("smtpmail: unknown Config.Security %v", cfg.Security)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("smtpmail: Config.Password is set without a Username")
	}
	if strings.ContainsRune(cfg.Username, 0) || strings.ContainsRune(cfg.Password, 0) {
		return nil, errors.New("smtpmail: Config.Username and Password must not contain NUL")
	}
	if cfg.Username != "" && cfg.Security == Insecure && !isLoopback(host) {
		return nil, fmt.Errorf("smtpmail: refusing to send credentials unencrypted to %q, which is not a loopback host: use StartTLS or ImplicitTLS", host)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("smtpmail: negative Config.Timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if strings.ContainsAny(cfg.LocalName, "\r\n ") {
		return nil, fmt.Errorf("smtpmail: Config.LocalName %q contains a space or line break", cfg.LocalName)
	}

	var tc *tls.Config
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	cfg.TLSConfig = nil // the copy in tc is the one used
	return &Mailer{cfg: cfg, host: host, tls: tc}, nil
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback IP address. It does not resolve names.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send renders msg, its From defaulting to Config.From, and sends it over
// a new connection: TLS as Config.Security says, AUTH PLAIN when
// Config.Username is set, then MAIL FROM, RCPT TO, DATA and QUIT. An
// invalid message is refused before connecting, with the error of
// [mail.Message.WriteTo].
//
// Send gives up when ctx is done or Config.Timeout has passed, whichever
// comes first, even if the server stalls: it closes the connection and
// returns an error wrapping [context.DeadlineExceeded] or
// [context.Canceled]. Once the server has accepted the message after DATA,
// Send reports success even if QUIT then fails.
func (m *Mailer) Send(ctx context.Context, msg *mail.Message) error {
	if msg == nil {
		return mail.ErrNilMessage
	}
	mm := *msg
	if mm.From == "" {
		mm.From = m.cfg.From
	}
	var data bytes.Buffer
	if _, err := mm.WriteTo(&data); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtpmail: %w", err)
	}
	return m.send(ctx, mm.From, mm.To, data.Bytes())
}

// send holds one SMTP conversation that delivers data from from to to.
// ctx has a deadline.
func (m *Mailer) send(ctx context.Context, from, to string, data []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fail(ctx, "dial", err)
	}
	defer conn.Close()
	// The deadline bounds every read and write; closing the connection
	// when ctx is done ends them at once on cancellation too.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return fail(ctx, "set deadline", err)
		}
	}

	c := conn
	if m.cfg.Security == ImplicitTLS {
		tc := tls.Client(conn, m.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(ctx, "TLS handshake", err)
		}
		c = tc
	}
	client, err := smtp.NewClient(c, m.host)
	if err != nil {
		return fail(ctx, "greeting", err)
	}
	defer client.Close()
	if err := client.Hello(m.cfg.LocalName); err != nil {
		return fail(ctx, "EHLO", err)
	}
	if m.cfg.Security == StartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			_ = client.Quit()
			return fmt.Errorf("%w: %s", ErrStartTLSUnavailable, m.cfg.Addr)
		}
		if err := client.StartTLS(m.tls); err != nil {
			return fail(ctx, "STARTTLS", err)
		}
	}
	if m.cfg.Username != "" {
		ok, mechs := client.Extension("AUTH")
		if !ok || !hasWord(mechs, "PLAIN") {
			_ = client.Quit()
			return fmt.Errorf("%w: %s", ErrAuthUnavailable, m.cfg.Addr)
		}
		if err := client.Auth(plainAuth{m.cfg.Username, m.cfg.Password, m.host}); err != nil {
			return fail(ctx, "AUTH", err)
		}
	}
	if err := client.Mail(from); err != nil {
		return fail(ctx, "MAIL FROM", err)
	}
	if err := client.Rcpt(to); err != nil {
		return fail(ctx, "RCPT TO", err)
	}
	w, err := client.Data()
	if err != nil {
		return fail(ctx, "DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		return fail(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail(ctx, "DATA", err)
	}
	_ = client.Quit() // the message is accepted: a failed QUIT changes nothing
	return nil
}

// fail wraps err from step, and ctx's error when that is why it failed:
// ctx is done, or the connection's deadline, which is ctx's, has passed
// (a read can see the deadline before ctx's timer fires).
func fail(ctx context.Context, step string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("smtpmail: %s: %w (%w)", step, cerr, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("smtpmail: %s: %w (%w)", step, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("smtpmail: %s: %w", step, err)
}

// hasWord reports whether the space-separated list s contains word, in
// any case.
func hasWord(s, word string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, word) {
			return true
		}
	}
	return false
}

// plainAuth is AUTH PLAIN (RFC 4616) with an empty authorization
// identity. Unlike [smtp.PlainAuth] it accepts every loopback address, as
// New does; it still refuses an unencrypted connection to any other host.
type plainAuth struct {
	username, password, host string
}

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(a.host) {
		return "", nil, errors.New("smtpmail: refusing AUTH over an unencrypted connection")
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("smtpmail: unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}
