// Package mail is the small interface through which package auth sends
// account messages (confirmation links, password resets, notices), and the
// development mailers that stand in for a mail server.
//
// A [Mailer] sends one [Message]. Package
// github.com/authkit/auth/mail/smtpmail sends through an SMTP server.
package mail

import "context"

// Message is one email with a plain-text body and, optionally, an HTML
// alternative.
type Message struct {
	// From is the sender's address. Default: the Mailer's own.
	From string
	// To is the recipient's address, a plain address such as
	// "alice@example.com".
	To string
	// Subject is the subject line, in UTF-8.
	Subject string
	// Text is the plain-text body, in UTF-8.
	Text string
	// HTML, if set, is an HTML body sent as an alternative to Text.
	HTML string
}

// Mailer sends messages. Implementations must be safe for concurrent use.
type Mailer interface {
	// Send delivers msg, or returns why it could not. It gives up when ctx
	// is done, returning an error that wraps ctx.Err().
	Send(ctx context.Context, msg *Message) error
}
