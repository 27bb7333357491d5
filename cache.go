package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// UserCacheConfig configures the verified-user cache: a bounded, in-process
// cache of the users whose tokens verified, so that a token check skips the
// store lookup while the entry is fresh. It is on by default, except over a
// [MemoryStore], whose lookups cost what a cache hit costs.
//
// An entry holds the user's uniquifier and is used only for tokens that
// carry the same one. The Manager forgets a user at once when it rotates the
// uniquifier or changes the password itself, including when a lookup that
// began before the change would cache the old user after it. A change made
// outside the Manager (by another instance, an operator's tool, or the
// application writing to the store) is seen:
//   - within a second, if the store implements [UserChangeLog] (sqlstore's
//     Store does): the Manager reads the log every 250 ms while it serves
//     token checks, and uses no entry while it has not read the log for a
//     second;
//   - otherwise when the entry expires, after at most TTL, whose default is
//     then a second;
//   - at once, in either case, if that change is relayed to
//     [Manager.ForgetUser] (sqlstore's PostgreSQL notifications do this).
type UserCacheConfig struct {
	// Size is the most users held. Default 10,000, about 6 MB for users
	// with an argon2id hash, a 24-character email and two roles (566
	// bytes each, BenchmarkUserCacheMemory); negative disables the cache.
	Size int
	// TTL is how long an entry is used at most. Default 5 minutes if the
	// store implements UserChangeLog, otherwise 1 second; negative means
	// entries do not expire.
	TTL time.Duration
}

// defaultCacheSize is UserCacheConfig.Size's default.
const defaultCacheSize = 10_000

// userCache is the verified-user cache: a map from user ID to a slot in a
// fixed ring of at most size slots, evicted by CLOCK (second chance).
//
// CLOCK rather than LRU so that a hit stays a read: get marks its slot
// referenced with an atomic store under the read lock, where an LRU would
// move the entry to the front of its list on every hit and so need the
// write lock, serializing every cached check. put, on a miss with the
// cache full, advances the hand over the ring, clearing referenced bits,
// and reuses the first slot that is expired, unreferenced or empty; it
// looks at most maxSweep slots and otherwise takes the one the hand is on,
// so an eviction costs O(1) whatever the size (a plain CLOCK is O(1) only
// amortized: one put may sweep the whole ring after every entry was hit).
//
// The generations close the race of a check that read the user from the
// store before a revocation and caches it after the revocation's forget:
// currentUser reads the generation of the user's shard before the store
// lookup, forget and forgetAll bump it, and put, under the same lock as
// they, stores only if it is unchanged. A forget of one user drops the
// in-flight puts of only the users sharing its shard.
type userCache struct {
	mu    sync.RWMutex
	index map[string]int32 // user ID → slot
	slots []cacheSlot      // grows to size, never beyond
	free  []int32          // empty slots below len(slots), left by forget
	hand  int32            // next slot the CLOCK looks at
	size  int
	ttl   time.Duration
	seed  maphash.Seed
	gens  [genShards]atomic.Uint64 // bumped with mu held; read without
	// forgets counts the forgets, bumped before the shards' generations,
	// for a cache of other credentials whose user is known only after the
	// store lookup (see patCache.put).
	forgets atomic.Uint64
}

const (
	genShards = 256
	maxSweep  = 32
)

type cacheSlot struct {
	id      string // "" when empty
	user    *User  // shared with every request that gets it: read-only, as every user a store hands out
	expires time.Time
	ref     atomic.Bool // set by a hit under the read lock, cleared by the hand
}

// newUserCache returns the cache c describes for store, or nil when it is
// off: Size is negative, or zero with a MemoryStore.
func newUserCache(c UserCacheConfig, store UserStore) *userCache {
	size := c.Size
	if _, mem := store.(*MemoryStore); size < 0 || size == 0 && mem {
		return nil
	}
	if size == 0 {
		size = defaultCacheSize
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = time.Second
		if _, ok := store.(UserChangeLog); ok {
			ttl = 5 * time.Minute
		}
	}
	if ttl < 0 {
		ttl = time.Duration(math.MaxInt64)
	}
	n := min(size, 1024)
	return &userCache{
		index: make(map[string]int32, n),
		slots: make([]cacheSlot, 0, n),
		size:  min(size, math.MaxInt32),
		ttl:   ttl,
		seed:  maphash.MakeSeed(),
	}
}

// gen returns the generation of the shard holding id, to pass to put.
func (c *userCache) gen(id string) uint64 {
	return c.shard(id).Load()
}

func (c *userCache) shard(id string) *atomic.Uint64 {
	return &c.gens[maphash.String(c.seed, id)%genShards]
}

// get returns the cached user with the given ID, shared and read-only, if
// the entry is fresh and holds the given uniquifier (any, if uniq is nil).
func (c *userCache) get(id string, uniq []byte, now time.Time) (*User, bool) {
	c.mu.RLock()
	i, ok := c.index[id]
	var u *User
	var expires time.Time
	if ok {
		s := &c.slots[i]
		u, expires = s.user, s.expires
		if !s.ref.Load() {
			s.ref.Store(true)
		}
	}
	c.mu.RUnlock()
	if !ok || now.After(expires) || uniq != nil && subtle.ConstantTimeCompare([]byte(u.Uniquifier), uniq) != 1 {
		return nil, false
	}
	return u, true
}

// put caches u, which the store handed out and so never changes, unless
// the user's shard generation is no longer gen (the user, or one sharing
// its shard, was forgotten since gen was read).
func (c *userCache) put(u *User, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shard(u.ID).Load() != gen {
		return
	}
	i, ok := c.index[u.ID]
	if !ok {
		i = c.slot(now)
		c.index[u.ID] = i
	}
	s := &c.slots[i]
	s.id, s.user, s.expires = u.ID, u, now.Add(c.ttl)
	s.ref.Store(false)
}

// putUnlessForgotten caches u, read from the store with a lookup that did
// not know its ID beforehand (a personal token's owner), unless any user
// was forgotten since forgets was read, before that lookup: the forget
// may have been u's. A forget bumps the counter before the shard's
// generation, so the generation read here after the check is no older
// than the lookup.
func (c *userCache) putUnlessForgotten(u *User, forgets uint64, now time.Time) {
	if c.forgets.Load() != forgets {
		return
	}
	c.put(u, c.gen(u.ID), now)
	if c.forgets.Load() != forgets {
		c.forget(u.ID) // a forget raced the put: drop what it may have missed
	}
}

// slot returns a slot for a new entry: an empty one, a new one while the
// ring is short of size, or one taken from another entry by the CLOCK. It
// runs with c.mu held.
func (c *userCache) slot(now time.Time) int32 {
	if n := len(c.free); n > 0 {
		i := c.free[n-1]
		c.free = c.free[:n-1]
		return i
	}
	if len(c.slots) < c.size {
		c.slots = append(c.slots, cacheSlot{})
		return int32(len(c.slots) - 1) // #nosec G115 -- len(c.slots) <= c.size <= math.MaxInt32 (newUserCache)
	}
	victim := c.hand
	for range maxSweep {
		s := &c.slots[c.hand]
		if s.id == "" || now.After(s.expires) || !s.ref.Load() {
			victim = c.hand
			break
		}
		s.ref.Store(false)
		c.advance()
		victim = c.hand
	}
	c.advance()
	if id := c.slots[victim].id; id != "" {
		delete(c.index, id)
	}
	return victim
}

func (c *userCache) advance() {
	if c.hand++; int(c.hand) == len(c.slots) {
		c.hand = 0
	}
}

func (c *userCache) forget(id string) {
	c.mu.Lock()
	c.forgets.Add(1)
	c.shard(id).Add(1)
	if i, ok := c.index[id]; ok {
		delete(c.index, id)
		c.slots[i] = cacheSlot{}
		c.free = append(c.free, i)
	}
	c.mu.Unlock()
}

func (c *userCache) forgetAll() {
	c.mu.Lock()
	c.forgets.Add(1)
	for i := range c.gens {
		c.gens[i].Add(1)
	}
	clear(c.index)
	clear(c.slots)
	c.slots = c.slots[:0]
	c.free = c.free[:0]
	c.hand = 0
	c.mu.Unlock()
}

// userFaults are the errors a credential gets when the user it names does
// not accept it: each credential (token, session cookie) has its own, so
// that the audit log can name the reason.
type userFaults struct {
	unknown, revoked, inactive error
}

// currentUser returns the active user with the given ID if uniq is still
// its uniquifier (whatever its uniquifier, if uniq is nil): from the verified-user cache while the entry is fresh,
// otherwise from the store, and then caches it. A user who does not accept
// the credential gives one of faults; a store failure an error wrapping
// ErrStoreUnavailable.
func (m *Manager) currentUser(ctx context.Context, id string, uniq []byte, faults userFaults) (*User, error) {
	var gen uint64
	if m.cache != nil {
		now := m.now()
		if m.changes == nil || m.changes.usable(now) {
			if u, ok := m.cache.get(id, uniq, now); ok {
				return u, nil
			}
		}
		gen = m.cache.gen(id) // before the store read: see userCache
	}
	u, err := m.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, faults.unknown
	case err != nil:
		return nil, storeError(err)
	case uniq != nil && subtle.ConstantTimeCompare([]byte(u.Uniquifier), uniq) != 1:
		return nil, faults.revoked
	case !u.Active:
		return nil, faults.inactive
	}
	if m.cache != nil {
		m.cache.put(u, gen, m.now())
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
	if m.cache != nil {
		m.cache.forgetAll()
	}
}
