package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// TestConformance runs the storetest suite against both dialects.
func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.Run(t, b.opener())
		})
	}
}

// TestTwoInstances checks that two pools on one database, as two processes
// of a service would have, see each other's writes at once and do not lose
// each other's concurrent updates.
func TestTwoInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			open := b.fresh(t)
			a, c := open(t), open(t)
			ctx := t.Context()
			if err := a.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com", Uniquifier: "first"}); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			for i := range 3 {
				if _, err := c.UserByID(ctx, "u"); err != nil { // a read before the rotation
					t.Fatalf("UserByID through the second pool: %v", err)
				}
				fresh := fmt.Sprintf("rotated-%d", i)
				err := a.UpdateUser(ctx, "u", func(u *auth.User) error { u.Uniquifier = fresh; return nil })
				if err != nil {
					t.Fatalf("UpdateUser through the first pool: %v", err)
				}
				u, err := c.UserByID(ctx, "u")
				if err != nil {
					t.Fatalf("UserByID through the second pool: %v", err)
				}
				if u.Uniquifier != fresh {
					t.Fatalf("uniquifier rotated to %q through one pool reads as %q through the other", fresh, u.Uniquifier)
				}
			}

			const each = 50
			var wg sync.WaitGroup
			errs := make(chan error, 2*each)
			for _, s := range []*sqlstore.Store{a, c} {
				for range each {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs <- s.UpdateUser(ctx, "u", func(u *auth.User) error { u.LoginCount++; return nil })
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent UpdateUser: %v", err)
				}
			}
			for _, s := range []*sqlstore.Store{a, c} {
				u, err := s.UserByID(ctx, "u")
				if err != nil {
					t.Fatalf("UserByID: %v", err)
				}
				if u.LoginCount != 2*each {
					t.Errorf("LoginCount after %d increments through two pools = %d", 2*each, u.LoginCount)
				}
			}
		})
	}
}

// TestConcurrentOpen checks that several processes opening a new database
// at the same moment all succeed and migrate it once.
func TestConcurrentOpen(t *testing.T) {
	const opens = 4
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			open := b.fresh(t)
			stores := make([]*sqlstore.Store, opens)
			var wg sync.WaitGroup
			for i := range stores {
				wg.Add(1)
				go func() { defer wg.Done(); stores[i] = open(t) }()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for i, s := range stores {
				u := &auth.User{Email: fmt.Sprintf("open-%d@example.com", i)}
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatalf("CreateUser through store %d: %v", i, err)
				}
			}
			users, err := stores[0].ListUsers(t.Context())
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if len(users) != opens {
				t.Errorf("ListUsers gives %d users, want %d", len(users), opens)
			}
		})
	}
}

// TestWrappedErrors checks the errors' text and wrapping beyond what the
// suite asks: the sentinel is matched and the message says which package.
func TestWrappedErrors(t *testing.T) {
	open := backends[0].fresh(t)
	s := open(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
		text string
	}{
		{name: "UserByID", err: second(s.UserByID(ctx, "2")), want: auth.ErrUserNotFound, text: `sqlstore: user "2": auth: user not found`},
		{name: "UserByEmail", err: second(s.UserByEmail(ctx, "b@example.com")), want: auth.ErrUserNotFound, text: "sqlstore: user by email: auth: user not found"},
		{name: "duplicate ID", err: s.CreateUser(ctx, &auth.User{ID: "1", Email: "c@example.com"}), want: auth.ErrDuplicateID, text: `sqlstore: creating user "1": auth: ID already in use`},
		{name: "duplicate email", err: s.CreateUser(ctx, &auth.User{ID: "3", Email: "A@example.com"}), want: auth.ErrDuplicateEmail, text: `sqlstore: creating user "3": auth: email already in use`},
		{name: "nil user", err: s.CreateUser(ctx, nil), want: nil, text: "sqlstore: CreateUser: nil user"},
		{name: "nil update", err: s.UpdateUser(ctx, "1", nil), want: nil, text: "sqlstore: UpdateUser: nil update function"},
		{name: "ID change", err: s.UpdateUser(ctx, "1", func(u *auth.User) error { u.ID = "9"; return nil }), want: auth.ErrIDChanged, text: `sqlstore: user "1": auth: ID cannot change`},
		{name: "cancelled", err: second(s.UserByID(cancelled(), "1")), want: context.Canceled, text: `sqlstore: reading user "1": context canceled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("error %v does not wrap %v", tt.err, tt.want)
			}
			if tt.err.Error() != tt.text {
				t.Errorf("error text = %q, want %q", tt.err.Error(), tt.text)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestSQLiteWithoutPragmas checks that the Store is correct on a pool
// opened without busy_timeout or _txlock, the mistake SQLiteDSN avoids:
// its own writes must still queue rather than fail with SQLITE_BUSY.
func TestSQLiteWithoutPragmas(t *testing.T) {
	db := openDB(t, "sqlite", t.TempDir()+"/plain.db")
	s, err := sqlstore.Open(t.Context(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.UpdateUser(ctx, "u", func(u *auth.User) error { u.LoginCount++; return nil })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
	}
	u, err := s.UserByID(ctx, "u")
	if err != nil || u.LoginCount != 100 {
		t.Fatalf("UserByID = %v, %v; want LoginCount 100", u, err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode == "wal" {
		t.Errorf("journal_mode = %q, %v; this test means to run without WAL", mode, err)
	}
}

// TestFailedMigration checks that a migration that fails part-way leaves
// the database as it was: no table of the store, no recorded version.
func TestFailedMigration(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			dsn := b.newDSN(t)
			db := openDB(t, b.driver, dsn)
			// The migration creates users and roles before it trips over this.
			if _, err := db.ExecContext(t.Context(), "CREATE TABLE user_roles (x INTEGER)"); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.Open(t.Context(), db, b.dialect)
			if err == nil {
				t.Fatalf("Open succeeded over a conflicting user_roles table: %v", s)
			}
			if !strings.Contains(err.Error(), "sqlstore: schema migration 1:") {
				t.Errorf("Open error = %v, want a failure of migration 1", err)
			}
			rows, err := db.QueryContext(t.Context(), b.tables)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var tables []string
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, name)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(tables, ",") != "user_roles" {
				t.Errorf("after the failed migration the tables are %q, want only the conflicting user_roles", tables)
			}
		})
	}
}
