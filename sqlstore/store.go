package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/userkey"
)

// Store is a persistent [auth.UserStore], [auth.UserUpdater] and
// [auth.UserAdmin] over a *sql.DB. It is safe for concurrent use, by
// several Stores in one process as well as by several processes sharing
// the database. Make one with [Open].
type Store struct {
	db      *sql.DB
	dialect Dialect
	q       queries
	byID    *sql.Stmt     // q.byID, prepared: it runs on every token check
	byEmail *sql.Stmt     // q.byEmail, prepared
	writing chan struct{} // SQLite: a semaphore of one, held while writing

	throttleWrites atomic.Uint64 // Reserve calls, to prune now and then
}

// The Store's interfaces, checked at compile time.
var (
	_ auth.UserStore   = (*Store)(nil)
	_ auth.UserUpdater = (*Store)(nil)
	_ auth.UserAdmin   = (*Store)(nil)
)

// Open checks that db can be reached, creates or upgrades the schema (see
// the package documentation) and returns a Store over it. The dialect
// must match the database behind db. An unreachable, locked or damaged
// database, or one whose schema is newer than this package, gives an
// error; so does ctx ending first.
func Open(ctx context.Context, db *sql.DB, dialect Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !dialect.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if err := ping(ctx, db, dialect); err != nil {
		return nil, err
	}
	s := &Store{
		db:      db,
		dialect: dialect,
		q:       newQueries(dialect),
		writing: make(chan struct{}, 1),
	}
	if dialect == SQLite {
		if err := checkSQLiteVersion(ctx, db); err != nil {
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	var err error
	if s.byID, err = db.PrepareContext(ctx, s.q.byID); err != nil {
		return nil, fmt.Errorf("sqlstore: preparing the lookup by ID: %w", err)
	}
	if s.byEmail, err = db.PrepareContext(ctx, s.q.byEmail); err != nil {
		_ = s.byID.Close()
		return nil, fmt.Errorf("sqlstore: preparing the lookup by email: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements the Store holds. It does not
// close the *sql.DB, which the Store does not own; closing that releases
// them as well. The Store must not be used after Close.
func (s *Store) Close() error {
	return errors.Join(s.byID.Close(), s.byEmail.Close())
}

// checkSQLiteVersion fails unless the library is SQLite 3.44 or later (for
// ORDER BY inside json_group_array, which migration 3 uses).
func checkSQLiteVersion(ctx context.Context, db *sql.DB) error {
	var version string
	err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version)
	if err != nil {
		return fmt.Errorf("sqlstore: reading the SQLite version (is this an SQLite database?): %w", err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return fmt.Errorf("sqlstore: unrecognized SQLite version %q", version)
	}
	if major < 3 || major == 3 && minor < 44 {
		return fmt.Errorf("sqlstore: SQLite %s is too old; 3.44 or later is needed", version)
	}
	return nil
}

// UserByID implements [auth.UserStore]. It is one prepared query that
// reads one row through the primary key, roles included.
//
// On SQLite the read, once ctx has been checked, runs to its end even if
// ctx ends meanwhile (including a wait for a free connection of the
// pool). It takes a few microseconds, less than watching ctx would add:
// for a context that can end, database/sql and the driver each start a
// goroutine per query.
func (s *Store) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if s.dialect == SQLite {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: reading user %q: %w", id, err)
		}
		ctx = context.WithoutCancel(ctx)
	}
	u, err := scanUser(s.byID.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user %q: %w", id, err)
	}
	return u, nil
}

// UserByEmail implements [auth.UserStore]. The email is compared as the
// package documentation describes, through a unique index. The error does
// not repeat the email, which may be a mistyped password.
func (s *Store) UserByEmail(ctx context.Context, email string) (*auth.User, error) {
	u, err := scanUser(s.byEmail.QueryRowContext(ctx, emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: user by email: %w", auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user by email: %w", err)
	}
	return u, nil
}

// ListUsers implements [auth.UserAdmin]. Users come ordered by ID as
// auth.MemoryStore orders them: decimal IDs numerically, first, then the
// others bytewise.
func (s *Store) ListUsers(ctx context.Context) ([]*auth.User, error) {
	rows, err := s.db.QueryContext(ctx, s.q.all)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing users: %w", err)
	}
	defer rows.Close()
	var users []*auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing users: %w", err)
	}
	slices.SortFunc(users, func(a, b *auth.User) int { return userkey.CompareIDs(a.ID, b.ID) })
	return users, nil
}

// ping checks that db can be reached. A new SQLite connection runs the DSN's
// pragmas, and switching a fresh file to WAL needs a lock that SQLite's busy
// handler does not wait for: when another process opens the same new file
// at that moment, the connection fails with SQLITE_BUSY. Such failures are
// retried for up to 5 s.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		if dialect != SQLite || !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("sqlstore: connecting to the %v database: %w", dialect, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: connecting to the %v database: %w", dialect, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked", recognised by
// its text since the package imports no driver.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}
