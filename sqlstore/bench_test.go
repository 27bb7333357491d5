package sqlstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// benchStores are the stores the benchmarks compare: the in-memory store
// as the baseline, then both dialects.
var benchStores = []struct {
	name string
	open func(b *testing.B) storetest.Store
}{
	{name: "Memory", open: func(*testing.B) storetest.Store { return auth.NewMemoryStore() }},
	{name: "SQLite", open: func(b *testing.B) storetest.Store { return backends[0].fresh(b)(b) }},
	{name: "Postgres", open: func(b *testing.B) storetest.Store { backends[1].require(b); return backends[1].fresh(b)(b) }},
}

// benchUser stores a user with every field set and returns its ID.
func benchUser(b *testing.B, s storetest.Store) string {
	u := &auth.User{
		ID: "42", Email: "bench@example.com", PasswordHash: "$2a$04$abcdefghijklmnopqrstuu5u6M1N1t8ZB7o2b0oPaTDqA5KvOxC5e",
		Active: true, Confirmed: true, Roles: []string{"admin", "editor"}, Uniquifier: auth.NewUniquifier(),
		LastLoginAt: time.Now().Add(-time.Hour), CurrentLoginAt: time.Now(),
		LastLoginIP: "192.0.2.1", CurrentLoginIP: "192.0.2.2", LoginCount: 7,
	}
	if err := s.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	return u.ID
}

// BenchmarkUserByID measures the lookup every token verification makes,
// beside two floors per dialect on the same database (see benchSelect):
// <dialect>-minimal-select reads the columns a token check compares,
// <dialect>-row-select every column UserByID reads.
func BenchmarkUserByID(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			id := benchUser(b, s)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.UserByID(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, be := range backends {
		b.Run(be.name+"-minimal-select", func(b *testing.B) {
			benchSelect(b, be, "id, uniquifier, active")
		})
		b.Run(be.name+"-row-select", func(b *testing.B) {
			benchSelect(b, be, `id, email, password_hash, active, confirmed, uniquifier,
				last_login_at, current_login_at, last_login_ip, current_login_ip, login_count, roles`)
		})
	}
}

// benchSelect measures what a lookup by ID costs through database/sql and
// the driver alone: one prepared SELECT of the columns from the user's row
// by its primary key, over the pool and file (or schema) a Store has just
// been opened on and benchUser has stored the user in, each value scanned
// into an any as the driver gives it. It skips what a Store adds: typed
// fields, times, roles, errors. The context is b.Context() as
// [sqlstore.Store.UserByID] uses it: on SQLite without its cancellation.
func benchSelect(b *testing.B, be backend, columns string) {
	be.require(b)
	db := openDB(b, be.driver, be.newDSN(b))
	s, err := sqlstore.Open(b.Context(), db, be.dialect)
	if err != nil {
		b.Fatal(err)
	}
	id := benchUser(b, s)
	query, ctx := "SELECT "+columns+" FROM users WHERE id = ?", context.WithoutCancel(b.Context())
	if be.dialect == sqlstore.Postgres {
		query, ctx = strings.Replace(query, "?", "$1", 1), b.Context()
	}
	stmt, err := db.PrepareContext(b.Context(), query)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	n := strings.Count(columns, ",") + 1
	values, dest := make([]any, n), make([]any, n)
	for i := range values {
		dest[i] = &values[i]
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := stmt.QueryRowContext(ctx, id).Scan(dest...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateUser measures the write every password login makes.
func BenchmarkUpdateUser(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			id := benchUser(b, s)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				err := s.UpdateUser(ctx, id, func(u *auth.User) error {
					u.LoginCount++
					u.LastLoginAt, u.CurrentLoginAt = u.CurrentLoginAt, time.Now()
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequireToken is a token-protected request (RequireToken over a
// handler that does nothing) against each store, with and without the
// verified-user cache, beside the bare handler.
func BenchmarkRequireToken(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	b.Run("bare-handler", func(b *testing.B) { serveBench(b, noop, "") })
	for _, bs := range benchStores {
		for _, cached := range []bool{false, true} {
			name := bs.name
			if cached {
				name += "-cached"
			}
			b.Run(name, func(b *testing.B) {
				s := bs.open(b)
				cfg := auth.Config{Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}}
				cfg.UserCache = auth.UserCacheConfig{Size: -1} // on by default for the SQL stores
				if cached {
					cfg.UserCache = auth.UserCacheConfig{Size: 1000, TTL: time.Minute}
				}
				m, err := auth.New(s, []byte("require-token benchmark key....."), cfg)
				if err != nil {
					b.Fatal(err)
				}
				id := benchUser(b, s)
				u, _ := s.UserByID(b.Context(), id)
				tok, _ := m.IssueToken(u)
				serveBench(b, m.RequireToken(noop), tok)
			})
		}
	}
}

// BenchmarkLogin is a JSON login (bcrypt cost 10, the login recorded in the
// store) against each store.
func BenchmarkLogin(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			m, err := auth.New(s, []byte("login benchmark signing key....."), auth.Config{
				Logger: slog.New(slog.DiscardHandler), Throttle: auth.ThrottleConfig{Disabled: true}, Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 10},
			})
			if err != nil {
				b.Fatal(err)
			}
			u, _ := m.NewUser("login-bench@example.com", "login-bench-password")
			if err := s.CreateUser(b.Context(), u); err != nil {
				b.Fatal(err)
			}
			h := m.LoginHandler()
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"login-bench@example.com","password":"login-bench-password"}`))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("login: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkBcryptCompare is one bcrypt cost-10 comparison alone: the floor
// of BenchmarkLogin.
func BenchmarkBcryptCompare(b *testing.B) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("login-bench-password"), 10)
	for b.Loop() {
		if err := bcrypt.CompareHashAndPassword(hash, []byte("login-bench-password")); err != nil {
			b.Fatal(err)
		}
	}
}

func serveBench(b *testing.B, h http.Handler, tok string) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authentication-Token", tok)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}
