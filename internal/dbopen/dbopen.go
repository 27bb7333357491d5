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
	db, dialect, err := pool(dsn, create, sqlstore.SQLiteDSN)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.Open(ctx, db, dialect)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); _ = db.Close() }, nil
}

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
		db.SetMaxOpenConns(20)
	}
	return db, dialect, nil
}
