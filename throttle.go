package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
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

// ThrottleStore keeps, by key, the count of recent failed credential checks
// and the time of the last one. Keys are opaque strings the Manager makes:
// a kind ("ip:", "account:" or "device:") and a keyed hash (HMAC-SHA256
// under a key derived from the signing key, base64url) of a client address
// prefix, of a folded email or of a device token's id, never the address,
// the email or the token itself. The in-memory default is used unless
// Config.Throttle.Store is set; sqlstore provides one that several
// instances share. Implementations must be safe for concurrent use.
//
// An attempt is counted as a failure before the password is checked
// (Reserve), and given back once it succeeds (Refund, Reset), so that
// concurrent attempts cannot all be checked before any is counted.
type ThrottleStore interface {
	// Reserve admits or refuses one attempt for key at now, atomically
	// with every other call for key. Failures older than limit.Forget
	// count as none. If key must still wait (limit.Wait of its count and
	// last failure is positive), Reserve changes nothing and returns that
	// wait, which must be positive. Otherwise it counts the attempt as a
	// failure at now and returns 0. However many calls run at once, they
	// admit no more attempts than they would one after another.
	Reserve(ctx context.Context, key string, now time.Time, limit ThrottleLimit) (wait time.Duration, err error)
	// Refund takes back one failure that Reserve counted for key, once
	// the attempt turned out not to be one. It leaves the time of the last
	// failure as it is.
	Refund(ctx context.Context, key string) error
	// Reset forgets the failures of key.
	Reset(ctx context.Context, key string) error
}

// ThrottleLimit is the rule a [ThrottleStore] applies to one key in
// Reserve. The Manager makes it from the [ThrottleConfig].
type ThrottleLimit struct {
	// Free is the number of failures admitted without any wait.
	Free int
	// Base is the wait after the Free-th failure; it doubles with each
	// further failure.
	Base time.Duration
	// Max caps the wait.
	Max time.Duration
	// Forget is how long after the last failure the count restarts.
	Forget time.Duration
}

// Wait returns how long a key with n failures, the last at last, must
// still wait at now: zero if n is below Free or the failures are older
// than Forget, else last + min(Base·2^(n-Free), Max) - now, at least zero.
func (l ThrottleLimit) Wait(n int, last, now time.Time) time.Duration {
	if n < l.Free || now.Sub(last) > l.Forget {
		return 0
	}
	return max(last.Add(l.Delay(n)).Sub(now), 0)
}

// Delay is the wait after the n-th failure: zero below Free, else
// Base·2^(n-Free) capped at Max.
func (l ThrottleLimit) Delay(n int) time.Duration {
	if n < l.Free {
		return 0
	}
	return min(l.Base<<min(n-l.Free, l.Doublings()), l.Max)
}

// Doublings is the number of doublings of Base that reach Max (or the
// largest Duration), the most the exponent of Delay ever needs. SQL
// implementations bound their shift with it.
func (l ThrottleLimit) Doublings() int {
	k := 0
	for d := max(l.Base, 1); d < l.Max && d <= math.MaxInt64/2; d *= 2 {
		k++
	}
	return k
}

// ThrottleConfig configures the throttling of failed credential checks on
// every path that checks a password: the login handler (JSON and form), the
// token handler and Basic authentication. Every field's zero value means the
// default in its comment.
//
// Failures are counted per client address prefix and per account (by
// email, known or not, so a throttled answer reveals nothing). Each attempt
// is counted before its password is checked and given back if it
// succeeds, so concurrent attempts get no more checks than attempts one
// after another. After FreeAttempts failures the next attempt must wait
// BaseDelay, then twice as long after each further failure, up to MaxDelay
// for an address and AccountMaxDelay for an account. While a key must
// wait, attempts are refused with 429 and Retry-After without checking the
// password. If the Store fails, attempts are refused with 503 and
// Retry-After without checking the password.
//
// A client that presents a valid device token for the account (see
// [DeviceTokenHeader]), which it got by logging in to the account before,
// is counted against that device alone, never against its address or the
// account: failures for other accounts from a shared address, or for the
// account from anywhere, never lock out its owner. After FreeAttempts
// failures of its own, a device is throttled by address and account like
// any other client until its delay has passed. Whether an account exists
// never changes an answer.
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
	// IPv4Prefix and IPv6Prefix are the lengths of the prefixes of client
	// addresses that share one count. Default 32 (one IPv4 address) and 64
	// (one IPv6 subnet, which a single client commonly holds whole); New
	// refuses lengths over 32 and 128.
	IPv4Prefix, IPv6Prefix int
	// DeviceMaxAge is how long a device token stays valid. Default 90
	// days; negative: no device tokens are issued or accepted.
	DeviceMaxAge time.Duration
	// Store keeps the counts. Default: in memory, bounded to
	// 100,000 keys, in this process only.
	Store ThrottleStore
}

// throttle is a resolved ThrottleConfig.
type throttle struct {
	store   ThrottleStore
	ip      ThrottleLimit // of client address prefixes
	account ThrottleLimit // of accounts
	v4, v6  int           // prefix lengths
	keyHash []byte        // HMAC key of the store's keys
}

// newThrottle resolves c; signingKey is the Manager's, from which the key
// of the store keys' HMAC is derived.
func newThrottle(c ThrottleConfig, signingKey []byte) (*throttle, error) {
	if c.Disabled {
		return nil, nil
	}
	t := &throttle{
		store:   c.Store,
		v4:      orDefault(c.IPv4Prefix, 32),
		v6:      orDefault(c.IPv6Prefix, 64),
		keyHash: deriveSessionKey(signingKey, "authkit throttle key v1"),
	}
	if c.IPv4Prefix < 0 || t.v4 > 32 || c.IPv6Prefix < 0 || t.v6 > 128 {
		return nil, fmt.Errorf("auth: throttle prefix lengths /%d (IPv4) and /%d (IPv6) out of range", c.IPv4Prefix, c.IPv6Prefix)
	}
	t.ip = ThrottleLimit{
		Free:   orDefault(c.FreeAttempts, 5),
		Base:   durationOr(c.BaseDelay, time.Second),
		Max:    durationOr(c.MaxDelay, 15*time.Minute),
		Forget: durationOr(c.Forget, time.Hour),
	}
	t.account = t.ip
	t.account.Max = durationOr(c.AccountMaxDelay, time.Minute)
	if t.store == nil {
		t.store = newMemoryThrottle()
	}
	return t, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// reserve counts an attempt for key under limit, or refuses it with a
// *ThrottledError. A store failure is ErrStoreUnavailable: the attempt is
// refused, never admitted unthrottled.
func (t *throttle) reserve(ctx context.Context, key string, now time.Time, limit ThrottleLimit) error {
	wait, err := t.store.Reserve(ctx, key, now, limit)
	switch {
	case err != nil:
		return fmt.Errorf("%w: throttle: %w", ErrStoreUnavailable, err)
	case wait > 0:
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// reserveAddr counts an attempt from the client address ip, when known,
// before its password is checked, or refuses it (see reserve). It returns
// the key it counted, "" for none. A nil throttle admits every attempt.
func (t *throttle) reserveAddr(ctx context.Context, ip string, now time.Time) (string, error) {
	if t == nil || ip == "" {
		return "", nil
	}
	key := t.addrKey(ip)
	return key, t.reserve(ctx, key, now, t.ip)
}

// reserveAccount counts an attempt for the account of email, or refuses
// it (see reserve).
func (t *throttle) reserveAccount(ctx context.Context, email string, now time.Time) (string, error) {
	if t == nil {
		return "", nil
	}
	key := t.accountKey(email)
	return key, t.reserve(ctx, key, now, t.account)
}

// reserveDevice counts an attempt of the device whose token has the given
// id under the account's limit, or refuses it (see reserve).
func (t *throttle) reserveDevice(ctx context.Context, id string, now time.Time) (string, error) {
	if t == nil {
		return "", nil
	}
	key := "device:" + t.hash("device", id)
	return key, t.reserve(ctx, key, now, t.account)
}

// refund gives back the attempt counted for key (of an address, an
// account or a device; "" for none) and reports a store failure.
func (t *throttle) refund(ctx context.Context, key string) error {
	if t == nil || key == "" {
		return nil
	}
	return t.store.Refund(ctx, key)
}

// succeeded settles a successful check: the address's attempt is given
// back and the failures of the account and of the device (either key may
// be "") are forgotten.
func (t *throttle) succeeded(ctx context.Context, addr, account, device string) error {
	if t == nil {
		return nil
	}
	err := t.refund(ctx, addr)
	for _, key := range []string{account, device} {
		if key == "" {
			continue
		}
		if rerr := t.store.Reset(ctx, key); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// addrKey is the store key of the client address ip: the keyed hash of its
// prefix of the configured length. An ip that is not an address (a Unix
// socket's RemoteAddr, say) is hashed as it is.
func (t *throttle) addrKey(ip string) string {
	return "ip:" + t.hash("ip", t.addrPrefix(ip))
}

// addrPrefix is the prefix of the configured length of the client address
// ip, which shares one count. An ip that is not an address (a Unix
// socket's RemoteAddr, say) is its own prefix.
func (t *throttle) addrPrefix(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		bits := t.v6
		if a = a.Unmap(); a.Is4() {
			bits = t.v4
		}
		if p, err := a.WithZone("").Prefix(bits); err == nil {
			return p.String()
		}
	}
	return ip
}

// accountKey is the store key of the account of email: the keyed hash of
// the folded email.
func (t *throttle) accountKey(email string) string {
	return "account:" + t.hash("account", foldEmail(email))
}

// hash is the first 16 bytes of HMAC-SHA256(keyHash, kind NUL s), base64url.
func (t *throttle) hash(kind, s string) string {
	h := hmac.New(sha256.New, t.keyHash)
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

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

// Reserve implements [ThrottleStore].
func (t *memoryThrottle) Reserve(ctx context.Context, key string, now time.Time, limit ThrottleLimit) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.keys[key]
	if !ok {
		if len(t.keys) >= memoryThrottleMaxKeys {
			t.evict(now, limit.Forget)
		}
		e = &throttleEntry{}
		t.keys[key] = e
	}
	if now.Sub(e.last) > limit.Forget {
		e.count = 0
	}
	if wait := limit.Wait(e.count, e.last, now); wait > 0 {
		return wait, nil
	}
	e.count++
	e.last = now
	return 0, nil
}

// Refund implements [ThrottleStore].
func (t *memoryThrottle) Refund(ctx context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.keys[key]; ok && e.count > 0 {
		e.count--
	}
	return nil
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
