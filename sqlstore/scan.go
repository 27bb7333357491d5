package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/userkey"
)

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanUser reads a row selected with userColumns and the roles column.
// A missing row gives sql.ErrNoRows, unwrapped.
func scanUser(r rowScanner) (*auth.User, error) {
	var (
		u         auth.User
		last, cur nullTime
		roles     []byte
	)
	err := r.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Active, &u.Confirmed, &u.Uniquifier,
		&last, &cur, &u.LastLoginIP, &u.CurrentLoginIP, &u.LoginCount, &roles)
	if err != nil {
		return nil, err
	}
	u.LastLoginAt, u.CurrentLoginAt = last.t, cur.t
	if len(roles) > 0 {
		if err := json.Unmarshal(roles, &u.Roles); err != nil {
			return nil, fmt.Errorf("sqlstore: decoding roles of user %q: %w", u.ID, err)
		}
		if len(u.Roles) == 0 {
			u.Roles = nil
		}
	}
	return &u, nil
}

// nullTime scans a stored time: NULL as the zero time, a time.Time (from
// PostgreSQL) or text (from SQLite) as a time in UTC.
type nullTime struct {
	t time.Time
}

// Scan implements [database/sql.Scanner].
func (n *nullTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		n.t = time.Time{}
		return nil
	case time.Time:
		n.t = v.UTC()
		return nil
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	}
	return fmt.Errorf("sqlstore: cannot read a time from %T", v)
}

// parse reads a time written as sqliteTimeLayout (or any RFC 3339 time).
func (n *nullTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: reading time %q: %w", s, err)
	}
	n.t = t.UTC()
	return nil
}

// emailKey is the value emails are compared by, computed in Go so that no
// SQL collation or lower() is involved (see package internal/userkey).
func emailKey(email string) string { return userkey.Email(email) }

// uniqueRoles returns roles without repetitions, first occurrences kept in
// order, or nil when there are none.
func uniqueRoles(roles []string) []string {
	var out []string
	for _, r := range roles {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// isUniqueViolation reports whether err is a unique-constraint failure:
// SQLSTATE 23505 from a PostgreSQL driver that exposes it (pgx does), or
// SQLite's message. The package imports no driver to ask more precisely.
func isUniqueViolation(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) && pg.SQLState() == "23505" {
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// applyUpdate is the read-and-change half of UpdateUser: it reads user id
// from row with scan and calls update on a copy, refusing a changed ID.
// It returns the stored user and the changed copy.
func applyUpdate(id string, row rowScanner, scan func(rowScanner) (*auth.User, error), update func(*auth.User) error) (old, changed *auth.User, err error) {
	old, err = scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: reading user %q: %w", id, err)
	}
	changed = old.Clone()
	if err := update(changed); err != nil {
		return nil, nil, err
	}
	if changed.ID != id {
		return nil, nil, fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrIDChanged)
	}
	return old, changed, nil
}
