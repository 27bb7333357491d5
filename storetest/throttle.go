package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// ThrottleOpener returns a fresh, empty throttle store for one test, or
// nil for the Manager's in-memory default.
type ThrottleOpener func(t *testing.T) auth.ThrottleStore

// RunThrottle checks that throttle stores opened by open keep the
// contract of [auth.ThrottleStore]: the rule of Reserve, Refund and Reset,
// and that concurrent attempts, through Reserve itself and through a
// Manager's login handler over HTTP, get no more password checks than
// FreeAttempts. With a nil store (the Manager's default) only the checks
// through a Manager run.
func RunThrottle(t *testing.T, open ThrottleOpener) {
	t.Helper()
	store := func(t *testing.T) auth.ThrottleStore {
		t.Helper()
		s := open(t)
		if s == nil {
			t.Skip("the Manager's default store: checked through the Manager only")
		}
		return s
	}
	t.Run("Reserve", func(t *testing.T) { testReserve(t, store(t)) })
	t.Run("ConcurrentReserve", func(t *testing.T) { testConcurrentReserve(t, store(t)) })
	t.Run("ConcurrentLoginsOneAddress", func(t *testing.T) { testConcurrentLogins(t, open(t), false) })
	t.Run("ConcurrentLoginsOneAccount", func(t *testing.T) { testConcurrentLogins(t, open(t), true) })
}

// testReserve walks one key through its free attempts, the doubling
// waits, a refund, forgetting and a reset.
func testReserve(t *testing.T, s auth.ThrottleStore) {
	ctx := t.Context()
	limit := auth.ThrottleLimit{Free: 3, Base: time.Second, Max: 4 * time.Second, Forget: time.Hour}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	reserve := func(step string, at time.Time, want time.Duration) {
		t.Helper()
		got, err := s.Reserve(ctx, "k", at, limit)
		if err != nil || got != want {
			t.Fatalf("%s: Reserve = %v, %v; want %v", step, got, err, want)
		}
	}
	for i := range 3 {
		reserve(fmt.Sprintf("free attempt %d", i+1), now, 0)
	}
	reserve("4th attempt at once", now, time.Second)
	reserve("4th attempt after 400 ms", now.Add(400*time.Millisecond), 600*time.Millisecond)
	now = now.Add(time.Second)
	reserve("4th attempt after the wait", now, 0)
	reserve("5th attempt at once", now, 2*time.Second)
	if err := s.Refund(ctx, "k"); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	// Three failures again, the last at now.
	reserve("after a refund", now, time.Second)
	now = now.Add(time.Second)
	reserve("after the refund's wait", now, 0)
	now = now.Add(2 * time.Second)
	reserve("5th attempt", now, 0)
	reserve("6th attempt at once", now, 4*time.Second)
	now = now.Add(4 * time.Second)
	reserve("6th attempt after the wait", now, 0)
	reserve("7th attempt at once: the wait is capped at Max", now, 4*time.Second)

	now = now.Add(time.Hour + time.Second)
	for i := range 3 {
		reserve(fmt.Sprintf("forgotten: free attempt %d", i+1), now, 0)
	}
	reserve("forgotten: 4th", now, time.Second)
	if err := s.Reset(ctx, "k"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	for i := range 3 {
		reserve(fmt.Sprintf("reset: free attempt %d", i+1), now, 0)
	}
	if err := s.Refund(ctx, "unknown key"); err != nil {
		t.Errorf("Refund of an unknown key: %v", err)
	}
	if err := s.Reset(ctx, "unknown key"); err != nil {
		t.Errorf("Reset of an unknown key: %v", err)
	}
}

// testConcurrentReserve: of 50 attempts at once, exactly Free are admitted.
func testConcurrentReserve(t *testing.T, s auth.ThrottleStore) {
	limit := auth.ThrottleLimit{Free: 5, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var admitted, refused atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			wait, err := s.Reserve(t.Context(), "busy", now, limit)
			switch {
			case err != nil:
				t.Error(err)
			case wait == 0:
				admitted.Add(1)
			default:
				refused.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if admitted.Load() != 5 || refused.Load() != 45 {
		t.Errorf("50 concurrent attempts: %d admitted, %d refused; want 5 and 45", admitted.Load(), refused.Load())
	}
}

// countingHasher counts password checks, and makes each take as long as
// a real bcrypt check would, so that concurrent attempts overlap.
type countingHasher struct {
	auth.PasswordHasher
	checks *atomic.Int64
}

func (h countingHasher) Verify(encoded, password string) (bool, error) {
	h.checks.Add(1)
	time.Sleep(20 * time.Millisecond)
	return h.PasswordHasher.Verify(encoded, password)
}

// testConcurrentLogins sends 30 wrong-password logins for one account at
// the same moment, over HTTP, from one address or (manyAddresses) from
// 30 addresses behind a trusted proxy, and expects at most FreeAttempts
// password checks: the other attempts get 429 with Retry-After.
func testConcurrentLogins(t *testing.T, s auth.ThrottleStore, manyAddresses bool) {
	const attempts, free = 30, 5
	var checks atomic.Int64
	users := auth.NewMemoryStore()
	m, err := auth.New(users, []byte("throttle conformance signing key"), auth.Config{
		Throttle:       auth.ThrottleConfig{Store: s, FreeAttempts: free},
		Password:       auth.PasswordConfig{Hasher: countingHasher{passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 4}, &checks}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.NewUser("victim@example.com", "the right password")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	checks.Store(0)
	srv := httptest.NewServer(m.LoginHandler())
	defer srv.Close()

	type answer struct {
		code       int
		retryAfter string
	}
	answers := make([]answer, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"email":"victim@example.com","password":"wrong guess"}`))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if manyAddresses {
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			}
			<-start
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_ = res.Body.Close() // the status and headers are read
			answers[i] = answer{code: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
		}()
	}
	close(start)
	wg.Wait()

	var checked, throttled int
	for _, a := range answers {
		switch {
		case a.code == http.StatusBadRequest:
			checked++
		case a.code == http.StatusTooManyRequests && a.retryAfter != "":
			throttled++
		default:
			t.Errorf("an attempt got %d with Retry-After %q; want 400, or 429 with Retry-After", a.code, a.retryAfter)
		}
	}
	if n := checks.Load(); n > free || int(n) != checked || checked+throttled != attempts {
		t.Errorf("%d concurrent wrong logins: %d password checks, %d answers 400, %d answers 429; want at most %d checks, one per 400, the rest 429",
			attempts, n, checked, throttled, free)
	}
}
