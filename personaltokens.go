package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authkit/auth/pat"
)

// Defaults and bounds of personal access tokens.
const (
	defaultPersonalMaxAge = 365 * 24 * time.Hour
	defaultPersonalAge    = 30 * 24 * time.Hour
	// personalTouchEvery is how stale a token's LastUsedAt may get before
	// a request it authenticates writes it again.
	personalTouchEvery = 5 * time.Minute
	maxPersonalTokens  = 100 // per user
	maxScopeBytes      = 64
	maxTokenNameRunes  = 100
)

// The refusals of personal access tokens.
var (
	errPersonalNotAccepted = &wrapError{msg: "auth: personal access tokens are not accepted here", parent: ErrInsufficientScope}
	errPersonalInQuery     = fmt.Errorf("%w: personal access tokens are not accepted in the URL", ErrInvalidToken)
	errUnknownPersonal     = fmt.Errorf("%w: unknown personal access token", ErrInvalidToken)
	errExpiredPersonal     = fmt.Errorf("%w: personal access token expired", ErrExpiredToken)
)

// personalTokens holds the settings of personal access tokens; the
// Manager's field is nil when they are off.
type personalTokens struct {
	store  PersonalTokenStore // nil: the store keeps none, and the tokens are off
	prefix string
	scopes map[string][]string // declared scope → the roles that allow it
	maxAge time.Duration       // < 0: none
	cache  *patCache           // nil when the user cache is off
}

// newPersonalTokens validates and copies the personal token settings of c;
// without Scopes it returns nil.
func newPersonalTokens(store UserStore, c TokenConfig, cache *userCache) (*personalTokens, error) {
	if len(c.Scopes) == 0 {
		if c.PersonalPrefix != "" || c.PersonalMaxAge != 0 {
			return nil, errors.New("auth: TokenConfig.PersonalPrefix and PersonalMaxAge need Scopes, which turn personal access tokens on")
		}
		return nil, nil
	}
	ps, _ := store.(PersonalTokenStore) // nil: scopes for the other credentials only
	p := &personalTokens{
		store:  ps,
		prefix: stringOr(c.PersonalPrefix, pat.DefaultPrefix),
		scopes: make(map[string][]string, len(c.Scopes)),
		maxAge: sessionDurationOr(c.PersonalMaxAge, defaultPersonalMaxAge),
	}
	if !pat.ValidPrefix(p.prefix) {
		return nil, fmt.Errorf("auth: TokenConfig.PersonalPrefix %q: want 2 to 16 lowercase letters, digits and underscores ending with an underscore", p.prefix)
	}
	for scope, roles := range c.Scopes {
		if !validScope(scope) {
			return nil, fmt.Errorf("auth: TokenConfig.Scopes: %q is not a scope name: want 1 to %d printable ASCII characters without space, quote or backslash", scope, maxScopeBytes)
		}
		p.scopes[scope] = append([]string(nil), roles...)
	}
	if cache != nil && ps != nil {
		p.cache = newPATCache(cache)
	}
	return p, nil
}

// validScope reports whether s is a scope name: RFC 6749's scope-token
// (%x21 / %x23-5B / %x5D-7E), at most maxScopeBytes long.
func validScope(s string) bool {
	if s == "" || len(s) > maxScopeBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// on reports whether personal access tokens are on: the store keeps them.
func (p *personalTokens) on() bool { return p != nil && p.store != nil }

// personalTokenOwnerLookup is a PersonalTokenStore that reads a token
// and its owner in one lookup (see PersonalTokenStore).
type personalTokenOwnerLookup interface {
	PersonalTokenAndOwner(ctx context.Context, hash []byte) (*PersonalToken, *User, error)
}

// looksLike reports whether tok is meant as a personal access token: they
// are on and it starts with the prefix, which no other token of the
// Manager's does.
func (p *personalTokens) looksLike(tok string) bool {
	return p.store != nil && strings.HasPrefix(tok, p.prefix)
}

// allows reports whether u's roles allow the declared scope.
func (p *personalTokens) allows(u *User, scope string) bool {
	roles, declared := p.scopes[scope]
	if !declared {
		return false
	}
	if len(roles) == 0 {
		return true
	}
	for _, role := range roles {
		if u.HasRole(role) {
			return true
		}
	}
	return false
}

// allowedScopes returns the declared scopes u's roles allow, sorted.
func (p *personalTokens) allowedScopes(u *User) []string {
	out := []string{}
	for scope := range p.scopes {
		if p.allows(u, scope) {
			out = append(out, scope)
		}
	}
	sort.Strings(out)
	return out
}

// verifyRequestPersonal authenticates a personal access token a request
// carries, auditing a rejection.
func (m *Manager) verifyRequestPersonal(r *http.Request, tok string) (*User, grant, error) {
	u, t, err := m.verifyPersonal(r.Context(), tok)
	if err != nil {
		if !errors.Is(err, ErrStoreUnavailable) {
			m.tokenRejected(r, err)
		}
		return nil, grant{}, err
	}
	return u, grant{via: PersonalAccess, personal: t}, nil
}

// verifyPersonal returns the active user a personal access token belongs
// to, and the token: from the cache while its entry is good (no store
// lookup), else from the store. A malformed, unknown or revoked token gives
// ErrInvalidToken, an expired one ErrExpiredToken, a store failure
// ErrStoreUnavailable.
func (m *Manager) verifyPersonal(ctx context.Context, tok string) (*User, *PersonalToken, error) {
	p := m.personal
	if err := pat.Check(p.prefix, tok); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	hash := pat.Hash(tok)
	now := m.now()
	var e *patEntry
	var forgets uint64
	if p.cache != nil {
		if m.changes == nil || m.changes.usable(now) {
			e = p.cache.get(hash, now)
		}
		forgets = p.cache.users.forgets.Load() // before the store read: see patCache.put
	}
	var owner *User // the token's owner, when read with it
	if e == nil {
		key := hash // a copy for the store, so that hash stays on the stack on a hit
		var t *PersonalToken
		var err error
		if both, ok := p.store.(personalTokenOwnerLookup); ok {
			t, owner, err = both.PersonalTokenAndOwner(ctx, key[:])
		} else {
			t, err = p.store.PersonalTokenByHash(ctx, key[:])
		}
		switch {
		case errors.Is(err, ErrTokenNotFound):
			return nil, nil, errUnknownPersonal
		case err != nil:
			return nil, nil, storeError(err)
		case subtle.ConstantTimeCompare(t.Hash, hash[:]) != 1:
			// The store matched; a looser comparison than bytes' would be its bug.
			return nil, nil, errUnknownPersonal
		}
		e = &patEntry{token: t}
		e.touched.Store(t.LastUsedAt.Unix())
		if p.cache != nil {
			p.cache.put(hash, e, forgets, now)
		}
	}
	t := e.token
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, nil, errExpiredPersonal
	}
	// A personal access token outlives logouts (which rotate the
	// uniquifier): it ends when revoked, when it expires, when its owner
	// is deactivated, or with a new password (see endPersonalTokens).
	var u *User
	var err error
	switch {
	case owner == nil:
		u, err = m.currentUser(ctx, t.UserID, nil, tokenFaults)
	case !owner.Active:
		err = tokenFaults.inactive
	default:
		u = owner
		if m.cache != nil {
			m.cache.putUnlessForgotten(u, forgets, now)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	m.touchPersonal(ctx, e, now)
	return u, t, nil
}

// touchPersonal records that the token of e was used at now, in the store,
// if its last record is older than personalTouchEvery. A failure is logged:
// the request goes on.
func (m *Manager) touchPersonal(ctx context.Context, e *patEntry, now time.Time) {
	last := e.touched.Load()
	if now.Unix()-last < int64(personalTouchEvery/time.Second) || !e.touched.CompareAndSwap(last, now.Unix()) {
		return
	}
	if err := m.personal.store.TouchPersonalToken(ctx, e.token.ID, now.UTC()); err != nil && !errors.Is(err, ErrTokenNotFound) {
		m.log.ErrorContext(ctx, "auth: personal token store failed", "error", err.Error())
	}
}

// patCache caches personal access tokens by the hash of their secret, so
// that a token check on a hit makes no store lookup. Its entries follow the
// verified-user cache's rules: an entry lasts at most the user cache's TTL,
// is used only while the change log is read (see UserCacheConfig), and is
// dropped when its owner is forgotten, which the deletion of a token does
// here and, through the change log, in every other process.
type patCache struct {
	users *userCache
	mu    sync.RWMutex
	m     map[[32]byte]*patEntry
}

// patEntry is one cached token: shared, read-only but for touched.
type patEntry struct {
	token   *PersonalToken
	gen     uint64 // of the owner's shard of the user cache, when cached
	expires time.Time
	touched atomic.Int64 // Unix seconds of the last LastUsedAt written
}

func newPATCache(users *userCache) *patCache {
	return &patCache{users: users, m: make(map[[32]byte]*patEntry)}
}

// get returns the entry of hash if it is fresh and its owner has not been
// forgotten since it was cached.
func (c *patCache) get(hash [32]byte, now time.Time) *patEntry {
	c.mu.RLock()
	e := c.m[hash]
	c.mu.RUnlock()
	if e == nil || now.After(e.expires) || c.users.gen(e.token.UserID) != e.gen {
		return nil
	}
	return e
}

// put caches e unless a user was forgotten since forgets was read, before
// the store lookup: the owner is known only from the lookup, so any forget
// meanwhile may have been the owner's. A forget bumps the counter before
// the owner's shard generation, so that an entry cached with the shard's
// later generation was checked against the bumped counter. At the size
// bound, an arbitrary entry makes room.
func (c *patCache) put(hash [32]byte, e *patEntry, forgets uint64, now time.Time) {
	e.gen = c.users.gen(e.token.UserID)
	e.expires = now.Add(c.users.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users.forgets.Load() != forgets {
		return
	}
	if _, ok := c.m[hash]; !ok && len(c.m) >= c.users.size {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hash] = e
}

// auditPersonal writes an event about a personal access token.
func (m *Manager) auditPersonal(r *http.Request, event string, t *PersonalToken) {
	m.audit(r.Context(), event, slog.String("user_id", t.UserID), slog.String("token_id", t.ID),
		slog.String("ip", m.proxies.clientAddr(r)))
}
