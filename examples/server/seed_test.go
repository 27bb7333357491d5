package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/internal/testpg"
	"github.com/authkit/auth/passhash"
)

// TestSeedConcurrentPostgres starts the native setup (tables, Manager,
// seeding) of several instances at once on a fresh PostgreSQL schema, as
// when two servers come up together on a new database: every one must
// succeed, and the store must hold exactly the demo users.
func TestSeedConcurrentPostgres(t *testing.T) {
	base := os.Getenv("AUTH_TEST_POSTGRES_DSN")
	cfg := auth.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	}
	secret := []byte("seed test secret, 32 bytes long.")
	for _, tt := range []struct {
		name      string
		instances int
	}{
		{name: "two instances", instances: 2},
		{name: "four instances", instances: 4},
		{name: "eight instances", instances: 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 3 {
				_, schema := testpg.Schema(t, "seed_") // skips, or fails under CI, without PostgreSQL
				dsn := testpg.WithSearchPath(base, schema)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var (
					wg    sync.WaitGroup
					start = make(chan struct{})
					errs  = make([]error, tt.instances)
				)
				for i := range tt.instances {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, _, closeStore, err := openNative(ctx, dsn, secret, cfg)
						if err == nil {
							closeStore()
						}
						errs[i] = err
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("round %d: instance %d: %v", round, i, err)
					}
				}
				_, store, closeStore, err := openNative(ctx, dsn, secret, cfg)
				if err != nil {
					t.Fatal(err)
				}
				users, err := store.ListUsers(ctx)
				closeStore()
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				for _, u := range users {
					got = append(got, u.Email)
				}
				for _, d := range demoUsers {
					want = append(want, d.email)
				}
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("round %d: users %v, want exactly %v", round, got, want)
				}
			}
		})
	}
}

// noListStore is the store the server opens, refusing ListUsers: start-up
// must not read every user.
type noListStore struct {
	*dbopen.NativeStore
	lists atomic.Int32
}

func (s *noListStore) ListUsers(context.Context) ([]*auth.User, error) {
	s.lists.Add(1)
	return nil, errors.New("ListUsers called: start-up must not read every user")
}

// TestSeedDoesNotListUsers seeds a store that holds many users, and an
// empty one, through a store whose ListUsers fails: the first must be left
// as it is, the second must get the demo users, and neither may be listed.
func TestSeedDoesNotListUsers(t *testing.T) {
	ctx := context.Background()
	cfg := auth.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	}
	secret := []byte("seed test secret, 32 bytes long.")
	open := func(t *testing.T) (*noListStore, *auth.Manager) {
		t.Helper()
		ns, done, err := dbopen.OpenNative(ctx, filepath.Join(t.TempDir(), "auth.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(done)
		m, err := auth.New(ns.Store, secret, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return &noListStore{NativeStore: ns}, m
	}

	t.Run("store with users", func(t *testing.T) {
		s, m := open(t)
		const users = 300
		for i := range users {
			u := &auth.User{Email: fmt.Sprintf("user%d@example.org", i), PasswordHash: "x", Active: true, Uniquifier: auth.NewUniquifier()}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if err := seed(ctx, m, s); err != nil {
			t.Fatal(err)
		}
		if n := s.lists.Load(); n != 0 {
			t.Errorf("seeding listed the users %d times", n)
		}
		for _, d := range demoUsers {
			if _, err := s.UserByEmail(ctx, d.email); !errors.Is(err, auth.ErrUserNotFound) {
				t.Errorf("%s in a store that held users: %v, want it not seeded", d.email, err)
			}
		}
	})

	t.Run("empty store", func(t *testing.T) {
		s, m := open(t)
		for range 2 { // seeding twice must not fail or duplicate
			if err := seed(ctx, m, s); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.lists.Load(); n != 0 {
			t.Errorf("seeding listed the users %d times", n)
		}
		for _, d := range demoUsers {
			u, err := s.UserByEmail(ctx, d.email)
			if err != nil {
				t.Errorf("%s: %v", d.email, err)
				continue
			}
			if err := m.CheckPassword(u.PasswordHash, d.password); err != nil {
				t.Errorf("%s: password: %v", d.email, err)
			}
		}
	})
}
