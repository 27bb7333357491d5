package sqlstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/sqlstore/pglisten"
)

// refusedWithin calls refused every 10 ms until it reports true, and fails
// the test if a call that began bound or more after refusedWithin was
// called still reports false. It returns how long the refusal took.
func refusedWithin(tb testing.TB, bound time.Duration, refused func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for {
		began := time.Since(start)
		if refused() {
			return began
		}
		if began >= bound {
			tb.Fatalf("still accepted %v after the change; want refused within %v", began.Round(time.Millisecond), bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUserChanges reads the change log after each kind of change, made
// through a second Store over a pool of its own (as another process would)
// and by SQL that bypasses the Store (as an operator would).
func TestUserChanges(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := context.Background()
			dsn := b.newDSN(t)
			reader, writer := openStore(t, b.driver, dsn, b.dialect), openStore(t, b.driver, dsn, b.dialect)
			db := openDB(t, b.driver, dsn) // for the operator's SQL
			execSQL := func(stmt string) {
				t.Helper()
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			u := newTestUser(t, writer, "log@example.com", "reader")
			other := newTestUser(t, writer, "other@example.com")

			_, cursor, err := reader.UserChanges(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			read := func(what string) []string {
				t.Helper()
				ids, next, err := reader.UserChanges(ctx, cursor)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				cursor = next
				return ids
			}
			// On PostgreSQL a read repeats the entries of transactions not
			// older than the oldest one running anywhere in the cluster at
			// the last read (another test's, say), as the contract allows:
			// only SQLite's log must be empty here.
			if ids := read("nothing changed"); len(ids) != 0 && b.dialect == sqlstore.SQLite {
				t.Fatalf("nothing changed, yet the log names %q", ids)
			}
			update := func(f func(*auth.User)) {
				t.Helper()
				if err := writer.UpdateUser(ctx, u.ID, func(u *auth.User) error { f(u); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				name   string
				change func()
			}{
				{"revocation", func() { update(func(u *auth.User) { u.Uniquifier = auth.NewUniquifier() }) }},
				{"deactivation", func() { update(func(u *auth.User) { u.Active = false }) }},
				{"roles", func() { update(func(u *auth.User) { u.Roles = []string{"writer", "reader"} }) }},
				{"login tracking", func() { update(func(u *auth.User) { u.LoginCount++ }) }},
				{"SQL update", func() {
					execSQL("UPDATE users SET active = " + map[sqlstore.Dialect]string{sqlstore.SQLite: "1", sqlstore.Postgres: "TRUE"}[b.dialect] + " WHERE id = '" + u.ID + "'")
				}},
				{"SQL role removal", func() { execSQL("DELETE FROM user_roles WHERE user_id = '" + u.ID + "'") }},
			} {
				tc.change()
				ids := read(tc.name)
				if !slices.Contains(ids, u.ID) || slices.Contains(ids, other.ID) && b.dialect == sqlstore.SQLite {
					t.Fatalf("%s: the log names %q; want user %q and not %q", tc.name, ids, u.ID, other.ID)
				}
				if b.dialect == sqlstore.SQLite {
					if again := read(tc.name + ", read again"); len(again) != 0 {
						t.Fatalf("%s: a second read names %q again", tc.name, again)
					}
				}
			}

			// A role rename reaches every holder.
			update(func(u *auth.User) { u.Roles = []string{"reader"} })
			if err := writer.UpdateUser(ctx, other.ID, func(u *auth.User) error { u.Roles = []string{"reader"}; return nil }); err != nil {
				t.Fatal(err)
			}
			read("roles given")
			execSQL("UPDATE roles SET name = 'viewer' WHERE name = 'reader'")
			if ids := read("role renamed"); !slices.Contains(ids, u.ID) || !slices.Contains(ids, other.ID) {
				t.Fatalf("role renamed: the log names %q; want both users", ids)
			}
			// The roles the Store reads (users.roles) follow the SQL.
			rolesOf := func(id string) []string {
				t.Helper()
				got, err := reader.UserByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return got.Roles
			}
			if r := rolesOf(other.ID); !slices.Equal(r, []string{"viewer"}) {
				t.Fatalf("after the rename by SQL the Store reads roles %q; want [viewer]", r)
			}
			execSQL("INSERT INTO user_roles (user_id, role_id, position) SELECT '" + u.ID + "', id, 5 FROM roles WHERE name = 'writer'")
			if r := rolesOf(u.ID); !slices.Equal(r, []string{"viewer", "writer"}) {
				t.Fatalf("after a role given by SQL the Store reads roles %q; want [viewer writer]", r)
			}
			read("role given by SQL")

			// A deletion.
			execSQL("DELETE FROM users WHERE id = '" + other.ID + "'")
			if ids := read("deleted"); !slices.Contains(ids, other.ID) {
				t.Fatalf("deletion: the log names %q; want %q", ids, other.ID)
			}

			// Cursors: a stale one is lost, a malformed one an error.
			pos, _, _ := strings.Cut(cursor, ".")
			stale := pos + "." + strconv.FormatInt(time.Now().Add(-31*time.Minute).Unix(), 10)
			if _, _, err := reader.UserChanges(ctx, stale); !errors.Is(err, auth.ErrChangesLost) {
				t.Fatalf("a cursor of 31 minutes ago: %v; want ErrChangesLost", err)
			}
			for _, bad := range []string{"x", "1", ".5", "-1.5", "1.x", "18446744073709551616.5"} {
				if _, _, err := reader.UserChanges(ctx, bad); err == nil || errors.Is(err, auth.ErrChangesLost) {
					t.Fatalf("cursor %q: %v; want an error other than ErrChangesLost", bad, err)
				}
			}
		})
	}
}

// TestUserChangesPruned: an entry older than the retention is deleted by
// the next change's trigger.
func TestUserChangesPruned(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			dsn := b.newDSN(t)
			s, db := openStore(t, b.driver, dsn, b.dialect), openDB(t, b.driver, dsn)
			u := newTestUser(t, s, "prune@example.com")
			old := "unixepoch() - 7200"
			if b.dialect == sqlstore.Postgres {
				old = "now() - interval '2 hours'"
			}
			if _, err := db.Exec("INSERT INTO user_changes (user_id, changed_at) VALUES ('old', " + old + ")"); err != nil {
				t.Fatal(err)
			}
			countOld := func() (n int) {
				t.Helper()
				if err := db.QueryRow("SELECT COUNT(*) FROM user_changes WHERE user_id = 'old'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := countOld(); n != 1 {
				t.Fatalf("%d old entries before the change", n)
			}
			if err := s.UpdateUser(context.Background(), u.ID, func(u *auth.User) error { u.LoginCount++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n := countOld(); n != 0 {
				t.Fatalf("%d old entries after the change; want them pruned", n)
			}
		})
	}
}

// TestCacheSeesOtherProcess runs the property the change log is for: a
// Manager with the verified-user cache on (the default) refuses, within a
// second, a token that another process revoked, deactivated or demoted.
// On PostgreSQL it holds with the notification listener connected, and
// with it unable to connect (then the log alone bounds the staleness).
func TestCacheSeesOtherProcess(t *testing.T) {
	type variant struct {
		name     string
		b        backend
		listener string // "" none; "up"; "killed": its session ended before each change; "down": pointed at a closed port
	}
	variants := []variant{
		{"SQLite", backends[0], ""}, {"Postgres", backends[1], ""}, {"Postgres-listener-up", backends[1], "up"},
		{"Postgres-listener-killed", backends[1], "killed"}, {"Postgres-listener-down", backends[1], "down"},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			v.b.require(t)
			ctx := t.Context()
			dsn := v.b.newDSN(t)
			server := &countingStore{Store: openStore(t, v.b.driver, dsn, v.b.dialect)}
			operator := openStore(t, v.b.driver, dsn, v.b.dialect)
			m, err := auth.New(server, []byte("other process test signing key.."), auth.Config{
				Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
			})
			if err != nil {
				t.Fatal(err)
			}
			// The listener's session is told apart by its application_name.
			app := "pglisten_test_" + strconv.FormatInt(time.Now().UnixNano(), 36)
			listening := make(chan struct{}, 16)
			switch v.listener {
			case "up", "killed":
				go pglisten.Run(ctx, dsn+"&application_name="+app, m, pglisten.Config{Logger: slog.New(slog.DiscardHandler), OnListen: func() { listening <- struct{}{} }}) //nolint:errcheck // ends with ctx
				<-listening
			case "down":
				go pglisten.Run(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", m, pglisten.Config{Logger: slog.New(slog.DiscardHandler)}) //nolint:errcheck // ends with ctx
			}
			for _, change := range []struct {
				name string
				f    func(*auth.User)
			}{
				{"revoked", func(u *auth.User) { u.Uniquifier = auth.NewUniquifier() }},
				{"deactivated", func(u *auth.User) { u.Active = false }},
			} {
				u := newTestUser(t, operator, change.name+"@example.com")
				tok, err := m.IssueToken(u)
				if err != nil {
					t.Fatal(err)
				}
				// Serve the token until the cache answers for it.
				cachedBy := time.Now().Add(5 * time.Second)
				for !server.cached(t, m, tok) {
					if time.Now().After(cachedBy) {
						t.Fatal("the cache never answered for the token")
					}
				}
				if v.listener == "killed" {
					var n int
					err := openDB(t, v.b.driver, dsn).QueryRowContext(ctx,
						"SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
					if err != nil || n != 1 {
						t.Fatalf("ending the listener's session: %d ended, %v", n, err)
					}
				}
				if err := operator.UpdateUser(ctx, u.ID, func(u *auth.User) error { change.f(u); return nil }); err != nil {
					t.Fatal(err)
				}
				took := refusedWithin(t, time.Second, func() bool {
					_, err := m.VerifyToken(ctx, tok)
					return errors.Is(err, auth.ErrInvalidToken)
				})
				t.Logf("%s: refused %v after the change", change.name, took.Round(time.Millisecond))
				if v.listener == "killed" {
					select { // it reconnects by itself
					case <-listening:
					case <-time.After(10 * time.Second):
						t.Fatal("the listener did not reconnect within 10 s")
					}
				}
			}
		})
	}
}

// newTestUser stores an active user with the given email and roles.
func newTestUser(tb testing.TB, s *sqlstore.Store, email string, roles ...string) *auth.User {
	tb.Helper()
	u := &auth.User{Email: email, Active: true, Uniquifier: auth.NewUniquifier(), Roles: roles}
	if err := s.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// countingStore counts the lookups of a Store, to tell when the cache
// answered. It keeps the Store's change log.
type countingStore struct {
	*sqlstore.Store
	lookups atomic.Int64
}

func (s *countingStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	s.lookups.Add(1)
	return s.Store.UserByID(ctx, id)
}

// cached verifies tok with m and reports whether the cache answered.
func (s *countingStore) cached(tb testing.TB, m *auth.Manager, tok string) bool {
	tb.Helper()
	before := s.lookups.Load()
	if _, err := m.VerifyToken(context.Background(), tok); err != nil {
		tb.Fatal(err)
	}
	return s.lookups.Load() == before
}
