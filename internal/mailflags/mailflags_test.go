package mailflags

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

func TestMailer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		name  string
		flags Flags
		env   func(string) string
		want  string // the Mailer's type, or "" for an error
		usage bool
	}{
		{"log", Flags{}, env(), "mail.Log", false},
		{"dir", Flags{Dir: dir}, env(), "mail.Dir", false},
		{"smtp", Flags{SMTP: "127.0.0.1:25", Security: "insecure"}, env("MAIL_FROM", "a@example.com"), "*smtpmail.Mailer", false},
		{"smtp without MAIL_FROM", Flags{SMTP: "127.0.0.1:25"}, env(), "", false},
		{"both", Flags{Dir: dir, SMTP: "127.0.0.1:25"}, env("MAIL_FROM", "a@example.com"), "", true},
		{"security without smtp", Flags{Security: "tls"}, env(), "", true},
		{"unknown security", Flags{SMTP: "127.0.0.1:25", Security: "ssl"}, env("MAIL_FROM", "a@example.com"), "", true},
		{"bad MAIL_FROM", Flags{Dir: dir}, env("MAIL_FROM", "Auth <a@example.com>"), "", false},
		{"password without user", Flags{SMTP: "127.0.0.1:25", Security: "insecure"}, env("MAIL_FROM", "a@example.com", "SMTP_PASSWORD", "x"), "", false},
	} {
		m, _, err := c.flags.Mailer(c.env, slog.New(slog.DiscardHandler))
		var got string
		switch m.(type) {
		case mail.Log:
			got = "mail.Log"
		case mail.Dir:
			got = "mail.Dir"
		case *smtpmail.Mailer:
			got = "*smtpmail.Mailer"
		}
		if got != c.want || (err != nil) != (c.want == "") || errors.Is(err, ErrUsage) != c.usage {
			t.Errorf("%s: %s, %v; want %q (usage error %v)", c.name, got, err, c.want, c.usage)
		}
	}
}

func TestCheckBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com": "https://example.com", "http://127.0.0.1:8080/": "http://127.0.0.1:8080",
		"example.com": "", "https://example.com/auth": "", "https://example.com?x": "", "https://u@example.com": "",
		"ftp://example.com": "", "https://example.com#f": "",
	} {
		got, err := CheckBaseURL(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
