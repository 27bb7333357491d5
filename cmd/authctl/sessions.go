package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/authkit/auth"
)

// The lifetimes of a device session, RefreshConfig's defaults: "sessions
// list" counts as live what GET /sessions lists on a server that keeps
// them.
const (
	sessionIdle     = 7 * 24 * time.Hour
	sessionLifetime = 90 * 24 * time.Hour
)

// openSessions opens the store and finds the user with the given email, for
// the session commands; a store that keeps no device sessions (a
// Flask-Security database) is refused. The returned function closes the
// store.
func (a *app) openSessions(ctx context.Context, email string) (auth.SessionStore, *auth.User, func(), error) {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	ss, ok := s.(auth.SessionStore)
	if !ok {
		done()
		if a.flask {
			return nil, nil, nil, errors.New("the Flask-Security database keeps no device sessions (refresh tokens need sqlstore's own tables)")
		}
		return nil, nil, nil, fmt.Errorf("the store of %s keeps no device sessions", a.dsn)
	}
	u, err := findUser(ctx, s, email)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return ss, u, done, nil
}

// sessionState tells whether the session of u can still be refreshed, as
// GET /sessions decides with the default lifetimes: "live", or why not.
func sessionState(s *auth.DeviceSession, u *auth.User, now time.Time) string {
	switch {
	case s.Uniquifier != u.Uniquifier:
		return "revoked" // logout, tokens revoke, a new password
	case now.Sub(s.CreatedAt) > sessionLifetime:
		return "expired"
	case now.Sub(s.LastUsedAt) > sessionIdle:
		return "idle"
	}
	return "live"
}

func sessionsList(ctx context.Context, a *app, o *options, args []string) error {
	ss, u, done, err := a.openSessions(ctx, args[0])
	if err != nil {
		return err
	}
	defer done()
	all, err := ss.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	if !o.all {
		all = slices.DeleteFunc(all, func(s *auth.DeviceSession) bool { return sessionState(s, u, now) != "live" })
	}
	if len(all) == 0 {
		fmt.Fprintf(a.stdout, "no sessions of %s\n", u.Email)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	head := "ID\tCREATED\tLAST USED\tLAST ADDRESS\tUSER AGENT"
	if o.all {
		head += "\tSTATE"
	}
	fmt.Fprintln(w, head)
	for _, s := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s", s.ID, s.CreatedAt.UTC().Format(time.RFC3339), s.LastUsedAt.UTC().Format(time.RFC3339),
			orDash(s.LastIP), orDash(printable(s.UserAgent)))
		if o.all {
			fmt.Fprintf(w, "\t%s", sessionState(s, u, now))
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

func sessionsRevoke(ctx context.Context, a *app, _ *options, args []string) error {
	ss, u, done, err := a.openSessions(ctx, args[0])
	if err != nil {
		return err
	}
	defer done()
	if len(args) == 1 {
		n, err := ss.DeleteUserSessions(ctx, u.ID, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "ended %d %s of %s\n", n, plural(n, "session", "sessions"), u.Email)
		return nil
	}
	id := args[1]
	// Only the user's own: another user's ID is answered as an unknown
	// one, as DELETE /sessions/{id} does.
	err = ss.UpdateSession(ctx, id, func(s *auth.DeviceSession) error {
		if s.UserID != u.ID {
			return auth.ErrTokenNotFound
		}
		return nil
	})
	if err == nil {
		err = ss.DeleteSession(ctx, id)
	}
	if errors.Is(err, auth.ErrTokenNotFound) {
		return fmt.Errorf("%s has no session %q", u.Email, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "ended 1 session of %s\n", u.Email)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printable replaces the control characters of a client's user agent, so
// that it cannot move the terminal's cursor or break the table.
func printable(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			b[i] = '?'
		}
	}
	return string(b)
}
