package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authkit/auth"
)

// check is one subtest of the suite.
type check struct {
	name string
	run  func(t *testing.T, s Store, reopen Reopen)
}

// checks are the subtests Run runs, in order.
var checks = []check{
	{name: "Empty", run: testEmpty},
	{name: "NotFound", run: testNotFound},
	{name: "RoundTrip", run: testRoundTrip},
	{name: "AssignedIDs", run: testAssignedIDs},
	{name: "EmailCaseInsensitive", run: testEmailCaseInsensitive},
	{name: "DuplicateEmail", run: testDuplicateEmail},
	{name: "DuplicateID", run: testDuplicateID},
	{name: "EmailChange", run: testEmailChange},
	{name: "UpdateError", run: testUpdateError},
	{name: "IDChange", run: testIDChange},
	{name: "Roles", run: testRoles},
	{name: "Copies", run: testCopies},
	{name: "ConcurrentUpdates", run: testConcurrentUpdates},
	{name: "Revocation", run: testRevocation},
	{name: "ListUsers", run: testListUsers},
	{name: "Reopen", run: testReopen},
}

// testEmpty checks that the Opener gives an empty store.
func testEmpty(t *testing.T, s Store, _ Reopen) {
	users, err := s.ListUsers(t.Context())
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != 0 {
		t.Errorf("a new store lists %d users, want none: the Opener must return an empty store", len(users))
	}
}

// testNotFound checks that lookups and updates of unknown users wrap
// auth.ErrUserNotFound, and that an update of an unknown user never calls
// the update function.
func testNotFound(t *testing.T, s Store, _ Reopen) {
	ctx := t.Context()
	create(t, s, fullUser("known", "known@example.com"))

	u, err := s.UserByID(ctx, "unknown")
	wantNotFound(t, `UserByID("unknown")`, u, err)
	u, err = s.UserByID(ctx, "")
	wantNotFound(t, `UserByID("")`, u, err)
	u, err = s.UserByEmail(ctx, "unknown@example.com")
	wantNotFound(t, `UserByEmail("unknown@example.com")`, u, err)
	u, err = s.UserByEmail(ctx, "known@example.co") // a prefix of a known email
	wantNotFound(t, `UserByEmail("known@example.co")`, u, err)

	called := false
	err = s.UpdateUser(ctx, "unknown", func(*auth.User) error {
		called = true
		return nil
	})
	wantNotFound(t, `UpdateUser("unknown")`, nil, err)
	if called {
		t.Error(`UpdateUser("unknown") called the update function`)
	}
	if _, err := s.UserByID(ctx, "unknown"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf(`after UpdateUser("unknown"), UserByID("unknown") error = %v; want auth.ErrUserNotFound`, err)
	}
}

// testRoundTrip checks that every field is stored and read back, by ID, by
// email and in lists, when created and when updated, including zero values.
func testRoundTrip(t *testing.T, s Store, _ Reopen) {
	full := fullUser("rt-full", "Round.Trip@Example.com")
	want := full.Clone()
	create(t, s, full)
	wantUser(t, s, want)

	minimal := &auth.User{ID: "rt-min", Email: "minimal@example.com"}
	create(t, s, minimal)
	wantUser(t, s, &auth.User{ID: "rt-min", Email: "minimal@example.com"})

	// Update every field of each user to the other's values.
	other := fullUser("rt-min", "minimal@example.com")
	other.Roles = []string{"billing"}
	other.LoginCount = 7
	update(t, s, "rt-min", func(u *auth.User) { *u = *other.Clone() })
	wantUser(t, s, other)
	update(t, s, "rt-full", func(u *auth.User) { *u = auth.User{ID: "rt-full", Email: "Round.Trip@Example.com"} })
	wantUser(t, s, &auth.User{ID: "rt-full", Email: "Round.Trip@Example.com"})

	users, err := s.ListUsers(t.Context())
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	for _, w := range []*auth.User{other, {ID: "rt-full", Email: "Round.Trip@Example.com"}} {
		i := slices.IndexFunc(users, func(u *auth.User) bool { return u.ID == w.ID })
		if i < 0 {
			t.Errorf("ListUsers lacks user %q", w.ID)
		} else if d := diffUser(users[i], w, limitsOf(s)); d != "" {
			t.Errorf("ListUsers, user %q: %s", w.ID, d)
		}
	}
}

// testAssignedIDs checks that CreateUser assigns a fresh ID when given
// none, writes it back, and never assigns one already in use.
func testAssignedIDs(t *testing.T, s Store, _ Reopen) {
	// IDs a store might assign, taken by hand first.
	for _, id := range []string{"1", "2"} {
		create(t, s, &auth.User{ID: id, Email: "taken-" + id + "@example.com"})
	}
	seen := map[string]bool{"1": true, "2": true}
	for i := range 3 {
		u := &auth.User{Email: fmt.Sprintf("auto-%d@example.com", i), Uniquifier: auth.NewUniquifier()}
		create(t, s, u)
		if u.ID == "" {
			t.Fatalf("CreateUser(%q) with no ID left u.ID empty; it must write the assigned ID back", u.Email)
		}
		if seen[u.ID] {
			t.Errorf("CreateUser(%q) assigned ID %q, already in use", u.Email, u.ID)
		}
		seen[u.ID] = true
		wantUser(t, s, u)
	}
	for _, id := range []string{"1", "2"} {
		if got := byID(t, s, id); got.Email != "taken-"+id+"@example.com" {
			t.Errorf("user %q has email %q after IDs were assigned, want %q", id, got.Email, "taken-"+id+"@example.com")
		}
	}
}

// testEmailCaseInsensitive checks that emails are kept as given and found
// case-insensitively, with Unicode simple folding (strings.EqualFold).
func testEmailCaseInsensitive(t *testing.T, s Store, _ Reopen) {
	tests := []struct {
		stored  string
		lookups []string
	}{
		{stored: "Alice@Example.com", lookups: []string{"alice@example.COM", "ALICE@EXAMPLE.COM", "alice@example.com", "Alice@Example.com"}},
		{stored: "Ärger.Όσος@Example.com", lookups: []string{"äRGER.όΣΟΣ@example.com", "ÄRGER.ΌΣΟΣ@EXAMPLE.COM", "Ärger.Όσος@eXAMPLE.com"}},
		// Letters whose folding reaches outside ASCII or outside what SQL's
		// lower() folds: the Kelvin sign and k, the long s and s, ẞ and ß,
		// the Angstrom sign and Å.
		{stored: "kelvin.sass@example.com", lookups: []string{"\u212Aelvin.\u017Fa\u017F\u017F@example.com", "KELVIN.SASS@EXAMPLE.COM"}},
		{stored: "\u212Aelvin2@example.com", lookups: []string{"kelvin2@example.com", "Kelvin2@example.com"}},
		{stored: "stra\u00DFe@example.com", lookups: []string{"STRA\u1E9EE@example.com"}},
		{stored: "\u212Bngstr\u00F6m@example.com", lookups: []string{"\u00E5ngstr\u00F6m@example.com", "\u00C5NGSTR\u00D6M@example.com"}},
		// LIKE's wildcards, in an email, are only themselves.
		{stored: "per%cent_under@example.com", lookups: []string{"PER%CENT_UNDER@example.com"}},
	}
	for i, tt := range tests {
		id := fmt.Sprintf("case-%d", i)
		create(t, s, &auth.User{ID: id, Email: tt.stored})
		for _, email := range tt.lookups {
			if !strings.EqualFold(email, tt.stored) {
				t.Fatalf("bad test data: %q and %q are not equal under strings.EqualFold", email, tt.stored)
			}
			u, err := s.UserByEmail(t.Context(), email)
			if err != nil {
				t.Errorf("UserByEmail(%q) with %q stored: %v", email, tt.stored, err)
				continue
			}
			if u.ID != id || u.Email != tt.stored {
				t.Errorf("UserByEmail(%q) = user %q with email %q, want %q with %q (as stored)", email, u.ID, u.Email, id, tt.stored)
			}
		}
	}

	// Emails strings.EqualFold keeps apart are different addresses, even
	// where other foldings (ToLower(ToUpper(s)), say) merge them.
	distinct := []string{"dotless-ı@example.com", "dotless-i@example.com", "dotless-İ@example.com"}
	for i, email := range distinct {
		for _, other := range distinct[:i] {
			if strings.EqualFold(email, other) {
				t.Fatalf("bad test data: %q and %q are equal under strings.EqualFold", email, other)
			}
		}
		id := fmt.Sprintf("distinct-%d", i)
		if err := s.CreateUser(t.Context(), &auth.User{ID: id, Email: email}); err != nil {
			t.Errorf("CreateUser(%q), an address strings.EqualFold tells apart from the others: %v", email, err)
		}
	}
	for i, email := range distinct {
		u, err := s.UserByEmail(t.Context(), email)
		if want := fmt.Sprintf("distinct-%d", i); err != nil || u.ID != want {
			t.Errorf("UserByEmail(%q) = %v, %v; want user %q", email, u, err, want)
		}
	}
}

// testDuplicateEmail checks that no two users share an email, compared
// case-insensitively, on creation and on update, and that a refused write
// stores nothing.
func testDuplicateEmail(t *testing.T, s Store, _ Reopen) {
	ctx := t.Context()
	first := fullUser("dup-1", "dup@example.com")
	want := first.Clone()
	create(t, s, first)

	tests := []struct {
		name string
		user *auth.User
	}{
		{name: "same email", user: &auth.User{ID: "dup-2", Email: "dup@example.com"}},
		{name: "differs in case", user: &auth.User{ID: "dup-3", Email: "DUP@Example.COM"}},
		{name: "no ID given", user: &auth.User{Email: "Dup@example.com"}},
	}
	for _, tt := range tests {
		id := tt.user.ID
		err := s.CreateUser(ctx, tt.user)
		if !errors.Is(err, auth.ErrDuplicateEmail) {
			t.Errorf("%s: CreateUser(%q) error = %v; want auth.ErrDuplicateEmail", tt.name, tt.user.Email, err)
		}
		if id != "" {
			if u, err := s.UserByID(ctx, id); !errors.Is(err, auth.ErrUserNotFound) {
				t.Errorf("%s: after the refused CreateUser, UserByID(%q) = %v, %v; want auth.ErrUserNotFound", tt.name, id, u, err)
			}
		}
	}

	create(t, s, &auth.User{ID: "dup-4", Email: "other@example.com"})
	err := s.UpdateUser(ctx, "dup-4", func(u *auth.User) error {
		u.Email = "dUP@example.com"
		u.LoginCount = 5
		return nil
	})
	if !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf(`UpdateUser changing the email to "dUP@example.com", held by another user: error = %v; want auth.ErrDuplicateEmail`, err)
	}
	wantUser(t, s, &auth.User{ID: "dup-4", Email: "other@example.com"})
	wantUser(t, s, want)
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != 2 {
		t.Errorf("ListUsers gives %d users after refused duplicates, want 2", len(users))
	}
}

// testDuplicateID checks that CreateUser refuses an ID in use and stores
// nothing then.
func testDuplicateID(t *testing.T, s Store, _ Reopen) {
	first := fullUser("same", "first@example.com")
	want := first.Clone()
	create(t, s, first)
	err := s.CreateUser(t.Context(), &auth.User{ID: "same", Email: "second@example.com"})
	if !errors.Is(err, auth.ErrDuplicateID) {
		t.Errorf("CreateUser with an ID in use: error = %v; want auth.ErrDuplicateID", err)
	}
	wantUser(t, s, want)
	u, err := s.UserByEmail(t.Context(), "second@example.com")
	wantNotFound(t, "UserByEmail of the refused user", u, err)
}

// testEmailChange checks that an update of the email moves the lookup key:
// the new address finds the user, the old one no longer does and is free.
func testEmailChange(t *testing.T, s Store, _ Reopen) {
	create(t, s, &auth.User{ID: "mover", Email: "old@example.com"})
	update(t, s, "mover", func(u *auth.User) { u.Email = "New@example.com" })
	if u := byEmail(t, s, "new@EXAMPLE.com"); u.ID != "mover" || u.Email != "New@example.com" {
		t.Errorf("UserByEmail of the new address = %q with %q, want %q with %q", u.ID, u.Email, "mover", "New@example.com")
	}
	u, err := s.UserByEmail(t.Context(), "old@example.com")
	wantNotFound(t, "UserByEmail of the old address", u, err)

	// A change of case only is no conflict with the user's own address.
	update(t, s, "mover", func(u *auth.User) { u.Email = "NEW@example.com" })
	if u := byID(t, s, "mover"); u.Email != "NEW@example.com" {
		t.Errorf("after a change of case, email = %q, want %q", u.Email, "NEW@example.com")
	}
	// The old address can be taken by someone else.
	create(t, s, &auth.User{ID: "newcomer", Email: "OLD@example.com"})
	if u := byEmail(t, s, "old@example.com"); u.ID != "newcomer" {
		t.Errorf("UserByEmail of the reused address = %q, want %q", u.ID, "newcomer")
	}
}

// testUpdateError checks that an update function's error is returned and
// nothing it changed is stored.
func testUpdateError(t *testing.T, s Store, _ Reopen) {
	u := fullUser("failing", "failing@example.com")
	want := u.Clone()
	create(t, s, u)
	errBoom := errors.New("boom")
	err := s.UpdateUser(t.Context(), "failing", func(u *auth.User) error {
		u.Email = "changed@example.com"
		u.PasswordHash = "changed"
		u.Roles = append(u.Roles, "changed")
		u.Uniquifier = "changed"
		u.LoginCount++
		u.Active = false
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("UpdateUser with a failing update: error = %v; want the update's error", err)
	}
	wantUser(t, s, want)
	u2, err := s.UserByEmail(t.Context(), "changed@example.com")
	wantNotFound(t, "UserByEmail of the email the failed update set", u2, err)
}

// testIDChange checks that an update may not change the ID.
func testIDChange(t *testing.T, s Store, _ Reopen) {
	create(t, s, &auth.User{ID: "fixed", Email: "fixed@example.com"})
	err := s.UpdateUser(t.Context(), "fixed", func(u *auth.User) error {
		u.ID = "moved"
		u.LoginCount = 5
		return nil
	})
	if !errors.Is(err, auth.ErrIDChanged) {
		t.Errorf("UpdateUser changing the ID: error = %v; want auth.ErrIDChanged", err)
	}
	wantUser(t, s, &auth.User{ID: "fixed", Email: "fixed@example.com"})
	u, err := s.UserByID(t.Context(), "moved")
	wantNotFound(t, `UserByID("moved")`, u, err)
}

// testRoles checks that roles are stored in order, replaced and removed,
// independently for each user.
func testRoles(t *testing.T, s Store, _ Reopen) {
	create(t, s, &auth.User{ID: "r1", Email: "r1@example.com", Roles: []string{"editor", "admin"}})
	create(t, s, &auth.User{ID: "r2", Email: "r2@example.com", Roles: []string{"admin"}})
	steps := []struct {
		name  string
		roles []string
	}{
		{name: "replaced", roles: []string{"viewer"}},
		{name: "removed", roles: nil},
		{name: "added", roles: []string{"admin", "billing", "editor"}},
		{name: "reordered", roles: []string{"editor", "admin", "billing"}},
		{name: "unusual names", roles: []string{"a,b", `q"uote`, "ünï", "[x]"}},
	}
	want := []string{"editor", "admin"}
	lim := limitsOf(s)
	if got := byID(t, s, "r1").Roles; !sameRoles(lim, got, want) {
		t.Errorf("created with roles %q, read back %q", want, got)
	}
	for _, st := range steps {
		update(t, s, "r1", func(u *auth.User) { u.Roles = slices.Clone(st.roles) })
		if got := byID(t, s, "r1").Roles; !sameRoles(lim, got, st.roles) {
			t.Errorf("%s: roles set to %q, read back %q", st.name, st.roles, got)
		}
		if got := byEmail(t, s, "r1@example.com").Roles; !sameRoles(lim, got, st.roles) {
			t.Errorf("%s: roles set to %q, read back by email %q", st.name, st.roles, got)
		}
	}
	if got := byID(t, s, "r2").Roles; !sameRoles(lim, got, []string{"admin"}) {
		t.Errorf("another user's roles changed to %q, want [admin]", got)
	}
}

// testCopies checks that users handed in are copies, and that users handed
// out stay as they were: changing a user after CreateUser, or one kept from
// an update callback, does not change the store, and an update does not
// change a user read before it. A store may share the users it hands out,
// so the suite only reads them (see auth.UserStore).
func testCopies(t *testing.T, s Store, _ Reopen) {
	ctx := t.Context()
	u := fullUser("copied", "copied@example.com")
	want := u.Clone()
	create(t, s, u)
	scribble := func(u *auth.User) {
		u.Email = "scribbled@example.com"
		u.Roles[0] = "scribbled"
		u.Roles = append(u.Roles, "more")
		u.LoginCount = -1
		u.Uniquifier = "scribbled"
	}

	scribble(u)
	wantUser(t, s, want)

	var kept *auth.User
	update(t, s, "copied", func(u *auth.User) { kept = u })
	scribble(kept)
	wantUser(t, s, want)

	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("ListUsers = %d users, %v; want 1", len(users), err)
	}
	read := map[string]*auth.User{
		"UserByID":    byID(t, s, "copied"),
		"UserByEmail": byEmail(t, s, "copied@example.com"),
		"ListUsers":   users[0],
	}
	update(t, s, "copied", scribble)
	for name, u := range read {
		if d := diffUser(u, want, limitsOf(s)); d != "" {
			t.Errorf("%s, read before an update: %s", name, d)
		}
	}
}

// testConcurrentUpdates checks that concurrent read-modify-write updates
// lose nothing while readers read.
func testConcurrentUpdates(t *testing.T, s Store, _ Reopen) {
	const updates, readers = 200, 8
	ctx := t.Context()
	create(t, s, fullUser("busy", "busy@example.com"))
	start := byID(t, s, "busy").LoginCount

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
				if _, err := s.UserByID(ctx, "busy"); err != nil {
					errs <- fmt.Errorf("UserByID: %w", err)
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
			err := s.UpdateUser(ctx, "busy", func(u *auth.User) error {
				u.LoginCount++
				u.CurrentLoginIP = fmt.Sprintf("192.0.2.%d", i%250)
				return nil
			})
			if err != nil {
				errs <- fmt.Errorf("UpdateUser: %w", err)
			}
		}()
	}
	updaters.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	if got := byID(t, s, "busy").LoginCount; got != start+updates {
		t.Errorf("after %d concurrent increments from %d, LoginCount = %d, want %d (updates were lost)", updates, start, got, start+updates)
	}
}

// testRevocation checks that a rotated uniquifier is what the next read
// returns, by ID and by email, even right after earlier reads.
func testRevocation(t *testing.T, s Store, _ Reopen) {
	u := fullUser("revoked", "revoked@example.com")
	create(t, s, u)
	for range 3 {
		byID(t, s, "revoked")
		byEmail(t, s, "revoked@example.com")
		fresh := auth.NewUniquifier()
		update(t, s, "revoked", func(u *auth.User) { u.Uniquifier = fresh })
		if got := byID(t, s, "revoked").Uniquifier; got != fresh {
			t.Fatalf("after rotation, UserByID gives uniquifier %q, want %q", got, fresh)
		}
		if got := byEmail(t, s, "revoked@example.com").Uniquifier; got != fresh {
			t.Fatalf("after rotation, UserByEmail gives uniquifier %q, want %q", got, fresh)
		}
	}
}

// testListUsers checks that ListUsers gives every user once, as stored.
func testListUsers(t *testing.T, s Store, _ Reopen) {
	want := map[string]*auth.User{}
	for i, id := range []string{"10", "9", "b", "a", ""} {
		u := fullUser(id, fmt.Sprintf("list-%d@example.com", i))
		u.LoginCount = i
		create(t, s, u)
		want[u.ID] = u.Clone()
	}
	users, err := s.ListUsers(t.Context())
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != len(want) {
		t.Errorf("ListUsers gives %d users, want %d", len(users), len(want))
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.ID] {
			t.Errorf("ListUsers gives user %q twice", u.ID)
		}
		seen[u.ID] = true
		w, ok := want[u.ID]
		if !ok {
			t.Errorf("ListUsers gives unknown user %q", u.ID)
			continue
		}
		if d := diffUser(u, w, limitsOf(s)); d != "" {
			t.Errorf("ListUsers, user %q: %s", u.ID, d)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("ListUsers lacks user %q", id)
		}
	}
}

// testReopen checks that a reopened store has everything written before,
// and that two stores over the same storage see each other's writes.
func testReopen(t *testing.T, s Store, reopen Reopen) {
	if reopen == nil {
		t.Skip("storetest: the Opener gave no Reopen: the store keeps nothing past its life")
	}
	full := fullUser("kept", "Kept@example.com")
	create(t, s, full)
	create(t, s, &auth.User{ID: "plain", Email: "plain@example.com"})
	auto := &auth.User{Email: "auto@example.com", Roles: []string{"viewer"}}
	create(t, s, auto)
	rotated := auth.NewUniquifier()
	update(t, s, "kept", func(u *auth.User) {
		u.LoginCount++
		u.Uniquifier = rotated
		u.Roles = []string{"admin"}
	})
	want := full.Clone()
	want.LoginCount++
	want.Uniquifier = rotated
	want.Roles = []string{"admin"}

	s2 := reopen(t)
	if s2 == nil {
		t.Fatal("Reopen returned a nil Store")
	}
	wantUser(t, s2, want)
	wantUser(t, s2, &auth.User{ID: "plain", Email: "plain@example.com"})
	wantUser(t, s2, auto)
	users, err := s2.ListUsers(t.Context())
	if err != nil {
		t.Fatalf("ListUsers on the reopened store: %v", err)
	}
	if len(users) != 3 {
		t.Errorf("the reopened store lists %d users, want 3", len(users))
	}

	// Writes through either store are seen by the other at once.
	again := auth.NewUniquifier()
	update(t, s2, "kept", func(u *auth.User) { u.Uniquifier = again })
	if got := byID(t, s, "kept").Uniquifier; got != again {
		t.Errorf("a uniquifier rotated through the reopened store reads as %q through the first, want %q", got, again)
	}
	another := &auth.User{Email: "another@example.com"}
	create(t, s2, another)
	if another.ID == auto.ID {
		t.Errorf("the reopened store assigned ID %q again", another.ID)
	}
	wantUser(t, s, another)
	update(t, s, "plain", func(u *auth.User) { u.Active = true })
	if !byID(t, s2, "plain").Active {
		t.Error("a user activated through the first store reads as inactive through the reopened one")
	}
}

// reportErrors fails t with the first five errors errs (closed) holds and
// the count of the rest.
func reportErrors(t *testing.T, errs <-chan error) {
	t.Helper()
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 5 {
		t.Errorf("… and %d more errors", n-5)
	}
}
