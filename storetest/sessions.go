package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// SessionOpener returns a new, empty session store for one check. It may
// register cleanups with t and should fail t (t.Fatal) if it cannot open
// the store. RunSessions calls it once for each check.
type SessionOpener func(t *testing.T) auth.SessionStore

// sessionUsers are the users whose sessions the checks store. A store
// that is also an [auth.UserAdmin] gets them created first, for a store
// whose sessions must belong to users it holds.
var sessionUsers = []string{"alice", "bob", "carol"}

// createOwners creates the users of sessionUsers, with emails in the given
// domain, if s is also an [auth.UserAdmin], for a store whose records
// (what, in messages) must belong to users it holds. An ID already in use
// is no error.
func createOwners(t *testing.T, s any, domain, what string) {
	t.Helper()
	admin, ok := s.(auth.UserAdmin)
	if !ok {
		return
	}
	for _, id := range sessionUsers {
		err := admin.CreateUser(t.Context(), &auth.User{ID: id, Email: id + "@" + domain + ".example.com"})
		if err != nil && !errors.Is(err, auth.ErrDuplicateID) {
			t.Fatalf("CreateUser(%q), the owner of %s: %v", id, what, err)
		}
	}
}

// sessionCheck is one subtest of RunSessions.
type sessionCheck struct {
	name string
	run  func(t *testing.T, s auth.SessionStore)
}

// sessionChecks are the subtests RunSessions runs, in order.
var sessionChecks = []sessionCheck{
	{name: "Empty", run: testSessionsEmpty},
	{name: "RoundTrip", run: testSessionRoundTrip},
	{name: "DuplicateID", run: testSessionDuplicateID},
	{name: "NotFound", run: testSessionNotFound},
	{name: "UpdateError", run: testSessionUpdateError},
	{name: "IDChange", run: testSessionIDChange},
	{name: "UserSessions", run: testUserSessions},
	{name: "Copies", run: testSessionCopies},
	{name: "DeleteSession", run: testDeleteSession},
	{name: "DeleteUserSessions", run: testDeleteUserSessions},
	{name: "ConcurrentRotation", run: testConcurrentRotation},
	{name: "ConcurrentUpdates", run: testConcurrentSessionUpdates},
}

// RunSessions checks that session stores opened by open keep the contract
// of [auth.SessionStore], each check a subtest of t named after what it
// checks: sessions read back as stored, duplicate and unknown IDs, a
// failing or forbidden update storing nothing, UserSessions' order and
// copies, the deletions and their counts, and that concurrent updates of
// one session are atomic: of racing rotations from one generation exactly
// one wins, and concurrent increments lose nothing. Run it with -race.
//
// The sessions belong to the users "alice", "bob" and "carol". If the
// store is also an [auth.UserAdmin], RunSessions creates them first (an
// ID already in use is no error), for a store whose sessions must belong
// to users it holds. Sessions are compared field by field, times as [Run]
// compares them, token hashes byte by byte (nil and empty are equal).
func RunSessions(t *testing.T, open SessionOpener) {
	t.Helper()
	for _, c := range sessionChecks {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("storetest: the SessionOpener returned a nil SessionStore")
			}
			createOwners(t, s, "sessions", "sessions")
			c.run(t, s)
		})
	}
}

// sessionZone is a time zone other than UTC for the sessions' times.
var sessionZone = time.FixedZone("UTC-03:00", -3*3600)

// tokenHash returns a 32-byte hash of seed with a zero byte and a byte
// that is not UTF-8, as a keyed hash has.
func tokenHash(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	h[0], h[1] = 0, 0xff
	return h[:]
}

// fullSession returns a session of the user with every field set to a
// value unlike its zero value, with times in a zone other than UTC and
// with nanoseconds.
func fullSession(id, userID string) *auth.DeviceSession {
	return &auth.DeviceSession{
		ID:         id,
		UserID:     userID,
		Uniquifier: auth.NewUniquifier(),
		Generation: 3,
		TokenHash:  tokenHash(id),
		RotatedAt:  time.Date(2025, 7, 1, 8, 30, 15, 123456789, sessionZone),
		// Rounded rather than truncated, this would be the next day.
		CreatedAt:  time.Date(2025, 6, 30, 23, 59, 59, 999999999, sessionZone),
		LastUsedAt: time.Date(2025, 7, 1, 8, 30, 16, 500000000, sessionZone),
		LastIP:     "2001:db8::7",
		UserAgent:  `Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 "Firefox/140.0" ünï`,
	}
}

// cloneSession returns a deep copy of d.
func cloneSession(d *auth.DeviceSession) *auth.DeviceSession {
	c := *d
	c.TokenHash = bytes.Clone(d.TokenHash)
	return &c
}

// diffSession describes how got differs from want, or returns "" when
// they are equal as RunSessions' documentation defines it.
func diffSession(got, want *auth.DeviceSession) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("session = %v, want %v", got, want)
	}
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", got.ID == want.ID, got.ID, want.ID)
	field("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	field("Uniquifier", got.Uniquifier == want.Uniquifier, got.Uniquifier, want.Uniquifier)
	field("Generation", got.Generation == want.Generation, got.Generation, want.Generation)
	field("TokenHash", bytes.Equal(got.TokenHash, want.TokenHash), fmt.Sprintf("%x", got.TokenHash), fmt.Sprintf("%x", want.TokenHash))
	field("RotatedAt", sameTime(got.RotatedAt, want.RotatedAt), fmtTime(got.RotatedAt), fmtTime(want.RotatedAt))
	field("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), fmtTime(got.CreatedAt), fmtTime(want.CreatedAt))
	field("LastUsedAt", sameTime(got.LastUsedAt, want.LastUsedAt), fmtTime(got.LastUsedAt), fmtTime(want.LastUsedAt))
	field("LastIP", got.LastIP == want.LastIP, got.LastIP, want.LastIP)
	field("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	return strings.Join(d, "; ")
}

// errPeek is what peek's update returns, so that reading a session never
// writes it.
var errPeek = errors.New("storetest: only reading")

// peek reads the stored session through UpdateSession, with an update
// that copies it and fails. It returns the error of UpdateSession when
// that is not the update's own.
func peek(t *testing.T, s auth.SessionStore, id string) (*auth.DeviceSession, error) {
	t.Helper()
	var got *auth.DeviceSession
	err := s.UpdateSession(t.Context(), id, func(d *auth.DeviceSession) error {
		got = cloneSession(d)
		return errPeek
	})
	if errors.Is(err, errPeek) {
		if got == nil {
			return nil, errors.New("UpdateSession returned the update's error without calling it")
		}
		return got, nil
	}
	if err == nil {
		return nil, errors.New("UpdateSession returned nil though the update failed")
	}
	return nil, err
}

// mustPeek is peek, failing the test on an error.
func mustPeek(t *testing.T, s auth.SessionStore, id string) *auth.DeviceSession {
	t.Helper()
	d, err := peek(t, s, id)
	if err != nil {
		t.Fatalf("reading session %q through UpdateSession: %v", id, err)
	}
	return d
}

// createSession stores d and fails the test if that fails.
func createSession(t *testing.T, s auth.SessionStore, d *auth.DeviceSession) {
	t.Helper()
	if err := s.CreateSession(t.Context(), d); err != nil {
		t.Fatalf("CreateSession(ID %q, user %q): %v", d.ID, d.UserID, err)
	}
}

// updateSession runs UpdateSession with fn and fails the test if that
// fails.
func updateSession(t *testing.T, s auth.SessionStore, id string, fn func(*auth.DeviceSession)) {
	t.Helper()
	err := s.UpdateSession(t.Context(), id, func(d *auth.DeviceSession) error {
		fn(d)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateSession(%q): %v", id, err)
	}
}

// userSessions lists the user's sessions and fails the test if that
// fails.
func userSessions(t *testing.T, s auth.SessionStore, userID string) []*auth.DeviceSession {
	t.Helper()
	list, err := s.UserSessions(t.Context(), userID)
	if err != nil {
		t.Fatalf("UserSessions(%q): %v", userID, err)
	}
	for i, d := range list {
		if d == nil {
			t.Fatalf("UserSessions(%q)[%d] is nil", userID, i)
		}
	}
	return list
}

// sessionIDs returns the IDs of list, in order.
func sessionIDs(list []*auth.DeviceSession) []string {
	ids := make([]string, len(list))
	for i, d := range list {
		ids[i] = d.ID
	}
	return ids
}

// wantSession fails the test unless the stored session with want's ID,
// read through UpdateSession and in its user's UserSessions, equals want.
func wantSession(t *testing.T, s auth.SessionStore, want *auth.DeviceSession) {
	t.Helper()
	if d := diffSession(mustPeek(t, s, want.ID), want); d != "" {
		t.Errorf("session %q read through UpdateSession: %s", want.ID, d)
	}
	list := userSessions(t, s, want.UserID)
	i := slices.IndexFunc(list, func(d *auth.DeviceSession) bool { return d.ID == want.ID })
	if i < 0 {
		t.Errorf("UserSessions(%q) = %q, lacking session %q", want.UserID, sessionIDs(list), want.ID)
	} else if d := diffSession(list[i], want); d != "" {
		t.Errorf("session %q in UserSessions(%q): %s", want.ID, want.UserID, d)
	}
}

// wantSessionNotFound fails the test unless err wraps auth.ErrTokenNotFound.
func wantSessionNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("%s error = %v; want one wrapping auth.ErrTokenNotFound", call, err)
	}
}

// testSessionsEmpty checks that the opener gives an empty store.
func testSessionsEmpty(t *testing.T, s auth.SessionStore) {
	for _, u := range sessionUsers {
		if list := userSessions(t, s, u); len(list) != 0 {
			t.Errorf("a new store holds sessions %q of user %q; the SessionOpener must return an empty store", sessionIDs(list), u)
		}
	}
}

// testSessionRoundTrip checks that every field is stored and read back,
// when created and when updated, including zero values, and that a no-op
// update hands the update what was stored and changes nothing.
func testSessionRoundTrip(t *testing.T, s auth.SessionStore) {
	full := fullSession("rt-full", "alice")
	want := cloneSession(full)
	createSession(t, s, full)
	wantSession(t, s, want)
	minimal := &auth.DeviceSession{ID: "rt-min", UserID: "alice"}
	createSession(t, s, minimal)
	wantSession(t, s, &auth.DeviceSession{ID: "rt-min", UserID: "alice"})

	// No-op updates: the update sees what was stored, twice.
	for i := range 2 {
		var seen *auth.DeviceSession
		updateSession(t, s, "rt-full", func(d *auth.DeviceSession) { seen = cloneSession(d) })
		if d := diffSession(seen, want); d != "" {
			t.Errorf("no-op update %d of %q: the update was given %s", i+1, want.ID, d)
		}
	}
	wantSession(t, s, want)

	// Every field changed, to other values and to zero values.
	other := &auth.DeviceSession{
		ID:         "rt-min",
		UserID:     "alice",
		Uniquifier: auth.NewUniquifier(),
		Generation: 1 << 40,
		TokenHash:  tokenHash("other")[:16],
		RotatedAt:  time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC),
		CreatedAt:  time.Date(2020, 2, 29, 12, 0, 0, 0, time.Local),
		LastUsedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, sessionZone),
		LastIP:     "192.0.2.200",
		UserAgent:  strings.Repeat("ua ", 170) + "end", // 513 bytes: stored as given
	}
	updateSession(t, s, "rt-min", func(d *auth.DeviceSession) { *d = *cloneSession(other) })
	wantSession(t, s, other)
	updateSession(t, s, "rt-full", func(d *auth.DeviceSession) { *d = auth.DeviceSession{ID: "rt-full", UserID: "alice"} })
	wantSession(t, s, &auth.DeviceSession{ID: "rt-full", UserID: "alice"})
	if list := userSessions(t, s, "alice"); len(list) != 2 {
		t.Errorf("UserSessions(alice) = %q, want two sessions", sessionIDs(list))
	}
}

// testSessionDuplicateID checks that CreateSession refuses an ID in use,
// by the same user or another, and stores nothing then.
func testSessionDuplicateID(t *testing.T, s auth.SessionStore) {
	first := fullSession("dup", "alice")
	want := cloneSession(first)
	createSession(t, s, first)
	for _, user := range []string{"alice", "bob"} {
		again := fullSession("dup", user)
		again.Generation = 9
		again.LastIP = "192.0.2.99"
		err := s.CreateSession(t.Context(), again)
		if !errors.Is(err, auth.ErrDuplicateID) {
			t.Errorf("CreateSession of ID %q, in use, for user %q: error = %v; want auth.ErrDuplicateID", again.ID, user, err)
		}
	}
	wantSession(t, s, want)
	if list := userSessions(t, s, "alice"); len(list) != 1 {
		t.Errorf("UserSessions(alice) = %q after refused duplicates, want one session", sessionIDs(list))
	}
	if list := userSessions(t, s, "bob"); len(list) != 0 {
		t.Errorf("UserSessions(bob) = %q after a refused duplicate, want none", sessionIDs(list))
	}
}

// testSessionNotFound checks that updates and deletions of unknown
// sessions wrap auth.ErrTokenNotFound, that an update of one never calls
// the update function, and that listing or deleting the sessions of a
// user without any is no error.
func testSessionNotFound(t *testing.T, s auth.SessionStore) {
	ctx := t.Context()
	known := fullSession("known", "alice")
	want := cloneSession(known)
	createSession(t, s, known)
	for _, id := range []string{"unknown", "know", "known ", "KNOWN", ""} {
		called := false
		err := s.UpdateSession(ctx, id, func(*auth.DeviceSession) error {
			called = true
			return nil
		})
		wantSessionNotFound(t, fmt.Sprintf("UpdateSession(%q)", id), err)
		if called {
			t.Errorf("UpdateSession(%q) called the update function", id)
		}
		wantSessionNotFound(t, fmt.Sprintf("DeleteSession(%q)", id), s.DeleteSession(ctx, id))
	}
	wantSession(t, s, want)
	if list := userSessions(t, s, "bob"); len(list) != 0 {
		t.Errorf("UserSessions(bob) = %q, want none", sessionIDs(list))
	}
	if list := userSessions(t, s, "nobody"); len(list) != 0 {
		t.Errorf("UserSessions(nobody) = %q, want none", sessionIDs(list))
	}
	for _, user := range []string{"bob", "nobody"} {
		if n, err := s.DeleteUserSessions(ctx, user, ""); err != nil || n != 0 {
			t.Errorf("DeleteUserSessions(%q, \"\") = %d, %v; want 0, nil", user, n, err)
		}
	}
	wantSession(t, s, want)
}

// scribbleSession changes every field of d but ID and UserID, the token
// hash in place as well.
func scribbleSession(d *auth.DeviceSession) {
	d.Uniquifier = "scribbled"
	d.Generation = -1
	if len(d.TokenHash) > 0 {
		d.TokenHash[0] ^= 0xff
	}
	d.TokenHash = append(d.TokenHash, 0xee)
	d.RotatedAt = d.RotatedAt.Add(time.Hour)
	d.CreatedAt = time.Time{}
	d.LastUsedAt = d.LastUsedAt.Add(-time.Hour)
	d.LastIP = "scribbled"
	d.UserAgent = "scribbled"
}

// testSessionUpdateError checks that an update function's error is
// returned and nothing it changed is stored, the token hash's bytes
// included.
func testSessionUpdateError(t *testing.T, s auth.SessionStore) {
	d := fullSession("failing", "alice")
	want := cloneSession(d)
	createSession(t, s, d)
	errBoom := errors.New("boom")
	err := s.UpdateSession(t.Context(), "failing", func(d *auth.DeviceSession) error {
		scribbleSession(d)
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("UpdateSession with a failing update: error = %v; want the update's error", err)
	}
	wantSession(t, s, want)
}

// testSessionIDChange checks that an update may change neither the ID nor
// the user of a session, and that such an update stores nothing.
func testSessionIDChange(t *testing.T, s auth.SessionStore) {
	d := fullSession("fixed", "alice")
	want := cloneSession(d)
	createSession(t, s, d)
	tests := []struct {
		name   string
		change func(*auth.DeviceSession)
	}{
		{name: "ID", change: func(d *auth.DeviceSession) { d.ID = "moved" }},
		{name: "UserID", change: func(d *auth.DeviceSession) { d.UserID = "bob" }},
		{name: "both", change: func(d *auth.DeviceSession) { d.ID, d.UserID = "moved", "bob" }},
	}
	for _, tt := range tests {
		err := s.UpdateSession(t.Context(), "fixed", func(d *auth.DeviceSession) error {
			tt.change(d)
			d.Generation++
			d.LastIP = "192.0.2.1"
			return nil
		})
		if err == nil {
			t.Errorf("UpdateSession changing the %s: no error; want the update refused", tt.name)
		}
		wantSession(t, s, want)
		_, err = peek(t, s, "moved")
		wantSessionNotFound(t, fmt.Sprintf("after an update changing the %s, UpdateSession(\"moved\")", tt.name), err)
		if list := userSessions(t, s, "bob"); len(list) != 0 {
			t.Errorf("after an update changing the %s, UserSessions(bob) = %q; want none", tt.name, sessionIDs(list))
		}
	}
}

// testUserSessions checks that UserSessions gives each of the user's
// sessions once, as stored, most recently used first (a session never
// used last), and no other user's, and that an update moves a session in
// that order.
func testUserSessions(t *testing.T, s auth.SessionStore) {
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	want := map[string]*auth.DeviceSession{}
	add := func(id, user string, used time.Time) {
		d := fullSession(id, user)
		d.LastUsedAt = used
		want[id] = cloneSession(d)
		createSession(t, s, d)
	}
	// Created neither in ID order nor in the order of use; times in
	// several zones, so that their text does not sort as they do.
	add("s-b", "alice", base.Add(2*time.Second).In(sessionZone))
	add("s-d", "alice", base)
	add("s-a", "alice", base.Add(4*time.Second).In(time.FixedZone("UTC+09:00", 9*3600)))
	add("s-never", "alice", time.Time{})
	add("s-c", "alice", base.Add(time.Second).In(time.FixedZone("UTC-11:00", -11*3600)))
	add("b-1", "bob", base.Add(10*time.Second))
	add("b-2", "bob", base.Add(-time.Hour))

	check := func(step, user string, order []string) {
		t.Helper()
		list := userSessions(t, s, user)
		if got := sessionIDs(list); !slices.Equal(got, order) {
			t.Errorf("%s: UserSessions(%q) = %q, want %q (most recently used first)", step, user, got, order)
			return
		}
		for _, d := range list {
			if diff := diffSession(d, want[d.ID]); diff != "" {
				t.Errorf("%s: UserSessions(%q), session %q: %s", step, user, d.ID, diff)
			}
		}
	}
	check("created", "alice", []string{"s-a", "s-b", "s-c", "s-d", "s-never"})
	check("created", "bob", []string{"b-1", "b-2"})
	check("created", "carol", []string{})

	used := base.Add(time.Minute)
	updateSession(t, s, "s-d", func(d *auth.DeviceSession) { d.LastUsedAt = used })
	want["s-d"].LastUsedAt = used
	check("s-d used", "alice", []string{"s-d", "s-a", "s-b", "s-c", "s-never"})
	updateSession(t, s, "s-never", func(d *auth.DeviceSession) { d.LastUsedAt = base.Add(-time.Minute) })
	want["s-never"].LastUsedAt = base.Add(-time.Minute)
	check("s-never used", "alice", []string{"s-d", "s-a", "s-b", "s-c", "s-never"})
	updateSession(t, s, "s-never", func(d *auth.DeviceSession) { d.LastUsedAt = base.Add(3 * time.Second) })
	want["s-never"].LastUsedAt = base.Add(3 * time.Second)
	check("s-never used again", "alice", []string{"s-d", "s-a", "s-never", "s-b", "s-c"})
	check("alice's used", "bob", []string{"b-1", "b-2"})
}

// testSessionCopies checks that sessions handed in are copies and
// sessions handed out are the caller's: changing a session after
// CreateSession, one kept from an update, or those UserSessions returned
// (the slice and the token hashes' bytes included) changes nothing
// stored, and an update does not change a session read before it.
func testSessionCopies(t *testing.T, s auth.SessionStore) {
	d := fullSession("copied", "alice")
	want := cloneSession(d)
	createSession(t, s, d)
	scribbleSession(d)
	wantSession(t, s, want)

	var kept *auth.DeviceSession
	updateSession(t, s, "copied", func(d *auth.DeviceSession) { kept = d })
	scribbleSession(kept)
	wantSession(t, s, want)

	list := userSessions(t, s, "alice")
	if len(list) != 1 {
		t.Fatalf("UserSessions(alice) = %q, want one session", sessionIDs(list))
	}
	scribbleSession(list[0])
	list[0] = &auth.DeviceSession{ID: "replaced", UserID: "alice"}
	wantSession(t, s, want)

	read := userSessions(t, s, "alice")
	updateSession(t, s, "copied", scribbleSession)
	if d := diffSession(read[0], want); d != "" {
		t.Errorf("UserSessions(alice), read before an update: %s", d)
	}
}

// testDeleteSession checks that a deleted session is gone, and only it.
func testDeleteSession(t *testing.T, s auth.SessionStore) {
	ctx := t.Context()
	createSession(t, s, fullSession("doomed", "alice"))
	kept := fullSession("kept", "alice")
	want := cloneSession(kept)
	createSession(t, s, kept)
	if err := s.DeleteSession(ctx, "doomed"); err != nil {
		t.Fatalf("DeleteSession(doomed): %v", err)
	}
	_, err := peek(t, s, "doomed")
	wantSessionNotFound(t, "after DeleteSession, UpdateSession(doomed)", err)
	wantSessionNotFound(t, "DeleteSession(doomed) again", s.DeleteSession(ctx, "doomed"))
	if got := sessionIDs(userSessions(t, s, "alice")); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after DeleteSession(doomed), UserSessions(alice) = %q, want [kept]", got)
	}
	wantSession(t, s, want)
}

// testDeleteUserSessions checks that DeleteUserSessions removes the
// user's sessions but the one named except, and no other user's, and
// counts what it removed.
func testDeleteUserSessions(t *testing.T, s auth.SessionStore) {
	ctx := t.Context()
	for _, id := range []string{"a-1", "a-2", "a-3"} {
		createSession(t, s, fullSession(id, "alice"))
	}
	var bobs []*auth.DeviceSession
	for _, id := range []string{"b-1", "b-2"} {
		d := fullSession(id, "bob")
		bobs = append(bobs, cloneSession(d))
		createSession(t, s, d)
	}
	del := func(step, user, except string, want int, left []string) {
		t.Helper()
		n, err := s.DeleteUserSessions(ctx, user, except)
		if err != nil || n != want {
			t.Errorf("%s: DeleteUserSessions(%q, %q) = %d, %v; want %d, nil", step, user, except, n, err, want)
		}
		got := sessionIDs(userSessions(t, s, user))
		slices.Sort(got)
		if !slices.Equal(got, left) {
			t.Errorf("%s: after DeleteUserSessions(%q, %q), UserSessions = %q, want %q", step, user, except, got, left)
		}
	}
	del("all but a-2", "alice", "a-2", 2, []string{"a-2"})
	for _, b := range bobs {
		wantSession(t, s, b)
	}
	del("except another user's session", "alice", "b-1", 1, []string{})
	del("none left", "alice", "", 0, []string{})
	for _, b := range bobs {
		wantSession(t, s, b)
	}
	createSession(t, s, fullSession("a-4", "alice"))
	createSession(t, s, fullSession("a-5", "alice"))
	del("no exception", "alice", "", 2, []string{})
	del("except an unknown session", "bob", "no-such", 2, []string{})
	wantSessionNotFound(t, "DeleteSession(b-1) after DeleteUserSessions", s.DeleteSession(ctx, "b-1"))
}

// errStale is what a rotation's update returns when it sees another
// generation than it came with, as a refresh with a reused token does.
var errStale = errors.New("storetest: stale generation")

// testConcurrentRotation checks that UpdateSession is atomic for one
// session: in each of several rounds, 16 goroutines at once try to rotate
// it from the generation it has to the next, with an update that fails
// on any other generation; exactly one succeeds, and the stored session
// is the one its update made.
func testConcurrentRotation(t *testing.T, s auth.SessionStore) {
	const rotators, rounds = 16, 5
	d := fullSession("rotating", "alice")
	d.Generation = 0
	createSession(t, s, d)
	base := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for g := range rounds {
		errs := make([]error, rotators)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range rotators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.UpdateSession(t.Context(), "rotating", func(d *auth.DeviceSession) error {
					if d.Generation != g {
						return fmt.Errorf("%w: %d, not %d", errStale, d.Generation, g)
					}
					d.Generation = g + 1
					d.TokenHash = tokenHash(fmt.Sprintf("round %d, rotator %d", g, i))
					d.RotatedAt = base.Add(time.Duration(g) * time.Second)
					d.LastUsedAt = d.RotatedAt
					d.LastIP = fmt.Sprintf("192.0.2.%d", i+1)
					return nil
				})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Errorf("round %d: rotators %d and %d both rotated generation %d: UpdateSession is not atomic", g, winner, i, g)
			case !errors.Is(err, errStale):
				t.Errorf("round %d: rotator %d: UpdateSession error = %v; want nil or the update's own", g, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: none of %d rotators rotated generation %d", g, rotators, g)
		}
		got := mustPeek(t, s, "rotating")
		if got.Generation != g+1 || !bytes.Equal(got.TokenHash, tokenHash(fmt.Sprintf("round %d, rotator %d", g, winner))) ||
			got.LastIP != fmt.Sprintf("192.0.2.%d", winner+1) {
			t.Fatalf("round %d: stored generation %d, token hash %x, last IP %q; want rotator %d's generation %d",
				g, got.Generation, got.TokenHash, got.LastIP, winner, g+1)
		}
	}
}

// testConcurrentSessionUpdates checks that concurrent read-modify-write
// updates of one session lose nothing while readers list it.
func testConcurrentSessionUpdates(t *testing.T, s auth.SessionStore) {
	const updates, readers = 200, 8
	ctx := t.Context()
	d := fullSession("busy", "alice")
	d.Generation = 0
	createSession(t, s, d)
	createSession(t, s, fullSession("bystander", "alice"))

	var wg sync.WaitGroup
	errs := make(chan error, updates+readers)
	stop := make(chan struct{})
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range updates {
				select {
				case <-stop:
					return
				default:
				}
				list, err := s.UserSessions(ctx, "alice")
				if err != nil {
					errs <- fmt.Errorf("UserSessions: %w", err)
					return
				}
				if len(list) != 2 {
					errs <- fmt.Errorf("UserSessions(alice) during updates = %q, want two sessions", sessionIDs(list))
					return
				}
			}
		}()
	}
	var updaters sync.WaitGroup
	for i := range updates {
		updaters.Add(1)
		go func() {
			defer updaters.Done()
			err := s.UpdateSession(ctx, "busy", func(d *auth.DeviceSession) error {
				d.Generation++
				d.LastIP = fmt.Sprintf("192.0.2.%d", i%250)
				return nil
			})
			if err != nil {
				errs <- fmt.Errorf("UpdateSession: %w", err)
			}
		}()
	}
	updaters.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	if got := mustPeek(t, s, "busy").Generation; got != updates {
		t.Errorf("after %d concurrent increments from 0, Generation = %d, want %d (updates were lost)", updates, got, updates)
	}
}
