package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// TestSessionStore runs storetest's session checks on each dialect.
func TestSessionStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunSessions(t, func(t *testing.T) auth.SessionStore { return b.fresh(t)(t) })
		})
	}
}

// TestSessionStoreTwoInstances runs the session checks against two
// Stores, each with a pool of its own, over one database, as two
// processes of a service have them: the calls alternate between the two,
// so each check reads through one Store what it wrote through the other,
// and the concurrent checks race the two.
func TestSessionStoreTwoInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunSessions(t, func(t *testing.T) auth.SessionStore {
				open := b.fresh(t)
				return &alternating{Store: open(t), other: open(t)}
			})
		})
	}
}

// alternating is two Stores over one database; its session calls go to
// each in turn. Its user calls go to the first.
type alternating struct {
	*sqlstore.Store
	other *sqlstore.Store
	calls atomic.Uint64
}

func (a *alternating) next() *sqlstore.Store {
	if a.calls.Add(1)%2 == 0 {
		return a.other
	}
	return a.Store
}

func (a *alternating) CreateSession(ctx context.Context, d *auth.DeviceSession) error {
	return a.next().CreateSession(ctx, d)
}

func (a *alternating) UpdateSession(ctx context.Context, id string, update func(*auth.DeviceSession) error) error {
	return a.next().UpdateSession(ctx, id, update)
}

func (a *alternating) DeleteSession(ctx context.Context, id string) error {
	return a.next().DeleteSession(ctx, id)
}

func (a *alternating) UserSessions(ctx context.Context, userID string) ([]*auth.DeviceSession, error) {
	return a.next().UserSessions(ctx, userID)
}

func (a *alternating) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	return a.next().DeleteUserSessions(ctx, userID, except)
}

// TestSessionRotationTwoInstances: goroutines on two Stores over one
// database, half on each, race to rotate one session from the generation
// it has; in every round exactly one wins, whichever Store it used, and
// both Stores then read the winner's token hash.
func TestSessionRotationTwoInstances(t *testing.T) {
	const racers, rounds = 16, 5
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			open := b.fresh(t)
			stores := []*sqlstore.Store{open(t), open(t)}
			ctx := t.Context()
			if err := stores[0].CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
				t.Fatal(err)
			}
			if err := stores[1].CreateSession(ctx, &auth.DeviceSession{ID: "s", UserID: "u", TokenHash: hashOf("start")}); err != nil {
				t.Fatal(err)
			}
			errStale := errors.New("stale generation")
			wins := [2]int{}
			for g := range rounds {
				errs := make([]error, racers)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range racers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs[i] = stores[i%2].UpdateSession(ctx, "s", func(d *auth.DeviceSession) error {
							if d.Generation != g {
								return errStale
							}
							d.Generation++
							d.TokenHash = hashOf(fmt.Sprint(g, i))
							d.RotatedAt = time.Now()
							return nil
						})
					}()
				}
				close(start)
				wg.Wait()
				winner := -1
				for i, err := range errs {
					switch {
					case err == nil && winner >= 0:
						t.Fatalf("round %d: racers %d and %d both rotated generation %d", g, winner, i, g)
					case err == nil:
						winner = i
					case !errors.Is(err, errStale):
						t.Fatalf("round %d: racer %d: %v", g, i, err)
					}
				}
				if winner < 0 {
					t.Fatalf("round %d: no racer rotated generation %d", g, g)
				}
				wins[winner%2]++
				for j, s := range stores {
					list, err := s.UserSessions(ctx, "u")
					if err != nil || len(list) != 1 {
						t.Fatalf("UserSessions through store %d = %v, %v", j, list, err)
					}
					if d := list[0]; d.Generation != g+1 || !bytes.Equal(d.TokenHash, hashOf(fmt.Sprint(g, winner))) {
						t.Fatalf("round %d: store %d reads generation %d, hash %x; want racer %d's generation %d", g, j, d.Generation, d.TokenHash, winner, g+1)
					}
				}
			}
			t.Logf("rotations won through each store: %v", wins)
		})
	}
}

func hashOf(s string) []byte { return []byte("hash of " + s) }

// TestSessionsOfUnknownAndDeletedUsers: a session of a user the Store
// does not hold is refused with auth.ErrUserNotFound, and deleting a
// user's row deletes the user's sessions (ON DELETE CASCADE; on SQLite
// with foreign_keys on, as SQLiteDSN sets it).
func TestSessionsOfUnknownAndDeletedUsers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			s, err := sqlstore.Open(ctx, db, b.dialect)
			if err != nil {
				t.Fatal(err)
			}
			err = s.CreateSession(ctx, &auth.DeviceSession{ID: "orphan", UserID: "nobody"})
			if !errors.Is(err, auth.ErrUserNotFound) {
				t.Errorf("CreateSession for an unknown user: error = %v; want auth.ErrUserNotFound", err)
			}
			for _, u := range []string{"gone", "stays"} {
				if err := s.CreateUser(ctx, &auth.User{ID: u, Email: u + "@example.com"}); err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					if err := s.CreateSession(ctx, &auth.DeviceSession{ID: fmt.Sprint(u, i), UserID: u}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM users WHERE id = ?"), "gone"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT COUNT(*) FROM device_sessions WHERE user_id = ?"), "gone").Scan(&n); err != nil || n != 0 {
				t.Errorf("sessions of a deleted user left: %d, %v; want 0", n, err)
			}
			if list, err := s.UserSessions(ctx, "stays"); err != nil || len(list) != 2 {
				t.Errorf("UserSessions(stays) after another user's deletion = %d sessions, %v; want 2", len(list), err)
			}
			if err := s.UpdateSession(ctx, "gone0", func(*auth.DeviceSession) error { return nil }); !errors.Is(err, auth.ErrTokenNotFound) {
				t.Errorf("UpdateSession of a deleted user's session: error = %v; want auth.ErrTokenNotFound", err)
			}
		})
	}
}

// TestSessionErrors checks the errors' text and wrapping beyond what the
// suite asks.
func TestSessionErrors(t *testing.T) {
	s := backends[0].fresh(t)(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &auth.DeviceSession{ID: "s", UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
		text string
	}{
		{name: "duplicate ID", err: s.CreateSession(ctx, &auth.DeviceSession{ID: "s", UserID: "u"}), want: auth.ErrDuplicateID, text: `sqlstore: creating session "s": auth: ID already in use`},
		{name: "unknown user", err: s.CreateSession(ctx, &auth.DeviceSession{ID: "t", UserID: "v"}), want: auth.ErrUserNotFound, text: `sqlstore: creating session "t": user "v": auth: user not found`},
		{name: "nil session", err: s.CreateSession(ctx, nil), text: "sqlstore: CreateSession: nil session"},
		{name: "empty ID", err: s.CreateSession(ctx, &auth.DeviceSession{UserID: "u"}), text: "sqlstore: CreateSession: empty session ID"},
		{name: "unknown session", err: s.UpdateSession(ctx, "x", func(*auth.DeviceSession) error { return nil }), want: auth.ErrTokenNotFound, text: `sqlstore: session "x": auth: token not found`},
		{name: "nil update", err: s.UpdateSession(ctx, "s", nil), text: "sqlstore: UpdateSession: nil update function"},
		{name: "user change", err: s.UpdateSession(ctx, "s", func(d *auth.DeviceSession) error { d.UserID = "w"; return nil }), want: auth.ErrIDChanged,
			text: `sqlstore: session "s": auth: ID cannot change: the update changed the session's ID or user`},
		{name: "delete unknown", err: s.DeleteSession(ctx, "x"), want: auth.ErrTokenNotFound, text: `sqlstore: session "x": auth: token not found`},
		{name: "cancelled", err: s.UpdateSession(cancelled(), "s", func(*auth.DeviceSession) error { return nil }), want: context.Canceled}, // the text depends on where it stopped
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("error %v does not wrap %v", tt.err, tt.want)
			}
			if tt.text != "" && tt.err.Error() != tt.text {
				t.Errorf("error text = %q, want %q", tt.err.Error(), tt.text)
			}
		})
	}
}

// TestSessionsUpgrade: a database of schema version 5, with users, gets
// device_sessions when opened, and its users can have sessions.
func TestSessionsUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			if err := sqlstore.MigrateTo(ctx, db, b.dialect, 5); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "SELECT 1 FROM device_sessions"); err == nil {
				t.Fatal("the database at schema version 5 has device_sessions already")
			}
			old, err := sqlstore.Open(ctx, db, b.dialect) // migrates to the latest version
			if err != nil {
				t.Fatal(err)
			}
			if err := old.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
				t.Fatal(err)
			}
			want := &auth.DeviceSession{ID: "s", UserID: "u", Generation: 2, TokenHash: hashOf("s"), UserAgent: "ua"}
			if err := old.CreateSession(ctx, want); err != nil {
				t.Fatal(err)
			}
			var version int
			if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil || version != sqlstore.LatestVersion() {
				t.Errorf("schema version after Open = %d, %v; want %d", version, err, sqlstore.LatestVersion())
			}
			list, err := old.UserSessions(ctx, "u")
			if err != nil || len(list) != 1 || list[0].Generation != 2 || !bytes.Equal(list[0].TokenHash, want.TokenHash) {
				t.Errorf("UserSessions(u) = %v, %v; want the session created", list, err)
			}
		})
	}
}

// TestFlaskStoreHasNoSessions: Flask-Security's schema has no table for
// device sessions, and FlaskStore adds none, so it is no
// auth.SessionStore; a Manager over it serves plain tokens.
func TestFlaskStoreHasNoSessions(t *testing.T) {
	if _, ok := any((*sqlstore.FlaskStore)(nil)).(auth.SessionStore); ok {
		t.Error("FlaskStore implements auth.SessionStore; Flask-Security's schema has no table for it (see the package documentation)")
	}
}
