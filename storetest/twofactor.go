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

// TwoFactorOpener returns a new, empty second factor store for one check.
// It may register cleanups with t and should fail t (t.Fatal) if it cannot
// open the store. RunTwoFactor calls it once for each check.
type TwoFactorOpener func(t *testing.T) auth.TwoFactorStore

// twoFactorCheck is one subtest of RunTwoFactor.
type twoFactorCheck struct {
	name string
	run  func(t *testing.T, s auth.TwoFactorStore)
}

// twoFactorChecks are the subtests RunTwoFactor runs, in order.
var twoFactorChecks = []twoFactorCheck{
	{name: "Empty", run: testTwoFactorEmpty},
	{name: "RoundTrip", run: testTwoFactorRoundTrip},
	{name: "SetReplaces", run: testSetTwoFactorReplaces},
	{name: "UnknownUser", run: testTwoFactorUnknownUser},
	{name: "Copies", run: testTwoFactorCopies},
	{name: "UseTOTPCounter", run: testUseTOTPCounter},
	{name: "ConcurrentTOTPCounter", run: testConcurrentTOTPCounter},
	{name: "DeleteTwoFactor", run: testDeleteTwoFactor},
	{name: "RecoveryCodes", run: testRecoveryCodes},
	{name: "ConcurrentRecoveryCodes", run: testConcurrentRecoveryCodes},
}

// RunTwoFactor checks that second factor stores opened by open keep the
// contract of [auth.TwoFactorStore], each check a subtest of t named after
// what it checks: factors read back as stored, field by field;
// SetTwoFactor replacing a factor; factors of users the store does not
// hold refused; copies in and out; UseTOTPCounter accepting only a
// greater counter, and a user without a factor; DeleteTwoFactor removing
// factor and codes, and being idempotent; recovery codes replaced, used
// once, counted and kept apart by user; and that of concurrent uses of
// one counter, or of one recovery code, exactly one succeeds. Run it with
// -race.
//
// The factors belong to the users "alice", "bob" and "carol". If the
// store is also an [auth.UserAdmin], RunTwoFactor creates them first (an
// ID already in use is no error), for a store whose factors must belong
// to users it holds; only such a store is checked for refusing a factor
// of another user (the check "UnknownUser" is skipped otherwise). Factors
// are compared field by field, times as [Run] compares them (a zero time
// must come back zero), secrets byte by byte. Counters stay within the
// range of an int64, as a database's signed 64-bit integer holds them.
func RunTwoFactor(t *testing.T, open TwoFactorOpener) {
	t.Helper()
	for _, c := range twoFactorChecks {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("storetest: the TwoFactorOpener returned a nil TwoFactorStore")
			}
			createOwners(t, s, "twofactor", "a second factor")
			c.run(t, s)
		})
	}
}

// recoveryHash returns the 32-byte hash of the recovery code with the
// given seed, with a zero byte and a byte that is not UTF-8.
func recoveryHash(seed string) []byte { return tokenHash("recovery code " + seed) }

// recoveryHashes returns the hashes of n recovery codes of the seed.
func recoveryHashes(seed string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = recoveryHash(fmt.Sprintf("%s %d", seed, i))
	}
	return out
}

// fullTwoFactor returns an enabled factor of the user with every field
// set to a value unlike its zero value: a sealed secret with a zero byte
// and bytes that are not UTF-8, a counter beyond 32 bits, times in a zone
// other than UTC and with nanoseconds.
func fullTwoFactor(userID string) *auth.TwoFactor {
	secret := append([]byte{0, 0xff, 0xfe}, tokenHash("secret of "+userID)...)
	return &auth.TwoFactor{
		UserID:      userID,
		Secret:      secret,
		LastCounter: 58_325_001_234, // the counter of the year 3522: past 32 bits
		Enabled:     true,
		// Rounded rather than truncated, this would be the next day.
		CreatedAt: time.Date(2025, 6, 30, 23, 59, 59, 999999999, sessionZone),
		EnabledAt: time.Date(2025, 7, 1, 0, 1, 2, 500000000, sessionZone),
	}
}

// cloneTwoFactor returns a deep copy of tf.
func cloneTwoFactor(tf *auth.TwoFactor) *auth.TwoFactor {
	c := *tf
	c.Secret = bytes.Clone(tf.Secret)
	return &c
}

// diffTwoFactor describes how got differs from want, or returns "" when
// they are equal as RunTwoFactor's documentation defines it.
func diffTwoFactor(got, want *auth.TwoFactor) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("second factor = %v, want %v", got, want)
	}
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	field("Secret", bytes.Equal(got.Secret, want.Secret), fmt.Sprintf("%x", got.Secret), fmt.Sprintf("%x", want.Secret))
	field("LastCounter", got.LastCounter == want.LastCounter, got.LastCounter, want.LastCounter)
	field("Enabled", got.Enabled == want.Enabled, got.Enabled, want.Enabled)
	field("CreatedAt", sameTime(got.CreatedAt, want.CreatedAt), fmtTime(got.CreatedAt), fmtTime(want.CreatedAt))
	field("EnabledAt", sameTime(got.EnabledAt, want.EnabledAt), fmtTime(got.EnabledAt), fmtTime(want.EnabledAt))
	return strings.Join(d, "; ")
}

// setTwoFactor stores tf and fails the test if that fails.
func setTwoFactor(t *testing.T, s auth.TwoFactorStore, tf *auth.TwoFactor) {
	t.Helper()
	if err := s.SetTwoFactor(t.Context(), tf); err != nil {
		t.Fatalf("SetTwoFactor(user %q): %v", tf.UserID, err)
	}
}

// readTwoFactor reads the user's factor and fails the test if that fails.
func readTwoFactor(t *testing.T, s auth.TwoFactorStore, userID string) *auth.TwoFactor {
	t.Helper()
	tf, err := s.TwoFactor(t.Context(), userID)
	if err != nil {
		t.Fatalf("TwoFactor(%q): %v", userID, err)
	}
	if tf == nil {
		t.Fatalf("TwoFactor(%q) = nil, nil", userID)
	}
	return tf
}

// wantTwoFactor fails the test unless the factor stored for want's user
// equals want.
func wantTwoFactor(t *testing.T, s auth.TwoFactorStore, step string, want *auth.TwoFactor) {
	t.Helper()
	tf, err := s.TwoFactor(t.Context(), want.UserID)
	if err != nil {
		t.Errorf("%s: TwoFactor(%q): %v", step, want.UserID, err)
		return
	}
	if d := diffTwoFactor(tf, want); d != "" {
		t.Errorf("%s: TwoFactor(%q): %s", step, want.UserID, d)
	}
}

// wantNoTwoFactor fails the test unless the user has no factor: a nil
// factor and an error wrapping auth.ErrTokenNotFound.
func wantNoTwoFactor(t *testing.T, s auth.TwoFactorStore, step, userID string) {
	t.Helper()
	tf, err := s.TwoFactor(t.Context(), userID)
	if !errors.Is(err, auth.ErrTokenNotFound) || tf != nil {
		t.Errorf("%s: TwoFactor(%q) = %+v, %v; want nil and an error wrapping auth.ErrTokenNotFound", step, userID, tf, err)
	}
}

// useCounter runs UseTOTPCounter and fails the test unless it reports
// want without an error.
func useCounter(t *testing.T, s auth.TwoFactorStore, step, userID string, counter uint64, want bool) {
	t.Helper()
	ok, err := s.UseTOTPCounter(t.Context(), userID, counter)
	if err != nil || ok != want {
		t.Errorf("%s: UseTOTPCounter(%q, %d) = %v, %v; want %v, nil", step, userID, counter, ok, err, want)
	}
}

// setCodes runs SetRecoveryCodes and fails the test if that fails.
func setCodes(t *testing.T, s auth.TwoFactorStore, userID string, hashes [][]byte) {
	t.Helper()
	if err := s.SetRecoveryCodes(t.Context(), userID, hashes); err != nil {
		t.Fatalf("SetRecoveryCodes(%q, %d hashes): %v", userID, len(hashes), err)
	}
}

// useCode runs UseRecoveryCode and fails the test unless it reports want
// without an error.
func useCode(t *testing.T, s auth.TwoFactorStore, step, userID string, hash []byte, want bool) {
	t.Helper()
	ok, err := s.UseRecoveryCode(t.Context(), userID, hash)
	if err != nil || ok != want {
		t.Errorf("%s: UseRecoveryCode(%q, %x) = %v, %v; want %v, nil", step, userID, hash, ok, err, want)
	}
}

// wantCodesLeft fails the test unless the user holds n recovery codes.
func wantCodesLeft(t *testing.T, s auth.TwoFactorStore, step, userID string, n int) {
	t.Helper()
	got, err := s.RecoveryCodesLeft(t.Context(), userID)
	if err != nil || got != n {
		t.Errorf("%s: RecoveryCodesLeft(%q) = %d, %v; want %d, nil", step, userID, got, err, n)
	}
}

// testTwoFactorEmpty checks that the opener gives an empty store: no user
// has a factor (auth.ErrTokenNotFound) or recovery codes.
func testTwoFactorEmpty(t *testing.T, s auth.TwoFactorStore) {
	for _, u := range append(slices.Clone(sessionUsers), "nobody") {
		wantNoTwoFactor(t, s, "a new store", u)
		wantCodesLeft(t, s, "a new store", u, 0)
	}
	useCode(t, s, "a new store", "alice", recoveryHash("never stored"), false)
}

// testTwoFactorRoundTrip checks that every field is stored and read back,
// including zero values: a factor whose setup waits for its first code
// comes back disabled, with a zero EnabledAt and LastCounter; one with the
// greatest counter an int64 holds comes back with it.
func testTwoFactorRoundTrip(t *testing.T, s auth.TwoFactorStore) {
	full := fullTwoFactor("alice")
	want := cloneTwoFactor(full)
	setTwoFactor(t, s, full)
	wantTwoFactor(t, s, "full", want)

	pending := &auth.TwoFactor{
		UserID:    "bob",
		Secret:    []byte("sealed secret of bob"),
		CreatedAt: time.Date(2020, 2, 29, 12, 0, 0, 0, time.Local),
	}
	wantPending := cloneTwoFactor(pending)
	setTwoFactor(t, s, pending)
	wantTwoFactor(t, s, "setup pending", wantPending)

	// The greatest counter a signed 64-bit column holds, an enabling in
	// another zone, and no CreatedAt.
	greatest := &auth.TwoFactor{
		UserID:      "carol",
		Secret:      recoveryHash("a secret"),
		LastCounter: math.MaxInt64,
		Enabled:     true,
		EnabledAt:   time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("UTC+14:00", 14*3600)),
	}
	wantGreatest := cloneTwoFactor(greatest)
	setTwoFactor(t, s, greatest)
	wantTwoFactor(t, s, "greatest counter", wantGreatest)

	wantTwoFactor(t, s, "after the others", want)
	wantTwoFactor(t, s, "after the others", wantPending)
}

// testSetTwoFactorReplaces checks that SetTwoFactor replaces the user's
// factor, every field of it (a smaller counter and a disabled factor
// included), and no other user's.
func testSetTwoFactorReplaces(t *testing.T, s auth.TwoFactorStore) {
	first := fullTwoFactor("alice")
	setTwoFactor(t, s, first)
	other := fullTwoFactor("bob")
	wantOther := cloneTwoFactor(other)
	setTwoFactor(t, s, other)

	// A new setup: another secret, pending, the counter back to zero.
	second := &auth.TwoFactor{
		UserID:    "alice",
		Secret:    []byte("another sealed secret"),
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC),
	}
	want := cloneTwoFactor(second)
	setTwoFactor(t, s, second)
	wantTwoFactor(t, s, "replaced by a pending setup", want)
	wantTwoFactor(t, s, "another user's, after alice's was replaced", wantOther)

	// Enabled by the first code.
	third := cloneTwoFactor(want)
	third.Enabled, third.LastCounter = true, 1_750_000_000/30
	third.EnabledAt = third.CreatedAt.Add(90 * time.Second)
	want = cloneTwoFactor(third)
	setTwoFactor(t, s, third)
	wantTwoFactor(t, s, "replaced by the enabled factor", want)
	wantTwoFactor(t, s, "another user's, after alice's was replaced", wantOther)
}

// testTwoFactorUnknownUser checks, for a store that holds users, that a
// factor of a user it does not hold is refused with auth.ErrUserNotFound
// and stores nothing.
func testTwoFactorUnknownUser(t *testing.T, s auth.TwoFactorStore) {
	if _, ok := s.(auth.UserAdmin); !ok {
		t.Skip("the store is no auth.UserAdmin: it holds no users to check a factor's owner against")
	}
	for _, user := range []string{"nobody", "ALICE", "alice ", ""} {
		err := s.SetTwoFactor(t.Context(), fullTwoFactor(user))
		if !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("SetTwoFactor for user %q, whom the store does not hold: error = %v; want auth.ErrUserNotFound", user, err)
		}
		wantNoTwoFactor(t, s, fmt.Sprintf("after refusing a factor of user %q", user), user)
	}
	wantNoTwoFactor(t, s, "after refusing factors of unknown users", "alice")
	tf := fullTwoFactor("alice")
	want := cloneTwoFactor(tf)
	setTwoFactor(t, s, tf)
	wantTwoFactor(t, s, "a known user's", want)
}

// testTwoFactorCopies checks that what goes in is copied and what comes
// out is the caller's: changing a factor after SetTwoFactor, or one
// TwoFactor returned (its secret's bytes included), changes nothing
// stored; a factor read before UseTOTPCounter does not change with it;
// and changing the hashes after SetRecoveryCodes, or after
// UseRecoveryCode, changes no code stored.
func testTwoFactorCopies(t *testing.T, s auth.TwoFactorStore) {
	tf := fullTwoFactor("alice")
	want := cloneTwoFactor(tf)
	setTwoFactor(t, s, tf)
	scribble := func(tf *auth.TwoFactor) {
		tf.UserID = "bob"
		tf.Secret[0] ^= 0xff
		tf.Secret = append(tf.Secret, 0xee)
		tf.LastCounter++
		tf.Enabled = !tf.Enabled
		tf.CreatedAt = tf.CreatedAt.Add(time.Hour)
		tf.EnabledAt = time.Time{}
	}
	scribble(tf)
	wantTwoFactor(t, s, "changed after SetTwoFactor", want)
	wantNoTwoFactor(t, s, "alice's factor changed to name bob after SetTwoFactor", "bob")

	got := readTwoFactor(t, s, "alice")
	scribble(got)
	wantTwoFactor(t, s, "changed after TwoFactor returned it", want)

	read := readTwoFactor(t, s, "alice")
	useCounter(t, s, "copies", "alice", want.LastCounter+5, true)
	if d := diffTwoFactor(read, want); d != "" {
		t.Errorf("a factor read before UseTOTPCounter: %s", d)
	}
	want.LastCounter += 5
	wantTwoFactor(t, s, "after UseTOTPCounter", want)

	hashes := recoveryHashes("copies", 3)
	kept := [][]byte{bytes.Clone(hashes[0]), bytes.Clone(hashes[1]), bytes.Clone(hashes[2])}
	setCodes(t, s, "alice", hashes)
	for _, h := range hashes {
		h[0] ^= 0xff
	}
	hashes[2] = recoveryHash("replaced")
	wantCodesLeft(t, s, "hashes changed after SetRecoveryCodes", "alice", 3)
	useCode(t, s, "the changed hash", "alice", hashes[0], false)
	useCode(t, s, "the replaced hash", "alice", hashes[2], false)
	useCode(t, s, "the hash as set", "alice", kept[0], true)
	useCode(t, s, "the hash as set", "alice", kept[1], true)
	useCode(t, s, "the hash as set", "alice", kept[2], true)
	wantCodesLeft(t, s, "every code used", "alice", 0)
}

// testUseTOTPCounter checks that UseTOTPCounter accepts and stores a
// counter greater than the stored one, refuses an equal or smaller one
// and changes nothing then, changes no other field nor user, and that a
// user without a factor gives auth.ErrTokenNotFound.
func testUseTOTPCounter(t *testing.T, s auth.TwoFactorStore) {
	ctx := t.Context()
	tf := fullTwoFactor("alice")
	tf.LastCounter = 1000
	want := cloneTwoFactor(tf)
	setTwoFactor(t, s, tf)
	other := fullTwoFactor("bob")
	other.LastCounter = 1000
	wantOther := cloneTwoFactor(other)
	setTwoFactor(t, s, other)

	steps := []struct {
		what    string
		counter uint64
		want    bool
	}{
		{"the stored counter", 1000, false},
		{"a smaller counter", 999, false},
		{"zero", 0, false},
		{"the next counter", 1001, true},
		{"it again", 1001, false},
		{"the one before", 1000, false},
		{"a skipped counter", 1003, true},
		{"a skipped-over counter", 1002, false},
		{"a far counter", 1 << 40, true},
		{"the greatest an int64 holds", math.MaxInt64, true},
		{"it again", math.MaxInt64, false},
	}
	for _, st := range steps {
		useCounter(t, s, st.what, "alice", st.counter, st.want)
		if st.want {
			want.LastCounter = st.counter
		}
		wantTwoFactor(t, s, "after "+st.what, want)
		wantTwoFactor(t, s, "another user's after "+st.what, wantOther)
	}

	// A pending setup's counter starts at zero: its first code counts.
	pending := &auth.TwoFactor{UserID: "carol", Secret: []byte("pending")}
	setTwoFactor(t, s, pending)
	useCounter(t, s, "a pending setup", "carol", 0, false)
	useCounter(t, s, "a pending setup", "carol", 1, true)
	wantTwoFactor(t, s, "a pending setup after its first code", &auth.TwoFactor{UserID: "carol", Secret: []byte("pending"), LastCounter: 1})

	for _, user := range []string{"nobody", "ALICE", "alice ", ""} {
		ok, err := s.UseTOTPCounter(ctx, user, 5000)
		if ok || !errors.Is(err, auth.ErrTokenNotFound) {
			t.Errorf("UseTOTPCounter(%q), a user without a factor, = %v, %v; want false and an error wrapping auth.ErrTokenNotFound", user, ok, err)
		}
		wantNoTwoFactor(t, s, "after UseTOTPCounter of a user without one", user)
	}
	if err := s.DeleteTwoFactor(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	ok, err := s.UseTOTPCounter(ctx, "bob", 5000)
	if ok || !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("UseTOTPCounter(bob) after DeleteTwoFactor(bob) = %v, %v; want false and an error wrapping auth.ErrTokenNotFound", ok, err)
	}
}

// testConcurrentTOTPCounter checks that of goroutines using one counter at
// once, exactly one is accepted, round after round, and the counter is
// stored; and that of goroutines using counters in no order at once, the
// greatest stays.
func testConcurrentTOTPCounter(t *testing.T, s auth.TwoFactorStore) {
	const racers, rounds = 16, 5
	ctx := t.Context()
	tf := fullTwoFactor("alice")
	tf.LastCounter = 100
	want := cloneTwoFactor(tf)
	setTwoFactor(t, s, tf)

	for r := range rounds {
		counter := uint64(101 + r)
		results := make([]bool, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = s.UseTOTPCounter(ctx, "alice", counter)
			}()
		}
		close(start)
		wg.Wait()
		accepted := 0
		for i := range racers {
			if errs[i] != nil {
				t.Errorf("round %d: racer %d: UseTOTPCounter: %v", r, i, errs[i])
			}
			if results[i] {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("round %d: %d racers with counter %d were accepted; want exactly one: UseTOTPCounter is not atomic", r, accepted, counter)
		}
		want.LastCounter = counter
		wantTwoFactor(t, s, fmt.Sprintf("round %d", r), want)
	}

	// Counters in no order: the greatest stays.
	base := uint64(1000)
	errs := make(chan error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		n := base + uint64((i*5)%racers) // a permutation: racers is a power of two, 5 odd
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.UseTOTPCounter(ctx, "alice", n); err != nil {
				errs <- fmt.Errorf("UseTOTPCounter(%d): %w", n, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	want.LastCounter = base + racers - 1
	wantTwoFactor(t, s, "after counters in no order", want)
}

// testDeleteTwoFactor checks that DeleteTwoFactor removes the user's
// factor and recovery codes, and no other user's, that deleting again, or
// for a user without either, is no error, and that the user can set up a
// factor afresh.
func testDeleteTwoFactor(t *testing.T, s auth.TwoFactorStore) {
	ctx := t.Context()
	setTwoFactor(t, s, fullTwoFactor("alice"))
	setCodes(t, s, "alice", recoveryHashes("alice", 4))
	bob := fullTwoFactor("bob")
	wantBob := cloneTwoFactor(bob)
	setTwoFactor(t, s, bob)
	bobCodes := recoveryHashes("bob", 3)
	setCodes(t, s, "bob", bobCodes)
	// Codes without a factor, as a store may hold them.
	setCodes(t, s, "carol", recoveryHashes("carol", 2))

	if err := s.DeleteTwoFactor(ctx, "alice"); err != nil {
		t.Fatalf("DeleteTwoFactor(alice): %v", err)
	}
	wantNoTwoFactor(t, s, "after DeleteTwoFactor(alice)", "alice")
	wantCodesLeft(t, s, "after DeleteTwoFactor(alice)", "alice", 0)
	useCode(t, s, "a deleted code", "alice", recoveryHashes("alice", 1)[0], false)
	wantTwoFactor(t, s, "bob's, after DeleteTwoFactor(alice)", wantBob)
	wantCodesLeft(t, s, "bob's, after DeleteTwoFactor(alice)", "bob", 3)

	for _, user := range []string{"alice", "nobody", ""} {
		if err := s.DeleteTwoFactor(ctx, user); err != nil {
			t.Errorf("DeleteTwoFactor(%q), a user without a factor: %v; want nil", user, err)
		}
	}
	if err := s.DeleteTwoFactor(ctx, "carol"); err != nil {
		t.Errorf("DeleteTwoFactor(carol), codes without a factor: %v", err)
	}
	wantCodesLeft(t, s, "after DeleteTwoFactor(carol)", "carol", 0)
	wantTwoFactor(t, s, "bob's, after the other deletions", wantBob)
	wantCodesLeft(t, s, "bob's, after the other deletions", "bob", 3)
	useCode(t, s, "bob's, after the other deletions", "bob", bobCodes[0], true)

	// Afresh.
	again := &auth.TwoFactor{UserID: "alice", Secret: []byte("again"), CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	wantAgain := cloneTwoFactor(again)
	setTwoFactor(t, s, again)
	wantTwoFactor(t, s, "set up again", wantAgain)
	wantCodesLeft(t, s, "set up again", "alice", 0)
	useCounter(t, s, "set up again", "alice", 1, true)
}

// testRecoveryCodes checks recovery codes: each set code is used once,
// and then no more; an unknown hash, one differing in a byte or one byte
// short, is not a code; SetRecoveryCodes replaces the user's codes, used
// or not, and none of another user's; no user can use another's code; the
// count follows; and setting no codes leaves none.
func testRecoveryCodes(t *testing.T, s auth.TwoFactorStore) {
	alice := recoveryHashes("alice", 10)
	bob := recoveryHashes("bob", 2)
	setTwoFactor(t, s, fullTwoFactor("alice"))
	setCodes(t, s, "alice", alice)
	setCodes(t, s, "bob", bob)
	wantCodesLeft(t, s, "set", "alice", 10)
	wantCodesLeft(t, s, "set", "bob", 2)
	wantCodesLeft(t, s, "set", "carol", 0)

	flipped := bytes.Clone(alice[3])
	flipped[len(flipped)-1] ^= 1
	for what, h := range map[string][]byte{
		"an unknown hash":         recoveryHash("unknown"),
		"a hash differing a byte": flipped,
		"a hash one byte short":   alice[3][:len(alice[3])-1],
		"a hash one byte longer":  append(bytes.Clone(alice[3]), 0),
		"an empty hash":           {},
		"a nil hash":              nil,
	} {
		useCode(t, s, what, "alice", h, false)
	}
	wantCodesLeft(t, s, "after unknown hashes", "alice", 10)

	useCode(t, s, "another user's code", "alice", bob[0], false)
	useCode(t, s, "another user's code", "bob", alice[0], false)
	useCode(t, s, "a code of a user without codes", "carol", alice[0], false)
	wantCodesLeft(t, s, "after another user's codes", "alice", 10)
	wantCodesLeft(t, s, "after another user's codes", "bob", 2)

	useCode(t, s, "first use", "alice", alice[3], true)
	useCode(t, s, "second use", "alice", alice[3], false)
	wantCodesLeft(t, s, "one used", "alice", 9)
	wantCodesLeft(t, s, "alice's used", "bob", 2)
	left := 9
	for i, h := range alice {
		if i == 3 {
			continue
		}
		useCode(t, s, fmt.Sprintf("code %d", i), "alice", h, true)
		left--
		wantCodesLeft(t, s, fmt.Sprintf("after code %d", i), "alice", left)
	}
	for i, h := range alice {
		useCode(t, s, fmt.Sprintf("code %d, used", i), "alice", h, false)
	}
	wantCodesLeft(t, s, "all of alice's used", "bob", 2)

	// SetRecoveryCodes replaces: the unused codes of the first set go,
	// the new ones count, bob's stay.
	first := recoveryHashes("alice first", 5)
	setCodes(t, s, "alice", first)
	useCode(t, s, "the first set", "alice", first[0], true)
	second := recoveryHashes("alice second", 3)
	setCodes(t, s, "alice", second)
	wantCodesLeft(t, s, "replaced", "alice", 3)
	for i, h := range first {
		useCode(t, s, fmt.Sprintf("replaced code %d", i), "alice", h, false)
	}
	wantCodesLeft(t, s, "after the replaced codes", "alice", 3)
	useCode(t, s, "the second set", "alice", second[1], true)
	wantCodesLeft(t, s, "one of the second set used", "alice", 2)
	wantCodesLeft(t, s, "alice's replaced", "bob", 2)
	useCode(t, s, "bob's, after alice's were replaced", "bob", bob[1], true)
	wantCodesLeft(t, s, "bob's used", "bob", 1)

	// A used code given again in a new set is a code again.
	setCodes(t, s, "alice", [][]byte{second[1], alice[3]})
	wantCodesLeft(t, s, "used codes set again", "alice", 2)
	useCode(t, s, "a used code set again", "alice", alice[3], true)
	useCode(t, s, "a code of the second set left out", "alice", second[0], false)

	// No codes leaves none.
	setCodes(t, s, "alice", nil)
	wantCodesLeft(t, s, "no codes set", "alice", 0)
	useCode(t, s, "after no codes were set", "alice", second[1], false)
	wantCodesLeft(t, s, "alice's cleared", "bob", 1)
}

// testConcurrentRecoveryCodes checks that of goroutines using one
// recovery code at once, exactly one gets true, code after code, and that
// goroutines using distinct codes at once all get true and leave none.
func testConcurrentRecoveryCodes(t *testing.T, s auth.TwoFactorStore) {
	const racers, codes = 16, 5
	ctx := t.Context()
	hashes := recoveryHashes("raced", codes)
	setCodes(t, s, "alice", hashes)
	for c, h := range hashes {
		results := make([]bool, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = s.UseRecoveryCode(ctx, "alice", bytes.Clone(h))
			}()
		}
		close(start)
		wg.Wait()
		used := 0
		for i := range racers {
			if errs[i] != nil {
				t.Errorf("code %d: racer %d: UseRecoveryCode: %v", c, i, errs[i])
			}
			if results[i] {
				used++
			}
		}
		if used != 1 {
			t.Errorf("code %d: %d racers used it; want exactly one: UseRecoveryCode is not atomic", c, used)
		}
		wantCodesLeft(t, s, fmt.Sprintf("after racing for code %d", c), "alice", codes-1-c)
	}

	distinct := recoveryHashes("distinct", racers)
	setCodes(t, s, "bob", distinct)
	errs := make(chan error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, h := range distinct {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := s.UseRecoveryCode(ctx, "bob", h)
			switch {
			case err != nil:
				errs <- fmt.Errorf("UseRecoveryCode(bob, code %d): %w", i, err)
			case !ok:
				errs <- fmt.Errorf("UseRecoveryCode(bob, code %d), a distinct code used at once with others, = false", i)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	wantCodesLeft(t, s, "after using distinct codes at once", "bob", 0)
}
