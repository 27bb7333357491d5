package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
)

// sendTimeout bounds the sending of the message (AccountConfig.SendTimeout).
const sendTimeout = 30 * time.Second

// usersSendConfirmation mails the user the link that confirms the address.
func usersSendConfirmation(ctx context.Context, a *app, o *options, args []string) error {
	return sendLink(ctx, a, o, args[0], "confirm")
}

// usersSendReset mails the user a password reset link.
func usersSendReset(ctx context.Context, a *app, o *options, args []string) error {
	return sendLink(ctx, a, o, args[0], "reset")
}

// sendLink mails the user of email the link of route, "confirm" or
// "reset", as the server's account handler does when asked at POST
// /confirm or /reset: the package offers no other way to make a mailed
// link, so the command serves such a request in-process (httptest) with a
// Manager over the store, its signing key the server's ($AUTH_SECRET or
// the secret file beside an SQLite database) and its AccountConfig.BaseURL
// the server's -base-url under /auth. The link is then the one the server
// would mail, and works there. Every rule of the handler applies; the
// command checks the user first, since the handler answers the same
// whether or not it sends anything, and then waits for the message to be
// sent.
func sendLink(ctx context.Context, a *app, o *options, email, route string) error {
	base, err := checkBaseURL(o.baseURL)
	if err != nil {
		return err
	}
	mailer, where, err := newMailer(o.mail, os.Getenv, a.stdout)
	if err != nil {
		return err
	}
	s, done, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	u, err := findUser(ctx, s, email)
	if err != nil {
		return err
	}
	what := "a password reset link"
	switch {
	case !u.Active:
		return fmt.Errorf("%s is inactive: no link sent (users activate first)", u.Email)
	case route == "confirm" && u.Confirmed:
		return fmt.Errorf("%s is confirmed already: no link sent", u.Email)
	case route == "confirm":
		what = "a confirmation link"
	}
	account := auth.AccountConfig{Mailer: mailer, BaseURL: base + accountPath, SendTimeout: sendTimeout}
	if a.flask {
		// The server mails Flask-Security's own links on a Flask database.
		if account.Links, err = flaskLinks(s); err != nil {
			return err
		}
	}
	sent := make(chan string, 1)
	m, err := a.manager(s, auth.Config{
		Account: account,
		// The operator's request is the only one: no sending limit.
		Throttle:    auth.ThrottleConfig{Disabled: true},
		AuditLogger: slog.New(mailWatch{sent}),
	}, !a.flask, false) // a Flask database's links are signed with SECRET_KEY, not the Manager's key
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"email": u.Email})
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/"+route, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	m.AccountHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("the account handler answered %d: %s", rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	timer := time.NewTimer(sendTimeout + 5*time.Second)
	defer timer.Stop()
	select {
	case event := <-sent:
		if event != auth.EventMailSent {
			return fmt.Errorf("%s to %s could not be sent (see the error above)", what, u.Email)
		}
	case <-timer.C:
		return fmt.Errorf("no message was sent to %s (see the errors above)", u.Email)
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(a.stdout, "mailed %s to %s %s\n", what, u.Email, where)
	return nil
}

// mailWatch is the audit log of sendLink's Manager: it drops every event
// but reports, on its channel, the first that ends the sending of a
// message, auth.EventMailSent or auth.EventMailFailed. The Manager writes
// either once the send is over and, for a failure, after logging the error,
// so that the command then has the outcome and nothing is left to write.
type mailWatch struct{ ended chan<- string }

func (w mailWatch) Enabled(context.Context, slog.Level) bool { return true }

func (w mailWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == auth.EventMailSent || r.Message == auth.EventMailFailed {
		select {
		case w.ended <- r.Message:
		default:
		}
	}
	return nil
}

func (w mailWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w mailWatch) WithGroup(string) slog.Handler      { return w }

// flaskLinks returns the Flask-Security link codec of the Flask app whose
// SECRET_KEY (and SECURITY_CONFIRM_SALT, SECURITY_RESET_SALT) the
// environment holds, as examples/server mounts it on a Flask database.
func flaskLinks(s auth.UserStore) (auth.LinkCodec, error) {
	lookup, ok := s.(auth.UniquifierLookup)
	if !ok {
		return nil, errors.New("the store cannot find users by uniquifier, which Flask-Security's links name them by")
	}
	fc := flask.Config{
		SecretKey:   []byte(os.Getenv("SECRET_KEY")),
		ConfirmSalt: os.Getenv("SECURITY_CONFIRM_SALT"),
		ResetSalt:   os.Getenv("SECURITY_RESET_SALT"),
	}
	if len(fc.SecretKey) == 0 {
		return nil, errors.New("SECRET_KEY is not set: the links of a Flask-Security database are signed with the Flask app's SECRET_KEY")
	}
	return flask.NewLinks(fc, lookup)
}
