package sqlstore

import (
	"context"
	"database/sql"
)

// MigrateTo creates or upgrades the schema of db up to version and no
// further, as a release of that schema version left it, so that tests can
// upgrade such a database with Open.
func MigrateTo(ctx context.Context, db *sql.DB, dialect Dialect, version int) error {
	s := &Store{db: db, dialect: dialect, q: newQueries(dialect), writing: make(chan struct{}, 1)}
	return s.migrateTo(ctx, version)
}

// Rebind is [Dialect.rebind], for the tests' own SQL.
func (d Dialect) Rebind(query string) string { return d.rebind(query) }

// LatestVersion is the schema version Open migrates to.
func LatestVersion() int { return migrations[len(migrations)-1].version }
