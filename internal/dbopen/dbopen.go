// Package dbopen opens the sqlstore a DSN names, for the example server and
// the authctl command: a postgres:// or postgresql:// URL is PostgreSQL
// through pgx, a file: URI or anything else an SQLite file through
// modernc.org/sqlite. It is internal so that the drivers reach only those
// programs, never a user of package auth.
package dbopen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/authkit/auth/sqlstore"
)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// ErrNoDatabase: the SQLite file does not exist and create was not set.
var ErrNoDatabase = errors.New("no SQLite database")

// Open opens the store dsn names and migrates its schema. An SQLite file
// is created only if create is set. The returned function closes the store
// and its pool.
func Open(ctx context.Context, dsn string, create bool) (*sqlstore.Store, func(), error) {
	s, done, err := OpenNative(ctx, dsn, create)
	if err != nil {
		return nil, nil, err
	}
	return s.Store, done, nil
}

// NativeStore is a store of sqlstore's own tables, as [OpenNative] opens
// it, with what its pool can tell.
type NativeStore struct {
	*sqlstore.Store
	db *sql.DB
}

// OpenNative is [Open], returning the store with its pool.
func OpenNative(ctx context.Context, dsn string, create bool) (*NativeStore, func(), error) {
	db, dialect, err := pool(dsn, create, sqlstore.SQLiteDSN)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.Open(ctx, db, dialect)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return &NativeStore{Store: s, db: db}, func() { _ = s.Close(); _ = db.Close() }, nil
}

// HasUsers reports whether the store holds at least one user, reading one
// row at most.
func (s *NativeStore) HasUsers(ctx context.Context) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM users LIMIT 1`).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking for users: %w", err)
	}
	return true, nil
}

// Stats returns the statistics of the store's pool.
func (s *NativeStore) Stats() sql.DBStats { return s.db.Stats() }

// The pool settings. Idle connections are kept up to the open limit: a
// connection closed because the idle pool was full has to be opened again
// by the next burst, which costs an SQLite connection a new read of the
// schema and PostgreSQL a new session (a process on the server).
const (
	// sqliteMaxConns bounds the SQLite pool. In WAL mode readers run in
	// parallel and one connection writes at a time (the Store queues its
	// writes itself), so a few connections keep the CPUs busy; more only
	// add page caches.
	sqliteMaxConns = 8
	// postgresMaxConns bounds the PostgreSQL pool of an instance, well
	// below the server's default max_connections of 100.
	postgresMaxConns = 20
	// postgresMaxIdleTime closes a PostgreSQL connection left unused that
	// long, so that after a burst an instance does not hold its sessions
	// on the server (nor keep ones a proxy or load balancer has silently
	// dropped) for ever. A busy pool never reaches it.
	postgresMaxIdleTime = 5 * time.Minute
	// postgresMaxLifetime renews PostgreSQL connections now and then
	// (20 in 30 minutes, under one a minute), so that they spread again
	// over the servers behind a proxy or after a failover.
	postgresMaxLifetime = 30 * time.Minute
)

// pool opens the pool dsn names; sqliteDSN turns the path of an SQLite
// file into the driver's DSN. An SQLite file must exist unless create is
// set.
func pool(dsn string, create bool, sqliteDSN func(path string) string) (*sql.DB, sqlstore.Dialect, error) {
	if dsn == "" {
		return nil, 0, errors.New("empty database DSN")
	}
	driver, dialect, source := "sqlite", sqlstore.SQLite, sqliteDSN(dsn)
	switch {
	case IsPostgres(dsn):
		driver, dialect, source = "pgx", sqlstore.Postgres, dsn
	case strings.HasPrefix(dsn, "file:"):
		source = dsn // an SQLite URI, taken as it is
	case !create:
		if _, err := os.Stat(dsn); err != nil {
			return nil, 0, fmt.Errorf("%w at %s: %w", ErrNoDatabase, dsn, err)
		}
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, 0, fmt.Errorf("opening the database: %w", err)
	}
	if dialect == sqlstore.Postgres {
		db.SetMaxOpenConns(postgresMaxConns)
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(postgresMaxIdleTime)
		db.SetConnMaxLifetime(postgresMaxLifetime)
	} else {
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
	}
	return db, dialect, nil
}
