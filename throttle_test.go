package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

// throttleFixture is a Manager over a MemoryStore with one user whose last
// login came from ownerIP (which exempts nothing), and a settable clock.
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
	m, err := New(f.store, []byte("throttle test signing key......"), Config{Throttle: cfg, Logger: discardLogger, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
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
	r.RemoteAddr = net.JoinHostPort(ip, "1234")
	w := httptest.NewRecorder()
	f.m.LoginHandler().ServeHTTP(w, r)
	return w
}

func TestThrottleDelaysGrowAndCap(t *testing.T) {
	th, err := newThrottle(ThrottleConfig{FreeAttempts: 3, BaseDelay: time.Second, MaxDelay: 10 * time.Second}, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
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
		if got := th.ip.Delay(tt.failures); got != tt.want {
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

func TestThrottleAccountDelayCapped(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	// An attacker spreads guesses over many addresses, so no address is
	// throttled but the account is.
	for i := 0; i < 50; i++ {
		f.login("owner@example.com", "guess", fmt.Sprintf("203.0.113.%d", i+1))
	}
	if w := f.login("owner@example.com", "owner-password", "192.0.2.200"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a new address got %d during the account lock, want 429", w.Code)
	}
	// The account delay is capped by AccountMaxDelay (1 min by default).
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

// failingThrottle is a ThrottleStore whose database is down. Its errors
// name the key, as a database driver's might.
type failingThrottle struct{}

var errThrottleDown = errors.New("throttle db down: secret detail")

func (failingThrottle) Reserve(_ context.Context, key string, _ time.Time, _ ThrottleLimit) (time.Duration, error) {
	return 0, fmt.Errorf("reserving %q: %w", key, errThrottleDown)
}
func (failingThrottle) Refund(_ context.Context, key string) error {
	return fmt.Errorf("refunding %q: %w", key, errThrottleDown)
}
func (failingThrottle) Reset(_ context.Context, key string) error {
	return fmt.Errorf("resetting %q: %w", key, errThrottleDown)
}

// countingHasher counts the password checks of a Manager.
type countingHasher struct {
	PasswordHasher
	checks *atomic.Int64
}

func (h countingHasher) Verify(encoded, password string) (bool, error) {
	h.checks.Add(1)
	return h.PasswordHasher.Verify(encoded, password)
}

// TestThrottleStoreFailureFailsClosed: while the throttle store fails,
// attempts get 503 with Retry-After and no password check, on every path.
func TestThrottleStoreFailureFailsClosed(t *testing.T) {
	var checks atomic.Int64
	m, err := New(NewMemoryStore(), []byte("throttle test signing key......"), Config{
		Throttle: ThrottleConfig{Store: failingThrottle{}}, Logger: discardLogger,
		Password: PasswordConfig{Hasher: countingHasher{passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 4}, &checks}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks.Store(0)
	basic := m.RequireBasic(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := range 20 {
		var w *httptest.ResponseRecorder
		if i%2 == 0 {
			w = loginFrom(m, "owner@example.com", "wrong", attackerIP)
		} else {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.SetBasicAuth("owner@example.com", "wrong")
			w = httptest.NewRecorder()
			basic.ServeHTTP(w, r)
		}
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "secret detail") {
			t.Fatalf("attempt %d: %d, Retry-After %q, %s; want 503 with Retry-After, without internals", i, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	if n := checks.Load(); n != 0 {
		t.Errorf("20 attempts with a failing throttle store made %d password checks, want 0", n)
	}
}

// loginFrom posts a JSON login to m from ip.
func loginFrom(m *Manager, email, password, ip string) *httptest.ResponseRecorder {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = net.JoinHostPort(ip, "1234")
	w := httptest.NewRecorder()
	m.LoginHandler().ServeHTTP(w, r)
	return w
}

// recordingThrottle is the memory throttle, recording every key it gets.
type recordingThrottle struct {
	*memoryThrottle
	mu   sync.Mutex
	keys []string
}

func (r *recordingThrottle) record(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
}

func (r *recordingThrottle) Reserve(ctx context.Context, key string, now time.Time, l ThrottleLimit) (time.Duration, error) {
	r.record(key)
	return r.memoryThrottle.Reserve(ctx, key, now, l)
}

func (r *recordingThrottle) Refund(ctx context.Context, key string) error {
	r.record(key)
	return r.memoryThrottle.Refund(ctx, key)
}

func (r *recordingThrottle) Reset(ctx context.Context, key string) error {
	r.record(key)
	return r.memoryThrottle.Reset(ctx, key)
}

// TestThrottleKeysAreKeyedHashes: neither the email as typed (here, a
// password typed into the email field) nor the client address reaches the
// throttle store; neither does the email reach a log line, even when the
// store's errors name the key.
func TestThrottleKeysAreKeyedHashes(t *testing.T) {
	const typed = "MYSECRETPASSW0RD!"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rec := &recordingThrottle{memoryThrottle: newMemoryThrottle()}
	newManager := func(store ThrottleStore, key string) *Manager {
		m, err := New(NewMemoryStore(), []byte(key), Config{Throttle: ThrottleConfig{Store: store}, Logger: logger, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newManager(rec, "throttle test signing key......")
	for range 7 {
		loginFrom(m, typed, "wrong", attackerIP)
	}
	loginFrom(newManager(failingThrottle{}, "throttle test signing key......"), typed, "wrong", attackerIP)
	if !strings.Contains(logs.String(), "secret detail") {
		t.Fatalf("the store failure was not logged:\n%s", logs.String())
	}
	if strings.Contains(strings.ToLower(logs.String()), strings.ToLower(typed)) {
		t.Errorf("the typed email reached the log:\n%s", logs.String())
	}
	kinds := map[string]int{}
	for _, k := range rec.keys {
		if strings.Contains(strings.ToLower(k), strings.ToLower(typed)) || strings.Contains(k, attackerIP) {
			t.Errorf("store key %q holds the typed email or the address", k)
		}
		kind, _, _ := strings.Cut(k, ":")
		kinds[kind]++
	}
	if kinds["ip"] == 0 || kinds["account"] == 0 || len(kinds) != 2 {
		t.Errorf("key kinds %v; want ip and account only", kinds)
	}
	// The keys are keyed: another signing key makes other keys.
	other := newManager(nil, "another signing key, other keys")
	if k := other.throttle.accountKey(typed); k == m.throttle.accountKey(typed) || k != other.throttle.accountKey(strings.ToLower(typed)) {
		t.Errorf("account keys %q (other signing key) and %q: want them to differ, and to fold case", k, m.throttle.accountKey(typed))
	}
}

// TestThrottleAddressPrefixes: the addresses of one prefix share one
// count: an IPv6 /64 and an IPv4 /32 by default, configurable.
func TestThrottleAddressPrefixes(t *testing.T) {
	tests := []struct {
		name          string
		cfg           ThrottleConfig
		addr          func(i int) string
		wantThrottled int
	}{
		{name: "one IPv6 /64", addr: func(i int) string { return fmt.Sprintf("2001:db8:1:2:%x::%x", i, i+1) }, wantThrottled: 95},
		{name: "IPv6 /64s of one /48", addr: func(i int) string { return fmt.Sprintf("2001:db8:1:%x::1", i) }, wantThrottled: 0},
		{name: "one IPv4 /24", addr: func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, wantThrottled: 0},
		{name: "IPv4-mapped IPv6", addr: func(i int) string { return "::ffff:203.0.113.9" }, wantThrottled: 95},
		{name: "IPv6Prefix 48", cfg: ThrottleConfig{IPv6Prefix: 48}, addr: func(i int) string { return fmt.Sprintf("2001:db8:1:%x::1", i) }, wantThrottled: 95},
		{name: "IPv6Prefix 128", cfg: ThrottleConfig{IPv6Prefix: 128}, addr: func(i int) string { return fmt.Sprintf("2001:db8:1:2::%x", i+1) }, wantThrottled: 0},
		{name: "IPv4Prefix 24", cfg: ThrottleConfig{IPv4Prefix: 24}, addr: func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, wantThrottled: 95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newThrottleFixture(t, tt.cfg)
			throttled := 0
			for i := range 100 {
				// One account each: only the address's count can throttle.
				if w := f.login(fmt.Sprintf("user%d@example.com", i), "wrong", tt.addr(i)); w.Code == http.StatusTooManyRequests {
					throttled++
				}
			}
			if throttled != tt.wantThrottled {
				t.Errorf("%d of 100 wrong logins throttled, want %d", throttled, tt.wantThrottled)
			}
		})
	}
	for _, cfg := range []ThrottleConfig{{IPv4Prefix: 33}, {IPv6Prefix: 129}, {IPv4Prefix: -1}, {IPv6Prefix: -64}} {
		if _, err := New(NewMemoryStore(), []byte("throttle test signing key......"), Config{Throttle: cfg}); err == nil {
			t.Errorf("New accepted prefix lengths /%d, /%d", cfg.IPv4Prefix, cfg.IPv6Prefix)
		}
	}
}

func TestMemoryThrottleBounded(t *testing.T) {
	mt := newMemoryThrottle()
	ctx := context.Background()
	now := time.Now()
	limit := ThrottleLimit{Free: 5, Base: time.Second, Max: time.Minute, Forget: time.Hour}
	for i := 0; i < memoryThrottleMaxKeys+5000; i++ {
		if _, err := mt.Reserve(ctx, fmt.Sprint("k", i), now, limit); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mt.keys); n > memoryThrottleMaxKeys {
		t.Fatalf("%d keys held, bound is %d", n, memoryThrottleMaxKeys)
	}
}

// TestMemoryThrottleConcurrentReserve: of 50 attempts at once for one
// key, exactly Free are admitted.
func TestMemoryThrottleConcurrentReserve(t *testing.T) {
	mt := newMemoryThrottle()
	limit := ThrottleLimit{Free: 5, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
	now := time.Now()
	var admitted atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if wait, _ := mt.Reserve(context.Background(), "k", now, limit); wait == 0 {
				admitted.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := admitted.Load(); n != 5 {
		t.Errorf("%d of 50 concurrent attempts admitted, want 5", n)
	}
}

func TestClientAddrTrustedProxies(t *testing.T) {
	m, err := New(NewMemoryStore(), []byte("client addr test signing key..."), Config{

		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Logger:         discardLogger, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
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
