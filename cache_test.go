package auth

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

// countingStore counts UserByID calls, to see when the cache answers.
type countingStore struct {
	*MemoryStore
	byID int
}

func (s *countingStore) UserByID(ctx context.Context, id string) (*User, error) {
	s.byID++
	return s.MemoryStore.UserByID(ctx, id)
}

func TestUserCache(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{MemoryStore: NewMemoryStore()}
	m, err := New(store, []byte("cache test signing key.........."), Config{
		Logger: discardLogger, UserCache: UserCacheConfig{Size: 2, TTL: time.Minute}, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	u, _ := m.NewUser("cache@example.com", "cache-password")
	store.CreateUser(ctx, u)
	tok, _ := m.IssueToken(u)

	verify := func(token string) error {
		got, err := m.VerifyToken(ctx, token)
		if err == nil && got.ID != u.ID {
			t.Fatalf("verified as %q", got.ID)
		}
		return err
	}
	if err := verify(tok); err != nil || store.byID != 1 {
		t.Fatalf("first check: %v, %d lookups", err, store.byID)
	}
	if err := verify(tok); err != nil || store.byID != 1 {
		t.Fatalf("second check: %v, %d lookups; want the cache to answer", err, store.byID)
	}
	// Read-only and shared: the cache hands out the user the store handed
	// it, as the store would, without a copy per check.
	first, _ := m.VerifyToken(ctx, tok)
	if again, _ := m.VerifyToken(ctx, tok); again != first {
		t.Fatal("the cache copied its user")
	}

	// The entry expires after the TTL.
	now = now.Add(time.Minute + time.Second)
	before := store.byID
	if err := verify(tok); err != nil || store.byID != before+1 {
		t.Fatalf("after TTL: %v, %d lookups, want a store read", err, store.byID-before)
	}

	// A rotation by this Manager misses at once.
	if err := m.RevokeTokens(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := verify(tok); err == nil {
		t.Fatal("revoked token accepted from the cache")
	}

	// A change made elsewhere is seen after ForgetUser.
	fresh, _ := store.UserByID(ctx, u.ID)
	tok2, _ := m.IssueToken(fresh)
	if err := verify(tok2); err != nil {
		t.Fatal(err)
	}
	store.UpdateUser(ctx, u.ID, func(v *User) error { v.Active = false; return nil })
	if err := verify(tok2); err != nil {
		t.Fatalf("before ForgetUser the cached user should still pass: %v", err)
	}
	m.ForgetUser(u.ID)
	if err := verify(tok2); err == nil {
		t.Fatal("deactivated user accepted after ForgetUser")
	}
}

// pausingStore is a MemoryStore whose UserByID, while armed, reads the
// user and then waits: it sends on read and returns only when release is
// closed. It lets a test change the user between a lookup's store read and
// its cache write.
type pausingStore struct {
	*MemoryStore
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func (s *pausingStore) UserByID(ctx context.Context, id string) (*User, error) {
	u, err := s.MemoryStore.UserByID(ctx, id)
	if s.armed.CompareAndSwap(true, false) {
		s.read <- struct{}{}
		<-s.release
	}
	return u, err
}

// TestUserCacheStaleWriteBack is the race of a check that read the user
// from the store before a revocation and writes it to the cache after the
// revocation forgot the user: the stale user must not be cached, or the
// revoked token would pass until the entry expired.
func TestUserCacheStaleWriteBack(t *testing.T) {
	revokers := map[string]func(*Manager, *MemoryStore, string) error{
		"RevokeTokens": func(m *Manager, _ *MemoryStore, id string) error {
			return m.RevokeTokens(context.Background(), id)
		},
		"SetPassword": func(m *Manager, _ *MemoryStore, id string) error {
			return m.SetPassword(context.Background(), id, "another cache password")
		},
		"ForgetUser": func(m *Manager, s *MemoryStore, id string) error {
			err := s.UpdateUser(context.Background(), id, func(u *User) error { u.Uniquifier = NewUniquifier(); return nil })
			m.ForgetUser(id)
			return err
		},
		"ForgetAllUsers": func(m *Manager, s *MemoryStore, id string) error {
			err := s.UpdateUser(context.Background(), id, func(u *User) error { u.Uniquifier = NewUniquifier(); return nil })
			m.ForgetAllUsers()
			return err
		},
	}
	for name, revoke := range revokers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := &pausingStore{MemoryStore: NewMemoryStore(), read: make(chan struct{}), release: make(chan struct{})}
			m, err := New(store, []byte("cache test signing key.........."), Config{
				Logger: discardLogger, UserCache: UserCacheConfig{Size: 8, TTL: time.Hour}, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
			})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := m.NewUser("race@example.com", "cache-password")
			store.CreateUser(ctx, u)
			tok, _ := m.IssueToken(u)

			store.armed.Store(true)
			done := make(chan error, 1)
			go func() {
				_, err := m.VerifyToken(ctx, tok)
				done <- err
			}()
			<-store.read // the check holds the user as it was
			if err := revoke(m, store.MemoryStore, u.ID); err != nil {
				t.Fatal(err)
			}
			close(store.release) // and now caches it
			if err := <-done; err != nil {
				t.Fatalf("the check that began before the revocation: %v", err)
			}
			if _, err := m.VerifyToken(ctx, tok); err == nil {
				t.Fatal("revoked token accepted: the stale user was written back to the cache")
			}
		})
	}
}

func TestUserCacheBounded(t *testing.T) {
	c := newUserCache(UserCacheConfig{Size: 10}, nil)
	now := time.Now()
	for i := 0; i < 100; i++ {
		c.put(&User{ID: fmt.Sprint(i), Uniquifier: "u"}, c.gen(fmt.Sprint(i)), now)
	}
	if n, s := len(c.index), len(c.slots); n > 10 || s > 10 {
		t.Fatalf("%d entries in %d slots, bound 10", n, s)
	}
}

// TestUserCacheDefaults checks when the cache is on and its default size
// and lifetime, which depend on whether the store keeps a change log.
func TestUserCacheDefaults(t *testing.T) {
	other := &countingStore{MemoryStore: NewMemoryStore()}
	logged := &loggedStore{MemoryStore: NewMemoryStore()}
	for _, tc := range []struct {
		name  string
		cfg   UserCacheConfig
		store UserStore
		size  int           // 0: off
		ttl   time.Duration // when on
	}{
		{"memory store", UserCacheConfig{}, NewMemoryStore(), 0, 0},
		{"memory store, size set", UserCacheConfig{Size: 5}, NewMemoryStore(), 5, time.Second},
		{"disabled", UserCacheConfig{Size: -1}, other, 0, 0},
		{"no change log", UserCacheConfig{}, other, defaultCacheSize, time.Second},
		{"change log", UserCacheConfig{}, logged, defaultCacheSize, 5 * time.Minute},
		{"ttl set", UserCacheConfig{TTL: time.Minute}, logged, defaultCacheSize, time.Minute},
		{"no expiry", UserCacheConfig{TTL: -1}, other, defaultCacheSize, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUserCache(tc.cfg, tc.store)
			switch {
			case tc.size == 0 && c != nil:
				t.Fatalf("cache on with size %d; want off", c.size)
			case tc.size == 0:
			case c == nil:
				t.Fatal("cache off")
			case c.size != tc.size || c.ttl != tc.ttl:
				t.Fatalf("size %d, TTL %v; want %d, %v", c.size, c.ttl, tc.size, tc.ttl)
			}
		})
	}
}

// TestUserCacheClock checks the eviction: an entry hit since the hand last
// passed survives, an expired one goes first, forgotten slots are reused,
// and the index and the slots agree throughout.
func TestUserCacheClock(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newUserCache(UserCacheConfig{Size: 4, TTL: time.Minute}, nil)
	put := func(id string, at time.Time) { c.put(&User{ID: id, Uniquifier: "u"}, c.gen(id), at) }
	has := func(id string) bool { _, ok := c.get(id, []byte("u"), now); return ok }
	check := func() {
		t.Helper()
		if len(c.index) > 4 || len(c.slots) > 4 {
			t.Fatalf("%d entries in %d slots, bound 4", len(c.index), len(c.slots))
		}
		for id, i := range c.index {
			if c.slots[i].id != id {
				t.Fatalf("index says %q is in slot %d, which holds %q", id, i, c.slots[i].id)
			}
		}
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		put(id, now)
	}
	if !has("a") { // referenced: gets a second chance
		t.Fatal("a missing")
	}
	put("e", now) // evicts b, the first unreferenced after a
	check()
	if !has("a") || has("b") || !has("e") {
		t.Fatalf("after e: a %v, b %v, e %v; want a and e kept, b evicted", has("a"), has("b"), has("e"))
	}

	// An expired entry is never served, and is evicted first.
	c.forgetAll()
	put("old", now.Add(-2*time.Minute))
	for _, id := range []string{"x", "y", "z"} {
		put(id, now)
	}
	if has("old") {
		t.Fatal("expired entry served")
	}
	for _, id := range []string{"x", "y", "z"} {
		has(id)
	}
	put("w", now)
	check()
	if !has("x") || !has("y") || !has("z") || !has("w") {
		t.Fatal("a fresh entry was evicted while an expired one was there")
	}

	// Forget frees a slot that the next put reuses, evicting nothing.
	c.forget("y")
	put("v", now)
	check()
	if !has("x") || has("y") || !has("z") || !has("w") || !has("v") {
		t.Fatal("forget then put: want x, z, w, v")
	}

	// Even when every entry is referenced, a put evicts exactly one.
	for i := 0; i < 1000; i++ {
		for id := range c.index {
			has(id)
		}
		put(fmt.Sprint("n", i), now)
		check()
		if len(c.index) != 4 {
			t.Fatalf("%d entries, want 4", len(c.index))
		}
	}
}

// TestUserCacheGeneration checks put against the generations directly: a
// put whose generation was read before a forget of that user, or before a
// forgetAll, is dropped; one read after is kept.
func TestUserCacheGeneration(t *testing.T) {
	now := time.Now()
	c := newUserCache(UserCacheConfig{Size: 4, TTL: time.Minute}, nil)
	u := &User{ID: "1", Uniquifier: "u"}
	g := c.gen(u.ID)
	c.forget(u.ID)
	c.put(u, g, now)
	if _, ok := c.get(u.ID, []byte("u"), now); ok {
		t.Fatal("put with a generation from before forget was kept")
	}
	g = c.gen(u.ID)
	c.forgetAll()
	c.put(u, g, now)
	if _, ok := c.get(u.ID, []byte("u"), now); ok {
		t.Fatal("put with a generation from before forgetAll was kept")
	}
	c.put(u, c.gen(u.ID), now)
	if _, ok := c.get(u.ID, []byte("u"), now); !ok {
		t.Fatal("put with a current generation was dropped")
	}
}

// BenchmarkRequireTokenCached is BenchmarkRequireToken with the
// verified-user cache on.
func BenchmarkRequireTokenCached(b *testing.B) {
	store := NewMemoryStore()
	m, err := New(store, []byte("benchmark-secret-key-0123456789"), Config{UserCache: UserCacheConfig{Size: 1000}, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := m.NewUser("bench@example.com", "password")
	store.CreateUser(context.Background(), u)
	tok, _ := m.IssueToken(u)
	benchmarkHandler(b, m.RequireToken(okHandler), tok)
}

// TestPutUnlessForgotten checks the put of a user read without its ID
// known beforehand (a personal token's owner): any forget since the
// lookup began drops it; without one it is cached.
func TestPutUnlessForgotten(t *testing.T) {
	c := newUserCache(UserCacheConfig{Size: 10, TTL: time.Hour}, nil)
	u := &User{ID: "1", Uniquifier: "u", Active: true}
	now := time.Now()
	before := c.forgets.Load()
	c.forget("2") // during the lookup
	c.putUnlessForgotten(u, before, now)
	if _, ok := c.get("1", nil, now); ok {
		t.Fatal("cached although a forget came during its lookup")
	}
	c.putUnlessForgotten(u, c.forgets.Load(), now)
	if _, ok := c.get("1", nil, now); !ok {
		t.Fatal("not cached without a forget")
	}
}
