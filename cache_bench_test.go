package auth

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
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
		toks[i] = signClaims(m.tokens, strconv.Itoa(i), benchUniq, 0)
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

// BenchmarkUserCacheMemory reports the heap that a full cache of the
// default size holds per entry (bytes/entry), for users shaped like real
// ones: an email of 24 characters, an argon2id hash, two roles, the
// trackable fields set, every string allocated afresh as a store read
// allocates it. The figure backs the memory stated for
// UserCacheConfig.Size's default.
func BenchmarkUserCacheMemory(b *testing.B) {
	const n = defaultCacheSize
	user := func(i int) *User {
		return &User{
			ID: strconv.Itoa(1_000_000 + i), Email: fmt.Sprintf("user%07d@example.com", i),
			PasswordHash: fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$%043d", i),
			Active:       true, Confirmed: true, Roles: []string{strings.Clone("editor"), strings.Clone("viewer")}, Uniquifier: NewUniquifier(),
			LastLoginAt: time.Now(), CurrentLoginAt: time.Now(), LastLoginIP: strings.Clone("203.0.113.17"), CurrentLoginIP: strings.Clone("203.0.113.17"), LoginCount: 12,
		}
	}
	var perEntry float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newUserCache(UserCacheConfig{Size: n, TTL: time.Hour}, nil)
		now := time.Now()
		for i := range n {
			u := user(i)
			c.put(u, c.gen(u.ID), now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
	}
	b.ReportMetric(perEntry, "bytes/entry")
}
