package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// fullUser returns a user with every field set to a value unlike its zero
// value, with times in a zone other than UTC and with nanoseconds.
func fullUser(id, email string) *auth.User {
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	return &auth.User{
		ID:             id,
		Email:          email,
		PasswordHash:   "$2a$04$abcdefghijklmnopqrstuu5u6M1N1t8ZB7o2b0oPaTDqA5KvOxC5e",
		Active:         true,
		Confirmed:      true,
		Roles:          []string{"editor", "admin"}, // not sorted: order must be kept
		Uniquifier:     auth.NewUniquifier(),
		LastLoginAt:    time.Date(2024, 2, 29, 23, 59, 58, 987654321, zone),
		CurrentLoginAt: time.Date(2025, 7, 1, 8, 30, 15, 123456789, zone),
		LastLoginIP:    "192.0.2.10",
		CurrentLoginIP: "2001:db8::7",
		LoginCount:     41,
	}
}

// diffUser describes how got differs from want, or returns "" when they are
// equal as the package documentation defines it, relaxed by lim.
func diffUser(got, want *auth.User, lim Limits) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("user = %v, want %v", got, want)
	}
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", got.ID == want.ID, got.ID, want.ID)
	field("Email", got.Email == want.Email, got.Email, want.Email)
	field("PasswordHash", got.PasswordHash == want.PasswordHash, got.PasswordHash, want.PasswordHash)
	field("Active", got.Active == want.Active, got.Active, want.Active)
	field("Confirmed", got.Confirmed == want.Confirmed, got.Confirmed, want.Confirmed)
	field("Roles", sameRoles(lim, got.Roles, want.Roles), got.Roles, want.Roles)
	if !lim.GeneratedUniquifiers || want.Uniquifier != "" { // else the store may have made one up
		field("Uniquifier", got.Uniquifier == want.Uniquifier, got.Uniquifier, want.Uniquifier)
	}
	field("LastLoginAt", sameTime(got.LastLoginAt, want.LastLoginAt), fmtTime(got.LastLoginAt), fmtTime(want.LastLoginAt))
	field("CurrentLoginAt", sameTime(got.CurrentLoginAt, want.CurrentLoginAt), fmtTime(got.CurrentLoginAt), fmtTime(want.CurrentLoginAt))
	field("LastLoginIP", got.LastLoginIP == want.LastLoginIP, got.LastLoginIP, want.LastLoginIP)
	field("CurrentLoginIP", got.CurrentLoginIP == want.CurrentLoginIP, got.CurrentLoginIP, want.CurrentLoginIP)
	field("LoginCount", got.LoginCount == want.LoginCount, got.LoginCount, want.LoginCount)
	return strings.Join(d, "; ")
}

// sameTime reports whether a and b are the same instant to the second, both
// truncated, or both zero.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	return t.Format(time.RFC3339Nano)
}

// create stores u and fails the test if that fails.
func create(t *testing.T, s Store, u *auth.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(ID %q, Email %q): %v", u.ID, u.Email, err)
	}
}

// byID reads the user with the given ID and fails the test if that fails.
func byID(t *testing.T, s Store, id string) *auth.User {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%q): %v", id, err)
	}
	if u == nil {
		t.Fatalf("UserByID(%q) returned a nil user and no error", id)
	}
	return u
}

// byEmail reads the user with the given email and fails the test if that
// fails.
func byEmail(t *testing.T, s Store, email string) *auth.User {
	t.Helper()
	u, err := s.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("UserByEmail(%q): %v", email, err)
	}
	if u == nil {
		t.Fatalf("UserByEmail(%q) returned a nil user and no error", email)
	}
	return u
}

// update runs UpdateUser with fn and fails the test if that fails.
func update(t *testing.T, s Store, id string, fn func(*auth.User)) {
	t.Helper()
	err := s.UpdateUser(t.Context(), id, func(u *auth.User) error {
		fn(u)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser(%q): %v", id, err)
	}
}

// wantUser fails the test unless the stored user with want's ID, read by ID
// and by email, equals want.
func wantUser(t *testing.T, s Store, want *auth.User) {
	t.Helper()
	if d := diffUser(byID(t, s, want.ID), want, limitsOf(s)); d != "" {
		t.Errorf("UserByID(%q): %s", want.ID, d)
	}
	if d := diffUser(byEmail(t, s, want.Email), want, limitsOf(s)); d != "" {
		t.Errorf("UserByEmail(%q): %s", want.Email, d)
	}
}

// wantNotFound fails the test unless err wraps auth.ErrUserNotFound.
func wantNotFound(t *testing.T, call string, u *auth.User, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s = %v, nil error; want an error wrapping auth.ErrUserNotFound", call, u)
		return
	}
	if !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("%s error = %v; want one wrapping auth.ErrUserNotFound", call, err)
	}
}
