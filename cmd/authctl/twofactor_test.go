package main

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// TestUsersTwoFactorReset: "users 2fa-reset" turns a user's second factor
// off, deleting the app's key and the recovery codes, so that the password
// alone logs in again; another user's factor stays; a user without one is
// told so.
func TestUsersTwoFactorReset(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create", args: []string{"users", "create", "erin@example.com", "--password-stdin"}, stdin: "erin's password\n", stdout: []string{"created user 1"}},
		{name: "create other", args: []string{"users", "create", "frank@example.com", "--password-stdin"}, stdin: "frank's password\n", stdout: []string{"created user 2"}},
		{name: "none yet", args: []string{"users", "2fa-reset", "erin@example.com"}, stdout: []string{"erin@example.com has no authenticator app or recovery codes; nothing changed"}},
	})
	ctx := context.Background()
	s := openTestStore(t, db)
	now := time.Now().UTC()
	for _, id := range []string{"1", "2"} {
		if err := s.SetTwoFactor(ctx, &auth.TwoFactor{UserID: id, Secret: []byte("sealed secret " + id), Enabled: true, CreatedAt: now, EnabledAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRecoveryCodes(ctx, id, [][]byte{[]byte("h1" + id), []byte("h2" + id), []byte("h3" + id)}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := auth.New(s, []byte(testSecret), auth.Config{
		Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		TwoFactor: auth.TwoFactorConfig{Enabled: true}, UserCache: auth.UserCacheConfig{Size: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "erin@example.com", "erin's password", "192.0.2.1"); !errors.Is(err, auth.ErrTwoFactorRequired) {
		t.Fatalf("login with a second factor on: %v, want ErrTwoFactorRequired", err)
	}

	runSteps(t, db, []step{
		{name: "reset", args: []string{"users", "2fa-reset", "erin@example.com"},
			stdout: []string{"second factor of erin@example.com turned off: deleted its authenticator app and 3 recovery codes; the password alone logs in now"}},
		{name: "again", args: []string{"users", "2fa-reset", "erin@example.com"}, stdout: []string{"erin@example.com has no authenticator app or recovery codes; nothing changed"}},
		{name: "unknown user", args: []string{"users", "2fa-reset", "nobody@example.com"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "no email", args: []string{"users", "2fa-reset"}, code: 2},
		{name: "help", args: []string{"users", "2fa-reset", "-h"}, stdout: []string{"users 2fa-reset EMAIL", "recovery codes"}},
	})
	if _, err := s.TwoFactor(ctx, "1"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("erin's second factor after the reset: %v, want ErrTokenNotFound", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "1"); err != nil || n != 0 {
		t.Errorf("erin's recovery codes after the reset: %d, %v", n, err)
	}
	if _, err := m.Login(ctx, "erin@example.com", "erin's password", "192.0.2.1"); err != nil {
		t.Errorf("the password alone after the reset: %v", err)
	}
	if f, err := s.TwoFactor(ctx, "2"); err != nil || !f.Enabled {
		t.Errorf("frank's second factor: %v, %v", f, err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, "2"); n != 3 {
		t.Errorf("frank's recovery codes: %d, want 3", n)
	}
	// A passkey that is a second factor stays, and says so.
	if err := s.AddPasskey(ctx, &auth.Passkey{ID: []byte("key of frank"), UserID: "2", UserHandle: []byte("h"), Name: "key",
		Usage: "secondary", PublicKey: []byte("public key"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	runSteps(t, db, []step{
		{name: "reset with a passkey", args: []string{"users", "2fa-reset", "frank@example.com"},
			stdout: []string{"deleted its authenticator app and 3 recovery codes; 1 passkey is still a second factor (users passkeys frank@example.com)"}},
		{name: "again with a passkey", args: []string{"users", "2fa-reset", "frank@example.com"},
			stdout: []string{"nothing changed; 1 passkey is still a second factor"}},
	})
}

// TestUsersTwoFactorResetFlask: a Flask-Security database keeps no second
// factors, which "users 2fa-reset" says, changing nothing.
func TestUsersTwoFactorResetFlask(t *testing.T) {
	db := flaskTestDB(t)
	before := tablesOf(t, db)
	runSteps(t, db, []step{
		{name: "none", args: []string{"users", "2fa-reset", "alice@example.com"},
			stdout: []string{"alice@example.com has no authenticator app or recovery codes; nothing changed"}},
	})
	// An app set up by Flask-Security, in its columns.
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`UPDATE user SET tf_primary_method = 'authenticator', tf_totp_secret = '{"key":"JBSWY3DPEHPK3PXP","type":"totp","v":1}',
		mf_recovery_codes = 'aaaa-bbbb-cccc' WHERE email = 'alice@example.com'`); err != nil {
		t.Fatal(err)
	}
	runSteps(t, db, []step{
		{name: "reset", args: []string{"users", "2fa-reset", "alice@example.com"},
			stdout: []string{"second factor of alice@example.com turned off: deleted its authenticator app and 0 recovery codes"}},
	})
	var method, secret, codes sql.NullString
	if err := conn.QueryRow(`SELECT tf_primary_method, tf_totp_secret, mf_recovery_codes FROM user WHERE email = 'alice@example.com'`).
		Scan(&method, &secret, &codes); err != nil || method.Valid || secret.Valid || codes.Valid {
		t.Errorf("after the reset: %v %v %v %v", method, secret, codes, err)
	}
	if after := tablesOf(t, db); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("tables before %v, after %v", before, after)
	}
}
