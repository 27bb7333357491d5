package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// TestSeedConcurrentPostgres starts the native setup (tables, Manager,
// seeding) of several instances at once on a fresh PostgreSQL schema, as
// when two servers come up together on a new database: every one must
// succeed, and the store must hold exactly the demo users.
func TestSeedConcurrentPostgres(t *testing.T) {
	base := os.Getenv("AUTH_TEST_POSTGRES_DSN")
	cfg := auth.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Password: auth.PasswordConfig{BcryptCost: 4},
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
				_, schema := freshPostgresSchema(t) // skips, or fails under CI, without PostgreSQL
				dsn := withSearchPath(base, schema)
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
