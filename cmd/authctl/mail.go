package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/authkit/auth/internal/mailflags"
	"github.com/authkit/auth/mail"
)

// The mail configuration of "users send-confirmation" and "users
// send-reset": the flags and environment of the example server, read by
// the same code (internal/mailflags), so that a message goes where the
// server's go and its link works there.

// devFrom is the sender of the development mailers when $MAIL_FROM is
// unset, as the server's.
const devFrom = mailflags.DevFrom

// accountPath is where the example server mounts the account handler.
const accountPath = mailflags.AccountPath

// newMailer returns the Mailer the flags choose and where it puts a
// message, for the command's report: an SMTP server, a directory or, with
// neither, stdout, where the message is logged with its link (mail.Log),
// as the server logs it.
func newMailer(f mailflags.Flags, getenv func(string) string, stdout io.Writer) (mail.Mailer, string, error) {
	m, _, err := f.Mailer(getenv, slog.New(slog.NewTextHandler(stdout, nil)))
	switch {
	case err != nil:
		return nil, "", err
	case f.SMTP != "":
		return m, "through " + f.SMTP, nil
	case f.Dir != "":
		return m, "into " + f.Dir, nil
	}
	return m, "to stdout (no -mail-dir or -smtp)", nil
}

// checkBaseURL checks -base-url, the server's public origin as its own
// -base-url gives it. It returns it without a trailing "/".
func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("give -base-url, the server's public origin, such as https://example.com: the link is made from it: %w", errUsage)
	}
	return mailflags.CheckBaseURL(s)
}
