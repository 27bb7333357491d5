package auth

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// fabricatingStore makes up an active user for any ID, without storing
// any: a store with a million users that costs nothing to build. Every
// user carries benchUniq.
type fabricatingStore struct{}

const benchUniq = "benchmark-uniquifier"

func (fabricatingStore) UserByID(_ context.Context, id string) (*User, error) {
	return &User{ID: id, Email: id + "@example.com", Active: true, Uniquifier: benchUniq}, nil
}

func (fabricatingStore) UserByEmail(context.Context, string) (*User, error) {
	return nil, ErrUserNotFound
}

var benchCacheKey = []byte("cache benchmark signing key....")

// benchTokens holds the tokens of users "0".."n-1", built once per n and
// shared by the runs of the sub-benchmarks (the same key signs them all).
var benchTokens = map[int][]string{}

func cacheBenchTokens(b *testing.B, m *Manager, n int) []string {
	if toks, ok := benchTokens[n]; ok {
		return toks
	}
	toks := make([]string, n)
	for i := range toks {
		toks[i] = signClaims(m.tokens, strconv.Itoa(i), benchUniq)
	}
	benchTokens[n] = toks
	return toks
}

// BenchmarkUserCache measures one token check through Manager.VerifyToken
// with the verified-user cache on, at several numbers of distinct users.
//
// In the evict cases the users outnumber the cache and are checked in
// turn, so at steady state every check misses, reads the (fabricating)
// store and puts the user, evicting one: this is the cost of eviction, and
// it should not grow with the cache. In the fits case every user fits and
// every check is a hit. The cache is filled (Size users) before timing
// starts, so that the timed checks are all at steady state.
func BenchmarkUserCache(b *testing.B) {
	cases := []struct {
		name        string
		users, size int
	}{
		{"evict/users=1k/size=500", 1_000, 500},
		{"evict/users=10k/size=5k", 10_000, 5_000},
		{"evict/users=100k/size=50k", 100_000, 50_000},
		{"evict/users=1M/size=100k", 1_000_000, 100_000},
		{"fits/users=100k/size=100k", 100_000, 100_000},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			m, err := New(fabricatingStore{}, benchCacheKey, Config{
				Logger:    discardLogger,
				UserCache: UserCacheConfig{Size: tc.size, TTL: time.Hour},
			})
			if err != nil {
				b.Fatal(err)
			}
			toks := cacheBenchTokens(b, m, tc.users)
			ctx := context.Background()
			for _, tok := range toks[:tc.size] {
				if _, err := m.VerifyToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			next := tc.size % tc.users
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.VerifyToken(ctx, toks[next]); err != nil {
					b.Fatal(fmt.Errorf("user %d: %w", next, err))
				}
				if next++; next == tc.users {
					next = 0
				}
			}
		})
	}
}
