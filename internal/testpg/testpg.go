// Package testpg gives the module's tests the PostgreSQL database they may
// use, $AUTH_TEST_POSTGRES_DSN, and a schema of their own in it. Only tests
// import it.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Env is the environment variable that holds the DSN of the test database.
const Env = "AUTH_TEST_POSTGRES_DSN"

// DSN returns $AUTH_TEST_POSTGRES_DSN. Without it the test is skipped with
// a message that says how to start a server, except under CI=true, where
// .ci/run starts one and its absence fails the test.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		msg := Env + ` is not set; run eval "$(bash .ci/start-postgres.sh)" (as root: it installs and starts PostgreSQL and prints the export line) first`
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dsn
}

// Schema creates an empty schema, named prefix and a random suffix, in the
// test database, and drops it at cleanup. It returns the database's DSN
// and the schema; [WithSearchPath] makes a DSN that selects it.
func Schema(tb testing.TB, prefix string) (dsn, schema string) {
	tb.Helper()
	dsn = DSN(tb)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	raw := make([]byte, 8)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms
	schema = prefix + hex.EncodeToString(raw)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("creating schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// WithSearchPath adds search_path=schema to a URL or keyword/value DSN;
// pgx sends it to the server as a run-time parameter.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
