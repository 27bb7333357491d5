package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// throttleFixture is a Manager over a MemoryStore with one user whose last
// logins came from ownerIP, and a settable clock.
type throttleFixture struct {
	m     *Manager
	store *MemoryStore
	now   time.Time
}

const (
	ownerIP    = "198.51.100.7"
	attackerIP = "203.0.113.9"
)

func newThrottleFixture(t *testing.T, cfg ThrottleConfig) *throttleFixture {
	t.Helper()
	f := &throttleFixture{store: NewMemoryStore(), now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	m, err := New(f.store, []byte("throttle test signing key......"), Config{Throttle: cfg, Logger: discardLogger, Password: PasswordConfig{BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return f.now }
	f.m = m
	u, err := m.NewUser("owner@example.com", "owner-password")
	if err != nil {
		t.Fatal(err)
	}
	u.CurrentLoginIP = ownerIP
	if err := f.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return f
}

// login posts a JSON login from ip and returns the recorder.
func (f *throttleFixture) login(email, password, ip string) *httptest.ResponseRecorder {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = ip + ":1234"
	w := httptest.NewRecorder()
	f.m.LoginHandler().ServeHTTP(w, r)
	return w
}

func TestThrottleDelaysGrowAndCap(t *testing.T) {
	th := newThrottle(ThrottleConfig{FreeAttempts: 3, BaseDelay: time.Second, MaxDelay: 10 * time.Second})
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{failures: 0, want: 0},
		{failures: 2, want: 0},
		{failures: 3, want: time.Second},
		{failures: 4, want: 2 * time.Second},
		{failures: 5, want: 4 * time.Second},
		{failures: 6, want: 8 * time.Second},
		{failures: 7, want: 10 * time.Second},
		{failures: 1000, want: 10 * time.Second},
	}
	for _, tt := range tests {
		if got := th.delay(tt.failures, th.maxIP); got != tt.want {
			t.Errorf("delay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestThrottleSameAnswerForKnownAndUnknownAccounts(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	var answers [][]byte
	for _, email := range []string{"owner@example.com", "nobody@example.com"} {
		var last *httptest.ResponseRecorder
		for i := 0; i < 6; i++ {
			last = f.login(email, "wrong-password", attackerIP)
		}
		if last.Code != http.StatusTooManyRequests {
			t.Fatalf("%s: 6th failure got %d, want 429", email, last.Code)
		}
		if ra := last.Header().Get("Retry-After"); ra != "1" {
			t.Errorf("%s: Retry-After = %q, want 1", email, ra)
		}
		answers = append(answers, append([]byte(last.Header().Get("Retry-After")+"\n"), last.Body.Bytes()...))
		f.now = f.now.Add(2 * time.Hour) // forget everything
	}
	if !bytes.Equal(answers[0], answers[1]) {
		t.Errorf("throttled answers differ:\n%s\n%s", answers[0], answers[1])
	}
}

func TestThrottleRefusesEvenTheRightPasswordWhileWaiting(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	for i := 0; i < 5; i++ {
		f.login("owner@example.com", "wrong", attackerIP)
	}
	if w := f.login("owner@example.com", "owner-password", attackerIP); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password from the throttled address got %d, want 429", w.Code)
	}
	f.now = f.now.Add(time.Second)
	if w := f.login("owner@example.com", "owner-password", attackerIP); w.Code != http.StatusOK {
		t.Fatalf("right password after the delay got %d, want 200", w.Code)
	}
}

func TestThrottleOwnerAtUsualAddressNotLockedOut(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	// An attacker spreads guesses over many addresses, so no address is
	// throttled but the account is.
	for i := 0; i < 50; i++ {
		f.login("owner@example.com", "guess", fmt.Sprintf("203.0.113.%d", i+1))
	}
	if w := f.login("owner@example.com", "owner-password", "192.0.2.200"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a new address got %d during the account lock, want 429", w.Code)
	}
	if w := f.login("owner@example.com", "owner-password", ownerIP); w.Code != http.StatusOK {
		t.Fatalf("the owner at the usual address got %d, want 200", w.Code)
	}
	// The account delay is capped by AccountMaxDelay (1 min by default).
	for i := 0; i < 50; i++ {
		f.login("owner@example.com", "guess", fmt.Sprintf("203.0.113.%d", i+1))
	}
	f.now = f.now.Add(time.Minute)
	if w := f.login("owner@example.com", "owner-password", "192.0.2.200"); w.Code != http.StatusOK {
		t.Fatalf("a new address after AccountMaxDelay got %d, want 200", w.Code)
	}
}

func TestThrottleBasicAndTokenHandler(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{FreeAttempts: 2})
	handlers := map[string]http.Handler{
		"basic":  f.m.RequireBasic(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})),
		"tokens": f.m.TokenHandler(),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			var codes []int
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.SetBasicAuth("owner@example.com", "wrong")
				r.RemoteAddr = attackerIP + ":1"
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				codes = append(codes, w.Code)
			}
			if codes[0] != http.StatusUnauthorized || codes[2] != http.StatusTooManyRequests {
				t.Errorf("codes = %v, want 401 first and 429 third", codes)
			}
			f.now = f.now.Add(2 * time.Hour)
		})
	}
}

func TestThrottleDisabled(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{Disabled: true})
	for i := 0; i < 20; i++ {
		if w := f.login("owner@example.com", "wrong", attackerIP); w.Code != http.StatusBadRequest {
			t.Fatalf("attempt %d got %d, want 400", i, w.Code)
		}
	}
}

// failingThrottle is a ThrottleStore whose database is down.
type failingThrottle struct{}

var errThrottleDown = errors.New("throttle db down: secret detail")

func (failingThrottle) Failures(context.Context, string, time.Time, time.Duration) (int, time.Time, error) {
	return 0, time.Time{}, errThrottleDown
}
func (failingThrottle) AddFailure(context.Context, string, time.Time, time.Duration) (int, error) {
	return 0, errThrottleDown
}
func (failingThrottle) Reset(context.Context, string) error { return errThrottleDown }

func TestThrottleStoreFailureIs503(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{Store: failingThrottle{}})
	w := f.login("owner@example.com", "owner-password", attackerIP)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "secret detail") {
		t.Fatalf("got %d %s, want 503 without internals", w.Code, w.Body)
	}
}

func TestMemoryThrottleBounded(t *testing.T) {
	mt := newMemoryThrottle()
	ctx := context.Background()
	now := time.Now()
	for i := 0; i < memoryThrottleMaxKeys+5000; i++ {
		if _, err := mt.AddFailure(ctx, fmt.Sprint("k", i), now, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mt.keys); n > memoryThrottleMaxKeys {
		t.Fatalf("%d keys held, bound is %d", n, memoryThrottleMaxKeys)
	}
	// Forgotten keys restart at one.
	n, _ := mt.AddFailure(ctx, "x", now, time.Hour)
	n2, _ := mt.AddFailure(ctx, "x", now.Add(2*time.Hour), time.Hour)
	if n != 1 || n2 != 1 {
		t.Errorf("counts %d then %d after forgetting, want 1 and 1", n, n2)
	}
}

func TestClientAddrTrustedProxies(t *testing.T) {
	m, err := New(NewMemoryStore(), []byte("client addr test signing key..."), Config{

		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Logger:         discardLogger, Password: PasswordConfig{BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{name: "direct", remote: "192.0.2.1:5", want: "192.0.2.1"},
		{name: "direct ignores forwarded", remote: "192.0.2.1:5", xff: []string{"1.2.3.4"}, want: "192.0.2.1"},
		{name: "through proxy", remote: "10.0.0.1:5", xff: []string{"198.51.100.2"}, want: "198.51.100.2"},
		{name: "client forged a hop", remote: "10.0.0.1:5", xff: []string{"6.6.6.6, 198.51.100.2"}, want: "198.51.100.2"},
		{name: "two proxies", remote: "10.0.0.1:5", xff: []string{"198.51.100.2, 10.1.1.1"}, want: "198.51.100.2"},
		{name: "repeated headers", remote: "10.0.0.1:5", xff: []string{"198.51.100.2", "10.1.1.1"}, want: "198.51.100.2"},
		{name: "garbage hop", remote: "10.0.0.1:5", xff: []string{"not-an-ip"}, want: "10.0.0.1"},
		{name: "only proxies", remote: "10.0.0.1:5", xff: []string{"10.2.2.2"}, want: "10.2.2.2"},
		{name: "ipv6", remote: "[2001:db8::1]:5", want: "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := m.proxies.clientAddr(r); got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
