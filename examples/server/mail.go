package main

import (
	"log/slog"
	"net"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/mailflags"
	"github.com/authkit/auth/mail"
)

// The account handler's mail: where its messages go (internal/mailflags,
// which cmd/authctl reads too, so that the links it mails work here), and
// the links they carry.

// devFrom is the sender of the development mailers when $MAIL_FROM is
// unset.
const devFrom = mailflags.DevFrom

// accountPath is where routes mounts the account handler.
const accountPath = mailflags.AccountPath

// newMailer returns the Mailer the flags choose and a description of it
// for the startup log; with neither -mail-dir nor -smtp it is logger
// itself, which then receives every message with its links (mail.Log).
func newMailer(f mailflags.Flags, getenv func(string) string, logger *slog.Logger) (mail.Mailer, string, error) {
	m, where, err := f.Mailer(getenv, logger)
	switch {
	case err != nil:
		return nil, "", err
	case f.Dir != "":
		where += " (one .eml file a message)"
	case f.SMTP == "":
		where = "log: account messages, links included, are written to this log (set -mail-dir or -smtp to deliver them)"
	}
	return m, where, nil
}

// checkBaseURL checks -base-url (see mailflags.CheckBaseURL).
func checkBaseURL(s string) (string, error) { return mailflags.CheckBaseURL(s) }

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
