package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/userkey"
)

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// userRow holds what scanUser reads a row into, so that the values Scan
// must see through pointers take one allocation, not one each.
type userRow struct {
	u          auth.User
	last, cur  nullTime
	loginCount int64 // database/sql fills an int64 directly, an int through strconv
	roles      string
}

// scanUser reads a row selected with userColumns.
// A missing row gives sql.ErrNoRows, unwrapped.
func scanUser(r rowScanner) (*auth.User, error) {
	row := new(userRow)
	if err := r.Scan(row.dests()...); err != nil {
		return nil, err
	}
	return row.user()
}

// dests are the destinations of userColumns, in order.
func (row *userRow) dests() []any {
	u := &row.u
	return []any{&u.ID, &u.Email, &u.PasswordHash, &u.Active, &u.Confirmed, &u.Uniquifier,
		&row.last, &row.cur, &u.LastLoginIP, &u.CurrentLoginIP, &row.loginCount, &row.roles}
}

// user returns the user of a scanned row.
func (row *userRow) user() (*auth.User, error) {
	u := &row.u
	u.LastLoginAt, u.CurrentLoginAt, u.LoginCount = row.last.t, row.cur.t, int(row.loginCount)
	var err error
	if u.Roles, err = decodeRoles(row.roles); err != nil {
		return nil, fmt.Errorf("sqlstore: decoding roles of user %q: %w", u.ID, err)
	}
	return u, nil
}

// encodeRoles returns the value of the users.roles column for roles: a
// JSON array of the names, in order.
func encodeRoles(roles []string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "&" stays "&", and decodeRoles' fast path applies
	if roles == nil {
		roles = []string{}
	}
	if err := enc.Encode(roles); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// decodeRoles reads the users.roles column, a JSON array of strings, as
// encodeRoles or the back-fill of migration 3 wrote it; an empty array
// gives nil. Names without escapes, the usual case, are cut out of s
// directly; others go through encoding/json.
func decodeRoles(s string) ([]string, error) {
	if roles, ok := splitPlainRoles(s); ok {
		return roles, nil
	}
	var roles []string
	if err := json.Unmarshal([]byte(s), &roles); err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, nil
	}
	return roles, nil
}

// splitPlainRoles parses s as a JSON array of strings whose names hold no
// backslash, no control character and only valid UTF-8, so that each is
// the text between its quotes. It reports false for anything else,
// including valid JSON it leaves to encoding/json.
func splitPlainRoles(s string) ([]string, bool) {
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '[' {
		return nil, false
	}
	if i = skipSpace(s, i+1); i < len(s) && s[i] == ']' {
		return nil, skipSpace(s, i+1) == len(s)
	}
	roles := make([]string, 0, strings.Count(s, ",")+1)
	for {
		if i == len(s) || s[i] != '"' {
			return nil, false
		}
		end := i + 1
		for end < len(s) && s[end] != '"' && s[end] != '\\' && s[end] >= 0x20 {
			end++
		}
		if end == len(s) || s[end] != '"' {
			return nil, false
		}
		name := s[i+1 : end]
		if !utf8.ValidString(name) {
			return nil, false
		}
		roles = append(roles, name)
		i = skipSpace(s, end+1)
		if i == len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return roles, skipSpace(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
}

// skipSpace returns the index of the first byte of s from i on that is not
// JSON white space.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
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
