package main

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// testSecret is the signing key the tests give authctl in $AUTH_SECRET.
const testSecret = "authctl-test-secret-0123456789"

// step is one run of authctl and what it must do.
type step struct {
	name   string
	args   []string // after -db DB -bcrypt-cost 4, unless raw
	raw    bool     // args are the whole command line
	stdin  string
	code   int
	stdout []string // substrings of the standard output
	stderr []string // substrings of the standard error
}

// runSteps runs the steps in order, as subtests, against one database.
func runSteps(t *testing.T, db string, steps []step) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			args := st.args
			if !st.raw {
				args = append([]string{"-db", db, "-bcrypt-cost", "4"}, args...)
			}
			var stdout, stderr strings.Builder
			code := run(args, strings.NewReader(st.stdin), &stdout, &stderr)
			if code != st.code {
				t.Errorf("authctl %q exited %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, st.code, stdout.String(), stderr.String())
			}
			for _, want := range st.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("authctl %q: stdout lacks %q:\n%s", args, want, stdout.String())
				}
			}
			for _, want := range st.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("authctl %q: stderr lacks %q:\n%s", args, want, stderr.String())
				}
			}
			if st.code == 0 && stderr.Len() > 0 && !slices.Contains(args, "-h") {
				t.Errorf("authctl %q succeeded but wrote to stderr:\n%s", args, stderr.String())
			}
		})
	}
}

// TestUsers walks through the user and role commands on a new SQLite file,
// then checks the result through the store itself.
func TestUsers(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	missing := filepath.Join(t.TempDir(), "missing.db")
	runSteps(t, db, []step{
		{name: "list before the file exists", args: []string{"users", "list"}, code: 1, stderr: []string{"no SQLite database at", "only users create makes one"}},
		{
			name:   "create",
			args:   []string{"users", "create", "Alice@Example.com", "--role", "admin", "--role", "editor", "--password-stdin"},
			stdin:  "correct horse battery\n",
			stdout: []string{"created user 1 <Alice@Example.com>"},
		},
		{
			name:   "create with flags before the email",
			args:   []string{"users", "create", "--no-password", "--confirmed", "bob@example.com"},
			stdout: []string{"created user 2 <bob@example.com>"},
		},
		{
			name:   "duplicate email",
			args:   []string{"users", "create", "alice@example.COM", "--password-stdin"},
			stdin:  "another password\n",
			code:   1,
			stderr: []string{`a user with email "alice@example.COM" already exists`},
		},
		{name: "password not on a terminal", args: []string{"users", "create", "carol@example.com"}, code: 2, stderr: []string{"stdin is not a terminal", "--password-stdin"}},
		{name: "empty password on stdin", args: []string{"users", "create", "carol@example.com", "--password-stdin"}, stdin: "\n", code: 1, stderr: []string{"no password"}},
		{name: "both password flags", args: []string{"users", "create", "carol@example.com", "--password-stdin", "--no-password"}, code: 2, stderr: []string{"exclude each other"}},
		{name: "email with spaces", args: []string{"users", "create", " carol@example.com", "--no-password"}, code: 2, stderr: []string{"surrounding spaces"}},
		{name: "not an email", args: []string{"users", "create", "not-an-email", "--no-password"}, code: 2, stderr: []string{`auth: invalid email address "not-an-email"`}},
		{name: "display name", args: []string{"users", "create", "Carol <carol@example.com>", "--no-password"}, code: 2, stderr: []string{"auth: invalid email address", `want a plain address such as "carol@example.com"`}},
		{name: "angle brackets", args: []string{"users", "create", "<carol@example.com>", "--password-stdin"}, stdin: "a long enough password\n", code: 2, stderr: []string{"auth: invalid email address"}},
		{name: "inner space", args: []string{"users", "create", "carol smith@example.com", "--no-password"}, code: 2, stderr: []string{"auth: invalid email address"}},
		{name: "empty role", args: []string{"users", "create", "carol@example.com", "--no-password", "--role", ""}, code: 2, stderr: []string{"empty --role"}},
		{name: "missing email", args: []string{"users", "create"}, code: 2, stderr: []string{"users create: missing EMAIL", "usage: authctl"}},
		{name: "extra argument", args: []string{"users", "activate", "a@example.com", "b@example.com"}, code: 2, stderr: []string{`unexpected argument "b@example.com"`}},
		{name: "unknown flag", args: []string{"users", "list", "--json"}, code: 2, stderr: []string{"flag provided but not defined: -json", "usage: authctl"}},
		{name: "add role", args: []string{"roles", "add", "bob@example.com", "viewer"}, stdout: []string{"bob@example.com now has roles viewer"}},
		{name: "add role again", args: []string{"roles", "add", "BOB@example.com", "viewer"}, stdout: []string{`already has role "viewer"`}},
		{name: "remove role", args: []string{"roles", "remove", "alice@example.com", "admin"}, stdout: []string{"now has roles editor"}},
		{name: "remove absent role", args: []string{"roles", "remove", "alice@example.com", "admin"}, stdout: []string{`does not have role "admin"`}},
		{name: "role of unknown user", args: []string{"roles", "add", "nobody@example.com", "x"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "role missing", args: []string{"roles", "add", "bob@example.com"}, code: 2, stderr: []string{"missing ROLE"}},
		{name: "deactivate", args: []string{"users", "deactivate", "bob@example.com"}, stdout: []string{"bob@example.com is now inactive"}},
		{name: "confirm", args: []string{"users", "confirm", "alice@example.com"}, stdout: []string{"Alice@Example.com is now confirmed"}},
		{name: "activate unknown user", args: []string{"users", "activate", "nobody@example.com"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "set password", args: []string{"users", "set-password", "alice@example.com", "--password-stdin"}, stdin: "a new password\r\n", stdout: []string{"password changed for Alice@Example.com"}},
		{name: "set password of unknown user", args: []string{"users", "set-password", "nobody@example.com", "--password-stdin"}, stdin: "x\n", code: 1, stderr: []string{"no user with email"}},
		{
			name:   "list",
			args:   []string{"users", "list"},
			stdout: []string{"ID  EMAIL", "1   Alice@Example.com  yes     yes        yes       editor", "2   bob@example.com    no      yes        no        viewer"},
		},
		{name: "list with a missing file", args: []string{"-db", missing, "users", "list"}, raw: true, code: 1, stderr: []string{"no SQLite database at " + missing}},
		{name: "no database", args: []string{"users", "list"}, raw: true, code: 2, stderr: []string{"no database: give -db DSN or set AUTH_DB"}},
		{name: "unreachable PostgreSQL", args: []string{"-db", "postgres://nobody:x@127.0.0.1:1/none?connect_timeout=5", "users", "list"}, raw: true, code: 1, stderr: []string{"connecting to the database"}},
		{name: "malformed PostgreSQL URL", args: []string{"-db", "postgresql://%zz", "users", "list"}, raw: true, code: 1, stderr: []string{"connecting to the database"}},
		{name: "not an SQLite file", args: []string{"-db", notADatabase(t), "users", "list"}, raw: true, code: 1, stderr: []string{"file is not a database"}},
	})

	// The changes must be in the database, as the service would see them.
	s := openTestStore(t, db)
	m, err := auth.New(s, []byte(testSecret), auth.Config{Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.Authenticate(t.Context(), "alice@example.com", "a new password")
	if err != nil {
		t.Fatalf("the password set by authctl does not authenticate: %v", err)
	}
	if u.Email != "Alice@Example.com" || !u.Active || !u.Confirmed || strings.Join(u.Roles, ",") != "editor" {
		t.Errorf("alice = %+v", u)
	}
	if _, err := m.Authenticate(t.Context(), "alice@example.com", "correct horse battery"); err == nil {
		t.Error("the old password still authenticates")
	}
	bob, err := s.UserByEmail(t.Context(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Active || !bob.Confirmed || bob.PasswordHash != "" || bob.Uniquifier == "" {
		t.Errorf("bob = %+v", bob)
	}
}

// TestTokens checks the token commands against tokens a Manager issued.
func TestTokens(t *testing.T) {
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{{name: "create", args: []string{"users", "create", "dave@example.com", "--no-password"}, stdout: []string{"created user 1"}}})
	s := openTestStore(t, db)
	const salt = "test-salt"
	m, err := auth.New(s, []byte(testSecret), auth.Config{Logger: slog.New(slog.DiscardHandler), Token: auth.TokenConfig{Salt: salt}, Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByID(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	token, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTH_SECRET", testSecret)
	t.Setenv("AUTH_TOKEN_SALT", salt)
	tampered := token[:len(token)-2] + "AA"
	if tampered == token {
		tampered = token[:len(token)-2] + "BB"
	}

	runSteps(t, db, []step{
		{name: "inspect", args: []string{"tokens", "inspect", token}, stdout: []string{"UNVERIFIED", "payload (unverified): ", "issued  (unverified): " + time.Now().UTC().Format("2006-01-02")}},
		{name: "inspect tampered", args: []string{"tokens", "inspect", tampered}, stdout: []string{"UNVERIFIED"}},
		{name: "inspect garbage", args: []string{"tokens", "inspect", "garbage"}, code: 1, stderr: []string{"cannot decode the token"}},
		{name: "inspect from stdin", args: []string{"tokens", "inspect", "-"}, stdin: token + "\n", stdout: []string{"UNVERIFIED"}},
		{name: "inspect without a token", args: []string{"tokens", "inspect", "-"}, code: 1, stderr: []string{"no token on the first line of stdin"}},
		{name: "verify", args: []string{"tokens", "verify", token}, stdout: []string{"VALID: token of user 1 <dave@example.com>", "expires: "}},
		{name: "verify from stdin", args: []string{"tokens", "verify", "--", "-"}, stdin: token, stdout: []string{"VALID"}},
		{name: "verify tampered", args: []string{"tokens", "verify", tampered}, code: 1, stderr: []string{"the token is not valid: auth: invalid token"}},
		{name: "verify with another digest", args: []string{"tokens", "verify", token, "--digest", "sha1"}, code: 1, stderr: []string{"invalid token"}},
		{name: "verify with an unknown digest", args: []string{"tokens", "verify", token, "--digest", "md5"}, code: 1, stderr: []string{"md5"}},
		{name: "revoke", args: []string{"tokens", "revoke", "dave@example.com"}, stdout: []string{"revoked every token of dave@example.com"}},
		{name: "verify revoked", args: []string{"tokens", "verify", token}, code: 1, stderr: []string{"the token is not valid"}},
		{name: "revoke unknown user", args: []string{"tokens", "revoke", "nobody@example.com"}, code: 1, stderr: []string{"no user with email"}},
	})

	t.Setenv("AUTH_SECRET", "")
	runSteps(t, db, []step{
		{name: "verify without a key", args: []string{"tokens", "verify", token}, code: 1, stderr: []string{"AUTH_SECRET is not set"}},
	})
	t.Setenv("AUTH_SECRET", testSecret)
	t.Setenv("AUTH_TOKEN_SALT", "other-salt")
	u, err = s.UserByID(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, db, []step{
		{name: "verify with another salt", args: []string{"tokens", "verify", fresh}, code: 1, stderr: []string{"invalid token"}},
	})
}

// TestUsage checks -h on every command and the usage errors.
func TestUsage(t *testing.T) {
	tests := []step{
		{name: "authctl -h", args: []string{"-h"}, raw: true, stdout: []string{"usage: authctl", "tokens verify TOKEN"}},
		{name: "no command", args: nil, raw: true, code: 2, stderr: []string{"authctl: no command", "usage: authctl"}},
		{name: "unknown flag", args: []string{"-frob"}, raw: true, code: 2, stderr: []string{"flag provided but not defined: -frob"}},
		{name: "unknown command", args: []string{"frob"}, raw: true, code: 2, stderr: []string{`unknown command "frob"`}},
		{name: "unknown subcommand", args: []string{"users", "frob"}, raw: true, code: 2, stderr: []string{`users: unknown subcommand "frob"`, "authctl users list"}},
		{name: "missing subcommand", args: []string{"tokens"}, raw: true, code: 2, stderr: []string{"tokens: missing subcommand (revoke, inspect, verify, list, create, revoke-id)"}},
		{name: "users -h", args: []string{"users", "-h"}, raw: true, stdout: []string{"authctl users create EMAIL", "authctl users confirm EMAIL"}},
	}
	for _, c := range commands {
		g, name, _ := strings.Cut(c.name, " ")
		tests = append(tests, step{
			name:   c.name + " -h",
			args:   []string{g, name, "-h"},
			raw:    true,
			stdout: []string{"usage: authctl [-db DSN] " + c.name},
		})
	}
	runSteps(t, "", tests)
}

// TestPassword checks reading passwords from stdin.
func TestPassword(t *testing.T) {
	tests := []struct {
		name    string
		stdin   string
		want    string
		wantErr string
	}{
		{name: "line", stdin: "secret\nrest", want: "secret"},
		{name: "CRLF", stdin: "secret\r\n", want: "secret"},
		{name: "no newline", stdin: "secret", want: "secret"},
		{name: "spaces kept", stdin: " two words \n", want: " two words "},
		{name: "empty", stdin: "", wantErr: "no password"},
		{name: "empty line", stdin: "\nsecret\n", wantErr: "no password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{stdin: strings.NewReader(tt.stdin), stderr: &strings.Builder{}}
			got, err := a.readPassword(true, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("readPassword = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("readPassword = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// openTestStore opens the SQLite file as the service would.
func openTestStore(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.Open(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// notADatabase returns the path of a file that is not an SQLite database.
func notADatabase(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("garbage ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
