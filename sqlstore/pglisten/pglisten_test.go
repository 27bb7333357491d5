package pglisten_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/testpg"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/sqlstore/pglisten"
)

// postgresDSN returns a DSN selecting a fresh schema of the test database
// in $AUTH_TEST_POSTGRES_DSN; without one the test is skipped, or fails
// under CI, which must run it.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("AUTH_TEST_POSTGRES_DSN")
	if dsn == "" {
		const how = `eval "$(bash .ci/start-postgres.sh)" then go test ./sqlstore/...`
		if os.Getenv("CI") == "true" {
			t.Fatal("AUTH_TEST_POSTGRES_DSN is not set, and CI=true requires the PostgreSQL tests; run " + how)
		}
		t.Skip("PostgreSQL tests skipped: AUTH_TEST_POSTGRES_DSN is not set; to run them: " + how)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "pglisten_test_" + auth.NewUniquifier()[:16]
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// instance is one service instance: its own pool, store and Manager with
// the verified-user cache on and a TTL far longer than the test.
func instance(t *testing.T, dsn string) (*auth.Manager, *sqlstore.Store) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.New(s, []byte("pglisten shared signing key....."), auth.Config{

		UserCache: auth.UserCacheConfig{Size: 100, TTL: time.Hour},
		Logger:    slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestRevocationReachesOtherInstance measures how long a logout on one
// instance takes to reach the verified-user cache of another. Without the
// notification the cached user would be served for the cache's TTL (an
// hour); the test fails if the revocation takes more than 5 s and logs the
// delay it measured.
func TestRevocationReachesOtherInstance(t *testing.T) {
	dsn := postgresDSN(t)
	a, storeA := instance(t, dsn)
	b, _ := instance(t, dsn)
	ctx := context.Background()

	u, _ := a.NewUser("listen@example.com", "listen-password")
	if err := storeA.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok, _ := a.IssueToken(u)

	listenCtx, stop := context.WithCancel(ctx)
	listening := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- pglisten.Run(listenCtx, dsn, b, pglisten.Config{
			Logger:   slog.New(slog.DiscardHandler),
			OnListen: func() { listening <- struct{}{} },
		})
	}()
	defer func() {
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()
	<-listening

	if _, err := b.VerifyToken(ctx, tok); err != nil { // now cached in B
		t.Fatal(err)
	}
	start := time.Now()
	if err := a.RevokeTokens(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := b.VerifyToken(ctx, tok)
		if errors.Is(err, auth.ErrInvalidToken) {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("instance B still accepts the revoked token after %v", time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("revocation reached the other instance's cache after %v", time.Since(start))
}

func TestRunRejectsBadInput(t *testing.T) {
	if err := pglisten.Run(context.Background(), "postgres://x", nil, pglisten.Config{}); err == nil {
		t.Error("Run accepted a nil target")
	}
	m, _ := auth.New(auth.NewMemoryStore(), []byte("0123456789abcdef"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err := pglisten.Run(context.Background(), "::not a dsn::", m, pglisten.Config{}); err == nil {
		t.Error("Run accepted a malformed DSN")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := pglisten.Run(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", m, pglisten.Config{Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run on an unreachable server returned %v, want the context's error", err)
	}
}

// TestListensAgainAfterOutages cuts the listener's connection to
// PostgreSQL, through a proxy, twice: for 1.6 s, which the reconnection
// backoff doubles through (100 ms to 1.6 s), and then for an instant.
// With the default settings the listener must be back within 2.5 s of the
// database after each: the backoff is capped (at 2 s) and starts again at
// 100 ms once a connection had been listening, rather than carrying the
// first outage's wait into the next.
func TestListensAgainAfterOutages(t *testing.T) {
	proxy, dsn := testpg.NewProxy(t, postgresDSN(t))
	m, _ := instance(t, dsn) // creates the schema through the proxy
	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan time.Time, 16)
	done := make(chan error, 1)
	go func() {
		done <- pglisten.Run(ctx, dsn, m, pglisten.Config{
			Logger:   slog.New(slog.DiscardHandler),
			OnListen: func() { listening <- time.Now() },
		})
	}()
	defer func() {
		stop()
		<-done
	}()
	<-listening
	for _, outage := range []time.Duration{1600 * time.Millisecond, 0} {
		proxy.Cut()
		time.Sleep(outage)
		proxy.Restore()
		back := time.Now()
		select {
		case at := <-listening:
			t.Logf("after an outage of %v: listening again %v after the database was back", outage, at.Sub(back).Round(time.Millisecond))
		case <-time.After(2500 * time.Millisecond):
			t.Fatalf("after an outage of %v: not listening 2.5 s after the database was back", outage)
		}
	}
}
