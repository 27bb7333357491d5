package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authkit/auth"
)

// The Store keeps the device sessions of refresh tokens in the table
// device_sessions (migration 6), so that every instance of a service on
// one database sees the same sessions and their rotations.
var _ auth.SessionStore = (*Store)(nil)

// sessionColumns are the columns scanSession reads, in its order, and
// the columns sessionQueries.insert writes.
const sessionColumns = `id, user_id, uniquifier, generation, token_hash,
	rotated_at, created_at, last_used_at, last_ip, user_agent`

// sessionQueries holds the session statements of one dialect,
// placeholders already rewritten.
type sessionQueries struct {
	userExists string // locks the user's row against deletion on PostgreSQL
	insert     string // affects no row on a conflict of IDs
	forUpdate  string // one row by ID, locked on PostgreSQL
	update     string
	del        string
	byUser     string
	delUser    string // user ID, the ID of the session to keep
}

// sessionQueriesOf are the statements of each dialect, by Dialect.
var sessionQueriesOf = [...]sessionQueries{
	SQLite:   newSessionQueries(SQLite),
	Postgres: newSessionQueries(Postgres),
}

// newSessionQueries returns the session statements for d. On SQLite the
// writes run inside BEGIN IMMEDIATE and need no row locks.
func newSessionQueries(d Dialect) sessionQueries {
	share, lock := "", ""
	if d == Postgres {
		// FOR KEY SHARE is the lock the foreign key takes: the user
		// cannot go between the check and the insert.
		share, lock = " FOR KEY SHARE", " FOR UPDATE"
	}
	sel := "SELECT " + sessionColumns + " FROM device_sessions"
	q := sessionQueries{
		userExists: "SELECT 1 FROM users WHERE id = ?" + share,
		insert: `INSERT INTO device_sessions (` + sessionColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
		forUpdate: sel + " WHERE id = ?" + lock,
		update: `UPDATE device_sessions SET uniquifier = ?, generation = ?, token_hash = ?,
			rotated_at = ?, created_at = ?, last_used_at = ?, last_ip = ?, user_agent = ?
			WHERE id = ?`,
		del:     "DELETE FROM device_sessions WHERE id = ?",
		byUser:  sel + " WHERE user_id = ?",
		delUser: "DELETE FROM device_sessions WHERE user_id = ? AND id <> ?",
	}
	for _, p := range []*string{&q.userExists, &q.insert, &q.forUpdate, &q.update, &q.del, &q.byUser, &q.delUser} {
		*p = d.rebind(*p)
	}
	return q
}

// sq returns the Store's session statements.
func (s *Store) sq() *sessionQueries { return &sessionQueriesOf[s.dialect] }

// sessionValues returns the values of d's changeable columns, in the order
// of sessionColumns after user_id: a nil token hash is stored as an
// empty one, times as [Dialect.timeArg] makes them.
func (s *Store) sessionValues(d *auth.DeviceSession) []any {
	hash := d.TokenHash
	if hash == nil {
		hash = []byte{}
	}
	return []any{
		d.Uniquifier, int64(d.Generation), hash,
		s.dialect.timeArg(d.RotatedAt), s.dialect.timeArg(d.CreatedAt), s.dialect.timeArg(d.LastUsedAt),
		d.LastIP, d.UserAgent,
	}
}

// CreateSession implements [auth.SessionStore]. A session ID in use gives
// an error wrapping [auth.ErrDuplicateID]; a user the Store does not hold
// one wrapping [auth.ErrUserNotFound]. An empty ID is refused.
func (s *Store) CreateSession(ctx context.Context, d *auth.DeviceSession) error {
	switch {
	case d == nil:
		return errors.New("sqlstore: CreateSession: nil session")
	case d.ID == "":
		return errors.New("sqlstore: CreateSession: empty session ID")
	}
	args := append([]any{d.ID, d.UserID}, s.sessionValues(d)...)
	return s.inTx(ctx, func(q querier) error {
		owner, err := exists(ctx, q, s.sq().userExists, d.UserID)
		if err != nil {
			return fmt.Errorf("sqlstore: creating session %q: %w", d.ID, err)
		}
		if !owner {
			return fmt.Errorf("sqlstore: creating session %q: user %q: %w", d.ID, d.UserID, auth.ErrUserNotFound)
		}
		res, err := q.ExecContext(ctx, s.sq().insert, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: creating session %q: %w", d.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: creating session %q: %w", d.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlstore: creating session %q: %w", d.ID, auth.ErrDuplicateID)
		}
		return nil
	})
}

// UpdateSession implements [auth.SessionStore]. The row is read, changed
// and written back in one transaction that holds the row's lock
// (PostgreSQL's SELECT ... FOR UPDATE) or the database's write lock
// (SQLite's BEGIN IMMEDIATE) from before the read, as [Store.UpdateUser]
// does, so that concurrent updates, from any process, queue and each sees
// the one before: of two refreshes racing with one token, the second sees
// the generation the first stored. An update that changes the ID or the
// user gives an error wrapping [auth.ErrIDChanged] and stores nothing.
func (s *Store) UpdateSession(ctx context.Context, id string, update func(*auth.DeviceSession) error) error {
	if update == nil {
		return errors.New("sqlstore: UpdateSession: nil update function")
	}
	return s.inTx(ctx, func(q querier) error {
		d, err := scanSession(q.QueryRowContext(ctx, s.sq().forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: session %q: %w", id, auth.ErrTokenNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: reading session %q: %w", id, err)
		}
		userID := d.UserID
		if err := update(d); err != nil {
			return err
		}
		if d.ID != id || d.UserID != userID {
			return fmt.Errorf("sqlstore: session %q: %w: the update changed the session's ID or user", id, auth.ErrIDChanged)
		}
		if _, err := q.ExecContext(ctx, s.sq().update, append(s.sessionValues(d), id)...); err != nil {
			return fmt.Errorf("sqlstore: updating session %q: %w", id, err)
		}
		return nil
	})
}

// DeleteSession implements [auth.SessionStore].
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	n, err := s.deleteSessions(ctx, s.sq().del, id)
	if err != nil {
		return fmt.Errorf("sqlstore: deleting session %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: session %q: %w", id, auth.ErrTokenNotFound)
	}
	return nil
}

// DeleteUserSessions implements [auth.SessionStore], in one statement.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	n, err := s.deleteSessions(ctx, s.sq().delUser, userID, except)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting the sessions of user %q: %w", userID, err)
	}
	return int(n), nil
}

// deleteSessions runs a DELETE, queued with the Store's other writes, and
// returns how many rows it removed.
func (s *Store) deleteSessions(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.queued(ctx, func() error {
		res, err := s.db.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// UserSessions implements [auth.SessionStore], through the index on
// user_id. Sessions come most recently used first, as auth.MemoryStore
// orders them: a session never used last, sessions used at the same
// moment by ID, bytewise.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]*auth.DeviceSession, error) {
	rows, err := s.db.QueryContext(ctx, s.sq().byUser, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing the sessions of user %q: %w", userID, err)
	}
	defer rows.Close()
	var out []*auth.DeviceSession
	for rows.Next() {
		d, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing the sessions of user %q: %w", userID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing the sessions of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b *auth.DeviceSession) int {
		if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// scanSession reads a row selected with sessionColumns into a session of
// its own (database/sql copies the token hash's bytes). A missing row
// gives sql.ErrNoRows, unwrapped.
func scanSession(r rowScanner) (*auth.DeviceSession, error) {
	var (
		d                      auth.DeviceSession
		generation             int64
		rotated, created, used nullTime
	)
	err := r.Scan(&d.ID, &d.UserID, &d.Uniquifier, &generation, &d.TokenHash,
		&rotated, &created, &used, &d.LastIP, &d.UserAgent)
	if err != nil {
		return nil, err
	}
	d.Generation, d.RotatedAt, d.CreatedAt, d.LastUsedAt = int(generation), rotated.t, created.t, used.t
	if len(d.TokenHash) == 0 {
		d.TokenHash = nil // stored as an empty BLOB or BYTEA
	}
	return &d, nil
}
