package auth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

// loggedStore is a MemoryStore with a change log of its updates, standing
// in for a database that other processes write to: its updates bypass the
// Manager, as theirs would. sqlstore's tests run the same properties
// against SQLite and PostgreSQL.
type loggedStore struct {
	*MemoryStore
	mu      sync.Mutex
	changes []string // the IDs updated, in order; position i is cursor i+1
	lost    bool     // UserChanges with a cursor fails with ErrChangesLost
	down    bool     // UserChanges fails
	byID    atomic.Int64
	reads   atomic.Int64 // UserChanges calls
}

func (s *loggedStore) UserByID(ctx context.Context, id string) (*User, error) {
	s.byID.Add(1)
	return s.MemoryStore.UserByID(ctx, id)
}

func (s *loggedStore) UpdateUser(ctx context.Context, id string, update func(*User) error) error {
	err := s.MemoryStore.UpdateUser(ctx, id, update)
	if err == nil {
		s.mu.Lock()
		s.changes = append(s.changes, id)
		s.mu.Unlock()
	}
	return err
}

func (s *loggedStore) UserChanges(ctx context.Context, cursor string) ([]string, string, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	end := strconv.Itoa(len(s.changes))
	switch {
	case s.down:
		return nil, "", errors.New("log unreachable")
	case cursor == "":
		return nil, end, nil
	case s.lost:
		s.lost = false
		return nil, "", ErrChangesLost
	}
	i, err := strconv.Atoi(cursor)
	if err != nil || i > len(s.changes) {
		return nil, "", errors.New("bad cursor")
	}
	return append([]string(nil), s.changes[i:]...), end, nil
}

func (s *loggedStore) set(f func(*loggedStore)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// atomicClock is a Manager clock that tests move while the change feed
// reads it from its own goroutine.
type atomicClock struct{ t atomic.Int64 }

func (c *atomicClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *atomicClock) advance(d time.Duration) { c.t.Add(int64(d)) }

// feedFixture is a Manager with the cache over a loggedStore, its clock, a
// user and a token of the user.
type feedFixture struct {
	m     *Manager
	store *loggedStore
	clock *atomicClock
	logs  *lockedBuffer
	id    string
	token string
}

func newFeedFixture(t *testing.T) *feedFixture {
	t.Helper()
	f := &feedFixture{store: &loggedStore{MemoryStore: NewMemoryStore()}, clock: &atomicClock{}, logs: &lockedBuffer{}}
	f.clock.t.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	m, err := New(f.store, []byte("change log test signing key....."), Config{
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.now = f.clock.now
	f.m = m
	u, err := m.NewUser("feed@example.com", "feed-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	f.id = u.ID
	if f.token, err = m.IssueToken(u); err != nil {
		t.Fatal(err)
	}
	return f
}

// check verifies the token, then waits for the log read it started, if
// any, to end; it returns the verification's error and whether the store
// was read.
func (f *feedFixture) check(t *testing.T) (err error, storeRead bool) {
	t.Helper()
	before := f.store.byID.Load()
	_, err = f.m.VerifyToken(context.Background(), f.token)
	for f.m.changes.reading.Load() {
		time.Sleep(time.Millisecond)
	}
	return err, f.store.byID.Load() != before
}

// TestChangeLogFeed walks the change feed through its states with a clock
// moved by hand: the cache is unused until the log was read, a change in
// the log is applied at the next read, a failing log makes the cache
// unused a second after the last good read, and a lost log empties it.
func TestChangeLogFeed(t *testing.T) {
	f := newFeedFixture(t)
	step := func(name string, advance time.Duration, wantErr error, wantRead bool) {
		t.Helper()
		f.clock.advance(advance)
		err, read := f.check(t)
		if !errors.Is(err, wantErr) || read != wantRead {
			t.Fatalf("%s: err %v, store read %v; want %v, %v", name, err, read, wantErr, wantRead)
		}
	}
	step("first check", 0, nil, true) // the cache was not trusted yet; the first read begins
	// The first read empties the cache, before or after the first check
	// cached the user.
	if err, _ := f.check(t); err != nil {
		t.Fatal(err)
	}
	step("cached", 10*time.Millisecond, nil, false) // now the cache answers
	f.store.set(func(s *loggedStore) { s.changes = append(s.changes, "another user") })
	step("other user changed", changePoll, nil, false) // the read forgets only the other user

	// Another process revokes the user's tokens: the store and its log change.
	if err := f.store.UpdateUser(context.Background(), f.id, func(u *User) error { u.Uniquifier = NewUniquifier(); return nil }); err != nil {
		t.Fatal(err)
	}
	step("revoked, read not yet due", 10*time.Millisecond, nil, false) // within the second allowed
	// The read this check starts may forget the user before the check
	// looks in the cache or after: either answer is within the second.
	f.clock.advance(changePoll)
	if err, read := f.check(t); !(err == nil && !read || errors.Is(err, ErrInvalidToken) && read) {
		t.Fatalf("revoked, read due: err %v, store read %v", err, read)
	}
	step("revoked, after the read", 0, ErrInvalidToken, true)

	// A token of the new uniquifier is cached again.
	u, _ := f.store.MemoryStore.UserByID(context.Background(), f.id)
	f.token, _ = f.m.IssueToken(u)
	step("new token", 0, nil, true)
	step("new token cached", 0, nil, false)

	// The log fails: the cache is used for a second after the last good
	// read began, then not at all, and the failure is logged once.
	f.store.set(func(s *loggedStore) { s.down = true })
	step("log down, 0.3 s", 300*time.Millisecond, nil, false)
	step("log down, 0.6 s", 300*time.Millisecond, nil, false)
	step("log down, 1.1 s", 500*time.Millisecond, nil, true)
	step("log down, 1.4 s", 300*time.Millisecond, nil, true)
	if n := strings.Count(f.logs.String(), "change log failed"); n != 1 {
		t.Fatalf("the failure was logged %d times; want once:\n%s", n, f.logs)
	}
	f.store.set(func(s *loggedStore) { s.down = false })
	step("log back", changePoll, nil, true) // the read that succeeds runs after this check's lookup
	step("log back, cached", 0, nil, false)

	// The log lost track: every user is forgotten, which bumps the
	// generation of every shard, and the feed starts again from the log's
	// current position.
	other := &f.m.cache.gens[0]
	if other == f.m.cache.shard(f.id) {
		other = &f.m.cache.gens[1]
	}
	gen, reads := other.Load(), f.store.reads.Load()
	f.store.set(func(s *loggedStore) { s.lost = true })
	f.clock.advance(changePoll)
	if err, _ := f.check(t); err != nil {
		t.Fatal(err)
	}
	if other.Load() == gen || f.store.reads.Load()-reads != 2 {
		t.Fatalf("after a loss: generation %d → %d, %d log reads; want a new generation and 2 reads", gen, other.Load(), f.store.reads.Load()-reads)
	}
	if !strings.Contains(f.logs.String(), "reading the user change log again") {
		t.Fatalf("the recovery was not logged:\n%s", f.logs)
	}
}

// TestChangeLogReadsOnlyWhileServing: the log is read only as token checks
// come in, at most once per poll interval however many checks there are.
func TestChangeLogReadsOnlyWhileServing(t *testing.T) {
	f := newFeedFixture(t)
	f.check(t)
	reads := f.store.reads.Load()
	for range 100 {
		f.clock.advance(changePoll / 10)
		f.check(t)
	}
	// 100 checks over 10 poll intervals.
	if n := f.store.reads.Load() - reads; n < 9 || n > 11 {
		t.Fatalf("%d log reads over 10 poll intervals; want about 10", n)
	}
	reads = f.store.reads.Load()
	f.clock.advance(time.Hour) // idle
	if n := f.store.reads.Load() - reads; n != 0 {
		t.Fatalf("%d log reads while idle", n)
	}
}

// TestChangeLogConcurrentChecks runs many checks at once across log reads
// (for the race detector) and checks the revocation is seen.
func TestChangeLogConcurrentChecks(t *testing.T) {
	f := newFeedFixture(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				f.clock.advance(time.Millisecond)
				_, _ = f.m.VerifyToken(context.Background(), f.token)
			}
		}()
	}
	wg.Wait()
	if err := f.store.UpdateUser(context.Background(), f.id, func(u *User) error { u.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(changeTrust)
	if err, _ := f.check(t); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("deactivated user's token: %v; want ErrInvalidToken a second after the change", err)
	}
}
