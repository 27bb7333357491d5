package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// PersonalTokenOpener returns a new, empty personal token store for one
// check. It may register cleanups with t and should fail t (t.Fatal) if it
// cannot open the store. RunPersonalTokens calls it once for each check.
type PersonalTokenOpener func(t *testing.T) auth.PersonalTokenStore

// personalTokenCheck is one subtest of RunPersonalTokens.
type personalTokenCheck struct {
	name string
	run  func(t *testing.T, s auth.PersonalTokenStore)
}

// personalTokenChecks are the subtests RunPersonalTokens runs, in order.
var personalTokenChecks = []personalTokenCheck{
	{name: "Empty", run: testPersonalTokensEmpty},
	{name: "RoundTrip", run: testPersonalTokenRoundTrip},
	{name: "DuplicateID", run: testPersonalTokenDuplicateID},
	{name: "DuplicateHash", run: testPersonalTokenDuplicateHash},
	{name: "UnknownUser", run: testPersonalTokenUnknownUser},
	{name: "NotFound", run: testPersonalTokenNotFound},
	{name: "UserPersonalTokens", run: testUserPersonalTokens},
	{name: "Copies", run: testPersonalTokenCopies},
	{name: "Touch", run: testTouchPersonalToken},
	{name: "DeletePersonalToken", run: testDeletePersonalToken},
	{name: "DeleteUserPersonalTokens", run: testDeleteUserPersonalTokens},
	{name: "ConcurrentCreates", run: testConcurrentPersonalTokenCreates},
	{name: "ConcurrentTouches", run: testConcurrentPersonalTokenTouches},
}

// RunPersonalTokens checks that personal token stores opened by open keep
// the contract of [auth.PersonalTokenStore], each check a subtest of t
// named after what it checks: tokens read back as stored, by hash and in
// their user's listing; duplicate IDs and hashes refused; tokens of users
// the store does not hold refused; unknown hashes and IDs; UserPersonalTokens'
// order and copies; TouchPersonalToken never moving LastUsedAt backwards;
// the deletions and their counts; and that concurrent creations of one ID
// or one hash let exactly one win and concurrent touches leave the latest
// time. Run it with -race.
//
// The tokens belong to the users "alice", "bob" and "carol". If the store
// is also an [auth.UserAdmin], RunPersonalTokens creates them first (an
// ID already in use is no error), for a store whose tokens must belong to
// users it holds; only such a store is checked for refusing a token of
// another user (the check "UnknownUser" is skipped otherwise). Tokens are
// compared field by field, times as [Run] compares them, hashes byte by
// byte and scopes in order (nil and empty are equal in both).
func RunPersonalTokens(t *testing.T, open PersonalTokenOpener) {
	t.Helper()
	for _, c := range personalTokenChecks {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("storetest: the PersonalTokenOpener returned a nil PersonalTokenStore")
			}
			createOwners(t, s, "tokens", "personal tokens")
			c.run(t, s)
		})
	}
}

// personalTokenHash returns the 32-byte hash the token with the given
// seed is stored under, with a zero byte and a byte that is not UTF-8.
func personalTokenHash(seed string) []byte { return tokenHash("personal token " + seed) }

// fullPersonalToken returns a token of the user with every field set to a
// value unlike its zero value, with times in a zone other than UTC and
// with nanoseconds, scopes out of order and with every printable ASCII
// character a scope may hold.
func fullPersonalToken(id, userID string) *auth.PersonalToken {
	return &auth.PersonalToken{
		ID:     id,
		UserID: userID,
		Name:   `deploy "script" ünï\ 	tab`,
		Scopes: []string{"write:repo", "read", "admin:users", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", strings.Repeat("x", 64)},
		Hash:   personalTokenHash(id),
		// Rounded rather than truncated, this would be the next day.
		CreatedAt:  time.Date(2025, 6, 30, 23, 59, 59, 999999999, sessionZone),
		LastUsedAt: time.Date(2025, 7, 1, 8, 30, 16, 500000000, sessionZone),
		ExpiresAt:  time.Date(2025, 9, 28, 23, 59, 59, 999999999, sessionZone),
	}
}

// clonePersonalToken returns a deep copy of p.
func clonePersonalToken(p *auth.PersonalToken) *auth.PersonalToken {
	c := *p
	c.Scopes = slices.Clone(p.Scopes)
	c.Hash = bytes.Clone(p.Hash)
	return &c
}

// diffPersonalToken describes how got differs from want, or returns ""
// when they are equal as RunPersonalTokens' documentation defines it.
func diffPersonalToken(got, want *auth.PersonalToken) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("token = %v, want %v", got, want)
	}
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", got.ID == want.ID, got.ID, want.ID)
	field("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	field("Name", got.Name == want.Name, got.Name, want.Name)
	field("Scopes", slices.Equal(got.Scopes, want.Scopes), got.Scopes, want.Scopes)
	field("Hash", bytes.Equal(got.Hash, want.Hash), fmt.Sprintf("%x", got.Hash), fmt.Sprintf("%x", want.Hash))
	field("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), fmtTime(got.CreatedAt), fmtTime(want.CreatedAt))
	field("LastUsedAt", sameTime(got.LastUsedAt, want.LastUsedAt), fmtTime(got.LastUsedAt), fmtTime(want.LastUsedAt))
	field("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), fmtTime(got.ExpiresAt), fmtTime(want.ExpiresAt))
	return strings.Join(d, "; ")
}

// createPersonalToken stores p and fails the test if that fails.
func createPersonalToken(t *testing.T, s auth.PersonalTokenStore, p *auth.PersonalToken) {
	t.Helper()
	if err := s.CreatePersonalToken(t.Context(), p); err != nil {
		t.Fatalf("CreatePersonalToken(ID %q, user %q): %v", p.ID, p.UserID, err)
	}
}

// personalTokenByHash reads the token stored under hash and fails the
// test if that fails.
func personalTokenByHash(t *testing.T, s auth.PersonalTokenStore, hash []byte) *auth.PersonalToken {
	t.Helper()
	p, err := s.PersonalTokenByHash(t.Context(), hash)
	if err != nil {
		t.Fatalf("PersonalTokenByHash(%x): %v", hash, err)
	}
	if p == nil {
		t.Fatalf("PersonalTokenByHash(%x) = nil, nil", hash)
	}
	return p
}

// userPersonalTokens lists the user's tokens and fails the test if that
// fails.
func userPersonalTokens(t *testing.T, s auth.PersonalTokenStore, userID string) []*auth.PersonalToken {
	t.Helper()
	list, err := s.UserPersonalTokens(t.Context(), userID)
	if err != nil {
		t.Fatalf("UserPersonalTokens(%q): %v", userID, err)
	}
	for i, p := range list {
		if p == nil {
			t.Fatalf("UserPersonalTokens(%q)[%d] is nil", userID, i)
		}
	}
	return list
}

// touchPersonalToken runs TouchPersonalToken and fails the test if that
// fails.
func touchPersonalToken(t *testing.T, s auth.PersonalTokenStore, id string, at time.Time) {
	t.Helper()
	if err := s.TouchPersonalToken(t.Context(), id, at); err != nil {
		t.Fatalf("TouchPersonalToken(%q, %s): %v", id, fmtTime(at), err)
	}
}

// personalTokenIDs returns the IDs of list, in order.
func personalTokenIDs(list []*auth.PersonalToken) []string {
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	return ids
}

// wantPersonalToken fails the test unless the token stored under want's
// hash, and the one with want's ID in its user's UserPersonalTokens, equal
// want.
func wantPersonalToken(t *testing.T, s auth.PersonalTokenStore, want *auth.PersonalToken) {
	t.Helper()
	if p, err := s.PersonalTokenByHash(t.Context(), want.Hash); err != nil {
		t.Errorf("PersonalTokenByHash of token %q: %v", want.ID, err)
	} else if d := diffPersonalToken(p, want); d != "" {
		t.Errorf("token %q read by its hash: %s", want.ID, d)
	}
	list := userPersonalTokens(t, s, want.UserID)
	i := slices.IndexFunc(list, func(p *auth.PersonalToken) bool { return p.ID == want.ID })
	if i < 0 {
		t.Errorf("UserPersonalTokens(%q) = %q, lacking token %q", want.UserID, personalTokenIDs(list), want.ID)
	} else if d := diffPersonalToken(list[i], want); d != "" {
		t.Errorf("token %q in UserPersonalTokens(%q): %s", want.ID, want.UserID, d)
	}
}

// wantTokenNotFound fails the test unless err wraps auth.ErrTokenNotFound.
func wantTokenNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("%s error = %v; want one wrapping auth.ErrTokenNotFound", call, err)
	}
}

// wantNoTokenByHash fails the test unless PersonalTokenByHash finds no
// token under hash: a nil token and an error wrapping
// auth.ErrTokenNotFound.
func wantNoTokenByHash(t *testing.T, s auth.PersonalTokenStore, what string, hash []byte) {
	t.Helper()
	p, err := s.PersonalTokenByHash(t.Context(), hash)
	if !errors.Is(err, auth.ErrTokenNotFound) || p != nil {
		id := "<nil>"
		if p != nil {
			id = fmt.Sprintf("%q", p.ID)
		}
		t.Errorf("PersonalTokenByHash(%s) = token %s, %v; want nil and an error wrapping auth.ErrTokenNotFound", what, id, err)
	}
}

// wantTokenCount fails the test unless the user has n tokens.
func wantTokenCount(t *testing.T, s auth.PersonalTokenStore, step, userID string, n int) {
	t.Helper()
	if list := userPersonalTokens(t, s, userID); len(list) != n {
		t.Errorf("%s: UserPersonalTokens(%q) = %q, want %d tokens", step, userID, personalTokenIDs(list), n)
	}
}

// testPersonalTokensEmpty checks that the opener gives an empty store.
func testPersonalTokensEmpty(t *testing.T, s auth.PersonalTokenStore) {
	for _, u := range sessionUsers {
		if list := userPersonalTokens(t, s, u); len(list) != 0 {
			t.Errorf("a new store holds tokens %q of user %q; the PersonalTokenOpener must return an empty store", personalTokenIDs(list), u)
		}
	}
	wantNoTokenByHash(t, s, "of a token never stored", personalTokenHash("never stored"))
}

// testPersonalTokenRoundTrip checks that every field is stored and read
// back, by hash and in the user's listing, including zero values: a token
// never used and one that never expires come back with zero times, one
// without scopes with none.
func testPersonalTokenRoundTrip(t *testing.T, s auth.PersonalTokenStore) {
	full := fullPersonalToken("rt-full", "alice")
	want := clonePersonalToken(full)
	createPersonalToken(t, s, full)
	wantPersonalToken(t, s, want)

	minimal := &auth.PersonalToken{ID: "rt-min", UserID: "alice", Hash: personalTokenHash("rt-min")}
	createPersonalToken(t, s, minimal)
	wantPersonalToken(t, s, &auth.PersonalToken{ID: "rt-min", UserID: "alice", Hash: personalTokenHash("rt-min")})

	// One scope, expiring but never used; times in other zones.
	one := &auth.PersonalToken{
		ID:        "rt-one",
		UserID:    "bob",
		Name:      "ci",
		Scopes:    []string{"read"},
		Hash:      personalTokenHash("rt-one"),
		CreatedAt: time.Date(2020, 2, 29, 12, 0, 0, 0, time.Local),
		ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC),
	}
	wantOne := clonePersonalToken(one)
	createPersonalToken(t, s, one)
	wantPersonalToken(t, s, wantOne)
	// Used but never expiring.
	used := &auth.PersonalToken{
		ID:         "rt-used",
		UserID:     "bob",
		Scopes:     []string{"b", "a"},
		Hash:       personalTokenHash("rt-used"),
		CreatedAt:  time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("UTC+14:00", 14*3600)),
		LastUsedAt: time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC),
	}
	wantUsed := clonePersonalToken(used)
	createPersonalToken(t, s, used)
	wantPersonalToken(t, s, wantUsed)

	wantTokenCount(t, s, "created", "alice", 2)
	wantTokenCount(t, s, "created", "bob", 2)
	wantTokenCount(t, s, "created", "carol", 0)
	wantPersonalToken(t, s, want)
}

// testPersonalTokenDuplicateID checks that CreatePersonalToken refuses an
// ID in use, by the same user or another, with another hash, and stores
// nothing then.
func testPersonalTokenDuplicateID(t *testing.T, s auth.PersonalTokenStore) {
	first := fullPersonalToken("dup", "alice")
	want := clonePersonalToken(first)
	createPersonalToken(t, s, first)
	for _, user := range []string{"alice", "bob"} {
		again := fullPersonalToken("dup", user)
		again.Hash = personalTokenHash("another secret for " + user)
		again.Name = "again"
		err := s.CreatePersonalToken(t.Context(), again)
		if !errors.Is(err, auth.ErrDuplicateID) {
			t.Errorf("CreatePersonalToken of ID %q, in use, for user %q: error = %v; want auth.ErrDuplicateID", again.ID, user, err)
		}
		wantNoTokenByHash(t, s, "of the refused duplicate of "+user, again.Hash)
	}
	wantPersonalToken(t, s, want)
	wantTokenCount(t, s, "after refused duplicates", "alice", 1)
	wantTokenCount(t, s, "after a refused duplicate", "bob", 0)
}

// testPersonalTokenDuplicateHash checks that CreatePersonalToken refuses a
// hash in use, under another ID, of the same user or another, and stores
// nothing then.
func testPersonalTokenDuplicateHash(t *testing.T, s auth.PersonalTokenStore) {
	first := fullPersonalToken("first", "alice")
	want := clonePersonalToken(first)
	createPersonalToken(t, s, first)
	for _, user := range []string{"alice", "bob"} {
		again := fullPersonalToken("second-"+user, user)
		again.Hash = bytes.Clone(first.Hash)
		again.Name = "again"
		err := s.CreatePersonalToken(t.Context(), again)
		if !errors.Is(err, auth.ErrDuplicateID) {
			t.Errorf("CreatePersonalToken of ID %q, with the hash of token %q, for user %q: error = %v; want auth.ErrDuplicateID",
				again.ID, first.ID, user, err)
		}
		wantTokenNotFound(t, fmt.Sprintf("after a refused duplicate hash, DeletePersonalToken(%q)", again.ID),
			s.DeletePersonalToken(t.Context(), again.ID))
	}
	wantPersonalToken(t, s, want)
	wantTokenCount(t, s, "after refused duplicates", "alice", 1)
	wantTokenCount(t, s, "after a refused duplicate", "bob", 0)
}

// testPersonalTokenUnknownUser checks, for a store that holds users, that
// a token of a user it does not hold is refused with auth.ErrUserNotFound
// and stores nothing.
func testPersonalTokenUnknownUser(t *testing.T, s auth.PersonalTokenStore) {
	if _, ok := s.(auth.UserAdmin); !ok {
		t.Skip("the store is no auth.UserAdmin: it holds no users to check a token's owner against")
	}
	for _, user := range []string{"nobody", "ALICE", "alice ", ""} {
		p := fullPersonalToken("orphan", user)
		err := s.CreatePersonalToken(t.Context(), p)
		if !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("CreatePersonalToken for user %q, whom the store does not hold: error = %v; want auth.ErrUserNotFound", user, err)
		}
		wantNoTokenByHash(t, s, fmt.Sprintf("of the refused token of user %q", user), p.Hash)
		wantTokenCount(t, s, fmt.Sprintf("after refusing a token of user %q", user), user, 0)
	}
	// The name of the unknown token is free for a user the store holds.
	p := fullPersonalToken("orphan", "alice")
	want := clonePersonalToken(p)
	createPersonalToken(t, s, p)
	wantPersonalToken(t, s, want)
}

// testPersonalTokenNotFound checks that PersonalTokenByHash finds only
// the exact hash, that the lookups and deletions of unknown tokens wrap
// auth.ErrTokenNotFound, and that listing or deleting the tokens of a user
// without any is no error.
func testPersonalTokenNotFound(t *testing.T, s auth.PersonalTokenStore) {
	ctx := t.Context()
	known := fullPersonalToken("known", "alice")
	want := clonePersonalToken(known)
	createPersonalToken(t, s, known)
	h := want.Hash
	flipped := bytes.Clone(h)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		what string
		hash []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"the hash less its last byte", bytes.Clone(h[:len(h)-1])},
		{"the hash with its last byte changed", flipped},
		{"the hash and one more byte", append(bytes.Clone(h), 0)},
		{"the hash in hex", []byte(fmt.Sprintf("%x", h))},
		{"another hash", personalTokenHash("unknown")},
	} {
		wantNoTokenByHash(t, s, tc.what, tc.hash)
	}
	for _, id := range []string{"unknown", "know", "known ", "KNOWN", ""} {
		wantTokenNotFound(t, fmt.Sprintf("TouchPersonalToken(%q)", id), s.TouchPersonalToken(ctx, id, time.Now()))
		wantTokenNotFound(t, fmt.Sprintf("DeletePersonalToken(%q)", id), s.DeletePersonalToken(ctx, id))
	}
	wantPersonalToken(t, s, want)
	for _, user := range []string{"bob", "nobody"} {
		wantTokenCount(t, s, "without tokens", user, 0)
		if n, err := s.DeleteUserPersonalTokens(ctx, user); err != nil || n != 0 {
			t.Errorf("DeleteUserPersonalTokens(%q) = %d, %v; want 0, nil", user, n, err)
		}
	}
	wantPersonalToken(t, s, want)
}

// testUserPersonalTokens checks that UserPersonalTokens gives each of the
// user's tokens once, as stored, newest first (by CreatedAt; a token
// without one last), and no other user's, and that using a token does not
// move it in that order.
func testUserPersonalTokens(t *testing.T, s auth.PersonalTokenStore) {
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	want := map[string]*auth.PersonalToken{}
	add := func(id, user string, created, used time.Time) {
		p := fullPersonalToken(id, user)
		p.CreatedAt, p.LastUsedAt = created, used
		want[id] = clonePersonalToken(p)
		createPersonalToken(t, s, p)
	}
	// Created neither in ID order nor in the order of their times; times
	// in several zones, so that their text does not sort as they do; last
	// used in the opposite order to their creation.
	add("p-b", "alice", base.Add(2*time.Second).In(sessionZone), base.Add(time.Hour))
	add("p-d", "alice", base, base.Add(3*time.Hour))
	add("p-undated", "alice", time.Time{}, base.Add(4*time.Hour))
	add("p-a", "alice", base.Add(4*time.Second).In(time.FixedZone("UTC+09:00", 9*3600)), time.Time{})
	add("p-c", "alice", base.Add(time.Second).In(time.FixedZone("UTC-11:00", -11*3600)), base.Add(2*time.Hour))
	add("b-1", "bob", base.Add(10*time.Second), time.Time{})
	add("b-2", "bob", base.Add(-time.Hour), time.Time{})

	check := func(step, user string, order []string) {
		t.Helper()
		list := userPersonalTokens(t, s, user)
		if got := personalTokenIDs(list); !slices.Equal(got, order) {
			t.Errorf("%s: UserPersonalTokens(%q) = %q, want %q (newest first, a token without CreatedAt last)", step, user, got, order)
			return
		}
		for _, p := range list {
			if diff := diffPersonalToken(p, want[p.ID]); diff != "" {
				t.Errorf("%s: UserPersonalTokens(%q), token %q: %s", step, user, p.ID, diff)
			}
		}
	}
	aliceOrder := []string{"p-a", "p-b", "p-c", "p-d", "p-undated"}
	check("created", "alice", aliceOrder)
	check("created", "bob", []string{"b-1", "b-2"})
	check("created", "carol", []string{})

	used := base.Add(24 * time.Hour)
	touchPersonalToken(t, s, "p-d", used)
	want["p-d"].LastUsedAt = used
	touchPersonalToken(t, s, "b-2", used)
	want["b-2"].LastUsedAt = used
	check("p-d used", "alice", aliceOrder)
	check("b-2 used", "bob", []string{"b-1", "b-2"})
}

// scribblePersonalToken changes every field of p, the scopes' and the
// hash's elements in place as well.
func scribblePersonalToken(p *auth.PersonalToken) {
	p.ID = "scribbled"
	p.UserID = "scribbled"
	p.Name = "scribbled"
	if len(p.Scopes) > 0 {
		p.Scopes[0] = "scribbled"
	}
	p.Scopes = append(p.Scopes, "scribbled")
	if len(p.Hash) > 0 {
		p.Hash[0] ^= 0xff
	}
	p.Hash = append(p.Hash, 0xee)
	p.CreatedAt = time.Time{}
	p.LastUsedAt = p.LastUsedAt.Add(time.Hour)
	p.ExpiresAt = p.ExpiresAt.Add(-time.Hour)
}

// testPersonalTokenCopies checks that tokens handed in are copies and
// tokens handed out are the caller's: changing a token after
// CreatePersonalToken, one PersonalTokenByHash returned, or those
// UserPersonalTokens returned (the slice, the scopes and the hash's bytes
// included) changes nothing stored, and a touch does not change a token
// read before it.
func testPersonalTokenCopies(t *testing.T, s auth.PersonalTokenStore) {
	p := fullPersonalToken("copied", "alice")
	want := clonePersonalToken(p)
	createPersonalToken(t, s, p)
	scribblePersonalToken(p)
	wantPersonalToken(t, s, want)

	got := personalTokenByHash(t, s, want.Hash)
	scribblePersonalToken(got)
	wantPersonalToken(t, s, want)

	list := userPersonalTokens(t, s, "alice")
	if len(list) != 1 {
		t.Fatalf("UserPersonalTokens(alice) = %q, want one token", personalTokenIDs(list))
	}
	scribblePersonalToken(list[0])
	list[0] = &auth.PersonalToken{ID: "replaced", UserID: "alice"}
	wantPersonalToken(t, s, want)

	read := personalTokenByHash(t, s, want.Hash)
	listed := userPersonalTokens(t, s, "alice")
	touchPersonalToken(t, s, "copied", want.LastUsedAt.Add(time.Hour))
	if d := diffPersonalToken(read, want); d != "" {
		t.Errorf("PersonalTokenByHash, read before a touch: %s", d)
	}
	if len(listed) != 1 {
		t.Fatalf("UserPersonalTokens(alice) = %q, want one token", personalTokenIDs(listed))
	}
	if d := diffPersonalToken(listed[0], want); d != "" {
		t.Errorf("UserPersonalTokens(alice), read before a touch: %s", d)
	}
}

// testTouchPersonalToken checks that TouchPersonalToken sets LastUsedAt,
// never to an earlier time than the one stored (a zero time included),
// changes nothing else and no other token, and that a token the store does
// not hold gives auth.ErrTokenNotFound.
func testTouchPersonalToken(t *testing.T, s auth.PersonalTokenStore) {
	ctx := t.Context()
	fresh := fullPersonalToken("touched", "alice")
	fresh.LastUsedAt = time.Time{}
	want := clonePersonalToken(fresh)
	createPersonalToken(t, s, fresh)
	other := fullPersonalToken("other", "alice")
	wantOther := clonePersonalToken(other)
	createPersonalToken(t, s, other)

	t1 := time.Date(2025, 8, 1, 10, 0, 0, 250000000, time.UTC)
	// Later than t1, though its wall clock reads earlier.
	t2 := time.Date(2025, 8, 1, 8, 0, 0, 0, sessionZone)
	steps := []struct {
		what string
		at   time.Time
		want time.Time // LastUsedAt after the touch
	}{
		{"first use", t1, t1},
		{"an hour earlier", t1.Add(-time.Hour), t1},
		{"a later time of another zone", t2, t2},
		{"the zero time", time.Time{}, t2},
		{"the first time again", t1, t2},
		{"the same time", t2, t2},
		{"a day later", t2.Add(24 * time.Hour), t2.Add(24 * time.Hour)},
	}
	for _, st := range steps {
		touchPersonalToken(t, s, "touched", st.at)
		want.LastUsedAt = st.want
		p := personalTokenByHash(t, s, want.Hash)
		if d := diffPersonalToken(p, want); d != "" {
			t.Errorf("after touching with %s (%s): %s", st.what, fmtTime(st.at), d)
		}
		wantPersonalToken(t, s, wantOther)
	}

	// A LastUsedAt stored at creation is not moved backwards either.
	touchPersonalToken(t, s, "other", wantOther.LastUsedAt.Add(-time.Minute))
	wantPersonalToken(t, s, wantOther)
	wantOther.LastUsedAt = wantOther.LastUsedAt.Add(time.Minute)
	touchPersonalToken(t, s, "other", wantOther.LastUsedAt)
	wantPersonalToken(t, s, wantOther)
	wantPersonalToken(t, s, want)

	for _, id := range []string{"unknown", "touche", "TOUCHED", "touched ", ""} {
		wantTokenNotFound(t, fmt.Sprintf("TouchPersonalToken(%q)", id), s.TouchPersonalToken(ctx, id, time.Now()))
	}
	wantTokenCount(t, s, "after touching unknown tokens", "alice", 2)
}

// testDeletePersonalToken checks that a deleted token is gone, and only
// it, that deleting it again or an unknown one gives auth.ErrTokenNotFound,
// and that its ID and hash are free again.
func testDeletePersonalToken(t *testing.T, s auth.PersonalTokenStore) {
	ctx := t.Context()
	doomed := fullPersonalToken("doomed", "alice")
	wantDoomed := clonePersonalToken(doomed)
	createPersonalToken(t, s, doomed)
	kept := fullPersonalToken("kept", "alice")
	want := clonePersonalToken(kept)
	createPersonalToken(t, s, kept)
	for _, id := range []string{"unknown", "doome", "DOOMED", "doomed ", ""} {
		wantTokenNotFound(t, fmt.Sprintf("DeletePersonalToken(%q)", id), s.DeletePersonalToken(ctx, id))
	}
	wantPersonalToken(t, s, wantDoomed)
	if err := s.DeletePersonalToken(ctx, "doomed"); err != nil {
		t.Fatalf("DeletePersonalToken(doomed): %v", err)
	}
	wantNoTokenByHash(t, s, "of the deleted token", wantDoomed.Hash)
	wantTokenNotFound(t, "DeletePersonalToken(doomed) again", s.DeletePersonalToken(ctx, "doomed"))
	wantTokenNotFound(t, "TouchPersonalToken(doomed) after its deletion", s.TouchPersonalToken(ctx, "doomed", time.Now()))
	if got := personalTokenIDs(userPersonalTokens(t, s, "alice")); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after DeletePersonalToken(doomed), UserPersonalTokens(alice) = %q, want [kept]", got)
	}
	wantPersonalToken(t, s, want)

	// The ID and the hash are free again.
	again := clonePersonalToken(wantDoomed)
	again.UserID, again.Name = "bob", "again"
	wantAgain := clonePersonalToken(again)
	createPersonalToken(t, s, again)
	wantPersonalToken(t, s, wantAgain)
	wantPersonalToken(t, s, want)
}

// testDeleteUserPersonalTokens checks that DeleteUserPersonalTokens
// removes every token of the user and no other user's, and counts what it
// removed.
func testDeleteUserPersonalTokens(t *testing.T, s auth.PersonalTokenStore) {
	ctx := t.Context()
	var alices []*auth.PersonalToken
	for _, id := range []string{"a-1", "a-2", "a-3"} {
		p := fullPersonalToken(id, "alice")
		alices = append(alices, clonePersonalToken(p))
		createPersonalToken(t, s, p)
	}
	var bobs []*auth.PersonalToken
	for _, id := range []string{"b-1", "b-2"} {
		p := fullPersonalToken(id, "bob")
		bobs = append(bobs, clonePersonalToken(p))
		createPersonalToken(t, s, p)
	}
	del := func(step, user string, want int) {
		t.Helper()
		n, err := s.DeleteUserPersonalTokens(ctx, user)
		if err != nil || n != want {
			t.Errorf("%s: DeleteUserPersonalTokens(%q) = %d, %v; want %d, nil", step, user, n, err, want)
		}
		wantTokenCount(t, s, step, user, 0)
	}
	del("alice's three", "alice", 3)
	for _, a := range alices {
		wantNoTokenByHash(t, s, "of deleted token "+a.ID, a.Hash)
		wantTokenNotFound(t, fmt.Sprintf("DeletePersonalToken(%q) after DeleteUserPersonalTokens", a.ID), s.DeletePersonalToken(ctx, a.ID))
	}
	for _, b := range bobs {
		wantPersonalToken(t, s, b)
	}
	del("none left", "alice", 0)
	del("a user without tokens", "carol", 0)
	for _, b := range bobs {
		wantPersonalToken(t, s, b)
	}
	createPersonalToken(t, s, fullPersonalToken("a-4", "alice"))
	del("one again", "alice", 1)
	del("bob's two", "bob", 2)
	for _, b := range bobs {
		wantNoTokenByHash(t, s, "of deleted token "+b.ID, b.Hash)
	}
}

// testConcurrentPersonalTokenCreates checks creations racing: distinct
// tokens created at once, while the user's tokens are listed, are all
// stored; of goroutines creating one ID, or one hash, at once, exactly one
// succeeds, round after round, the others getting auth.ErrDuplicateID, and
// the stored token is the winner's.
func testConcurrentPersonalTokenCreates(t *testing.T, s auth.PersonalTokenStore) {
	const creators, readers, racers, rounds = 24, 4, 16, 5
	ctx := t.Context()

	// Distinct tokens at once, while readers list them.
	var wg sync.WaitGroup
	errs := make(chan error, creators+readers)
	stop := make(chan struct{})
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.UserPersonalTokens(ctx, "alice"); err != nil {
					errs <- fmt.Errorf("UserPersonalTokens during creations: %w", err)
					return
				}
			}
		}()
	}
	var made []*auth.PersonalToken
	for i := range creators {
		made = append(made, fullPersonalToken(fmt.Sprintf("many-%02d", i), sessionUsers[i%len(sessionUsers)]))
	}
	want := make([]*auth.PersonalToken, len(made))
	for i, p := range made {
		want[i] = clonePersonalToken(p)
	}
	var creating sync.WaitGroup
	for _, p := range made {
		creating.Add(1)
		go func() {
			defer creating.Done()
			if err := s.CreatePersonalToken(ctx, p); err != nil {
				errs <- fmt.Errorf("CreatePersonalToken(%q): %w", p.ID, err)
			}
		}()
	}
	creating.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	for _, p := range want {
		wantPersonalToken(t, s, p)
	}
	for _, u := range sessionUsers {
		wantTokenCount(t, s, "after concurrent creations", u, creators/len(sessionUsers))
	}

	// race starts racers at once, racer i creating newToken(i), and
	// returns the index of the one winner.
	race := func(step string, newToken func(i int) *auth.PersonalToken) int {
		t.Helper()
		results := make([]error, racers)
		tokens := make([]*auth.PersonalToken, racers)
		for i := range tokens {
			tokens[i] = newToken(i)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = s.CreatePersonalToken(ctx, tokens[i])
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Errorf("%s: racers %d and %d both created their token: CreatePersonalToken is not atomic", step, winner, i)
			case !errors.Is(err, auth.ErrDuplicateID):
				t.Errorf("%s: racer %d: CreatePersonalToken error = %v; want nil or auth.ErrDuplicateID", step, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: none of %d racers created a token", step, racers)
		}
		return winner
	}
	for r := range rounds {
		id := fmt.Sprintf("contested-id-%d", r)
		hashOf := func(i int) []byte { return personalTokenHash(fmt.Sprintf("%s racer %d", id, i)) }
		w := race("one ID, round "+fmt.Sprint(r), func(i int) *auth.PersonalToken {
			p := fullPersonalToken(id, sessionUsers[i%len(sessionUsers)])
			p.Hash, p.Name = hashOf(i), fmt.Sprintf("racer %d", i)
			return p
		})
		for i := range racers {
			if i == w {
				if p := personalTokenByHash(t, s, hashOf(i)); p.ID != id || p.Name != fmt.Sprintf("racer %d", w) {
					t.Errorf("one ID, round %d: the winner's hash finds token %q named %q; want %q named %q", r, p.ID, p.Name, id, fmt.Sprintf("racer %d", w))
				}
			} else {
				wantNoTokenByHash(t, s, fmt.Sprintf("of racer %d, who lost round %d for one ID", i, r), hashOf(i))
			}
		}

		hash := personalTokenHash(fmt.Sprintf("contested hash %d", r))
		idOf := func(i int) string { return fmt.Sprintf("contested-hash-%d-%02d", r, i) }
		w = race("one hash, round "+fmt.Sprint(r), func(i int) *auth.PersonalToken {
			p := fullPersonalToken(idOf(i), "carol")
			p.Hash = bytes.Clone(hash)
			return p
		})
		if p := personalTokenByHash(t, s, hash); p.ID != idOf(w) {
			t.Errorf("one hash, round %d: the hash finds token %q; want the winner's %q", r, p.ID, idOf(w))
		}
	}
	list := userPersonalTokens(t, s, "carol")
	contested := 0
	for _, p := range list {
		if strings.HasPrefix(p.ID, "contested-hash-") {
			contested++
		}
	}
	if contested != rounds {
		t.Errorf("UserPersonalTokens(carol) lists %d tokens of contested hashes; want one a round, %d", contested, rounds)
	}
}

// testConcurrentPersonalTokenTouches checks that concurrent touches of a
// token, with times in no order, leave the latest of them, round after
// round, and that touches of another token at the same time do not mix
// with them.
func testConcurrentPersonalTokenTouches(t *testing.T, s auth.PersonalTokenStore) {
	const touchers, rounds = 32, 5
	ctx := t.Context()
	ids := []string{"busy", "also-busy"}
	for _, id := range ids {
		p := fullPersonalToken(id, "alice")
		p.LastUsedAt = time.Time{}
		createPersonalToken(t, s, p)
	}
	base := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	for r := range rounds {
		errs := make(chan error, touchers*len(ids))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k, id := range ids {
			for i := range touchers {
				// A permutation of 0..touchers-1 (touchers is a power of
				// two, 13 odd), different for each token and round.
				n := (i*13 + r*7 + k*3) % touchers
				at := base.Add(time.Duration(r)*time.Hour + time.Duration(k)*time.Minute + time.Duration(n)*time.Second)
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := s.TouchPersonalToken(ctx, id, at); err != nil {
						errs <- fmt.Errorf("TouchPersonalToken(%q): %w", id, err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		reportErrors(t, errs)
		list := userPersonalTokens(t, s, "alice")
		for k, id := range ids {
			latest := base.Add(time.Duration(r)*time.Hour + time.Duration(k)*time.Minute + (touchers-1)*time.Second)
			i := slices.IndexFunc(list, func(p *auth.PersonalToken) bool { return p.ID == id })
			if i < 0 {
				t.Fatalf("round %d: UserPersonalTokens(alice) = %q, lacking %q", r, personalTokenIDs(list), id)
			}
			if got := list[i].LastUsedAt; !sameTime(got, latest) {
				t.Errorf("round %d: after %d concurrent touches of %q, LastUsedAt = %s; want the latest, %s", r, touchers, id, fmtTime(got), fmtTime(latest))
			}
		}
	}
}
