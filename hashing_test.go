package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

func TestHashPoolAcquire(t *testing.T) {
	p := newHashPool(PasswordConfig{Concurrency: 1, QueueSize: 1, QueueWait: 30 * time.Millisecond})
	release, err := p.acquire(context.Background())
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	waited := make(chan error)
	go func() {
		_, err := p.acquire(context.Background())
		waited <- err
	}()
	for p.waiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := p.acquire(context.Background()); !errors.Is(err, ErrOverloaded) {
		t.Errorf("acquire with the queue full = %v, want ErrOverloaded at once", err)
	}
	if err := <-waited; !errors.Is(err, ErrOverloaded) {
		t.Errorf("acquire past QueueWait = %v, want ErrOverloaded", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.acquire(ctx); !errors.Is(err, ErrOverloaded) {
		t.Errorf("acquire with an ended context = %v, want ErrOverloaded", err)
	}
	release()
	if r, err := p.acquire(context.Background()); err != nil {
		t.Errorf("acquire after release: %v", err)
	} else {
		r()
	}

	if d := newHashPool(PasswordConfig{}); cap(d.slots) != defaultConcurrency() || d.queue != int64(32*defaultConcurrency()) || d.wait != time.Second {
		t.Errorf("defaults: %d slots, queue %d, wait %v", cap(d.slots), d.queue, d.wait)
	}
	if newHashPool(PasswordConfig{Concurrency: -1}) != nil {
		t.Error("a negative Concurrency still bounds hashing")
	}
}

// gateHasher blocks every check until gate is closed, and tells entered of
// each one that starts.
type gateHasher struct {
	passhash.Hasher
	gate    chan struct{}
	entered chan struct{}
}

func (h gateHasher) Verify(encoded, password string) (bool, error) {
	h.entered <- struct{}{}
	<-h.gate
	return h.Hasher.Verify(encoded, password)
}

// TestLoginOverloaded: while every hashing slot is busy, logins wait at
// most QueueWait and get 503 with Retry-After, the same for a known email
// as for an unknown one, without a password check; and the throttle does
// not count them.
func TestLoginOverloaded(t *testing.T) {
	h := gateHasher{passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 4}, make(chan struct{}), make(chan struct{}, 100)}
	store := newSeededStore(t)
	m, err := New(store, seededKey, Config{
		Logger:   discardLogger,
		Throttle: ThrottleConfig{FreeAttempts: 1, BaseDelay: time.Hour},
		Password: PasswordConfig{Hasher: h, Concurrency: 1, QueueSize: 1, QueueWait: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	var busy sync.WaitGroup
	busy.Add(1)
	go func() { // holds the only slot until the gate opens
		defer busy.Done()
		loginFrom(m, "admin@example.com", "wrong", "198.51.100.7")
	}()
	<-h.entered
	opened := false
	open := func() {
		if !opened {
			opened = true
			close(h.gate)
			busy.Wait()
		}
	}
	defer open()

	var first *httptest.ResponseRecorder
	for _, email := range []string{"user@example.com", "nobody@example.com", "user@example.com", "nobody@example.com"} {
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() { done <- loginFrom(m, email, "wrong", attackerIP) }()
		var w *httptest.ResponseRecorder
		select {
		case w = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the login waited for a hashing slot for 5 s, want at most QueueWait", email)
		}
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s: %d, Retry-After %q; want 503, Retry-After 1", email, w.Code, w.Header().Get("Retry-After"))
		}
		if first == nil {
			first = w
		} else if w.Body.String() != first.Body.String() {
			t.Errorf("%s: body %q, unlike %q", email, w.Body, first.Body)
		}
	}
	if n := len(h.entered); n != 0 {
		t.Errorf("refused logins made %d password checks, want 0", n)
	}
	open()

	// With FreeAttempts 1, had a refusal been counted for the address or
	// the account, the throttle would answer these 429.
	if w := loginFrom(m, "user@example.com", "wrong", attackerIP); w.Code != http.StatusBadRequest {
		t.Errorf("wrong password after the refusals: %d, want 400 (the refusals were counted)", w.Code)
	}
	if w := loginFrom(m, "nobody@example.com", "wrong", "198.51.100.8"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown email from another address: %d, want 400 (the refusals were counted for the account)", w.Code)
	}
}

func TestHashClass(t *testing.T) {
	tests := []struct{ name, encoded, want string }{
		{name: "bcrypt", encoded: "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", want: "$2a$12$"},
		{name: "argon2id", encoded: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", want: "$argon2id$v=19$m=19456,t=2,p=1$"},
		{name: "pbkdf2_sha512", encoded: "$pbkdf2-sha512$25000$c2FsdA$Y2hlY2s", want: "$pbkdf2-sha512$25000$"},
		{name: "sha512_crypt rounds", encoded: "$6$rounds=656000$saltsalt$checksum", want: "$6$rounds=656000$"},
		{name: "sha512_crypt default rounds", encoded: "$6$saltsalt$checksum", want: "$6$"},
		{name: "malformed", encoded: "$pbkdf2-sha512$25000", want: "pbkdf2_sha512"},
		{name: "unknown", encoded: "$md5$x$y", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hashClass(tt.encoded); got != tt.want {
				t.Errorf("hashClass(%q) = %q, want %q", tt.encoded, got, tt.want)
			}
		})
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// costHasher makes every check take, on clock, the time cost gives its
// hash's class, as if it were computed.
type costHasher struct {
	PasswordHasher
	clock *fakeClock
	cost  map[string]time.Duration
}

func (h costHasher) Verify(encoded, password string) (bool, error) {
	h.clock.advance(h.cost[hashClass(encoded)])
	return h.PasswordHasher.Verify(encoded, password)
}

// TestFailedLoginsCostTheSame: a wrong password for a user whose stored
// hash is cheaper than the scheme written (a Flask pbkdf2_sha512 hash),
// as costly, or dearer (an old bcrypt cost), takes as long as an unknown
// email, which is checked against a dummy hash of the scheme written. The
// hashes' costs are simulated on a fake clock, so the times are exact.
func TestFailedLoginsCostTheSame(t *testing.T) {
	const password = "the-right-password"
	write := passhash.Hasher{Scheme: passhash.Argon2id, Argon2: smallArgon2}
	users := []struct {
		name string
		h    passhash.Hasher
		cost time.Duration // simulated
	}{
		{name: "pbkdf2_sha512", h: passhash.Hasher{Scheme: passhash.PBKDF2SHA512, Rounds: 1000}, cost: 20 * time.Millisecond},
		{name: "argon2id", h: write, cost: 40 * time.Millisecond},
		{name: "bcrypt 10", h: passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 4}, cost: 60 * time.Millisecond},
		{name: "bcrypt 12", h: passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 5}, cost: 240 * time.Millisecond},
	}
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	h := costHasher{PasswordHasher: write, clock: clock, cost: map[string]time.Duration{}}
	store := NewMemoryStore()
	for _, u := range users {
		enc, err := u.h.Hash(password)
		if err != nil {
			t.Fatal(err)
		}
		h.cost[hashClass(enc)] = u.cost
		if err := store.CreateUser(context.Background(), &User{ID: u.name, Email: u.name + "@example.com", PasswordHash: enc, Active: true, Uniquifier: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := New(store, seededKey, Config{Logger: discardLogger, Throttle: ThrottleConfig{Disabled: true}, Password: PasswordConfig{Hasher: h}})
	if err != nil {
		t.Fatal(err)
	}
	m.passwords.costs = newCheckCosts() // forget the dummy's real cost
	m.passwords.now = clock.now
	m.passwords.sleep = func(_ context.Context, d time.Duration) { clock.advance(d) }
	took := func(email string) time.Duration {
		start := clock.now()
		if _, err := m.Authenticate(context.Background(), email, "a-wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("%s: %v, want ErrInvalidCredentials", email, err)
		}
		return clock.now().Sub(start)
	}
	// The costs are learned: a class dearer than every one seen so far is
	// not padded the first time. One round of logins teaches them.
	for _, u := range users {
		took(u.name + "@example.com")
	}
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			unknown, known := took("nobody@example.com"), took(u.name+"@example.com")
			if unknown != known {
				t.Errorf("unknown email took %v, wrong password for a user stored with %s %v", unknown, u.name, known)
			}
		})
	}
	// Successes are not padded.
	start := clock.now()
	if _, err := m.Authenticate(context.Background(), "pbkdf2_sha512@example.com", password); err != nil {
		t.Fatal(err)
	}
	if d := clock.now().Sub(start); d != 20*time.Millisecond {
		t.Errorf("a successful pbkdf2_sha512 login took %v, want its 20ms", d)
	}
}
