package mail_test

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/smtptest"
	authmail "github.com/authkit/auth/mail"
)

// lf turns every line break of s into LF, as smtptest.Parse reports bodies.
func lf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func TestWriteTo(t *testing.T) {
	long := strings.Repeat("0123456789 ", 20)
	tests := []struct {
		name      string
		msg       authmail.Message
		multipart bool
	}{
		{
			name: "text only",
			msg:  authmail.Message{From: "app@example.com", To: "alice@example.org", Subject: "Confirm your account", Text: "Open https://example.com/confirm/abc to confirm."},
		},
		{
			name: "non-ASCII subject and body",
			msg:  authmail.Message{From: "app@example.com", To: "zoe@example.org", Subject: "Bienvenue, Zoë — réinitialisation", Text: "Bonjour Zoë,\nvoici le lien : https://example.com/r?t=x=y\n"},
		},
		{
			name:      "HTML alternative",
			msg:       authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "Reset", Text: "Reset: https://example.com/reset/tok", HTML: `<p><a href="https://example.com/reset/tok">Reset</a> — ok</p>`},
			multipart: true,
		},
		{
			name:      "HTML with empty text",
			msg:       authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "Only HTML", HTML: "<p>hi</p>\n"},
			multipart: true,
		},
		{
			name: "long lines, trailing spaces, dots, mixed line breaks",
			msg:  authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "Lines", Text: long + "\r\n.\n..leading dots \nlone CR\rend  "},
		},
		{
			name: "long subject is folded",
			msg:  authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: strings.TrimSpace(long), Text: "x"},
		},
		{
			name: "long non-ASCII subject",
			msg:  authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: strings.Repeat("ééé ççç ", 20), Text: "x"},
		},
		{
			name: "empty subject and body",
			msg:  authmail.Message{From: "app@example.com", To: "bob@example.org"},
		},
		{
			name:      "text looking like a header and a boundary",
			msg:       authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "s", Text: "\r\nBcc: eve@example.net\r\n--\r\n", HTML: "--x--"},
			multipart: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			n, err := tt.msg.WriteTo(&b)
			if err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			if n != int64(b.Len()) {
				t.Errorf("WriteTo returned %d, wrote %d bytes", n, b.Len())
			}
			raw := b.Bytes()
			checkLines(t, raw)

			got, err := smtptest.Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, raw)
			}
			if got.Subject != tt.msg.Subject {
				t.Errorf("Subject = %q, want %q", got.Subject, tt.msg.Subject)
			}
			if want := lf(tt.msg.Text); got.Text != want {
				t.Errorf("Text = %q, want %q", got.Text, want)
			}
			if want := lf(tt.msg.HTML); got.HTML != want {
				t.Errorf("HTML = %q, want %q", got.HTML, want)
			}
			h := got.Header
			for field, want := range map[string]string{
				"From":         tt.msg.From,
				"To":           tt.msg.To,
				"MIME-Version": "1.0",
			} {
				if v := h.Get(field); v != want {
					t.Errorf("%s = %q, want %q", field, v, want)
				}
			}
			if d, err := h.Date(); err != nil || time.Since(d).Abs() > time.Minute {
				t.Errorf("Date = %q (%v, %v), want about now", h.Get("Date"), d, err)
			}
			if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") || len(id) < 20 {
				t.Errorf("Message-ID = %q, want <random@example.com>", id)
			}
			mediaType, _, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil {
				t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
			}
			want := "text/plain"
			if tt.multipart {
				want = "multipart/alternative"
			} else if cte := h.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
				t.Errorf("Content-Transfer-Encoding = %q, want quoted-printable", cte)
			}
			if mediaType != want {
				t.Errorf("Content-Type = %q, want %s", mediaType, want)
			}
		})
	}
}

// checkLines fails t unless every line of raw ends in CRLF, is 7-bit, and
// is short: 78 characters in the body, 998 in the header.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if len(raw) == 0 || !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF")
	}
	inBody := false
	for i, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.ContainsRune(line[:len(line)-2], '\r') {
			t.Errorf("line %d %q does not end in a lone CRLF", i+1, line)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Errorf("line %d %q is not 7-bit", i+1, line)
				break
			}
		}
		max := 998
		if inBody {
			max = 78
		}
		if len(line)-2 > max {
			t.Errorf("line %d is %d long, more than %d", i+1, len(line)-2, max)
		}
		if string(line) == "\r\n" {
			inBody = true
		}
	}
}

func TestWriteToMessageIDUnique(t *testing.T) {
	msg := authmail.Message{From: "app@example.com", To: "bob@example.org"}
	ids := make(map[string]bool)
	for range 10 {
		var b bytes.Buffer
		if _, err := msg.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(&b)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get("Message-ID")
		if ids[id] {
			t.Fatalf("Message-ID %s repeated", id)
		}
		ids[id] = true
	}
}

func TestWriteToInvalid(t *testing.T) {
	valid := authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "Hello", Text: "body"}
	tests := []struct {
		name string
		edit func(m *authmail.Message)
		want error
	}{
		{name: "LF in Subject", edit: func(m *authmail.Message) { m.Subject = "Hello\nBcc: eve@example.net" }, want: authmail.ErrHeaderInjection},
		{name: "CRLF in Subject", edit: func(m *authmail.Message) { m.Subject = "Hello\r\nBcc: eve@example.net" }, want: authmail.ErrHeaderInjection},
		{name: "CR in Subject", edit: func(m *authmail.Message) { m.Subject = "Hello\rX" }, want: authmail.ErrHeaderInjection},
		{name: "CRLF in To", edit: func(m *authmail.Message) { m.To = "bob@example.org\r\nBcc: eve@example.net" }, want: authmail.ErrHeaderInjection},
		{name: "LF in To", edit: func(m *authmail.Message) { m.To = "bob@example.org\n" }, want: authmail.ErrHeaderInjection},
		{name: "CRLF in From", edit: func(m *authmail.Message) { m.From = "app@example.com\r\nBcc: eve@example.net" }, want: authmail.ErrHeaderInjection},
		{name: "empty To", edit: func(m *authmail.Message) { m.To = "" }, want: authmail.ErrInvalidAddress},
		{name: "empty From", edit: func(m *authmail.Message) { m.From = "" }, want: authmail.ErrInvalidAddress},
		{name: "To without @", edit: func(m *authmail.Message) { m.To = "bob" }, want: authmail.ErrInvalidAddress},
		{name: "To with display name", edit: func(m *authmail.Message) { m.To = "Bob <bob@example.org>" }, want: authmail.ErrInvalidAddress},
		{name: "To in angle brackets", edit: func(m *authmail.Message) { m.To = "<bob@example.org>" }, want: authmail.ErrInvalidAddress},
		{name: "To with comment", edit: func(m *authmail.Message) { m.To = "bob@example.org (Bob)" }, want: authmail.ErrInvalidAddress},
		{name: "two recipients", edit: func(m *authmail.Message) { m.To = "bob@example.org,eve@example.net" }, want: authmail.ErrInvalidAddress},
		{name: "To with space", edit: func(m *authmail.Message) { m.To = " bob@example.org" }, want: authmail.ErrInvalidAddress},
		{name: "non-ASCII To", edit: func(m *authmail.Message) { m.To = "zoë@example.org" }, want: authmail.ErrInvalidAddress},
		{name: "From with display name", edit: func(m *authmail.Message) { m.From = "App <app@example.com>" }, want: authmail.ErrInvalidAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := valid
			tt.edit(&msg)
			var b bytes.Buffer
			n, err := msg.WriteTo(&b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("WriteTo error = %v, want %v", err, tt.want)
			}
			if n != 0 || b.Len() != 0 {
				t.Errorf("WriteTo wrote %d bytes of an invalid message", b.Len())
			}
			if !strings.HasPrefix(err.Error(), "mail: ") {
				t.Errorf("error %q does not start with \"mail: \"", err)
			}
		})
	}
}

func TestWriteToNil(t *testing.T) {
	var msg *authmail.Message
	if _, err := msg.WriteTo(&bytes.Buffer{}); !errors.Is(err, authmail.ErrNilMessage) {
		t.Errorf("WriteTo(nil) error = %v, want ErrNilMessage", err)
	}
}

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		addr string
		want error
	}{
		{addr: "alice@example.com"},
		{addr: "a.b+tag@sub.example.co.uk"},
		{addr: "ALICE@EXAMPLE.COM"},
		{addr: "", want: authmail.ErrInvalidAddress},
		{addr: "alice", want: authmail.ErrInvalidAddress},
		{addr: "alice@", want: authmail.ErrInvalidAddress},
		{addr: "Alice <alice@example.com>", want: authmail.ErrInvalidAddress},
		{addr: "alice@example.com ", want: authmail.ErrInvalidAddress},
		{addr: `"al ice"@example.com`, want: authmail.ErrInvalidAddress},
		{addr: "alice@exämple.com", want: authmail.ErrInvalidAddress},
		{addr: "alice@example.com\r\nBcc: eve@example.net", want: authmail.ErrHeaderInjection},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if err := authmail.ValidateAddress(tt.addr); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidateAddress(%q) = %v, want %v", tt.addr, err, tt.want)
			}
		})
	}
}
