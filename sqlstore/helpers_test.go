package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/authkit/auth/internal/testpg"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// postgresEnv is the environment variable that holds the DSN of the
// PostgreSQL database the tests may use. Each test works in a schema of its
// own, which it drops when done.
const postgresEnv = "AUTH_TEST_POSTGRES_DSN"

// postgresDSN returns the DSN of the test database. Without one the test is
// skipped, or fails when CI=true, since CI must run every test.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		const how = `eval "$(bash .ci/start-postgres.sh)" (as root; it installs and starts PostgreSQL and prints the export line), then go test ./sqlstore/...`
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set, and CI=true requires the PostgreSQL tests; run %s", postgresEnv, how)
		}
		tb.Skipf("PostgreSQL tests skipped: %s is not set; to run them: %s", postgresEnv, how)
	}
	return dsn
}

// freshPostgres creates an empty schema for one test and returns a DSN
// whose search_path selects it. The schema is dropped at cleanup.
func freshPostgres(tb testing.TB) string {
	tb.Helper()
	postgresDSN(tb) // sqlstore's own message when the variable is missing
	return testpg.WithSearchPath(testpg.Schema(tb, "sqlstore_test_"))
}

// openDB opens a pool, closed at cleanup. PostgreSQL pools are bounded:
// 200 concurrent updates must not ask for 200 server connections.
func openDB(tb testing.TB, driver, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatalf("sql.Open(%q): %v", driver, err)
	}
	if driver == "pgx" {
		db.SetMaxOpenConns(8)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// openStore opens a pool and a Store over it.
func openStore(tb testing.TB, driver, dsn string, dialect sqlstore.Dialect) *sqlstore.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := sqlstore.Open(ctx, openDB(tb, driver, dsn), dialect)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

// backend is one dialect for the tests they share.
type backend struct {
	name    string
	driver  string
	dialect sqlstore.Dialect
	// require skips or fails the test when the backend is not available.
	require func(tb testing.TB)
	// newDSN returns the DSN of a new, empty database.
	newDSN func(tb testing.TB) string
	// tables lists the tables of the database a DSN of newDSN opens.
	tables string
}

// backends are the two dialects, SQLite on a file in a temporary
// directory and PostgreSQL in a schema of its own.
var backends = []backend{
	{
		name:    "SQLite",
		driver:  "sqlite",
		dialect: sqlstore.SQLite,
		require: func(testing.TB) {},
		newDSN: func(tb testing.TB) string {
			return sqlstore.SQLiteDSN(filepath.Join(tb.TempDir(), "auth.db"))
		},
		tables: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
	},
	{
		name:    "Postgres",
		driver:  "pgx",
		dialect: sqlstore.Postgres,
		require: func(tb testing.TB) { postgresDSN(tb) },
		newDSN:  freshPostgres,
		tables:  "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
	},
}

// fresh returns an opener of stores over one new, empty database.
func (b backend) fresh(tb testing.TB) func(tb testing.TB) *sqlstore.Store {
	dsn := b.newDSN(tb)
	return func(tb testing.TB) *sqlstore.Store { return openStore(tb, b.driver, dsn, b.dialect) }
}

// opener adapts a backend to storetest.
func (b backend) opener() storetest.Opener {
	return func(t *testing.T) (storetest.Store, storetest.Reopen) {
		open := b.fresh(t)
		return open(t), func(t *testing.T) storetest.Store { return open(t) }
	}
}
