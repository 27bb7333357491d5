// Package mail is the small interface through which package auth sends
// account messages (confirmation links, password resets, notices), and the
// development mailers that stand in for a mail server.
//
// A [Mailer] sends one [Message]. [Message.WriteTo] renders a message as
// RFC 5322 bytes, the form every mailer here stores or sends.
//
// # Mailers
//
//   - [Dir] writes each message as an .eml file into a directory, for
//     development and tests that read what was sent.
//   - [Log] writes each message, links included, to a [log/slog.Logger]:
//     the development stand-in when no mail server is configured.
//   - Package github.com/authkit/auth/mail/smtpmail sends through an SMTP
//     server.
package mail

import (
	"context"
	"errors"
)

// Message is one email with a plain-text body and, optionally, an HTML
// alternative.
//
// The address fields hold plain addresses ("alice@example.com", ASCII, no
// display name, no angle brackets), and no header field may contain a
// carriage return or a line feed; [Message.WriteTo] and every mailer refuse
// a message that breaks either rule.
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

// Errors returned by the package. Callers compare with [errors.Is]; the
// errors returned wrap these with the name of the offending field.
var (
	// ErrInvalidAddress: From or To is missing, does not parse with
	// [net/mail.ParseAddress], or is not a plain ASCII address.
	ErrInvalidAddress = errors.New("mail: invalid address")

	// ErrHeaderInjection: From, To or Subject contains a carriage return
	// or a line feed, which would let its value start a header field of
	// its own.
	ErrHeaderInjection = errors.New("mail: CR or LF in header field")

	// ErrNilMessage: Send or WriteTo was given a nil *Message.
	ErrNilMessage = errors.New("mail: nil message")
)
