package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// newTwoFactorMemoryStore returns a MemoryStore holding the user "u".
func newTwoFactorMemoryStore(t *testing.T) *auth.MemoryStore {
	t.Helper()
	s := auth.NewMemoryStore()
	if err := s.CreateUser(t.Context(), &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMemoryStoreTwoFactorBasics: a factor reads back as stored, the
// store keeps copies, a counter is accepted once and only upwards, a
// recovery code is used once, and a deletion removes factor and codes.
func TestMemoryStoreTwoFactorBasics(t *testing.T) {
	s := newTwoFactorMemoryStore(t)
	ctx := t.Context()
	if _, err := s.TwoFactor(ctx, "u"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Fatalf("TwoFactor before SetTwoFactor: error = %v, want auth.ErrTokenNotFound", err)
	}
	created := time.Date(2025, 7, 1, 8, 30, 15, 0, time.UTC)
	tf := &auth.TwoFactor{UserID: "u", Secret: []byte("sealed"), LastCounter: 7, CreatedAt: created}
	if err := s.SetTwoFactor(ctx, tf); err != nil {
		t.Fatal(err)
	}
	tf.Secret[0] = 'X'
	got, err := s.TwoFactor(ctx, "u")
	if err != nil || string(got.Secret) != "sealed" || got.LastCounter != 7 || got.Enabled || !got.CreatedAt.Equal(created) || !got.EnabledAt.IsZero() {
		t.Fatalf("TwoFactor = %+v, %v; want the factor stored, secret unchanged by the caller", got, err)
	}
	got.Secret[0] = 'Y'
	for _, st := range []struct {
		counter uint64
		want    bool
	}{{7, false}, {6, false}, {8, true}, {8, false}, {10, true}, {9, false}} {
		ok, err := s.UseTOTPCounter(ctx, "u", st.counter)
		if err != nil || ok != st.want {
			t.Errorf("UseTOTPCounter(%d) = %v, %v; want %v", st.counter, ok, err, st.want)
		}
	}
	if got, err := s.TwoFactor(ctx, "u"); err != nil || got.LastCounter != 10 || string(got.Secret) != "sealed" {
		t.Errorf("TwoFactor after the counters = %+v, %v; want LastCounter 10 and the secret stored", got, err)
	}
	if _, err := s.UseTOTPCounter(ctx, "nobody", 1); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("UseTOTPCounter without a factor: error = %v, want auth.ErrTokenNotFound", err)
	}

	hashes := [][]byte{[]byte("h1"), []byte("h2"), []byte("h2"), []byte("h3")}
	if err := s.SetRecoveryCodes(ctx, "u", hashes); err != nil {
		t.Fatal(err)
	}
	hashes[0][0] = 'X'
	left := func(want int) {
		t.Helper()
		if n, err := s.RecoveryCodesLeft(ctx, "u"); err != nil || n != want {
			t.Errorf("RecoveryCodesLeft = %d, %v; want %d", n, err, want)
		}
	}
	left(3) // h2 given twice is kept once
	use := func(hash string, want bool) {
		t.Helper()
		if ok, err := s.UseRecoveryCode(ctx, "u", []byte(hash)); err != nil || ok != want {
			t.Errorf("UseRecoveryCode(%q) = %v, %v; want %v", hash, ok, err, want)
		}
	}
	use("h1", true)
	use("h1", false)
	use("X1", false)
	use("", false)
	left(2)
	if err := s.DeleteTwoFactor(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTwoFactor(ctx, "u"); err != nil {
		t.Errorf("DeleteTwoFactor again: %v", err)
	}
	if _, err := s.TwoFactor(ctx, "u"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("TwoFactor after DeleteTwoFactor: error = %v, want auth.ErrTokenNotFound", err)
	}
	left(0)
	use("h2", false)
}

// TestMemoryStoreTwoFactorRefusals: a nil factor, an empty secret, a user
// the store does not hold and an empty recovery code hash are refused, as
// is a cancelled context, and nothing is stored or changed.
func TestMemoryStoreTwoFactorRefusals(t *testing.T) {
	s := newTwoFactorMemoryStore(t)
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		tf   *auth.TwoFactor
		want string
	}{
		{name: "nil", ctx: ctx, tf: nil, want: "auth: SetTwoFactor: nil second factor"},
		{name: "nil secret", ctx: ctx, tf: &auth.TwoFactor{UserID: "u"}, want: "auth: SetTwoFactor: empty secret"},
		{name: "empty secret", ctx: ctx, tf: &auth.TwoFactor{UserID: "u", Secret: []byte{}}, want: "auth: SetTwoFactor: empty secret"},
		{name: "unknown user", ctx: ctx, tf: &auth.TwoFactor{UserID: "v", Secret: []byte("s")}, want: `auth: user not found: second factor of user "v"`},
		{name: "cancelled", ctx: cancelled, tf: &auth.TwoFactor{UserID: "u", Secret: []byte("s")}, want: context.Canceled.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetTwoFactor(tt.ctx, tt.tf)
			if err == nil || err.Error() != tt.want {
				t.Errorf("SetTwoFactor error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := s.TwoFactor(ctx, "u"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("TwoFactor(u) after refusals: error = %v, want auth.ErrTokenNotFound", err)
	}
	if _, err := s.TwoFactor(ctx, "v"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("TwoFactor(v) after refusals: error = %v, want auth.ErrTokenNotFound", err)
	}

	codes := []struct {
		name   string
		ctx    context.Context
		user   string
		hashes [][]byte
		want   string
	}{
		{name: "empty hash", ctx: ctx, user: "u", hashes: [][]byte{[]byte("h"), {}}, want: "auth: SetRecoveryCodes: empty recovery code hash"},
		{name: "nil hash", ctx: ctx, user: "u", hashes: [][]byte{nil}, want: "auth: SetRecoveryCodes: empty recovery code hash"},
		{name: "unknown user", ctx: ctx, user: "v", hashes: [][]byte{[]byte("h")}, want: `auth: user not found: recovery codes of user "v"`},
		{name: "cancelled", ctx: cancelled, user: "u", hashes: [][]byte{[]byte("h")}, want: context.Canceled.Error()},
	}
	for _, tt := range codes {
		t.Run("codes "+tt.name, func(t *testing.T) {
			err := s.SetRecoveryCodes(tt.ctx, tt.user, tt.hashes)
			if err == nil || err.Error() != tt.want {
				t.Errorf("SetRecoveryCodes error = %v, want %q", err, tt.want)
			}
		})
	}
	for _, u := range []string{"u", "v"} {
		if n, err := s.RecoveryCodesLeft(ctx, u); err != nil || n != 0 {
			t.Errorf("RecoveryCodesLeft(%s) after refusals = %d, %v; want 0", u, n, err)
		}
	}

	// The reads and writes of a cancelled context do nothing either.
	if err := s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "u", Secret: []byte("s"), LastCounter: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecoveryCodes(ctx, "u", [][]byte{[]byte("h")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TwoFactor(cancelled, "u"); !errors.Is(err, context.Canceled) {
		t.Errorf("TwoFactor with a cancelled context: error = %v", err)
	}
	if ok, err := s.UseTOTPCounter(cancelled, "u", 6); !errors.Is(err, context.Canceled) || ok {
		t.Errorf("UseTOTPCounter with a cancelled context = %v, %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(cancelled, "u", []byte("h")); !errors.Is(err, context.Canceled) || ok {
		t.Errorf("UseRecoveryCode with a cancelled context = %v, %v", ok, err)
	}
	if n, err := s.RecoveryCodesLeft(cancelled, "u"); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("RecoveryCodesLeft with a cancelled context = %d, %v", n, err)
	}
	if err := s.DeleteTwoFactor(cancelled, "u"); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteTwoFactor with a cancelled context: error = %v", err)
	}
	if tf, err := s.TwoFactor(ctx, "u"); err != nil || tf.LastCounter != 5 {
		t.Errorf("TwoFactor(u) = %+v, %v; want the factor, kept, LastCounter 5", tf, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u"); err != nil || n != 1 {
		t.Errorf("RecoveryCodesLeft(u) = %d, %v; want the code, kept", n, err)
	}
}

// TestMemoryStoreTwoFactor runs storetest's second factor checks against
// MemoryStore's auth.TwoFactorStore.
func TestMemoryStoreTwoFactor(t *testing.T) {
	storetest.RunTwoFactor(t, func(*testing.T) auth.TwoFactorStore { return auth.NewMemoryStore() })
}
