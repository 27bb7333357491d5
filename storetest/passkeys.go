package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// PasskeyOpener returns a new, empty passkey store for one check. It may
// register cleanups with t and should fail t (t.Fatal) if it cannot open
// the store. RunPasskeys calls it once for each check.
type PasskeyOpener func(t *testing.T) auth.PasskeyStore

// passkeyCheck is one subtest of RunPasskeys.
type passkeyCheck struct {
	name string
	run  func(t *testing.T, s auth.PasskeyStore)
}

// passkeyChecks are the subtests RunPasskeys runs, in order.
var passkeyChecks = []passkeyCheck{
	{name: "Empty", run: testPasskeysEmpty},
	{name: "RoundTrip", run: testPasskeyRoundTrip},
	{name: "UserPasskeys", run: testUserPasskeys},
	{name: "Copies", run: testPasskeyCopies},
	{name: "DuplicateID", run: testPasskeyDuplicates},
	{name: "UnknownUser", run: testPasskeyUnknownUser},
	{name: "UsePasskey", run: testUsePasskey},
	{name: "ConcurrentUsePasskey", run: testConcurrentUsePasskey},
	{name: "DeletePasskey", run: testDeletePasskey},
}

// RunPasskeys checks that passkey stores opened by open keep the contract
// of [auth.PasskeyStore], each check a subtest of t named after what it
// checks: an empty store; passkeys read back as stored, field by field,
// by ID and in their owner's listing; Passkeys listing the user's own,
// oldest first; copies in and out; a credential ID in use, or a name the
// owner uses, refused with [auth.ErrDuplicateID] (a name another user
// uses is no conflict); passkeys of users the store does not hold
// refused; UsePasskey accepting a sign-in only if the passkey was not
// used at or after since and the sign count grew (or both counts are 0),
// storing SignCount, BackupState and LastUsedAt alone, and answering
// [auth.ErrTokenNotFound] for an unknown ID or another user's passkey;
// that of 8 goroutines using one passkey at once with one since and one
// count exactly one is accepted; and DeletePasskey removing the user's
// passkey alone ([auth.ErrTokenNotFound] for another user's or an unknown
// one). Run it with -race.
//
// The passkeys belong to the users "alice", "bob" and "carol". If the
// store is also an [auth.UserAdmin], RunPasskeys creates them first (an
// ID already in use is no error), for a store whose passkeys must belong
// to users it holds; only such a store is checked for refusing a passkey
// of another user (the check "UnknownUser" is skipped otherwise).
// Passkeys are compared field by field: times as [Run] compares them (a
// zero time must come back zero), byte slices byte by byte and transports
// in order (nil and empty are equal in both). Credential IDs hold a zero
// byte and bytes that are not UTF-8, and are up to 1023 bytes long. Names
// are compared exactly, as the Manager compares them: "Phone" and "phone"
// are two names of one user. A Usage is always "first" or "secondary", a
// transport one of the WebAuthn specification's names ("usb",
// "smart-card", …), and a sign count any uint32. The times UsePasskey is
// given are whole seconds, so that a store that keeps whole seconds is
// checked as one that keeps nanoseconds.
func RunPasskeys(t *testing.T, open PasskeyOpener) {
	t.Helper()
	for _, c := range passkeyChecks {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("storetest: the PasskeyOpener returned a nil PasskeyStore")
			}
			createOwners(t, s, "passkeys", "passkeys")
			c.run(t, s)
		})
	}
}

// passkeyID returns the 32-byte credential ID of the given seed, with a
// zero byte and a byte that is not UTF-8.
func passkeyID(seed string) []byte { return tokenHash("passkey " + seed) }

// fullPasskey returns a passkey of the user, named name, with every field
// set to a value unlike its zero value: binary IDs and keys with zero
// bytes and bytes that are not UTF-8, a sign count past 31 bits, every
// flag true, times in a zone other than UTC and with nanoseconds.
func fullPasskey(seed, userID, name string) *auth.Passkey {
	return &auth.Passkey{
		ID:             passkeyID(seed),
		UserID:         userID,
		UserHandle:     append([]byte{0, 0xff}, tokenHash("handle of "+userID)...),
		Name:           name,
		Usage:          "secondary",
		PublicKey:      append([]byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x00, 0xfe}, tokenHash("key "+seed)...),
		SignCount:      3_000_000_000,
		Transports:     []string{"usb", "nfc", "hybrid", "smart-card"}, // not sorted: order must be kept
		AAGUID:         []byte{0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03},
		BackupEligible: true,
		BackupState:    true,
		UserVerified:   true,
		Discoverable:   true,
		// Rounded rather than truncated, this would be the next day.
		CreatedAt:  time.Date(2025, 6, 30, 23, 59, 59, 999999999, sessionZone),
		LastUsedAt: time.Date(2025, 7, 1, 8, 30, 16, 500000000, sessionZone),
	}
}

// clonePasskey returns a deep copy of p.
func clonePasskey(p *auth.Passkey) *auth.Passkey {
	c := *p
	c.ID = bytes.Clone(p.ID)
	c.UserHandle = bytes.Clone(p.UserHandle)
	c.PublicKey = bytes.Clone(p.PublicKey)
	c.AAGUID = bytes.Clone(p.AAGUID)
	c.Transports = slices.Clone(p.Transports)
	return &c
}

// diffPasskey describes how got differs from want, or returns "" when
// they are equal as RunPasskeys' documentation defines it.
func diffPasskey(got, want *auth.Passkey) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("passkey = %v, want %v", got, want)
	}
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	hex := func(b []byte) string { return fmt.Sprintf("%x", b) }
	field("ID", bytes.Equal(got.ID, want.ID), hex(got.ID), hex(want.ID))
	field("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	field("UserHandle", bytes.Equal(got.UserHandle, want.UserHandle), hex(got.UserHandle), hex(want.UserHandle))
	field("Name", got.Name == want.Name, got.Name, want.Name)
	field("Usage", got.Usage == want.Usage, got.Usage, want.Usage)
	field("PublicKey", bytes.Equal(got.PublicKey, want.PublicKey), hex(got.PublicKey), hex(want.PublicKey))
	field("SignCount", got.SignCount == want.SignCount, got.SignCount, want.SignCount)
	field("Transports", slices.Equal(got.Transports, want.Transports), got.Transports, want.Transports)
	field("AAGUID", bytes.Equal(got.AAGUID, want.AAGUID), hex(got.AAGUID), hex(want.AAGUID))
	field("BackupEligible", got.BackupEligible == want.BackupEligible, got.BackupEligible, want.BackupEligible)
	field("BackupState", got.BackupState == want.BackupState, got.BackupState, want.BackupState)
	field("UserVerified", got.UserVerified == want.UserVerified, got.UserVerified, want.UserVerified)
	field("Discoverable", got.Discoverable == want.Discoverable, got.Discoverable, want.Discoverable)
	field("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), fmtTime(got.CreatedAt), fmtTime(want.CreatedAt))
	field("LastUsedAt", sameTime(got.LastUsedAt, want.LastUsedAt), fmtTime(got.LastUsedAt), fmtTime(want.LastUsedAt))
	return strings.Join(d, "; ")
}

// addPasskey stores p and fails the test if that fails.
func addPasskey(t *testing.T, s auth.PasskeyStore, p *auth.Passkey) {
	t.Helper()
	if err := s.AddPasskey(t.Context(), p); err != nil {
		t.Fatalf("AddPasskey(%x of user %q, named %q): %v", p.ID, p.UserID, p.Name, err)
	}
}

// readPasskey reads the passkey with the given ID and fails the test if
// that fails.
func readPasskey(t *testing.T, s auth.PasskeyStore, id []byte) *auth.Passkey {
	t.Helper()
	p, err := s.Passkey(t.Context(), id)
	if err != nil {
		t.Fatalf("Passkey(%x): %v", id, err)
	}
	if p == nil {
		t.Fatalf("Passkey(%x) = nil, nil", id)
	}
	return p
}

// userPasskeys lists the user's passkeys and fails the test if that
// fails.
func userPasskeys(t *testing.T, s auth.PasskeyStore, userID string) []auth.Passkey {
	t.Helper()
	list, err := s.Passkeys(t.Context(), userID)
	if err != nil {
		t.Fatalf("Passkeys(%q): %v", userID, err)
	}
	return list
}

// passkeyNames returns the names of list, in its order.
func passkeyNames(list []auth.Passkey) []string {
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.Name
	}
	return names
}

// wantPasskey fails the test unless the passkey stored under want's ID,
// read by ID and in its owner's listing, equals want.
func wantPasskey(t *testing.T, s auth.PasskeyStore, step string, want *auth.Passkey) {
	t.Helper()
	p, err := s.Passkey(t.Context(), want.ID)
	switch {
	case err != nil:
		t.Errorf("%s: Passkey(%x): %v", step, want.ID, err)
	case p == nil:
		t.Errorf("%s: Passkey(%x) = nil, nil", step, want.ID)
	default:
		if d := diffPasskey(p, want); d != "" {
			t.Errorf("%s: Passkey(%x): %s", step, want.ID, d)
		}
	}
	list, err := s.Passkeys(t.Context(), want.UserID)
	if err != nil {
		t.Errorf("%s: Passkeys(%q): %v", step, want.UserID, err)
		return
	}
	for i := range list {
		if bytes.Equal(list[i].ID, want.ID) {
			if d := diffPasskey(&list[i], want); d != "" {
				t.Errorf("%s: Passkeys(%q), passkey %q: %s", step, want.UserID, want.Name, d)
			}
			return
		}
	}
	t.Errorf("%s: Passkeys(%q) = %q, without the passkey %q (ID %x)", step, want.UserID, passkeyNames(list), want.Name, want.ID)
}

// wantNoPasskey fails the test unless no passkey has the ID: Passkey gives
// nil and an error wrapping auth.ErrTokenNotFound.
func wantNoPasskey(t *testing.T, s auth.PasskeyStore, step string, id []byte) {
	t.Helper()
	p, err := s.Passkey(t.Context(), id)
	if !errors.Is(err, auth.ErrTokenNotFound) || p != nil {
		t.Errorf("%s: Passkey(%x) = %+v, %v; want nil and an error wrapping auth.ErrTokenNotFound", step, id, p, err)
	}
}

// wantPasskeyCount fails the test unless the user has n passkeys.
func wantPasskeyCount(t *testing.T, s auth.PasskeyStore, step, userID string, n int) {
	t.Helper()
	list, err := s.Passkeys(t.Context(), userID)
	if err != nil || len(list) != n {
		t.Errorf("%s: Passkeys(%q) = %q, %v; want %d passkeys", step, userID, passkeyNames(list), err, n)
	}
}

// usePasskey runs UsePasskey and fails the test unless it reports want
// without an error.
func usePasskey(t *testing.T, s auth.PasskeyStore, step string, p *auth.Passkey, since time.Time, want bool) {
	t.Helper()
	ok, err := s.UsePasskey(t.Context(), p, since)
	if err != nil || ok != want {
		t.Errorf("%s: UsePasskey(%q of user %q, count %d, since %s) = %v, %v; want %v, nil",
			step, p.Name, p.UserID, p.SignCount, fmtTime(since), ok, err, want)
	}
}

// wantUseNotFound fails the test unless UsePasskey of p reports false and
// an error wrapping auth.ErrTokenNotFound.
func wantUseNotFound(t *testing.T, s auth.PasskeyStore, step string, p *auth.Passkey, since time.Time) {
	t.Helper()
	ok, err := s.UsePasskey(t.Context(), p, since)
	if ok || !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("%s: UsePasskey(ID %x, user %q) = %v, %v; want false and an error wrapping auth.ErrTokenNotFound", step, p.ID, p.UserID, ok, err)
	}
}

// wantDeleteNotFound fails the test unless DeletePasskey of the user and
// ID reports an error wrapping auth.ErrTokenNotFound.
func wantDeleteNotFound(t *testing.T, s auth.PasskeyStore, step, userID string, id []byte) {
	t.Helper()
	if err := s.DeletePasskey(t.Context(), userID, id); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("%s: DeletePasskey(%q, %x): error = %v; want one wrapping auth.ErrTokenNotFound", step, userID, id, err)
	}
}

// testPasskeysEmpty checks that the opener gives an empty store: no user
// has a passkey, no ID names one (auth.ErrTokenNotFound), and neither
// UsePasskey nor DeletePasskey finds one.
func testPasskeysEmpty(t *testing.T, s auth.PasskeyStore) {
	for _, u := range append(slices.Clone(sessionUsers), "nobody", "") {
		wantPasskeyCount(t, s, "a new store", u, 0)
	}
	for _, id := range [][]byte{passkeyID("never stored"), {0}, {}, nil} {
		wantNoPasskey(t, s, "a new store", id)
	}
	p := fullPasskey("never stored", "alice", "phone")
	wantUseNotFound(t, s, "a new store", p, time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC))
	wantDeleteNotFound(t, s, "a new store", "alice", p.ID)
}

// testPasskeyRoundTrip checks that every field is stored and read back,
// by ID and in the owner's listing, including zero values: a passkey with
// only what a store needs (no user handle, transports, AAGUID, flags,
// counter nor times) comes back so; one with the greatest sign count and
// a 1023-byte ID comes back with them; binary IDs differing only after a
// zero byte are two passkeys.
func testPasskeyRoundTrip(t *testing.T, s auth.PasskeyStore) {
	full := fullPasskey("full", "alice", "YubiKey 5 NFC")
	want := clonePasskey(full)
	addPasskey(t, s, full)
	wantPasskey(t, s, "full", want)

	bare := &auth.Passkey{
		ID:        []byte{0xff, 0xfe, 0x00},
		UserID:    "bob",
		Name:      "phone",
		Usage:     "first",
		PublicKey: []byte{0xa4, 0x01, 0x01, 0x00},
	}
	wantBare := clonePasskey(bare)
	addPasskey(t, s, bare)
	wantPasskey(t, s, "only the required fields", wantBare)

	// An ID of the greatest length the specification allows, the
	// greatest count, a creation in another zone, mixed flags, never used.
	long := bytes.Repeat([]byte{0x80, 0x00, 0xc3}, 341)
	greatest := &auth.Passkey{
		ID:             long,
		UserID:         "carol",
		UserHandle:     []byte("carol's handle"),
		Name:           "Ünïcode “laptop” 🔑",
		Usage:          "first",
		PublicKey:      tokenHash("a key"),
		SignCount:      math.MaxUint32,
		Transports:     []string{"internal"},
		AAGUID:         make([]byte, 16), // the authenticator keeps its model private
		BackupEligible: true,
		UserVerified:   true,
		CreatedAt:      time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("UTC+14:00", 14*3600)),
	}
	if len(greatest.ID) != 1023 {
		t.Fatalf("storetest: the long ID has %d bytes", len(greatest.ID))
	}
	wantGreatest := clonePasskey(greatest)
	addPasskey(t, s, greatest)
	wantPasskey(t, s, "greatest count and longest ID", wantGreatest)

	// IDs that differ only after a zero byte, or by a trailing one.
	var twins []*auth.Passkey
	for i, id := range [][]byte{{0x00, 0x01}, {0x00, 0x02}, {0x00, 0x01, 0x00}} {
		p := fullPasskey("twin", "alice", fmt.Sprintf("twin %d", i))
		p.ID = id
		twins = append(twins, clonePasskey(p))
		addPasskey(t, s, p)
	}
	for i, p := range twins {
		wantPasskey(t, s, fmt.Sprintf("twin %d", i), p)
	}

	wantPasskey(t, s, "after the others", want)
	wantPasskey(t, s, "after the others", wantBare)
	wantPasskeyCount(t, s, "after the others", "alice", 4)
	wantPasskeyCount(t, s, "after the others", "bob", 1)
	wantPasskeyCount(t, s, "after the others", "carol", 1)
	wantNoPasskey(t, s, "a prefix of a stored ID", long[:1022])
	wantNoPasskey(t, s, "a stored ID and a byte more", append(bytes.Clone(long), 0))
	wantNoPasskey(t, s, "the stored ID without its zero byte", []byte{0xff, 0xfe})
}

// testUserPasskeys checks that Passkeys lists the user's passkeys alone,
// oldest first whatever the order they were added in and the zones of
// their times, and none for a user without any.
func testUserPasskeys(t *testing.T, s auth.PasskeyStore) {
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	want := map[string]*auth.Passkey{}
	add := func(name, user string, created time.Time) {
		p := fullPasskey(user+" "+name, user, name)
		p.CreatedAt = created
		want[user+" "+name] = clonePasskey(p)
		addPasskey(t, s, p)
	}
	// Added neither in the order of their names nor of their times; times
	// in several zones, so that their text does not sort as they do; IDs
	// in no order either.
	add("b", "alice", base.Add(2*time.Second).In(sessionZone))
	add("d", "alice", base.Add(4*time.Hour))
	add("a", "alice", base.Add(-time.Hour).In(time.FixedZone("UTC+09:00", 9*3600)))
	add("c", "alice", base.Add(time.Second).In(time.FixedZone("UTC-11:00", -11*3600)))
	add("later", "bob", base.Add(10*time.Second))
	add("earlier", "bob", base.Add(-24*time.Hour))

	check := func(step, user string, order []string) {
		t.Helper()
		list := userPasskeys(t, s, user)
		if got := passkeyNames(list); !slices.Equal(got, order) {
			t.Errorf("%s: Passkeys(%q) = %q, want %q (oldest first, the user's alone)", step, user, got, order)
			return
		}
		for i := range list {
			if d := diffPasskey(&list[i], want[user+" "+list[i].Name]); d != "" {
				t.Errorf("%s: Passkeys(%q), passkey %q: %s", step, user, list[i].Name, d)
			}
		}
	}
	check("added", "alice", []string{"a", "c", "b", "d"})
	check("added", "bob", []string{"earlier", "later"})
	check("added", "carol", []string{})
	check("added", "nobody", []string{})

	// A use changes no place in the list.
	since := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC) // after fullPasskey's LastUsedAt
	p := clonePasskey(want["alice d"])
	p.SignCount++
	p.LastUsedAt = since.Add(time.Minute)
	usePasskey(t, s, "the newest", p, since, true)
	want["alice d"].SignCount, want["alice d"].LastUsedAt = p.SignCount, p.LastUsedAt
	check("the newest used", "alice", []string{"a", "c", "b", "d"})
}

// scribblePasskey changes every field of p, the elements of its slices in
// place as well.
func scribblePasskey(p *auth.Passkey) {
	for _, b := range [][]byte{p.ID, p.UserHandle, p.PublicKey, p.AAGUID} {
		if len(b) > 0 {
			b[0] ^= 0xff
		}
	}
	if len(p.Transports) > 0 {
		p.Transports[0] = "scribbled"
	}
	p.ID = append(p.ID, 0xee)
	p.UserID = "scribbled"
	p.UserHandle = append(p.UserHandle, 0xee)
	p.Name = "scribbled"
	p.Usage = "first"
	p.PublicKey = append(p.PublicKey, 0xee)
	p.SignCount++
	p.Transports = append(p.Transports, "ble")
	p.AAGUID = append(p.AAGUID, 0xee)
	p.BackupEligible = !p.BackupEligible
	p.BackupState = !p.BackupState
	p.UserVerified = !p.UserVerified
	p.Discoverable = !p.Discoverable
	p.CreatedAt = p.CreatedAt.Add(time.Hour)
	p.LastUsedAt = time.Time{}
}

// testPasskeyCopies checks that what goes in is copied and what comes out
// is the caller's: changing a passkey after AddPasskey, one Passkey
// returned or the elements of the slice Passkeys returned (the bytes of
// the IDs and keys, the transports, in place) changes nothing stored; a
// passkey read before UsePasskey does not change with it, nor does
// changing the one UsePasskey was given afterwards change the store.
func testPasskeyCopies(t *testing.T, s auth.PasskeyStore) {
	p := fullPasskey("copies", "alice", "phone")
	want := clonePasskey(p)
	addPasskey(t, s, p)
	scribblePasskey(p)
	wantPasskey(t, s, "changed after AddPasskey", want)
	wantNoPasskey(t, s, "the ID as changed after AddPasskey", p.ID)

	got := readPasskey(t, s, want.ID)
	scribblePasskey(got)
	wantPasskey(t, s, "changed after Passkey returned it", want)

	list := userPasskeys(t, s, "alice")
	for i := range list {
		scribblePasskey(&list[i])
	}
	wantPasskey(t, s, "changed after Passkeys returned it", want)

	read := readPasskey(t, s, want.ID)
	used := clonePasskey(want)
	used.SignCount++
	used.BackupState = !used.BackupState
	used.LastUsedAt = time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	usePasskey(t, s, "copies", used, used.LastUsedAt, true)
	if d := diffPasskey(read, want); d != "" {
		t.Errorf("a passkey read before UsePasskey: %s", d)
	}
	want.SignCount, want.BackupState, want.LastUsedAt = used.SignCount, used.BackupState, used.LastUsedAt
	scribblePasskey(used)
	wantPasskey(t, s, "the one UsePasskey was given changed after it", want)
}

// testPasskeyDuplicates checks that AddPasskey refuses a credential ID in
// use, whoever's it is and whatever its name, and a name the owner's
// other passkey has, storing nothing then, while another user may use the
// name, and the owner names that differ from it, if only in case or by a
// space (the Manager compares names exactly).
func testPasskeyDuplicates(t *testing.T, s auth.PasskeyStore) {
	ctx := t.Context()
	first := fullPasskey("dup", "alice", "phone")
	want := clonePasskey(first)
	addPasskey(t, s, first)
	for _, user := range []string{"alice", "bob"} {
		again := fullPasskey("dup", user, "another name of "+user)
		again.PublicKey = []byte("another key")
		err := s.AddPasskey(ctx, again)
		if !errors.Is(err, auth.ErrDuplicateID) {
			t.Errorf("AddPasskey of an ID in use, for user %q: error = %v; want auth.ErrDuplicateID", user, err)
		}
	}
	wantPasskey(t, s, "after refused duplicate IDs", want)
	wantPasskeyCount(t, s, "after a refused duplicate ID", "alice", 1)
	wantPasskeyCount(t, s, "after a refused duplicate ID", "bob", 0)

	sameName := fullPasskey("same name", "alice", "phone")
	if err := s.AddPasskey(ctx, sameName); !errors.Is(err, auth.ErrDuplicateID) {
		t.Errorf("AddPasskey of a name the user has (%q): error = %v; want auth.ErrDuplicateID", sameName.Name, err)
	}
	wantNoPasskey(t, s, "the refused passkey of a name in use", sameName.ID)
	wantPasskey(t, s, "after a refused name", want)
	wantPasskeyCount(t, s, "after a refused name", "alice", 1)

	others := []*auth.Passkey{
		fullPasskey("bob's phone", "bob", "phone"),         // another user's name
		fullPasskey("alice's phone 2", "alice", "phone 2"), // another name
		fullPasskey("alice's phone.", "alice", "phone "),   // a space more
		fullPasskey("alice's Phone", "alice", "Phone"),     // another case
	}
	for _, p := range others {
		w := clonePasskey(p)
		addPasskey(t, s, p)
		wantPasskey(t, s, fmt.Sprintf("the name %q of user %q", w.Name, w.UserID), w)
	}
	wantPasskey(t, s, "after the others", want)
	wantPasskeyCount(t, s, "after the others", "alice", 4)
	wantPasskeyCount(t, s, "after the others", "bob", 1)
}

// testPasskeyUnknownUser checks, for a store that holds users, that a
// passkey of a user it does not hold is refused with auth.ErrUserNotFound
// and stores nothing.
func testPasskeyUnknownUser(t *testing.T, s auth.PasskeyStore) {
	if _, ok := s.(auth.UserAdmin); !ok {
		t.Skip("the store is no auth.UserAdmin: it holds no users to check a passkey's owner against")
	}
	for _, user := range []string{"nobody", "ALICE", "alice ", ""} {
		p := fullPasskey("orphan", user, "phone")
		err := s.AddPasskey(t.Context(), p)
		if !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("AddPasskey for user %q, whom the store does not hold: error = %v; want auth.ErrUserNotFound", user, err)
		}
		wantNoPasskey(t, s, fmt.Sprintf("after refusing a passkey of user %q", user), p.ID)
		wantPasskeyCount(t, s, fmt.Sprintf("after refusing a passkey of user %q", user), user, 0)
	}
	// The ID and the name are free for a user the store holds.
	p := fullPasskey("orphan", "alice", "phone")
	want := clonePasskey(p)
	addPasskey(t, s, p)
	wantPasskey(t, s, "a known user's", want)
}

// testUsePasskey checks UsePasskey step by step: a use of a passkey used
// at or after since is refused, so is a sign count that did not grow,
// unless it and the stored one are 0; a refusal changes nothing; an
// accepted use stores SignCount, BackupState and LastUsedAt and ignores
// the other fields it is given; a passkey never used takes any since; a
// use of another user's passkey, or of an unknown ID, is
// auth.ErrTokenNotFound; another user's passkeys never change.
func testUsePasskey(t *testing.T, s auth.PasskeyStore) {
	t0 := time.Date(2025, 9, 1, 12, 0, 0, 0, sessionZone)
	p := fullPasskey("used", "alice", "phone")
	p.SignCount, p.LastUsedAt = 10, t0
	want := clonePasskey(p)
	addPasskey(t, s, p)
	other := fullPasskey("other", "bob", "phone")
	other.SignCount, other.LastUsedAt = 10, t0
	wantOther := clonePasskey(other)
	addPasskey(t, s, other)

	// use is what the Manager passes: the stored passkey with the new
	// count, backup state and time.
	use := func(count uint32, backup bool, at time.Time) *auth.Passkey {
		u := clonePasskey(want)
		u.SignCount, u.BackupState, u.LastUsedAt = count, backup, at
		return u
	}
	steps := []struct {
		what  string
		p     *auth.Passkey
		since time.Time
		want  bool
	}{
		{"a ceremony begun when it was last used", use(11, false, t0.Add(time.Minute)), t0, false},
		{"a ceremony begun before it was last used", use(11, false, t0.Add(time.Minute)), t0.Add(-time.Second), false},
		{"the stored count", use(10, false, t0.Add(time.Minute)), t0.Add(time.Second), false},
		{"a smaller count", use(9, false, t0.Add(time.Minute)), t0.Add(time.Second), false},
		{"a count of 0 after 10", use(0, false, t0.Add(time.Minute)), t0.Add(time.Second), false},
		{"a greater count, begun after the last use", use(11, false, t0.Add(time.Minute)), t0.Add(time.Second), true},
		{"it again", use(11, false, t0.Add(2*time.Minute)), t0.Add(90 * time.Second), false},
		{"a greater count, begun at the last use", use(12, false, t0.Add(2*time.Minute)), t0.Add(time.Minute), false},
		{"a far greater count, its backup state set", use(1_000_000, true, t0.Add(3*time.Minute)), t0.Add(time.Minute + time.Second), true},
		{"the greatest count", use(math.MaxUint32, true, t0.Add(4*time.Minute)), t0.Add(3*time.Minute + time.Second), true},
		{"the greatest count again", use(math.MaxUint32, true, t0.Add(5*time.Minute)), t0.Add(4*time.Minute + time.Second), false},
	}
	for _, st := range steps {
		usePasskey(t, s, st.what, st.p, st.since, st.want)
		if st.want {
			want.SignCount, want.BackupState, want.LastUsedAt = st.p.SignCount, st.p.BackupState, st.p.LastUsedAt
		}
		wantPasskey(t, s, "after "+st.what, want)
		wantPasskey(t, s, "another user's, after "+st.what, wantOther)
	}

	// The other fields of what UsePasskey is given are not stored.
	q := fullPasskey("ignored", "carol", "key")
	q.SignCount, q.BackupState, q.LastUsedAt = 5, true, time.Time{}
	wantQ := clonePasskey(q)
	addPasskey(t, s, q)
	changed := &auth.Passkey{
		ID: bytes.Clone(q.ID), UserID: "carol", UserHandle: []byte("another handle"), Name: "renamed",
		Usage: "first", PublicKey: []byte("another key"), SignCount: 6, Transports: []string{"ble"},
		AAGUID: make([]byte, 16), BackupState: false, LastUsedAt: t0,
		CreatedAt: t0.Add(-time.Hour),
	}
	usePasskey(t, s, "given other fields", changed, t0.Add(-time.Minute), true)
	wantQ.SignCount, wantQ.BackupState, wantQ.LastUsedAt = 6, false, t0
	wantPasskey(t, s, "UsePasskey given other fields", wantQ)

	// Never used: any since, the zero time too; once used, the zero time
	// is before the use.
	fresh := fullPasskey("fresh", "carol", "fresh")
	fresh.SignCount, fresh.LastUsedAt = 0, time.Time{}
	wantFresh := clonePasskey(fresh)
	addPasskey(t, s, fresh)
	u := clonePasskey(wantFresh)
	u.LastUsedAt = t0
	usePasskey(t, s, "never used, since the zero time, both counts 0", u, time.Time{}, true)
	wantFresh.LastUsedAt = t0
	wantPasskey(t, s, "after its first use", wantFresh)
	u.LastUsedAt = t0.Add(time.Minute)
	usePasskey(t, s, "used, since the zero time", u, time.Time{}, false)
	wantPasskey(t, s, "after a use since the zero time", wantFresh)

	// An authenticator without a counter: 0 stays accepted, until it
	// counts; then 0 is a count that did not grow.
	zero := clonePasskey(wantFresh)
	for i, st := range []struct {
		count uint32
		want  bool
	}{{0, true}, {0, true}, {5, true}, {0, false}, {5, false}, {6, true}} {
		at := t0.Add(time.Duration(2+i) * time.Minute)
		zero.SignCount, zero.LastUsedAt = st.count, at
		what := fmt.Sprintf("use %d, count %d after %d", i, st.count, wantFresh.SignCount)
		usePasskey(t, s, what, zero, at.Add(-30*time.Second), st.want)
		if st.want {
			wantFresh.SignCount, wantFresh.LastUsedAt = st.count, at
		}
		wantPasskey(t, s, "after "+what, wantFresh)
	}

	// Another user's passkey, an unknown ID, IDs near the stored one.
	stolen := use(want.SignCount, !want.BackupState, t0.Add(time.Hour))
	for _, mallory := range []string{"bob", "carol", "nobody", "", "ALICE"} {
		m := clonePasskey(stolen)
		m.UserID = mallory
		m.SignCount = math.MaxUint32 // even a count that would grow from 0
		wantUseNotFound(t, s, fmt.Sprintf("alice's passkey used as user %q's", mallory), m, t0.Add(time.Hour))
	}
	for what, id := range map[string][]byte{
		"an unknown ID":         passkeyID("unknown"),
		"the ID one byte short": want.ID[:len(want.ID)-1],
		"the ID and a byte":     append(bytes.Clone(want.ID), 0),
		"an empty ID":           {},
		"a nil ID":              nil,
	} {
		m := clonePasskey(stolen)
		m.ID = id
		wantUseNotFound(t, s, what, m, t0.Add(time.Hour))
	}
	wantPasskey(t, s, "after the uses that found nothing", want)
	wantPasskey(t, s, "another user's, after the uses that found nothing", wantOther)
	if err := s.DeletePasskey(t.Context(), "bob", other.ID); err != nil {
		t.Fatal(err)
	}
	gone := clonePasskey(wantOther)
	gone.SignCount, gone.LastUsedAt = wantOther.SignCount+1, t0.Add(time.Hour)
	wantUseNotFound(t, s, "a deleted passkey", gone, t0.Add(time.Minute))
}

// testConcurrentUsePasskey checks that of 8 goroutines using one passkey
// at once, with one since and one sign count, exactly one is accepted,
// round after round and its use stored: with a count that grows, and with
// an authenticator that counts nothing, where since alone tells a second
// use.
func testConcurrentUsePasskey(t *testing.T, s auth.PasskeyStore) {
	const racers, rounds = 8, 5
	ctx := t.Context()
	base := time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)
	counted := fullPasskey("counted", "alice", "counted")
	counted.SignCount, counted.LastUsedAt = 100, base
	uncounted := fullPasskey("uncounted", "bob", "uncounted")
	uncounted.SignCount, uncounted.LastUsedAt = 0, time.Time{}
	for _, p := range []*auth.Passkey{counted, uncounted} {
		want := clonePasskey(p)
		addPasskey(t, s, p)
		for r := range rounds {
			since := base.Add(time.Duration(10*r+5) * time.Second)
			use := clonePasskey(want)
			use.LastUsedAt = since.Add(time.Second)
			use.BackupState = r%2 == 0
			if want.SignCount != 0 {
				use.SignCount = want.SignCount + 1
			}
			results := make([]bool, racers)
			errs := make([]error, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = s.UsePasskey(ctx, clonePasskey(use), since)
				}()
			}
			close(start)
			wg.Wait()
			accepted := 0
			for i := range racers {
				if errs[i] != nil {
					t.Errorf("%s, round %d: racer %d: UsePasskey: %v", p.Name, r, i, errs[i])
				}
				if results[i] {
					accepted++
				}
			}
			if accepted != 1 {
				t.Errorf("%s, round %d: %d racers with count %d since %s were accepted; want exactly one: UsePasskey is not atomic",
					p.Name, r, accepted, use.SignCount, fmtTime(since))
			}
			want.SignCount, want.BackupState, want.LastUsedAt = use.SignCount, use.BackupState, use.LastUsedAt
			wantPasskey(t, s, fmt.Sprintf("%s, round %d", p.Name, r), want)
		}
	}
}

// testDeletePasskey checks that DeletePasskey removes the user's passkey
// alone, from Passkey and Passkeys; that another user's passkey, one
// deleted already and an unknown ID give auth.ErrTokenNotFound and change
// nothing; and that the ID and the name may then be used again.
func testDeletePasskey(t *testing.T, s auth.PasskeyStore) {
	ctx := t.Context()
	phone := fullPasskey("phone", "alice", "phone")
	addPasskey(t, s, phone)
	laptop := fullPasskey("laptop", "alice", "laptop")
	wantLaptop := clonePasskey(laptop)
	addPasskey(t, s, laptop)
	bobs := fullPasskey("bob's", "bob", "phone")
	wantBobs := clonePasskey(bobs)
	addPasskey(t, s, bobs)

	wantDeleteNotFound(t, s, "bob deleting alice's passkey", "bob", phone.ID)
	wantDeleteNotFound(t, s, "alice deleting bob's passkey", "alice", bobs.ID)
	wantDeleteNotFound(t, s, "no user's", "", phone.ID)
	wantPasskeyCount(t, s, "after deleting another user's", "alice", 2)
	wantPasskey(t, s, "after deleting another user's", wantBobs)

	if err := s.DeletePasskey(ctx, "alice", phone.ID); err != nil {
		t.Fatalf("DeletePasskey(alice, her phone): %v", err)
	}
	wantNoPasskey(t, s, "after DeletePasskey", phone.ID)
	if got := passkeyNames(userPasskeys(t, s, "alice")); !slices.Equal(got, []string{"laptop"}) {
		t.Errorf("Passkeys(alice) after deleting her phone = %q, want [laptop]", got)
	}
	wantPasskey(t, s, "the user's other passkey, after DeletePasskey", wantLaptop)
	wantPasskey(t, s, "another user's, after DeletePasskey", wantBobs)

	wantDeleteNotFound(t, s, "deleted again", "alice", phone.ID)
	for what, id := range map[string][]byte{
		"an unknown ID":         passkeyID("unknown"),
		"the ID one byte short": wantLaptop.ID[:len(wantLaptop.ID)-1],
		"an empty ID":           {},
		"a nil ID":              nil,
	} {
		wantDeleteNotFound(t, s, what, "alice", id)
	}
	wantPasskey(t, s, "after deletions that found nothing", wantLaptop)
	wantUseNotFound(t, s, "a deleted passkey", phone, time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC))

	// The ID and the name are free again.
	again := fullPasskey("phone", "alice", "phone")
	again.PublicKey = []byte("a new key")
	wantAgain := clonePasskey(again)
	addPasskey(t, s, again)
	wantPasskey(t, s, "added again", wantAgain)
	wantPasskeyCount(t, s, "added again", "alice", 2)
}
