package auth

import (
	"context"
	"fmt"
	"testing"
	"time"
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
		Logger: discardLogger, UserCache: UserCacheConfig{Size: 2, TTL: time.Minute}, Password: PasswordConfig{BcryptCost: 4},
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
	// A copy: changing it does not change the cache.
	got, _ := m.VerifyToken(ctx, tok)
	got.Roles = append(got.Roles, "admin")
	if again, _ := m.VerifyToken(ctx, tok); again.HasRole("admin") {
		t.Fatal("the cache handed out its own user")
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

func TestUserCacheBounded(t *testing.T) {
	c := newUserCache(UserCacheConfig{Size: 10})
	now := time.Now()
	for i := 0; i < 100; i++ {
		c.put(&User{ID: fmt.Sprint(i), Uniquifier: "u"}, now)
	}
	if n := len(c.entries); n > 10 {
		t.Fatalf("%d entries, bound 10", n)
	}
	if newUserCache(UserCacheConfig{}) != nil {
		t.Fatal("a zero config enabled the cache")
	}
}

// BenchmarkRequireTokenCached is BenchmarkRequireToken with the
// verified-user cache on.
func BenchmarkRequireTokenCached(b *testing.B) {
	store := NewMemoryStore()
	m, err := New(store, []byte("benchmark-secret-key-0123456789"), Config{UserCache: UserCacheConfig{Size: 1000}, Password: PasswordConfig{BcryptCost: 4}})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := m.NewUser("bench@example.com", "password")
	store.CreateUser(context.Background(), u)
	tok, _ := m.IssueToken(u)
	benchmarkHandler(b, m.RequireToken(okHandler), tok)
}
