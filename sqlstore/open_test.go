package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/sqlstore"
)

// TestOpenErrors checks that Open answers bad databases with an error that
// says what went wrong, and never panics.
func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		driver  string
		dsn     func(t *testing.T) string // "" means a nil *sql.DB
		dialect sqlstore.Dialect
		ctx     func() context.Context
		want    string // in the error text
	}{
		{
			name:    "nil db",
			dsn:     func(*testing.T) string { return "" },
			dialect: sqlstore.SQLite,
			want:    "sqlstore: nil *sql.DB",
		},
		{
			name:    "unknown dialect",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db")) },
			dialect: 0,
			want:    "sqlstore: unknown dialect Dialect(0)",
		},
		{
			name:    "corrupt SQLite file",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return sqlstore.SQLiteDSN(garbageFile(t)) },
			dialect: sqlstore.SQLite,
			want:    "file is not a database",
		},
		{
			name:   "corrupt SQLite file, plain DSN",
			driver: "sqlite",
			dsn: func(t *testing.T) string {
				return garbageFile(t)
			},
			dialect: sqlstore.SQLite,
			want:    "file is not a database",
		},
		{
			name:    "SQLite file in a missing directory",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "missing", "a.db")) },
			dialect: sqlstore.SQLite,
			want:    "sqlstore: connecting to the sqlite database: unable to open database file",
		},
		{
			name:    "locked SQLite database",
			driver:  "sqlite",
			dsn:     lockedFile,
			dialect: sqlstore.SQLite,
			want:    "database is locked",
		},
		{
			name:    "schema newer than the package",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return withSchema(t, "INSERT INTO schema_migrations VALUES (99, 'x')") },
			dialect: sqlstore.SQLite,
			want:    "sqlstore: database schema version 99 is newer than this package's 3",
		},
		{
			name:   "another tool's schema_migrations",
			driver: "sqlite",
			dsn: func(t *testing.T) string {
				return withSQL(t, "CREATE TABLE schema_migrations (version INTEGER NOT NULL, dirty INTEGER NOT NULL)")
			},
			dialect: sqlstore.SQLite,
			want:    "does another tool use a table of that name?",
		},
		{
			name:    "existing users table",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return withSQL(t, "CREATE TABLE users (name TEXT)") },
			dialect: sqlstore.SQLite,
			want:    "sqlstore: schema migration 1: SQL logic error: table users already exists",
		},
		{
			name:    "PostgreSQL dialect on SQLite",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db")) },
			dialect: sqlstore.Postgres,
			want:    "sqlstore: taking the migration lock: SQL logic error",
		},
		{
			name:   "unreachable PostgreSQL server",
			driver: "pgx",
			dsn: func(*testing.T) string {
				return "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"
			},
			dialect: sqlstore.Postgres,
			want:    "sqlstore: connecting to the postgres database:",
		},
		{
			name:    "malformed PostgreSQL DSN",
			driver:  "pgx",
			dsn:     func(*testing.T) string { return "postgres://%zz" },
			dialect: sqlstore.Postgres,
			want:    "sqlstore: connecting to the postgres database:",
		},
		{
			name:    "context already done",
			driver:  "sqlite",
			dsn:     func(t *testing.T) string { return sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db")) },
			dialect: sqlstore.SQLite,
			ctx:     cancelled,
			want:    "context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var db *sql.DB
			if dsn := tt.dsn(t); dsn != "" {
				db = openDB(t, tt.driver, dsn)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			s, err := sqlstore.Open(ctx, db, tt.dialect)
			if err == nil {
				t.Fatalf("Open succeeded (%v); want an error containing %q", s, tt.want)
			}
			if s != nil {
				t.Errorf("Open returned a Store along with error %v", err)
			}
			t.Logf("Open error: %v", err)
			if !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %q; want one starting with %q and containing %q", err, "sqlstore: ", tt.want)
			}
		})
	}
}

// garbageFile writes a file that is not an SQLite database.
func garbageFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "garbage.db")
	data := []byte(strings.Repeat("this is not an SQLite database\n", 200))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withSQL returns the DSN of an SQLite database on which stmt has run.
func withSQL(t *testing.T, stmt string) string {
	dsn := sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db"))
	if _, err := openDB(t, "sqlite", dsn).Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return dsn
}

// withSchema returns the DSN of an SQLite database that Open has set up
// and on which stmt has then run.
func withSchema(t *testing.T, stmt string) string {
	dsn := sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "a.db"))
	db := openDB(t, "sqlite", dsn)
	if _, err := sqlstore.Open(t.Context(), db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return dsn
}

// lockedFile returns a DSN, with a short busy timeout, of an SQLite file
// whose write lock another connection holds until the test ends.
func lockedFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "locked.db")
	holder := openDB(t, "sqlite", sqlstore.SQLiteDSN(path))
	if _, err := sqlstore.Open(t.Context(), holder, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
	})
	return "file:" + path + "?_pragma=busy_timeout(100)&_pragma=journal_mode(WAL)"
}
