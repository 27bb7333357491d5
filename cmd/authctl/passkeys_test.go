package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
)

// TestUsersPasskeys: "users passkeys" lists a user's passkeys, oldest
// first, with their usage, times, sign count, device type and credential
// ID, and none of another user's; --delete NAME deletes the one of that
// exact name and says so, leaving the user's others and another user's of
// the same name; an unknown name and an unknown user are errors; users
// 2fa-reset leaves passkeys alone. There is no browser here: the passkeys
// are added through the store.
func TestUsersPasskeys(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create", args: []string{"users", "create", "erin@example.com", "--no-password"}, stdout: []string{"created user 1"}},
		{name: "create other", args: []string{"users", "create", "frank@example.com", "--no-password"}, stdout: []string{"created user 2"}},
		{name: "none yet", args: []string{"users", "passkeys", "erin@example.com"}, stdout: []string{"no passkeys of erin@example.com"}},
	})
	ctx := context.Background()
	s := openTestStore(t, db)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	phoneID := []byte{0, 0xff, 0xfe, 'p', 'h', 'o', 'n', 'e'}
	keyID := bytes.Repeat([]byte{0xfb}, 20)
	passkeys := []*auth.Passkey{
		{ID: keyID, UserID: "1", Name: "YubiKey", Usage: "secondary", PublicKey: []byte("k1"), SignCount: 42,
			Transports: []string{"usb", "nfc"}, CreatedAt: created.Add(time.Hour), LastUsedAt: created.Add(48 * time.Hour)},
		{ID: phoneID, UserID: "1", Name: "phone", Usage: "first", PublicKey: []byte("k2"),
			Transports: []string{"internal", "hybrid"}, BackupEligible: true, BackupState: true, UserVerified: true, Discoverable: true,
			CreatedAt: created},
		{ID: []byte("frank's phone"), UserID: "2", Name: "phone", Usage: "first", PublicKey: []byte("k3"), CreatedAt: created},
	}
	for _, p := range passkeys {
		if err := s.AddPasskey(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	phone64, key64 := base64.RawURLEncoding.EncodeToString(phoneID), base64.RawURLEncoding.EncodeToString(keyID)

	var listing strings.Builder
	if code := run([]string{"-db", db, "users", "passkeys", "erin@example.com"}, strings.NewReader(""), &listing, &listing); code != 0 {
		t.Fatalf("users passkeys exited %d:\n%s", code, listing.String())
	}
	lines := strings.Split(strings.TrimSpace(listing.String()), "\n")
	want := [][]string{
		{"NAME", "USAGE", "CREATED", "LAST", "USED", "SIGN", "COUNT", "DEVICE", "CREDENTIAL", "ID"},
		{"phone", "first", "2026-01-02T03:04:05Z", "-", "0", "multi", phone64},
		{"YubiKey", "secondary", "2026-01-02T04:04:05Z", "2026-01-04T03:04:05Z", "42", "single", key64},
	}
	if len(lines) != len(want) {
		t.Fatalf("users passkeys printed %d lines, want %d:\n%s", len(lines), len(want), listing.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("line %d = %q, want the fields %q", i, lines[i], w)
		}
	}
	if strings.Contains(listing.String(), base64.RawURLEncoding.EncodeToString([]byte("frank's phone"))) {
		t.Errorf("erin's listing shows frank's passkey:\n%s", listing.String())
	}

	runSteps(t, db, []step{
		{name: "delete", args: []string{"users", "passkeys", "erin@example.com", "--delete", "phone"},
			stdout: []string{`deleted passkey "phone" (first) of erin@example.com: it signs in no more`}},
		{name: "delete again", args: []string{"users", "passkeys", "erin@example.com", "--delete", "phone"}, code: 1,
			stderr: []string{`erin@example.com has no passkey named "phone"`}},
		{name: "another case", args: []string{"users", "passkeys", "--delete", "yubikey", "erin@example.com"}, code: 1,
			stderr: []string{`erin@example.com has no passkey named "yubikey"`}},
		{name: "after the deletion", args: []string{"users", "passkeys", "erin@example.com"}, stdout: []string{"YubiKey", key64}},
		{name: "unknown user", args: []string{"users", "passkeys", "nobody@example.com"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "no email", args: []string{"users", "passkeys"}, code: 2},
		{name: "empty name", args: []string{"users", "passkeys", "erin@example.com", "--delete", ""}, code: 2, stderr: []string{"want the passkey's name"}},
		{name: "help", args: []string{"users", "passkeys", "-h"}, stdout: []string{"users passkeys EMAIL [--delete NAME]", "credential ID (base64url)"}},
		// Passkeys are no business of 2fa-reset's.
		{name: "2fa-reset", args: []string{"users", "2fa-reset", "erin@example.com"}},
	})
	if _, err := s.Passkey(ctx, phoneID); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("erin's phone after the deletion: %v, want ErrTokenNotFound", err)
	}
	if list, err := s.Passkeys(ctx, "1"); err != nil || len(list) != 1 || list[0].Name != "YubiKey" {
		t.Errorf("erin's passkeys after the deletion and users 2fa-reset: %+v, %v; want the YubiKey", list, err)
	}
	if list, err := s.Passkeys(ctx, "2"); err != nil || len(list) != 1 || list[0].Name != "phone" {
		t.Errorf("frank's passkeys after erin's phone was deleted: %+v, %v; want his phone", list, err)
	}
}

// TestUsersPasskeysFlask: a Flask-Security database keeps no passkeys in
// tables authctl knows, which "users passkeys" says, changing nothing.
func TestUsersPasskeysFlask(t *testing.T) {
	db := flaskTestDB(t)
	before := tablesOf(t, db)
	runSteps(t, db, []step{
		{name: "list", args: []string{"users", "passkeys", "alice@example.com"}, code: 1, stderr: []string{"the Flask-Security database keeps no passkeys: it has no WebAuthn table"}},
		{name: "delete", args: []string{"users", "passkeys", "alice@example.com", "--delete", "phone"}, code: 1, stderr: []string{"the Flask-Security database keeps no passkeys"}},
	})
	if after := tablesOf(t, db); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("tables before %v, after %v", before, after)
	}
}

// TestUsersPasskeysFlaskWebAuthn: over a Flask-Security database with a
// WebAuthn model, the command lists and deletes its rows.
func TestUsersPasskeysFlaskWebAuthn(t *testing.T) {
	db := flaskTestDBOf(t, "schema_sqlite_webauthn.sql")
	runSteps(t, db, []step{
		{name: "none", args: []string{"users", "passkeys", "alice@example.com"}, stdout: []string{"no passkeys of alice@example.com"}},
	})
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`UPDATE user SET fs_webauthn_user_handle = 'abc123' WHERE email = 'alice@example.com'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO web_authn (credential_id, public_key, sign_count, transports, backup_state, device_type,
		extensions, create_datetime, lastuse_datetime, name, usage, user_id)
		VALUES (x'0102', x'a501', 7, 'usb', 0, 'single_device', '{"credProps":{"rk":false}}',
		'2026-01-02 03:04:05.000000', '2026-02-03 04:05:06.000000', 'yubikey', 'secondary',
		(SELECT id FROM user WHERE email = 'alice@example.com'))`); err != nil {
		t.Fatal(err)
	}
	runSteps(t, db, []step{
		{name: "list", args: []string{"users", "passkeys", "alice@example.com"}, stdout: []string{"yubikey", "secondary", "AQI"}},
		{name: "delete", args: []string{"users", "passkeys", "alice@example.com", "--delete", "yubikey"}, stdout: []string{`deleted passkey "yubikey"`}},
		{name: "gone", args: []string{"users", "passkeys", "alice@example.com"}, stdout: []string{"no passkeys of alice@example.com"}},
	})
}
