package smtptest

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// message is a small multipart message as package mail writes them.
const message = "From: app@example.com\r\n" +
	"To: bob@example.org\r\n" +
	"Subject: =?utf-8?q?Bienvenue=2C_Zo=C3=AB?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Zo=C3=AB, confirm: https://example.com/confirm?t=3Dabc.\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<a href=3D\"https://example.com/confirm?t=3Dabc\">Zo=C3=AB</a>\r\n" +
	"--b1--\r\n"

// send sends message from app@example.com to bob@example.org over c.
func send(c *smtp.Client) error {
	if err := c.Mail("app@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("bob@example.org"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(message)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestServer(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		auth     smtp.Auth
		wantCode int // 0: the message is accepted
	}{
		{name: "plain", cfg: Config{}},
		{name: "STARTTLS", cfg: Config{TLS: StartTLS}},
		{name: "implicit TLS", cfg: Config{TLS: ImplicitTLS}},
		{name: "AUTH", cfg: Config{Username: "u", Password: "p"}, auth: smtp.PlainAuth("", "u", "p", "127.0.0.1")},
		{name: "AUTH over STARTTLS", cfg: Config{TLS: StartTLS, Username: "u", Password: "p"}, auth: smtp.PlainAuth("", "u", "p", "127.0.0.1")},
		{name: "AUTH wrong password", cfg: Config{Username: "u", Password: "p"}, auth: smtp.PlainAuth("", "u", "x", "127.0.0.1"), wantCode: 535},
		{name: "AUTH required", cfg: Config{Username: "u", Password: "p"}, wantCode: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := Start(t, tt.cfg)
			conn, err := net.DialTimeout("tcp", srv.Addr, WaitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(WaitTimeout))
			tlsCfg := srv.ClientTLSConfig()
			if (tlsCfg == nil) != (tt.cfg.TLS == NoTLS) {
				t.Fatalf("ClientTLSConfig() = %v for TLS mode %d", tlsCfg, tt.cfg.TLS)
			}
			if tlsCfg != nil {
				tlsCfg.ServerName = "127.0.0.1"
			}
			if tt.cfg.TLS == ImplicitTLS {
				conn = tls.Client(conn, tlsCfg)
			}
			c, err := smtp.NewClient(conn, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := c.Extension("STARTTLS"); ok != (tt.cfg.TLS == StartTLS) {
				t.Errorf("STARTTLS offered: %v", ok)
			}
			if tt.cfg.TLS == StartTLS {
				if err := c.StartTLS(tlsCfg); err != nil {
					t.Fatal(err)
				}
			}
			if tt.auth != nil {
				err = c.Auth(tt.auth)
			}
			if err == nil {
				err = send(c)
			}
			var perr *textproto.Error
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("send: %v", err)
			case tt.wantCode != 0 && (!errors.As(err, &perr) || perr.Code != tt.wantCode):
				t.Fatalf("send error = %v, want code %d", err, tt.wantCode)
			case tt.wantCode != 0:
				if got := srv.Messages(); len(got) != 0 {
					t.Errorf("server kept %d messages", len(got))
				}
				return
			}

			got := srv.Wait(t, 1)
			if len(got) != 1 {
				t.Fatalf("%d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "app@example.com" || len(r.To) != 1 || r.To[0] != "bob@example.org" {
				t.Errorf("envelope %q -> %q", r.From, r.To)
			}
			if r.Subject != "Bienvenue, Zoë" {
				t.Errorf("Subject = %q", r.Subject)
			}
			if want := "Zoë, confirm: https://example.com/confirm?t=abc."; r.Text != want {
				t.Errorf("Text = %q, want %q", r.Text, want)
			}
			if want := `<a href="https://example.com/confirm?t=abc">Zoë</a>`; r.HTML != want {
				t.Errorf("HTML = %q, want %q", r.HTML, want)
			}
			if !strings.HasPrefix(string(r.Raw), "From: app@example.com\r\n") {
				t.Errorf("Raw starts %q", r.Raw[:min(40, len(r.Raw))])
			}
			if link := LinkIn(t, r.Text, "https://example.com/confirm"); link != "https://example.com/confirm?t=abc" {
				t.Errorf("LinkIn = %q", link)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name             string
		raw              string
		subject          string
		text, html       string
		wantErrSubstring string
	}{
		{
			name:    "no Content-Type",
			raw:     "Subject: hi\r\n\r\nline one\r\nline two\r\n",
			subject: "hi", text: "line one\nline two\n",
		},
		{
			name: "base64 text",
			raw:  "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\naMOpbGxv\r\nCg==\r\n",
			text: "héllo\n",
		},
		{
			name: "nested multipart",
			raw: "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n" +
				"Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n" +
				"Content-Type: text/plain\r\n\r\ninner text\r\n--i\r\n" +
				"Content-Type: text/html\r\n\r\n<p>inner</p>\r\n--i--\r\n--o\r\n" +
				"Content-Type: text/plain\r\n\r\nsecond text is ignored\r\n--o--\r\n",
			text: "inner text", html: "<p>inner</p>",
		},
		{
			name:             "unsupported charset",
			raw:              "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nx\r\n",
			wantErrSubstring: "charset",
		},
		{
			name:             "multipart without boundary",
			raw:              "Content-Type: multipart/alternative\r\n\r\nx\r\n",
			wantErrSubstring: "boundary",
		},
		{
			name:             "malformed header",
			raw:              "no colon here\r\n\r\nbody\r\n",
			wantErrSubstring: "smtptest:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.raw))
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("Parse error = %v, want one mentioning %q", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tt.subject || r.Text != tt.text || r.HTML != tt.html {
				t.Errorf("Parse = %q %q %q, want %q %q %q", r.Subject, r.Text, r.HTML, tt.subject, tt.text, tt.html)
			}
		})
	}
}

func TestLinkIn(t *testing.T) {
	tests := []struct {
		body, prefix, want string
	}{
		{body: "Open https://example.com/confirm/abc to confirm.", prefix: "https://example.com/confirm/", want: "https://example.com/confirm/abc"},
		{body: "Link: https://example.com/r?t=a-b_c.", prefix: "https://example.com/r", want: "https://example.com/r?t=a-b_c"},
		{body: "(see https://example.com/x), then", prefix: "https://example.com/", want: "https://example.com/x"},
		{body: "<https://example.com/y>\n", prefix: "https://example.com/", want: "https://example.com/y"},
		{body: `href="https://example.com/z"`, prefix: "https://example.com/", want: "https://example.com/z"},
		{body: "https://a.example/ then https://example.com/last", prefix: "https://example.com/", want: "https://example.com/last"},
		{body: "end https://example.com/", prefix: "https://example.com/", want: "https://example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := LinkIn(t, tt.body, tt.prefix); got != tt.want {
				t.Errorf("LinkIn(%q, %q) = %q, want %q", tt.body, tt.prefix, got, tt.want)
			}
		})
	}
}

func TestSilent(t *testing.T) {
	addr := Silent(t)
	conn, err := net.DialTimeout("tcp", addr, WaitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
		t.Errorf("Read = %d, %v; want a timeout", n, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
