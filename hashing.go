package auth

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authkit/auth/passhash"
)

// hashPool bounds the password hashes computed at once, so that a flood
// of logins cannot take every core from the rest of the server: a hash
// takes one of a fixed number of slots, waiting for one in a bounded
// queue for a bounded time, and is refused with ErrOverloaded otherwise.
// A nil *hashPool admits every hash at once.
type hashPool struct {
	slots   chan struct{}
	queue   int64         // most hashes waiting for a slot; negative: no bound
	wait    time.Duration // longest wait for a slot; negative: no bound
	waiting atomic.Int64
}

// Defaults of the hash pool: half the cores (at least one), so a flood of
// logins leaves the other half to the rest of the server; 32 waiting per
// slot, each for at most a second. Waiting costs a goroutine; a refusal
// costs a request, which a flooding client sends again at once: the queue
// is long enough that a flood waits rather than spins.
const (
	defaultQueuePerSlot = 32
	defaultQueueWait    = time.Second
)

func defaultConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// newHashPool resolves the pool settings of c: zero takes the default,
// negative switches the bound off.
func newHashPool(c PasswordConfig) *hashPool {
	if c.Concurrency < 0 {
		return nil
	}
	n := orDefault(c.Concurrency, defaultConcurrency())
	p := &hashPool{slots: make(chan struct{}, n), queue: int64(c.QueueSize), wait: c.QueueWait}
	if c.QueueSize == 0 {
		p.queue = int64(n) * defaultQueuePerSlot
	}
	if c.QueueWait == 0 {
		p.wait = defaultQueueWait
	}
	return p
}

// acquire takes a slot, waiting for one if the queue has room, and returns
// the function that gives it back. It returns ErrOverloaded if the queue
// is full, the wait runs out or ctx ends first.
func (p *hashPool) acquire(ctx context.Context) (release func(), err error) {
	if p == nil {
		return func() {}, nil
	}
	release = func() { <-p.slots }
	select {
	case p.slots <- struct{}{}:
		return release, nil
	default:
	}
	if n := p.waiting.Add(1); p.queue >= 0 && n > p.queue {
		p.waiting.Add(-1)
		return nil, ErrOverloaded
	}
	defer p.waiting.Add(-1)
	var timeout <-chan time.Time
	if p.wait >= 0 {
		t := time.NewTimer(p.wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p.slots <- struct{}{}:
		return release, nil
	case <-timeout:
	case <-ctx.Done():
	}
	return nil, ErrOverloaded
}

// overloadLog writes at most one warning a second about requests refused
// for want of a hashing slot, with how many were refused since the last:
// a flood must not become a flood of log lines.
type overloadLog struct {
	last    atomic.Int64 // Unix second of the last line
	refused atomic.Int64
}

// refuse counts a refused request and logs if no line was written this
// second.
func (o *overloadLog) refuse(ctx context.Context, log *slog.Logger, now time.Time) {
	o.refused.Add(1)
	sec := now.Unix()
	if last := o.last.Load(); sec > last && o.last.CompareAndSwap(last, sec) {
		log.WarnContext(ctx, "auth: password hashing overloaded: requests refused with 503", "refused", o.refused.Swap(0))
	}
}

// checkCosts learns how long a password check takes for each class of
// stored hash (a scheme and its parameters), so that a failed login can
// be padded to the costliest: then an unknown email, checked against the
// dummy hash, takes as long as a wrong password for a user whose hash is
// cheaper or dearer than the scheme written.
type checkCosts struct {
	mu    sync.Mutex
	cost  map[string]time.Duration // moving average, by hashClass
	floor time.Duration            // the largest of cost
}

// maxCostClasses bounds the classes checkCosts keeps; further ones share
// one entry.
const maxCostClasses = 64

func newCheckCosts() *checkCosts { return &checkCosts{cost: map[string]time.Duration{}} }

// record adds a check of a hash of class that took d. The first check of a
// class sets its cost; later ones move it by an eighth of the difference.
func (c *checkCosts) record(class string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cost[class]; !ok && len(c.cost) >= maxCostClasses {
		class = "other"
	}
	old, ok := c.cost[class]
	if ok {
		d = old + (d-old)/8
	}
	c.cost[class] = d
	c.floor = 0
	for _, v := range c.cost {
		c.floor = max(c.floor, v)
	}
}

// max is the cost of the costliest class checked so far.
func (c *checkCosts) max() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floor
}

// hashClass names the scheme and parameters of encoded, which decide how
// long checking it takes, without its salt or checksum: "$2a$12$",
// "$argon2id$v=19$m=19456,t=2,p=1$", "$pbkdf2-sha512$25000$",
// "$6$rounds=656000$" ("$6$" with the default rounds). It is "" for a hash
// passhash does not read.
func hashClass(encoded string) string {
	fields := 0 // the $-separated fields kept after the leading "$"
	s := passhash.Identify(encoded)
	switch s {
	case "":
		return ""
	case passhash.Bcrypt, passhash.PBKDF2SHA512, passhash.PBKDF2SHA256, passhash.PBKDF2SHA1:
		fields = 2
	case passhash.Argon2id:
		fields = 3
	default: // SHA-crypt: "$6$rounds=N$salt$checksum" or "$6$salt$checksum"
		fields = 1
		if strings.HasPrefix(encoded[3:], "rounds=") {
			fields = 2
		}
	}
	end := 0
	for range fields {
		i := strings.IndexByte(encoded[end+1:], '$')
		if i < 0 {
			return string(s) // malformed: its check fails at once
		}
		end += 1 + i
	}
	return encoded[:min(end+1, 64)]
}
