package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/authkit/auth"
	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

// The account handler's mail: where its messages go, and the links they
// carry. cmd/authctl reads the same flags and environment, so that the
// links it mails work here.

// mailFlags are the flags that choose the mailer.
type mailFlags struct {
	dir      string // -mail-dir: mail.Dir
	smtp     string // -smtp: smtpmail, host:port
	security string // -smtp-security: starttls (default), tls or insecure
}

func (f *mailFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "mail-dir", "", "write each account message as an .eml file into `DIR` (development)")
	fs.StringVar(&f.smtp, "smtp", "", "send account messages through the SMTP server at `HOST:PORT` (with $SMTP_USERNAME, $SMTP_PASSWORD, $MAIL_FROM)")
	fs.StringVar(&f.security, "smtp-security", "", "with -smtp, the connection's protection `S`: starttls (the default), tls (implicit TLS, port 465) or insecure (plain text, for a local relay)")
}

// devFrom is the sender of the development mailers when $MAIL_FROM is
// unset.
const devFrom = "noreply@example.com"

// newMailer returns the Mailer the flags choose and a description of it
// for the startup log: an SMTP server (-smtp; $MAIL_FROM is required,
// $SMTP_USERNAME and $SMTP_PASSWORD authenticate), a directory (-mail-dir)
// or, with neither, logger itself, which then receives every message with
// its links (mail.Log).
func newMailer(f mailFlags, getenv func(string) string, logger *slog.Logger) (mail.Mailer, string, error) {
	from := getenv("MAIL_FROM")
	if from != "" {
		if err := mail.ValidateAddress(from); err != nil {
			return nil, "", fmt.Errorf("MAIL_FROM=%q: want a plain address such as auth@example.com", from)
		}
	}
	if f.security != "" && f.smtp == "" {
		return nil, "", errors.New("-smtp-security applies to -smtp only")
	}
	switch {
	case f.dir != "" && f.smtp != "":
		return nil, "", errors.New("-mail-dir and -smtp exclude each other: choose where messages go")
	case f.smtp != "":
		security, err := smtpSecurity(f.security)
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
		m, err := smtpmail.New(smtpmail.Config{Addr: f.smtp, Username: user, Password: password, From: from, Security: security})
		if err != nil {
			return nil, "", err
		}
		return m, fmt.Sprintf("smtp %s (%s)", f.smtp, security), nil
	case f.dir != "":
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("-mail-dir: %w", err)
		}
		return mail.Dir{Path: f.dir, From: stringOr(from, devFrom)}, "dir " + f.dir + " (one .eml file a message)", nil
	}
	return mail.Log{Logger: logger, From: stringOr(from, devFrom)},
		"log: account messages, links included, are written to this log (set -mail-dir or -smtp to deliver them)", nil
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
	return 0, fmt.Errorf("unknown -smtp-security %q: want starttls, tls or insecure", s)
}

// accountPath is where routes mounts the account handler.
const accountPath = "/auth"

// checkBaseURL checks -base-url: the site's public origin, an absolute
// http(s) URL without a path (a trailing "/" aside), query or fragment.
// It returns it without the trailing "/".
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("-base-url %q: want the site's origin, such as https://example.com", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}

// defaultBaseURL is the origin of the listener at addr: http://host:port,
// with localhost for an unspecified address (":8080" listens on all of
// them, but a link needs one).
func defaultBaseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// The example's pages that the mailed links lead to, with their outcome
// in the query (see pages_account.go).
const (
	confirmedPage   = "/confirmed"
	resetPage       = "/reset-password"
	emailChangePage = "/email-changed"
)

// accountConfig is the account handler's configuration: links made from
// base, the site's origin, and browsers sent to the example's own pages.
func accountConfig(mailer mail.Mailer, base string) auth.AccountConfig {
	return auth.AccountConfig{
		Mailer:              mailer,
		BaseURL:             base + accountPath,
		ConfirmRedirect:     confirmedPage,
		ResetRedirect:       resetPage,
		ChangeEmailRedirect: emailChangePage,
	}
}
