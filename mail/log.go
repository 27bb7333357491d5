package mail

import (
	"context"
	"fmt"
	"log/slog"
)

// Log is a [Mailer] that writes each message to a [log/slog.Logger] at
// level Info, with the attributes from, to, subject and text (the
// plain-text body; the HTML body is left out). It is the development
// stand-in for a mail server: a developer follows the confirmation and
// reset links from the log.
//
// Log is for development only. The messages it logs carry the links that
// confirm an account or reset its password, so anyone who reads the log
// can take over the account; never use it where the log is kept or
// shipped elsewhere. It is safe for concurrent use.
type Log struct {
	// Logger receives the messages. Default: [log/slog.Default].
	Logger *slog.Logger
	// From is the sender of messages whose From is empty.
	From string
}

var _ Mailer = Log{}

// Send validates msg as [Message.WriteTo] does, From aside (it may stay
// empty), and logs it. It returns an error wrapping ctx.Err() without
// logging when ctx is done.
func (l Log) Send(ctx context.Context, msg *Message) error {
	if msg == nil {
		return ErrNilMessage
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	m := *msg
	if m.From == "" {
		m.From = l.From
	}
	if err := m.validate(false); err != nil {
		return err
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "mail",
		slog.String("from", m.From),
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	)
	return nil
}
