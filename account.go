package auth

import (
	"context"
	"io/fs"
	"time"

	"github.com/authkit/auth/mail"
)

// AccountConfig configures the account lifecycle that
// [Manager.AccountHandler] serves: registration, email confirmation,
// password reset, password change and email change. The handler needs a
// Mailer and a BaseURL; the store must implement [UserUpdater] and, for
// registration, [UserAdmin].
type AccountConfig struct {
	// Mailer sends the account messages. Without one AccountHandler
	// answers 501 on every path. Messages are sent after the response
	// is written, so that sending never delays an answer and takes the
	// same time whether or not a message is sent; a failed send is logged
	// (without the message) and audited as [EventMailFailed].
	Mailer mail.Mailer
	// BaseURL is the absolute URL at which AccountHandler is mounted, such
	// as "https://example.com/auth". Links in messages are made from it,
	// never from a request's Host header. Required with Mailer.
	BaseURL string
	// Templates overrides the messages' templates. Each message has two
	// files: NAME.txt (text/template), which defines the templates
	// "subject" and "text", and NAME.html (html/template), the HTML body;
	// the names are confirm, register-existing, reset, reset-done,
	// change-done, change-email and change-email-notice. A file Templates
	// lacks keeps the built-in one. Templates see .Email (the account's
	// address), .NewEmail (for an email change), .Link and .ValidFor ("5
	// days") for the messages with a link. New refuses templates that do
	// not parse or run. Default: the built-in templates.
	Templates fs.FS
	// SendTimeout bounds the sending of one message. Default 30 s.
	SendTimeout time.Duration

	// SkipConfirmation makes registration create confirmed users, mail no
	// link and answer with a token, in a JSON login's shape. Default
	// false: a registered user is unconfirmed until the mailed link is
	// opened (routes behind [Manager.RequireConfirmed] refuse them until
	// then).
	SkipConfirmation bool
	// Roles are given to every registered user. Default none.
	Roles []string
	// ConfirmMaxAge is how long a confirmation link stays valid. Default
	// 5 days.
	ConfirmMaxAge time.Duration
	// ResetMaxAge is how long a password reset link stays valid. Default
	// 1 day.
	ResetMaxAge time.Duration
	// ChangeEmailMaxAge is how long an email change link stays valid.
	// Default 2 h.
	ChangeEmailMaxAge time.Duration

	// ConfirmRedirect, ResetRedirect and ChangeEmailRedirect are where a
	// browser opening a mailed link is sent, with the outcome in the query
	// (see AccountHandler). Each may be a path or an absolute URL. Default
	// "": the link is answered with JSON.
	ConfirmRedirect, ResetRedirect, ChangeEmailRedirect string

	// Links makes and reads the tokens of mailed links. Default: the
	// Manager's own, itsdangerous tokens signed with its key under a salt
	// of their own for each purpose; package github.com/authkit/auth/flask
	// provides Flask-Security's.
	Links LinkCodec
}

// LinkCodec makes and reads the tokens in the links the account handler
// mails. A token is made for one purpose: "confirm", "reset" or
// "change-email", and must not be accepted for another, nor as a login
// token. Implementations must be safe for concurrent use.
type LinkCodec interface {
	// MakeLinkToken returns a token for purpose about u. For
	// "change-email", email is the new address; otherwise it is empty.
	// The token must stop being accepted once the state it was made for
	// has changed: u's email for "confirm" and "change-email", u's
	// password hash for "reset".
	MakeLinkToken(ctx context.Context, purpose string, u *User, email string) (string, error)
	// ReadLinkToken returns the user a token made for purpose names and,
	// for "change-email", the new address. A token that is not one,
	// was made for another purpose or no longer matches the user's state
	// gives an error matching ErrInvalidToken; an expired one (older than
	// maxAge), an error matching ErrExpiredToken together with the user,
	// so that a fresh link can be sent. A store failure gives an error
	// matching ErrStoreUnavailable.
	ReadLinkToken(ctx context.Context, purpose, token string, maxAge time.Duration) (u *User, email string, err error)
}

// BreachChecker tells whether a password is known from breaches, such as
// package github.com/authkit/auth/pwned's client of the Pwned Passwords
// range API. See PasswordConfig.Breached.
type BreachChecker interface {
	// Breached reports whether password appears in known breaches.
	Breached(ctx context.Context, password string) (bool, error)
}
