package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

// The mail configuration of "users send-confirmation" and "users
// send-reset": the flags and environment of the example server
// (examples/server/mail.go), read the same way, so that a message goes
// where the server's go and its link works there.

// mailFlags are the flags that choose the mailer.
type mailFlags struct {
	dir      string // -mail-dir: mail.Dir
	smtp     string // -smtp: smtpmail, host:port
	security string // -smtp-security: starttls (default), tls or insecure
}

func (f *mailFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "mail-dir", "", "write the message as an .eml file into `DIR`, as the server's -mail-dir")
	fs.StringVar(&f.smtp, "smtp", "", "send the message through the SMTP server at `HOST:PORT` (with $SMTP_USERNAME, $SMTP_PASSWORD, $MAIL_FROM)")
	fs.StringVar(&f.security, "smtp-security", "", "with -smtp, the connection's protection `S`: starttls (the default), tls (implicit TLS, port 465) or insecure (plain text, for a local relay)")
}

// devFrom is the sender of the development mailers when $MAIL_FROM is
// unset, as the server's.
const devFrom = "noreply@example.com"

// newMailer returns the Mailer the flags choose and where it puts a
// message, for the command's report: an SMTP server (-smtp; $MAIL_FROM is
// required, $SMTP_USERNAME and $SMTP_PASSWORD authenticate), a directory
// (-mail-dir) or, with neither, stdout, where the message is logged with
// its link (mail.Log), as the server logs it.
func newMailer(f mailFlags, getenv func(string) string, stdout io.Writer) (mail.Mailer, string, error) {
	from := getenv("MAIL_FROM")
	if from != "" {
		if err := mail.ValidateAddress(from); err != nil {
			return nil, "", fmt.Errorf("MAIL_FROM=%q: want a plain address such as auth@example.com", from)
		}
	} else {
		from = devFrom
	}
	if f.security != "" && f.smtp == "" {
		return nil, "", fmt.Errorf("-smtp-security applies to -smtp only: %w", errUsage)
	}
	switch {
	case f.dir != "" && f.smtp != "":
		return nil, "", fmt.Errorf("-mail-dir and -smtp exclude each other: %w", errUsage)
	case f.smtp != "":
		security, err := smtpSecurity(f.security)
		if err != nil {
			return nil, "", err
		}
		if getenv("MAIL_FROM") == "" {
			return nil, "", errors.New("-smtp needs MAIL_FROM, the sender's address")
		}
		user, password := getenv("SMTP_USERNAME"), getenv("SMTP_PASSWORD")
		if password != "" && user == "" {
			return nil, "", errors.New("SMTP_PASSWORD is set without SMTP_USERNAME")
		}
		m, err := smtpmail.New(smtpmail.Config{Addr: f.smtp, Username: user, Password: password, From: from, Security: security})
		if err != nil {
			return nil, "", err
		}
		return m, "through " + f.smtp, nil
	case f.dir != "":
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("-mail-dir: %w", err)
		}
		return mail.Dir{Path: f.dir, From: from}, "into " + f.dir, nil
	}
	return mail.Log{Logger: slog.New(slog.NewTextHandler(stdout, nil)), From: from}, "to stdout (no -mail-dir or -smtp)", nil
}

// smtpSecurity reads -smtp-security.
func smtpSecurity(s string) (smtpmail.Security, error) {
	switch s {
	case "", "starttls":
		return smtpmail.StartTLS, nil
	case "tls":
		return smtpmail.ImplicitTLS, nil
	case "insecure":
		return smtpmail.Insecure, nil
	}
	return 0, fmt.Errorf("unknown -smtp-security %q: want starttls, tls or insecure: %w", s, errUsage)
}

// accountPath is where the example server mounts the account handler.
const accountPath = "/auth"

// checkBaseURL checks -base-url, the server's public origin as its own
// -base-url gives it: an absolute http(s) URL without a path (a trailing
// "/" aside), query or fragment. It returns it without the trailing "/".
func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("give -base-url, the server's public origin, such as https://example.com: the link is made from it: %w", errUsage)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("-base-url %q: want the server's origin, such as https://example.com: %w", s, errUsage)
	}
	return strings.TrimSuffix(s, "/"), nil
}
