package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"sync"
	"time"
)

// UserCacheConfig configures the verified-user cache: a bounded, in-process
// cache of the users whose tokens verified, so that a token check skips the
// store lookup while the entry is fresh. It is off unless Size is set.
//
// An entry holds the user's uniquifier and is used only for tokens that
// carry the same one. The Manager forgets a user at once when it rotates the
// uniquifier or changes the password itself; a change made by another
// process (another instance, an operator's tool) is seen when the entry
// expires, after at most TTL, or at once if that process's change is
// relayed to [Manager.ForgetUser] (sqlstore's PostgreSQL notifications do
// this).
type UserCacheConfig struct {
	// Size is the most users held; zero disables the cache.
	Size int
	// TTL is how long an entry is used. Default 5 s.
	TTL time.Duration
}

// userCache is the verified-user cache.
type userCache struct {
	mu      sync.RWMutex
	entries map[string]cacheEntry // by user ID
	size    int
	ttl     time.Duration
}

type cacheEntry struct {
	user    *User // never handed out: get returns clones
	expires time.Time
}

func newUserCache(c UserCacheConfig) *userCache {
	if c.Size <= 0 {
		return nil
	}
	return &userCache{entries: make(map[string]cacheEntry, min(c.Size, 1024)), size: c.Size, ttl: durationOr(c.TTL, 5*time.Second)}
}

// get returns a copy of the cached user with the given ID if the entry is
// fresh and holds the given uniquifier.
func (c *userCache) get(id string, uniq []byte, now time.Time) (*User, bool) {
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) || subtle.ConstantTimeCompare([]byte(e.user.Uniquifier), uniq) != 1 {
		return nil, false
	}
	return e.user.Clone(), true
}

// put caches a copy of u.
func (c *userCache) put(u *User, now time.Time) {
	e := cacheEntry{user: u.Clone(), expires: now.Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[u.ID]; !ok && len(c.entries) >= c.size {
		c.evict(now)
	}
	c.entries[u.ID] = e
}

// evict drops expired entries and, if none were, one entry chosen at
// random (Go's map order). It runs with c.mu held.
func (c *userCache) evict(now time.Time) {
	before := len(c.entries)
	for id, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, id)
		}
	}
	if len(c.entries) < before {
		return
	}
	for id := range c.entries {
		delete(c.entries, id)
		return
	}
}

func (c *userCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// userFaults are the errors a credential gets when the user it names does
// not accept it: each credential (token, session cookie) has its own, so
// that the audit log can name the reason.
type userFaults struct {
	unknown, revoked, inactive error
}

// currentUser returns the active user with the given ID if uniq is still
// its uniquifier: from the verified-user cache while the entry is fresh,
// otherwise from the store, and then caches it. A user who does not accept
// the credential gives one of faults; a store failure an error wrapping
// ErrStoreUnavailable.
func (m *Manager) currentUser(ctx context.Context, id string, uniq []byte, faults userFaults) (*User, error) {
	if m.cache != nil {
		if u, ok := m.cache.get(id, uniq, m.now()); ok {
			return u, nil
		}
	}
	u, err := m.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, faults.unknown
	case err != nil:
		return nil, storeError(err)
	case subtle.ConstantTimeCompare([]byte(u.Uniquifier), uniq) != 1:
		return nil, faults.revoked
	case !u.Active:
		return nil, faults.inactive
	}
	if m.cache != nil {
		m.cache.put(u, m.now())
	}
	return u, nil
}

// ForgetUser drops the user with the given ID from the verified-user cache,
// so the next token check reads the store. Call it when the user changed
// outside this Manager; the Manager calls it itself for its own changes.
// It does nothing when the cache is off.
func (m *Manager) ForgetUser(id string) {
	if m.cache != nil {
		m.cache.forget(id)
	}
}

// ForgetAllUsers empties the verified-user cache, as after a lost
// connection to a source of change notifications. It does nothing when the
// cache is off.
func (m *Manager) ForgetAllUsers() {
	if c := m.cache; c != nil {
		c.mu.Lock()
		clear(c.entries)
		c.mu.Unlock()
	}
}
