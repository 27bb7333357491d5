package auth

import (
	"context"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/pat"
)

// benchPersonal returns a Manager with personal tokens and the user cache
// on (unless size is negative) over a MemoryStore holding one user, with
// a login token of the user and a personal token with scope posts:read.
func benchPersonal(b *testing.B, size int) (m *Manager, login, personal string) {
	b.Helper()
	store := NewMemoryStore()
	m, err := New(store, []byte("benchmark-secret-key-0123456789"), Config{
		Token:     TokenConfig{Scopes: testScopes},
		UserCache: UserCacheConfig{Size: size, TTL: time.Hour},
		Password:  PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Logger:    discardLogger,
	})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := m.NewUser("bench@example.com", "password", "editor")
	u.ID = "1"
	if err := store.CreateUser(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	login, _ = m.IssueToken(u)
	personal, _ = pat.New(pat.DefaultPrefix)
	h := pat.Hash(personal)
	if err := store.CreatePersonalToken(context.Background(), &PersonalToken{
		ID: "t1", UserID: u.ID, Name: "bench", Scopes: []string{"posts:read"}, Hash: h[:], CreatedAt: time.Now(),
	}); err != nil {
		b.Fatal(err)
	}
	return m, login, personal
}

// BenchmarkPersonalTokenCheck compares checking a personal access token
// with checking a login token, both with the user cache on and warm
// (cached), and a personal token with the cache off (uncached: one
// MemoryStore lookup per check).
func BenchmarkPersonalTokenCheck(b *testing.B) {
	ctx := context.Background()
	m, login, personal := benchPersonal(b, 1000)
	b.Run("login-token/cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.verifyToken(ctx, login); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("personal-token/cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.verifyPersonal(ctx, personal); err != nil {
				b.Fatal(err)
			}
		}
	})
	un, _, unPersonal := benchPersonal(b, -1)
	b.Run("personal-token/uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := un.verifyPersonal(ctx, unPersonal); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRequireScopes is a request through Require alone and through
// Require and RequireScopes, with a login token and with a personal
// token, in front of a handler that answers 204: the difference between
// the first two is what RequireScopes adds.
func BenchmarkRequireScopes(b *testing.B) {
	m, login, personal := benchPersonal(b, 1000)
	plain := m.Require(Token, PersonalAccess)(okHandler)
	scoped := m.Require(Token, PersonalAccess)(m.RequireScopes("posts:read")(okHandler))
	b.Run("login-token/require", func(b *testing.B) { benchmarkHandler(b, plain, login) })
	b.Run("login-token/require+scopes", func(b *testing.B) { benchmarkHandler(b, scoped, login) })
	b.Run("personal-token/require", func(b *testing.B) { benchmarkHandler(b, plain, personal) })
	b.Run("personal-token/require+scopes", func(b *testing.B) { benchmarkHandler(b, scoped, personal) })
}
