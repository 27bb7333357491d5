package smtpmail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

// testTimeout bounds every Send of these tests that is expected to return
// on its own: far longer than any of them takes.
const testTimeout = 20 * time.Second

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     smtpmail.Config
		wantErr string // "" for success
	}{
		{name: "minimal", cfg: smtpmail.Config{Addr: "smtp.example.com:587"}},
		{name: "full", cfg: smtpmail.Config{Addr: "smtp.example.com:465", Username: "u", Password: "p", From: "app@example.com", Security: smtpmail.ImplicitTLS, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS13}, Timeout: time.Second, LocalName: "app.example.com"}},
		{name: "insecure relay", cfg: smtpmail.Config{Addr: "relay.internal:25", Security: smtpmail.Insecure}},
		{name: "insecure auth on 127.0.0.1", cfg: smtpmail.Config{Addr: "127.0.0.1:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}},
		{name: "insecure auth on 127.0.0.2", cfg: smtpmail.Config{Addr: "127.0.0.2:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}},
		{name: "insecure auth on localhost", cfg: smtpmail.Config{Addr: "localhost:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}},
		{name: "insecure auth on ::1", cfg: smtpmail.Config{Addr: "[::1]:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}},
		{name: "no Addr", cfg: smtpmail.Config{}, wantErr: "Addr is required"},
		{name: "Addr without port", cfg: smtpmail.Config{Addr: "smtp.example.com"}, wantErr: "Config.Addr"},
		{name: "Addr without host", cfg: smtpmail.Config{Addr: ":587"}, wantErr: "host and a port"},
		{name: "Addr with empty port", cfg: smtpmail.Config{Addr: "smtp.example.com:"}, wantErr: "host and a port"},
		{name: "From with display name", cfg: smtpmail.Config{Addr: "smtp.example.com:587", From: "App <app@example.com>"}, wantErr: "Config.From"},
		{name: "From with CRLF", cfg: smtpmail.Config{Addr: "smtp.example.com:587", From: "app@example.com\r\nBcc: eve@example.net"}, wantErr: "Config.From"},
		{name: "insecure auth on a remote host", cfg: smtpmail.Config{Addr: "smtp.example.com:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}, wantErr: "unencrypted"},
		{name: "insecure auth on a private address", cfg: smtpmail.Config{Addr: "10.0.0.1:25", Security: smtpmail.Insecure, Username: "u", Password: "p"}, wantErr: "unencrypted"},
		{name: "Password without Username", cfg: smtpmail.Config{Addr: "smtp.example.com:587", Password: "p"}, wantErr: "without a Username"},
		{name: "NUL in Password", cfg: smtpmail.Config{Addr: "smtp.example.com:587", Username: "u", Password: "p\x00q"}, wantErr: "NUL"},
		{name: "unknown Security", cfg: smtpmail.Config{Addr: "smtp.example.com:587", Security: 7}, wantErr: "Security(7)"},
		{name: "negative Timeout", cfg: smtpmail.Config{Addr: "smtp.example.com:587", Timeout: -time.Second}, wantErr: "Timeout"},
		{name: "LocalName with CRLF", cfg: smtpmail.Config{Addr: "smtp.example.com:587", LocalName: "x\r\nRSET"}, wantErr: "LocalName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := smtpmail.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Mailer", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "smtpmail: ") {
				t.Fatalf("New error = %v, want \"smtpmail: ...%s...\"", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.cfg.Password) && tt.cfg.Password != "" && tt.cfg.Password != "p" {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestSecurityString(t *testing.T) {
	for s, want := range map[smtpmail.Security]string{
		smtpmail.StartTLS: "StartTLS", smtpmail.ImplicitTLS: "ImplicitTLS", smtpmail.Insecure: "Insecure", 9: "Security(9)",
	} {
		if got := s.String(); got != want {
			t.Errorf("Security(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

// newMailer returns a Mailer for srv: cfg with srv's address and, for a
// TLS server, its certificate trusted.
func newMailer(t *testing.T, srv *smtptest.Server, cfg smtpmail.Config) *smtpmail.Mailer {
	t.Helper()
	cfg.Addr = srv.Addr
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = srv.ClientTLSConfig()
	}
	m, err := smtpmail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sendWithin calls m.Send with ctx and fails the test if it does not
// return within testTimeout.
func sendWithin(t *testing.T, ctx context.Context, m *smtpmail.Mailer, msg *mail.Message) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, msg) }()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		t.Fatalf("Send did not return within %v", testTimeout)
		return nil
	}
}

func TestSend(t *testing.T) {
	msg := &mail.Message{
		To:      "zoe@example.org",
		Subject: "Bienvenue, Zoë — confirmez votre compte",
		Text:    "Bonjour Zoë,\n\nConfirm: https://example.com/confirm/tok-123_ABC.\n.\n",
		HTML:    `<p>Bonjour Zoë, <a href="https://example.com/confirm/tok-123_ABC">confirm</a>.</p>`,
	}
	tests := []struct {
		name   string
		server smtptest.Config
		cfg    smtpmail.Config
	}{
		{name: "insecure to loopback", cfg: smtpmail.Config{Security: smtpmail.Insecure}},
		{name: "STARTTLS", server: smtptest.Config{TLS: smtptest.StartTLS}},
		{name: "implicit TLS", server: smtptest.Config{TLS: smtptest.ImplicitTLS}, cfg: smtpmail.Config{Security: smtpmail.ImplicitTLS}},
		{name: "AUTH PLAIN over STARTTLS", server: smtptest.Config{TLS: smtptest.StartTLS, Username: "app", Password: "s3cret"}, cfg: smtpmail.Config{Username: "app", Password: "s3cret"}},
		{name: "AUTH PLAIN over implicit TLS", server: smtptest.Config{TLS: smtptest.ImplicitTLS, Username: "app", Password: "s3cret"}, cfg: smtpmail.Config{Security: smtpmail.ImplicitTLS, Username: "app", Password: "s3cret"}},
		{name: "AUTH PLAIN insecure to loopback", server: smtptest.Config{Username: "app", Password: "s3cret"}, cfg: smtpmail.Config{Security: smtpmail.Insecure, Username: "app", Password: "s3cret"}},
		{name: "LocalName and short Timeout", server: smtptest.Config{TLS: smtptest.StartTLS}, cfg: smtpmail.Config{LocalName: "app.example.com", Timeout: testTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.server)
			cfg := tt.cfg
			cfg.From = "accounts@example.com"
			m := newMailer(t, srv, cfg)
			if err := sendWithin(t, context.Background(), m, msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Wait(t, 1)
			if len(got) != 1 {
				t.Fatalf("%d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "accounts@example.com" || len(r.To) != 1 || r.To[0] != msg.To {
				t.Errorf("envelope %q -> %q, want accounts@example.com -> %s", r.From, r.To, msg.To)
			}
			if h := r.Header.Get("From"); h != "accounts@example.com" {
				t.Errorf("From: %q", h)
			}
			if h := r.Header.Get("To"); h != msg.To {
				t.Errorf("To: %q", h)
			}
			if r.Subject != msg.Subject {
				t.Errorf("Subject = %q, want %q", r.Subject, msg.Subject)
			}
			if r.Text != msg.Text {
				t.Errorf("Text = %q, want %q", r.Text, msg.Text)
			}
			if r.HTML != msg.HTML {
				t.Errorf("HTML = %q, want %q", r.HTML, msg.HTML)
			}
			if link := smtptest.LinkIn(t, r.Text, "https://example.com/confirm/"); link != "https://example.com/confirm/tok-123_ABC" {
				t.Errorf("link = %q", link)
			}
		})
	}
}

func TestSendMessageFrom(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	tests := []struct {
		name             string
		cfgFrom, msgFrom string
		want             string
		wantErr          error
	}{
		{name: "message From wins", cfgFrom: "accounts@example.com", msgFrom: "other@example.com", want: "other@example.com"},
		{name: "Config.From by default", cfgFrom: "accounts@example.com", want: "accounts@example.com"},
		{name: "no sender", wantErr: mail.ErrInvalidAddress},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMailer(t, srv, smtpmail.Config{Security: smtpmail.Insecure, From: tt.cfgFrom})
			err := sendWithin(t, context.Background(), m, &mail.Message{From: tt.msgFrom, To: "bob@example.org", Subject: fmt.Sprint(i), Text: "plain only"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Send error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var r *smtptest.Received
			for _, got := range srv.Wait(t, 1) {
				if got.Subject == fmt.Sprint(i) {
					r = &got
				}
			}
			if r == nil {
				t.Fatal("message not received")
			}
			if r.From != tt.want || r.Header.Get("From") != tt.want {
				t.Errorf("sender %q (header %q), want %q", r.From, r.Header.Get("From"), tt.want)
			}
			if r.Text != "plain only" || r.HTML != "" {
				t.Errorf("Text %q HTML %q", r.Text, r.HTML)
			}
		})
	}
}

func TestSendRefused(t *testing.T) {
	valid := &mail.Message{To: "bob@example.org", Subject: "Hello", Text: "body"}
	tests := []struct {
		name    string
		server  smtptest.Config
		cfg     smtpmail.Config
		noTrust bool // leave the server's certificate untrusted
		msg     *mail.Message
		wantErr error  // errors.Is target, or nil
		wantIn  string // substring of the error, or ""
	}{
		{
			name:   "wrong password",
			server: smtptest.Config{TLS: smtptest.StartTLS, Username: "app", Password: "s3cret"},
			cfg:    smtpmail.Config{Username: "app", Password: "wrong"},
			msg:    valid,
			wantIn: "535",
		},
		{
			name:   "wrong password, insecure loopback",
			server: smtptest.Config{Username: "app", Password: "s3cret"},
			cfg:    smtpmail.Config{Security: smtpmail.Insecure, Username: "app", Password: "wrong"},
			msg:    valid,
			wantIn: "AUTH",
		},
		{
			name:   "no credentials for a server that wants them",
			server: smtptest.Config{TLS: smtptest.StartTLS, Username: "app", Password: "s3cret"},
			msg:    valid,
			wantIn: "MAIL FROM",
		},
		{
			name:    "StartTLS required, server lacks it",
			server:  smtptest.Config{},
			msg:     valid,
			wantErr: smtpmail.ErrStartTLSUnavailable,
		},
		{
			name:    "credentials, server offers no AUTH",
			server:  smtptest.Config{TLS: smtptest.StartTLS},
			cfg:     smtpmail.Config{Username: "app", Password: "s3cret"},
			msg:     valid,
			wantErr: smtpmail.ErrAuthUnavailable,
		},
		{
			name:    "untrusted certificate, STARTTLS",
			server:  smtptest.Config{TLS: smtptest.StartTLS},
			noTrust: true,
			msg:     valid,
			wantIn:  "STARTTLS",
		},
		{
			name:    "untrusted certificate, implicit TLS",
			server:  smtptest.Config{TLS: smtptest.ImplicitTLS},
			cfg:     smtpmail.Config{Security: smtpmail.ImplicitTLS},
			noTrust: true,
			msg:     valid,
			wantIn:  "TLS handshake",
		},
		{
			name:   "certificate for another name",
			server: smtptest.Config{TLS: smtptest.ImplicitTLS},
			cfg:    smtpmail.Config{Security: smtpmail.ImplicitTLS},
			msg:    valid,
			wantIn: "smtp.example.com",
		},
		{
			name:    "header injection in Subject",
			cfg:     smtpmail.Config{Security: smtpmail.Insecure},
			msg:     &mail.Message{To: "bob@example.org", Subject: "Hello\r\nBcc: eve@example.net", Text: "body"},
			wantErr: mail.ErrHeaderInjection,
		},
		{
			name:    "header injection in To",
			cfg:     smtpmail.Config{Security: smtpmail.Insecure},
			msg:     &mail.Message{To: "bob@example.org\r\nBcc: eve@example.net", Text: "body"},
			wantErr: mail.ErrHeaderInjection,
		},
		{
			name:    "header injection in From",
			cfg:     smtpmail.Config{Security: smtpmail.Insecure},
			msg:     &mail.Message{From: "app@example.com\nBcc: eve@example.net", To: "bob@example.org", Text: "body"},
			wantErr: mail.ErrHeaderInjection,
		},
		{
			name:    "recipient with display name",
			cfg:     smtpmail.Config{Security: smtpmail.Insecure},
			msg:     &mail.Message{To: "Bob <bob@example.org>", Text: "body"},
			wantErr: mail.ErrInvalidAddress,
		},
		{
			name:    "nil message",
			cfg:     smtpmail.Config{Security: smtpmail.Insecure},
			wantErr: mail.ErrNilMessage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.server)
			cfg := tt.cfg
			cfg.From = "accounts@example.com"
			switch {
			case tt.noTrust:
				cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			case tt.wantIn == "smtp.example.com":
				cfg.TLSConfig = srv.ClientTLSConfig()
				cfg.TLSConfig.ServerName = "smtp.example.com"
			}
			m := newMailer(t, srv, cfg)
			err := sendWithin(t, context.Background(), m, tt.msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Send error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Send error = %v, want it to mention %q", err, tt.wantIn)
			}
			if !strings.HasPrefix(err.Error(), "smtpmail: ") && !strings.HasPrefix(err.Error(), "mail: ") {
				t.Errorf("Send error %q has no package prefix", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Send error %q shows the password", err)
			}
			if got := srv.Messages(); len(got) != 0 {
				t.Errorf("server received %d messages", len(got))
			}
		})
	}
}

// TestSendAuthErrorCode checks that a refused AUTH keeps the server's reply
// for errors.As.
func TestSendAuthErrorCode(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{TLS: smtptest.StartTLS, Username: "app", Password: "s3cret"})
	m := newMailer(t, srv, smtpmail.Config{From: "accounts@example.com", Username: "app", Password: "wrong"})
	err := sendWithin(t, context.Background(), m, &mail.Message{To: "bob@example.org"})
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 535 {
		t.Fatalf("Send error = %v, want a 535 reply", err)
	}
}

// TestSendStalled sends to a server that accepts the connection and never
// answers: Send must give up at the deadline of its context, or of
// Config.Timeout, with an error wrapping the context's.
func TestSendStalled(t *testing.T) {
	tests := []struct {
		name     string
		security smtpmail.Security
		timeout  time.Duration // Config.Timeout
		ctx      func() (context.Context, context.CancelFunc)
		want     error
	}{
		{
			name:     "ctx deadline, greeting",
			security: smtpmail.Insecure,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name:     "ctx deadline, STARTTLS",
			security: smtpmail.StartTLS,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name:     "ctx deadline, TLS handshake",
			security: smtpmail.ImplicitTLS,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name:     "Config.Timeout, no ctx deadline",
			security: smtpmail.Insecure,
			timeout:  200 * time.Millisecond,
			ctx:      func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			want:     context.DeadlineExceeded,
		},
		{
			name:     "ctx deadline earlier than Config.Timeout",
			security: smtpmail.ImplicitTLS,
			timeout:  time.Hour,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name:     "ctx canceled",
			security: smtpmail.Insecure,
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: context.Canceled,
		},
		{
			name:     "ctx canceled during TLS handshake",
			security: smtpmail.ImplicitTLS,
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: context.Canceled,
		},
		{
			name:     "ctx done before Send",
			security: smtpmail.Insecure,
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := smtptest.Silent(t)
			m, err := smtpmail.New(smtpmail.Config{Addr: addr, From: "accounts@example.com", Security: tt.security, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			err = sendWithin(t, ctx, m, &mail.Message{To: "bob@example.org", Subject: "s", Text: "t"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send error = %v, want one wrapping %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "smtpmail: ") {
				t.Errorf("Send error %q has no package prefix", err)
			}
		})
	}
}

// TestSendDialRefused dials a port nobody listens on.
func TestSendDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	m, err := smtpmail.New(smtpmail.Config{Addr: addr, From: "accounts@example.com", Security: smtpmail.Insecure})
	if err != nil {
		t.Fatal(err)
	}
	err = sendWithin(t, context.Background(), m, &mail.Message{To: "bob@example.org"})
	if err == nil || !strings.HasPrefix(err.Error(), "smtpmail: dial") {
		t.Fatalf("Send error = %v, want a dial error", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{TLS: smtptest.StartTLS, Username: "app", Password: "s3cret"})
	m := newMailer(t, srv, smtpmail.Config{From: "accounts@example.com", Username: "app", Password: "s3cret"})
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- m.Send(context.Background(), &mail.Message{To: fmt.Sprintf("user%d@example.org", i), Subject: fmt.Sprint(i), Text: "t"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.Wait(t, n); len(got) != n {
		t.Errorf("%d messages, want %d", len(got), n)
	}
}
