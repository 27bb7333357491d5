// Package mailflags reads the mail configuration that examples/server and
// cmd/authctl share: the flags -mail-dir, -smtp and -smtp-security, the
// environment ($MAIL_FROM, $SMTP_USERNAME, $SMTP_PASSWORD) and the site's
// -base-url, so that a message authctl mails goes where the server's go
// and its link works there.
package mailflags

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

// ErrUsage is wrapped by the errors of flags that cannot go together or
// have no meaning: a usage error, as opposed to a failure.
var ErrUsage = errors.New("usage")

// DevFrom is the sender of the development mailers when $MAIL_FROM is
// unset.
const DevFrom = "noreply@example.com"

// AccountPath is where examples/server mounts the account handler.
const AccountPath = "/auth"

// Flags are the flags that choose the mailer.
type Flags struct {
	Dir      string // -mail-dir: mail.Dir
	SMTP     string // -smtp: smtpmail, host:port
	Security string // -smtp-security: starttls (default), tls or insecure
}

// Define defines the flags on fs; what names what is sent ("each account
// message", "the message").
func (f *Flags) Define(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.Dir, "mail-dir", "", "write "+what+" as an .eml file into `DIR` (development)")
	fs.StringVar(&f.SMTP, "smtp", "", "send "+what+" through the SMTP server at `HOST:PORT` (with $SMTP_USERNAME, $SMTP_PASSWORD, $MAIL_FROM)")
	fs.StringVar(&f.Security, "smtp-security", "", "with -smtp, the connection's protection `S`: starttls (the default), tls (implicit TLS, port 465) or insecure (plain text, for a local relay)")
}

// Mailer returns the Mailer the flags choose and a description of where
// it puts messages: an SMTP server (-smtp; $MAIL_FROM is required,
// $SMTP_USERNAME and $SMTP_PASSWORD authenticate), a directory
// (-mail-dir, made if missing) or, with neither, log, which then receives
// every message with its links (mail.Log); the description is "" then.
func (f Flags) Mailer(getenv func(string) string, log *slog.Logger) (mail.Mailer, string, error) {
	from := getenv("MAIL_FROM")
	if from != "" {
		if err := mail.ValidateAddress(from); err != nil {
			return nil, "", fmt.Errorf("MAIL_FROM=%q: want a plain address such as auth@example.com", from)
		}
	}
	if f.Security != "" && f.SMTP == "" {
		return nil, "", fmt.Errorf("-smtp-security applies to -smtp only: %w", ErrUsage)
	}
	switch {
	case f.Dir != "" && f.SMTP != "":
		return nil, "", fmt.Errorf("-mail-dir and -smtp exclude each other: choose where messages go: %w", ErrUsage)
	case f.SMTP != "":
		security, err := Security(f.Security)
		if err != nil {
			return nil, "", err
		}
		if from == "" {
			return nil, "", errors.New("-smtp needs MAIL_FROM, the sender's address")
		}
		user, password := getenv("SMTP_USERNAME"), getenv("SMTP_PASSWORD")
		if password != "" && user == "" {
			return nil, "", errors.New("SMTP_PASSWORD is set without SMTP_USERNAME")
		}
		m, err := smtpmail.New(smtpmail.Config{Addr: f.SMTP, Username: user, Password: password, From: from, Security: security})
		if err != nil {
			return nil, "", err
		}
		return m, fmt.Sprintf("smtp %s (%s)", f.SMTP, security), nil
	case f.Dir != "":
		if err := os.MkdirAll(f.Dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("-mail-dir: %w", err)
		}
		return mail.Dir{Path: f.Dir, From: or(from, DevFrom)}, "dir " + f.Dir, nil
	}
	return mail.Log{Logger: log, From: or(from, DevFrom)}, "", nil
}

// Security reads -smtp-security.
func Security(s string) (smtpmail.Security, error) {
	switch s {
	case "", "starttls":
		return smtpmail.StartTLS, nil
	case "tls":
		return smtpmail.ImplicitTLS, nil
	case "insecure":
		return smtpmail.Insecure, nil
	}
	return 0, fmt.Errorf("unknown -smtp-security %q: want starttls, tls or insecure: %w", s, ErrUsage)
}

// CheckBaseURL checks -base-url: the site's public origin, an absolute
// http(s) URL without a path (a trailing "/" aside), query or fragment.
// It returns it without the trailing "/".
func CheckBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("-base-url %q: want the site's origin, such as https://example.com: %w", s, ErrUsage)
	}
	return strings.TrimSuffix(s, "/"), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
