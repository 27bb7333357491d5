package auth

import (
	"context"

	"fmt"
	"strconv"
	"sync"
	"time"
)

// ThrottledError is the error of a throttled credential check.
type ThrottledError struct {
	// RetryAfter is how long the client must wait before trying again.
	RetryAfter time.Duration
}

// Error says how long the client must wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("auth: too many failed attempts; retry after %v", e.RetryAfter)
}

// Is makes a ThrottledError match ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// retryAfterHeader is the value of a Retry-After header: whole seconds,
// rounded up, at least 1.
func (e *ThrottledError) retryAfterHeader() string {
	s := int64((e.RetryAfter + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// ThrottleStore keeps the counts of recent failed credential checks, by key.
// Keys are opaque strings the Manager makes from client addresses and
// emails. The in-memory default is used unless Config.Throttle.Store is set;
// sqlstore provides one that several instances share. Implementations must
// be safe for concurrent use.
type ThrottleStore interface {
	// Failures returns the number of failures recorded for key and the
	// time of the last one, or 0 and the zero time if there are none or
	// the last one is older than forget.
	Failures(ctx context.Context, key string, now time.Time, forget time.Duration) (count int, last time.Time, err error)
	// AddFailure records a failure at now, atomically: the count restarts
	// at 1 if the last failure is older than forget. It returns the new count.
	AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error)
	// Reset forgets the failures of key.
	Reset(ctx context.Context, key string) error
}

// ThrottleConfig configures the throttling of failed credential checks on
// every path that checks a password: the login handler (JSON and form), the
// token handler and Basic authentication. Every field's zero value means the
// default in its comment.
//
// Failures are counted per client address and per account (by email, known
// or not, so a throttled answer reveals nothing). After FreeAttempts
// failures the next attempt must wait BaseDelay, then twice as long after
// each further failure, up to MaxDelay for an address and AccountMaxDelay
// for an account. While a key must wait, attempts are refused with 429 and
// Retry-After without checking the password.
//
// The owner of an account is never delayed by failures for the account made
// from other addresses while logging in from the address of one of the
// account's last two logins (User.CurrentLoginIP, User.LastLoginIP); from
// any other address, by at most AccountMaxDelay.
type ThrottleConfig struct {
	// Disabled turns throttling off.
	Disabled bool
	// FreeAttempts is the number of failures before any delay. Default 5.
	FreeAttempts int
	// BaseDelay is the first delay. Default 1 s.
	BaseDelay time.Duration
	// MaxDelay caps the delay of a client address. Default 15 min.
	MaxDelay time.Duration
	// AccountMaxDelay caps the delay of an account. Default 1 min.
	AccountMaxDelay time.Duration
	// Forget is how long after the last failure a key's count restarts.
	// Default 1 h.
	Forget time.Duration
	// Store keeps the counts. Default: in memory, bounded to
	// 100,000 keys, in this process only.
	Store ThrottleStore
}

// throttle is a resolved ThrottleConfig.
type throttle struct {
	store                   ThrottleStore
	free                    int
	base, maxIP, maxAccount time.Duration
	forget                  time.Duration
}

func newThrottle(c ThrottleConfig) *throttle {
	if c.Disabled {
		return nil
	}
	t := &throttle{
		store:      c.Store,
		free:       orDefault(c.FreeAttempts, 5),
		base:       durationOr(c.BaseDelay, time.Second),
		maxIP:      durationOr(c.MaxDelay, 15*time.Minute),
		maxAccount: durationOr(c.AccountMaxDelay, time.Minute),
		forget:     durationOr(c.Forget, time.Hour),
	}
	if t.store == nil {
		t.store = newMemoryThrottle()
	}
	return t
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// delay is how long a key with n failures must wait after the last one.
func (t *throttle) delay(n int, limit time.Duration) time.Duration {
	if n < t.free {
		return 0
	}
	d := t.base
	for i := t.free; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// wait returns how long key must still wait at now.
func (t *throttle) wait(ctx context.Context, key string, now time.Time, limit time.Duration) (time.Duration, error) {
	n, last, err := t.store.Failures(ctx, key, now, t.forget)
	if err != nil || n == 0 {
		return 0, err
	}
	return max(last.Add(t.delay(n, limit)).Sub(now), 0), nil
}

// admit refuses, with a *ThrottledError, an attempt whose client address
// must still wait, and otherwise returns how long the account must (which
// the caller applies once it knows whether the client is at one of the
// owner's addresses). A nil throttle admits every attempt.
func (t *throttle) admit(ctx context.Context, email, ip string, now time.Time) (accountWait time.Duration, err error) {
	if t == nil {
		return 0, nil
	}
	if ip != "" {
		wait, err := t.wait(ctx, ipKey(ip), now, t.maxIP)
		if err != nil {
			return 0, fmt.Errorf("%w: throttle: %w", ErrStoreUnavailable, err)
		}
		if wait > 0 {
			return 0, &ThrottledError{RetryAfter: wait}
		}
	}
	wait, err := t.wait(ctx, accountKey(email), now, t.maxAccount)
	if err != nil {
		return 0, fmt.Errorf("%w: throttle: %w", ErrStoreUnavailable, err)
	}
	return wait, nil
}

// failed counts a failed check against the client address, when known,
// and the account.
func (t *throttle) failed(ctx context.Context, email, ip string, now time.Time) error {
	if t == nil {
		return nil
	}
	var err error
	if ip != "" {
		_, err = t.store.AddFailure(ctx, ipKey(ip), now, t.forget)
	}
	if _, aerr := t.store.AddFailure(ctx, accountKey(email), now, t.forget); aerr != nil {
		err = aerr
	}
	return err
}

// succeeded forgets the failures of the account after a successful check.
func (t *throttle) succeeded(ctx context.Context, email string) error {
	if t == nil {
		return nil
	}
	return t.store.Reset(ctx, accountKey(email))
}

func ipKey(ip string) string         { return "ip:" + ip }
func accountKey(email string) string { return "account:" + foldEmail(email) }

// memoryThrottleMaxKeys bounds the keys a memory throttle holds; past it,
// keys whose failures are forgotten are dropped first, then the oldest.
const memoryThrottleMaxKeys = 100_000

// memoryThrottle is the in-memory [ThrottleStore], for a single process.
type memoryThrottle struct {
	mu   sync.Mutex
	keys map[string]*throttleEntry
}

type throttleEntry struct {
	count int
	last  time.Time
}

// newMemoryThrottle returns an empty memoryThrottle.
func newMemoryThrottle() *memoryThrottle {
	return &memoryThrottle{keys: map[string]*throttleEntry{}}
}

// Failures implements [ThrottleStore].
func (t *memoryThrottle) Failures(ctx context.Context, key string, now time.Time, forget time.Duration) (int, time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.keys[key]
	if !ok || now.Sub(e.last) > forget {
		return 0, time.Time{}, nil
	}
	return e.count, e.last, nil
}

// AddFailure implements [ThrottleStore].
func (t *memoryThrottle) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.keys[key]
	if !ok {
		if len(t.keys) >= memoryThrottleMaxKeys {
			t.evict(now, forget)
		}
		e = &throttleEntry{}
		t.keys[key] = e
	}
	if now.Sub(e.last) > forget {
		e.count = 0
	}
	e.count++
	e.last = now
	return e.count, nil
}

// Reset implements [ThrottleStore].
func (t *memoryThrottle) Reset(ctx context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
	return nil
}

// evict drops forgotten keys and, if none were, a tenth of the keys chosen
// at random (Go's map order). It runs with t.mu held, only when the map is
// full, so the memory a flood of distinct keys can take stays bounded.
func (t *memoryThrottle) evict(now time.Time, forget time.Duration) {
	before := len(t.keys)
	for k, e := range t.keys {
		if now.Sub(e.last) > forget {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < before {
		return
	}
	drop := max(before/10, 1)
	for k := range t.keys {
		if drop == 0 {
			break
		}
		delete(t.keys, k)
		drop--
	}
}
