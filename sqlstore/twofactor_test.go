package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// TestTwoFactorStore runs storetest's second factor checks on each
// dialect.
func TestTwoFactorStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunTwoFactor(t, func(t *testing.T) auth.TwoFactorStore { return b.fresh(t)(t) })
		})
	}
}

// TestTwoFactorStoreTwoInstances runs the second factor checks against two
// Stores, each with a pool of its own, over one database, as two
// processes of a service have them: the calls alternate between the two,
// so each check reads through one Store what it wrote through the other,
// and the concurrent checks race the two.
func TestTwoFactorStoreTwoInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunTwoFactor(t, func(t *testing.T) auth.TwoFactorStore {
				open := b.fresh(t)
				return alternatingFactors{&alternating{Store: open(t), other: open(t)}}
			})
		})
	}
}

// alternatingFactors is two Stores over one database; its second factor
// calls go to each in turn. Its user calls go to the first.
type alternatingFactors struct{ *alternating }

func (a alternatingFactors) TwoFactor(ctx context.Context, userID string) (*auth.TwoFactor, error) {
	return a.next().TwoFactor(ctx, userID)
}

func (a alternatingFactors) SetTwoFactor(ctx context.Context, tf *auth.TwoFactor) error {
	return a.next().SetTwoFactor(ctx, tf)
}

func (a alternatingFactors) UseTOTPCounter(ctx context.Context, userID string, counter uint64) (bool, error) {
	return a.next().UseTOTPCounter(ctx, userID, counter)
}

func (a alternatingFactors) DeleteTwoFactor(ctx context.Context, userID string) error {
	return a.next().DeleteTwoFactor(ctx, userID)
}

func (a alternatingFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	return a.next().SetRecoveryCodes(ctx, userID, hashes)
}

func (a alternatingFactors) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	return a.next().UseRecoveryCode(ctx, userID, hash)
}

func (a alternatingFactors) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	return a.next().RecoveryCodesLeft(ctx, userID)
}

// TestTwoFactorChanges: setting up, replacing (enabling, re-keying) and
// deleting a second factor log its user in the change log, whichever way
// it goes (the Store, an operator's SQL), read through a second Store as
// another process would; using a counter, setting and using recovery
// codes, and an operator's write of last_counter alone log nothing
// (checked on SQLite, whose log a read does not repeat).
func TestTwoFactorChanges(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			dsn := b.newDSN(t)
			reader, writer := openStore(t, b.driver, dsn, b.dialect), openStore(t, b.driver, dsn, b.dialect)
			db := openDB(t, b.driver, dsn)
			u := newTestUser(t, writer, "owner@example.com")
			other := newTestUser(t, writer, "other@example.com")
			_, cursor, err := reader.UserChanges(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			read := func(what string) []string {
				t.Helper()
				ids, next, err := reader.UserChanges(ctx, cursor)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				cursor = next
				return ids
			}
			// logged counts the log's entries of the user, in the table, so
			// that what is not logged is checked on PostgreSQL too.
			logged := func(id string) int {
				t.Helper()
				var n int
				if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT COUNT(*) FROM user_changes WHERE user_id = ?"), id).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before, otherBefore := logged(u.ID), logged(other.ID)
			wantLogged := func(what string) {
				t.Helper()
				if n := logged(u.ID); n != before+1 {
					t.Errorf("%s: %d entries of the user logged; want one", what, n-before)
				}
				before = logged(u.ID)
				if ids := read(what); !slices.Contains(ids, u.ID) || slices.Contains(ids, other.ID) && b.dialect == sqlstore.SQLite {
					t.Errorf("%s: the log names %q; want the user %q and not %q", what, ids, u.ID, other.ID)
				}
				if b.dialect == sqlstore.SQLite {
					if again := read(what + ", read again"); len(again) != 0 {
						t.Errorf("%s: a second read names %q again", what, again)
					}
				}
			}
			wantQuiet := func(what string) {
				t.Helper()
				if n := logged(u.ID); n != before {
					t.Errorf("%s, yet %d entries of the user were logged; want none", what, n-before)
				}
				before = logged(u.ID)
				if ids := read(what); len(ids) != 0 && b.dialect == sqlstore.SQLite {
					t.Errorf("%s, yet the log names %q", what, ids)
				}
			}
			setAt := time.Now()
			tf := &auth.TwoFactor{UserID: u.ID, Secret: []byte("sealed"), CreatedAt: setAt}
			steps := []struct {
				name   string
				change func() error
				logs   bool
			}{
				{"set up", func() error { return writer.SetTwoFactor(ctx, tf) }, true},
				{"counter used", func() error { _, err := writer.UseTOTPCounter(ctx, u.ID, 10); return err }, false},
				{"counter refused", func() error { _, err := writer.UseTOTPCounter(ctx, u.ID, 10); return err }, false},
				{"codes set", func() error {
					return writer.SetRecoveryCodes(ctx, u.ID, [][]byte{[]byte("h1"), []byte("h2")})
				}, false},
				{"code used", func() error { _, err := writer.UseRecoveryCode(ctx, u.ID, []byte("h1")); return err }, false},
				{"enabled", func() error {
					tf.Enabled, tf.EnabledAt, tf.LastCounter = true, time.Now(), 10
					return writer.SetTwoFactor(ctx, tf)
				}, true},
				{"SQL write of last_counter", func() error {
					_, err := db.ExecContext(ctx, b.dialect.Rebind("UPDATE two_factors SET last_counter = last_counter + 1 WHERE user_id = ?"), u.ID)
					return err
				}, false},
				{"re-keyed by SQL", func() error {
					_, err := db.ExecContext(ctx, b.dialect.Rebind("UPDATE two_factors SET secret = ? WHERE user_id = ?"), []byte("resealed"), u.ID)
					return err
				}, true},
				{"disabled by SQL", func() error {
					_, err := db.ExecContext(ctx, b.dialect.Rebind("UPDATE two_factors SET enabled = ? WHERE user_id = ?"), false, u.ID)
					return err
				}, true},
				{"deleted", func() error { return writer.DeleteTwoFactor(ctx, u.ID) }, true},
				{"deleted again", func() error { return writer.DeleteTwoFactor(ctx, u.ID) }, false},
				{"set up again", func() error { return writer.SetTwoFactor(ctx, tf) }, true},
				{"deleted by SQL", func() error {
					_, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM two_factors WHERE user_id = ?"), u.ID)
					return err
				}, true},
			}
			for _, st := range steps {
				if err := st.change(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if st.logs {
					wantLogged(st.name)
				} else {
					wantQuiet(st.name)
				}
			}

			if n := logged(other.ID); n != otherBefore {
				t.Errorf("the other user got %d entries in the log; want none", n-otherBefore)
			}

			// The user's deletion deletes the factor and the codes.
			if err := writer.SetTwoFactor(ctx, &auth.TwoFactor{UserID: other.ID, Secret: []byte("s")}); err != nil {
				t.Fatal(err)
			}
			if err := writer.SetRecoveryCodes(ctx, other.ID, [][]byte{[]byte("h")}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM users WHERE id = ?"), other.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := reader.TwoFactor(ctx, other.ID); !errors.Is(err, auth.ErrTokenNotFound) {
				t.Errorf("the factor of a deleted user: error = %v; want auth.ErrTokenNotFound", err)
			}
			for _, table := range []string{"two_factors", "recovery_codes"} {
				var n int
				if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT COUNT(*) FROM "+table+" WHERE user_id = ?"), other.ID).Scan(&n); err != nil || n != 0 {
					t.Errorf("rows of the deleted user left in %s: %d, %v; want none", table, n, err)
				}
			}
		})
	}
}

// TestTwoFactorColumns checks how a factor is stored: the secret and the
// recovery code hashes as the bytes given, the counter as an integer, a
// zero EnabledAt as NULL, so that an operator's SQL reads them plainly.
func TestTwoFactorColumns(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			dsn := b.newDSN(t)
			s, db := openStore(t, b.driver, dsn, b.dialect), openDB(t, b.driver, dsn)
			u := newTestUser(t, s, "columns@example.com")
			secret := []byte{0, 0xff, 's', 'e', 'a', 'l', 'e', 'd'}
			tf := &auth.TwoFactor{UserID: u.ID, Secret: secret, LastCounter: math.MaxInt64, CreatedAt: time.Now()}
			if err := s.SetTwoFactor(ctx, tf); err != nil {
				t.Fatal(err)
			}
			code := []byte{0, 0xfe, 'c'}
			if err := s.SetRecoveryCodes(ctx, u.ID, [][]byte{code}); err != nil {
				t.Fatal(err)
			}
			var (
				gotSecret, gotCode           []byte
				counter                      int64
				enabledAtNull, createdAtNull bool
			)
			err := db.QueryRowContext(ctx, b.dialect.Rebind(
				"SELECT secret, last_counter, enabled_at IS NULL, created_at IS NULL FROM two_factors WHERE user_id = ?"), u.ID).
				Scan(&gotSecret, &counter, &enabledAtNull, &createdAtNull)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotSecret, secret) || counter != math.MaxInt64 || !enabledAtNull || createdAtNull {
				t.Errorf("stored secret %x, last_counter %d, enabled_at NULL %v, created_at NULL %v; want %x, %d, true, false",
					gotSecret, counter, enabledAtNull, createdAtNull, secret, int64(math.MaxInt64))
			}
			if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT code_hash FROM recovery_codes WHERE user_id = ?"), u.ID).Scan(&gotCode); err != nil || !bytes.Equal(gotCode, code) {
				t.Errorf("stored code_hash %x, %v; want %x", gotCode, err, code)
			}
			// The column refuses a negative counter, which no uint64 is.
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("UPDATE two_factors SET last_counter = -1 WHERE user_id = ?"), u.ID); err == nil {
				t.Error("two_factors took last_counter -1")
			}
		})
	}
}

// TestTwoFactorErrors checks the errors' text and wrapping beyond what the
// suite asks, and what the columns cannot keep: an empty secret or hash,
// a counter beyond an int64.
func TestTwoFactorErrors(t *testing.T) {
	s := backends[0].fresh(t)(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "u", Secret: []byte("s"), LastCounter: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecoveryCodes(ctx, "u", [][]byte{[]byte("h")}); err != nil {
		t.Fatal(err)
	}
	errOf2 := func(_ bool, err error) error { return err }
	tests := []struct {
		name string
		err  error
		want error
		text string
	}{
		{name: "nil factor", err: s.SetTwoFactor(ctx, nil), text: "sqlstore: SetTwoFactor: nil second factor"},
		{name: "empty secret", err: s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "u"}), text: `sqlstore: SetTwoFactor of user "u": empty secret`},
		{name: "counter too great", err: s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "u", Secret: []byte("t"), LastCounter: math.MaxInt64 + 1}),
			text: `sqlstore: SetTwoFactor of user "u": LastCounter 9223372036854775808 is beyond the range of an int64`},
		{name: "unknown user", err: s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "v", Secret: []byte("t")}), want: auth.ErrUserNotFound,
			text: `sqlstore: setting the second factor of user "v": auth: user not found`},
		{name: "no factor", err: errOf(s.TwoFactor(ctx, "v")), want: auth.ErrTokenNotFound, text: `sqlstore: second factor of user "v": auth: token not found`},
		{name: "counter of no factor", err: errOf2(s.UseTOTPCounter(ctx, "v", 1)), want: auth.ErrTokenNotFound, text: `sqlstore: second factor of user "v": auth: token not found`},
		{name: "use of a counter too great", err: errOf2(s.UseTOTPCounter(ctx, "u", math.MaxUint64)),
			text: `sqlstore: UseTOTPCounter of user "u": counter 18446744073709551615 is beyond the range of an int64`},
		{name: "empty hash", err: s.SetRecoveryCodes(ctx, "u", [][]byte{[]byte("a"), nil}), text: `sqlstore: SetRecoveryCodes of user "u": empty recovery code hash`},
		{name: "codes of an unknown user", err: s.SetRecoveryCodes(ctx, "v", [][]byte{[]byte("a")}), want: auth.ErrUserNotFound,
			text: `sqlstore: setting the recovery codes of user "v": auth: user not found`},
		{name: "cancelled set", err: s.SetTwoFactor(cancelled(), &auth.TwoFactor{UserID: "u", Secret: []byte("t")}), want: context.Canceled},
		{name: "cancelled counter", err: errOf2(s.UseTOTPCounter(cancelled(), "u", 6)), want: context.Canceled},
		{name: "cancelled code", err: errOf2(s.UseRecoveryCode(cancelled(), "u", []byte("h"))), want: context.Canceled},
		{name: "cancelled codes", err: s.SetRecoveryCodes(cancelled(), "u", nil), want: context.Canceled},
		{name: "cancelled delete", err: s.DeleteTwoFactor(cancelled(), "u"), want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("error %v does not wrap %v", tt.err, tt.want)
			}
			if tt.text != "" && tt.err.Error() != tt.text {
				t.Errorf("error text = %q, want %q", tt.err.Error(), tt.text)
			}
		})
	}
	if tf, err := s.TwoFactor(ctx, "u"); err != nil || string(tf.Secret) != "s" || tf.LastCounter != 5 {
		t.Errorf("TwoFactor(u) after the refusals = %+v, %v; want the factor as set", tf, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u"); err != nil || n != 1 {
		t.Errorf("RecoveryCodesLeft(u) after the refusals = %d, %v; want 1", n, err)
	}
}

// TestTwoFactorUpgrade: a database of schema version 7, with a user, gets
// two_factors and recovery_codes when opened, and its users can set up a
// factor, which the log records.
func TestTwoFactorUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			if err := sqlstore.MigrateTo(ctx, db, b.dialect, 7); err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"two_factors", "recovery_codes"} {
				if _, err := db.ExecContext(ctx, "SELECT 1 FROM "+table); err == nil {
					t.Fatalf("the database at schema version 7 has %s already", table)
				}
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_key) VALUES ('u', 'u@example.com', 'u@example.com')`); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.Open(ctx, db, b.dialect) // migrates to the latest version
			if err != nil {
				t.Fatal(err)
			}
			var version int
			if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil || version != sqlstore.LatestVersion() {
				t.Errorf("schema version after Open = %d, %v; want %d", version, err, sqlstore.LatestVersion())
			}
			_, cursor, err := s.UserChanges(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: "u", Secret: []byte("s")}); err != nil {
				t.Fatal(err)
			}
			if ids, _, err := s.UserChanges(ctx, cursor); err != nil || !slices.Contains(ids, "u") {
				t.Errorf("after SetTwoFactor the log names %q, %v; want the user", ids, err)
			}
			if ok, err := s.UseTOTPCounter(ctx, "u", 1); err != nil || !ok {
				t.Errorf("UseTOTPCounter = %v, %v; want true", ok, err)
			}
			if err := s.SetRecoveryCodes(ctx, "u", [][]byte{[]byte("h")}); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.UseRecoveryCode(ctx, "u", []byte("h")); err != nil || !ok {
				t.Errorf("UseRecoveryCode = %v, %v; want true", ok, err)
			}
		})
	}
}

// TestFlaskStoreIsTwoFactorStore: the FlaskStore keeps authenticator apps
// in Flask-Security's own columns (flasktwofactor.go), adding no table.
func TestFlaskStoreIsTwoFactorStore(t *testing.T) {
	if _, ok := any((*sqlstore.FlaskStore)(nil)).(auth.TwoFactorStore); !ok {
		t.Error("FlaskStore is no auth.TwoFactorStore")
	}
}
