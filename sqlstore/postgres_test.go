package sqlstore_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authkit/auth/internal/testpg"
	"github.com/authkit/auth/sqlstore"
)

// TestPostgresOpenErrors checks Open's errors against a real server.
func TestPostgresOpenErrors(t *testing.T) {
	dsn := postgresDSN(t)
	tests := []struct {
		name string
		dsn  func(t *testing.T) string
		want string
	}{
		{
			name: "wrong password",
			dsn: func(t *testing.T) string {
				u, err := url.Parse(dsn)
				if err != nil || u.User == nil {
					t.Skipf("%s is not a URL with a user; cannot make a wrong password", postgresEnv)
				}
				u.User = url.UserPassword(u.User.Username(), "wrong-password")
				return u.String()
			},
			want: "sqlstore: connecting to the postgres database:",
		},
		{
			name: "missing database",
			dsn: func(t *testing.T) string {
				u, err := url.Parse(dsn)
				if err != nil || u.Scheme == "" {
					t.Skipf("%s is not a URL; cannot change the database", postgresEnv)
				}
				u.Path = "/no_such_database_for_sqlstore"
				return u.String()
			},
			want: "sqlstore: connecting to the postgres database:",
		},
		{
			name: "search_path names no schema",
			dsn:  func(*testing.T) string { return testpg.WithSearchPath(dsn, "no_such_schema_for_sqlstore") },
			want: "sqlstore: creating schema_migrations:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "pgx", tt.dsn(t))
			s, err := sqlstore.Open(t.Context(), db, sqlstore.Postgres)
			if err == nil {
				t.Fatalf("Open succeeded (%v); want an error containing %q", s, tt.want)
			}
			t.Logf("Open error: %v", err)
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("Open error = %q; want one containing %q, without the password", err, tt.want)
			}
		})
	}
}

// TestPostgresSearchPath checks that the tables go to the schema that
// search_path selects, so that an application can keep them apart.
func TestPostgresSearchPath(t *testing.T) {
	dsn := freshPostgres(t)
	db := openDB(t, "pgx", dsn)
	if _, err := sqlstore.Open(t.Context(), db, sqlstore.Postgres); err != nil {
		t.Fatalf("Open: %v", err)
	}
	var schema string
	err := db.QueryRowContext(t.Context(),
		"SELECT table_schema FROM information_schema.tables WHERE table_name = 'user_roles' AND table_schema = current_schema()").Scan(&schema)
	if err != nil {
		t.Fatalf("user_roles is not in the current schema: %v", err)
	}
	if !strings.HasPrefix(schema, "sqlstore_test_") {
		t.Errorf("tables created in schema %q, want the test's own", schema)
	}
}
