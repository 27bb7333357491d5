package sqlstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// refreshManager is a Manager with refresh tokens over store.
func refreshManager(tb testing.TB, store auth.UserStore, grace time.Duration) *auth.Manager {
	tb.Helper()
	m, err := auth.New(store, []byte("refresh test signing key, 32 b.."), auth.Config{
		Password:    auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Refresh:     auth.RefreshConfig{Enabled: true, Grace: grace},
		Throttle:    auth.ThrottleConfig{Disabled: true},
		UserCache:   auth.UserCacheConfig{Size: -1},
		Logger:      slog.New(slog.DiscardHandler),
		AuditLogger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// loginRefresh creates a user and logs in, returning its refresh token.
func loginRefresh(tb testing.TB, m *auth.Manager, store auth.UserAdmin, email string) string {
	tb.Helper()
	u, err := m.NewUser(email, "refresh password")
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"`+email+`","password":"refresh password"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	m.LoginHandler().ServeHTTP(rec, req)
	tok := refreshOf(rec)
	if rec.Code != http.StatusOK || tok == "" {
		tb.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return tok
}

func refreshOf(rec *httptest.ResponseRecorder) string {
	var env struct {
		Response struct {
			User struct {
				Refresh string `json:"refresh_token"`
			} `json:"user"`
		}
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &env)
	return env.Response.User.Refresh
}

func refreshOnce(h http.Handler, tok string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/refresh-token", strings.NewReader(`{"refresh_token":"`+tok+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, refreshOf(rec)
}

// TestRefreshRaceAcrossInstances races refreshes with one token through
// two Managers, each over its own Store on one database, as two instances
// of a service: with a grace every success answers the same new token;
// without one at most one succeeds. On both backends.
func TestRefreshRaceAcrossInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			open := b.fresh(t)
			s1, s2 := open(t), open(t)
			for _, grace := range []time.Duration{10 * time.Second, -1} {
				m1, m2 := refreshManager(t, s1, grace), refreshManager(t, s2, grace)
				tok := loginRefresh(t, m1, s1, "race"+grace.String()+"@example.com")
				handlers := []http.Handler{m1.AccountHandler(), m2.AccountHandler()}
				const n = 12
				var wg sync.WaitGroup
				var mu sync.Mutex
				got := map[string]int{}
				ok := 0
				for i := 0; i < n; i++ {
					wg.Add(1)
					go func(h http.Handler) {
						defer wg.Done()
						code, next := refreshOnce(h, tok)
						mu.Lock()
						defer mu.Unlock()
						switch code {
						case http.StatusOK:
							ok++
							got[next]++
						case http.StatusUnauthorized:
						default:
							t.Errorf("grace %v: refresh answered %d", grace, code)
						}
					}(handlers[i%2])
				}
				wg.Wait()
				if len(got) > 1 || grace > 0 && ok != n || grace < 0 && ok > 1 {
					t.Errorf("grace %v: %d of %d succeeded with %d distinct tokens", grace, ok, n, len(got))
				}
			}
		})
	}
}

// BenchmarkRefreshRotation measures one refresh (a rotation in the store
// and a new access token) on each backend.
func BenchmarkRefreshRotation(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			be.require(b)
			store := be.fresh(b)(b)
			m := refreshManager(b, store, -1)
			tok := loginRefresh(b, m, store, "bench@example.com")
			h := m.AccountHandler()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				code, next := refreshOnce(h, tok)
				if code != http.StatusOK {
					b.Fatalf("refresh %d: %d", i, code)
				}
				tok = next
			}
		})
	}
}
