package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authkit/auth/internal/testpython"
)

const flaskDir = "../../testdata/flask/"

// flaskSalt is the Flask app's SECURITY_PASSWORD_SALT in these tests.
const flaskSalt = "authctl-flask-test-salt"

// tablesOf lists the tables of an SQLite file, read without changing it.
func tablesOf(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// TestFlaskDatabase runs authctl on a database the real Flask-Security
// made: it must work on Flask's tables, never add its own, and write
// password hashes Flask verifies.
func TestFlaskDatabase(t *testing.T) {
	py := testpython.Find(t, "python3-flask-security python3-flask-sqlalchemy python3-passlib python3-bcrypt",
		"flask_security", "flask_sqlalchemy", "passlib", "bcrypt")
	db := filepath.Join(t.TempDir(), "flask.db")
	cmd := exec.Command(py, "-B", flaskDir+"make_app_db.py", "create", "--db", db)
	cmd.Env = append(os.Environ(), "SECURITY_PASSWORD_SALT="+flaskSalt)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_app_db.py create: %v\n%s", err, out)
	}
	before := tablesOf(t, db)
	if slices.Contains(before, "schema_migrations") || !slices.Contains(before, "user") {
		t.Fatalf("the Flask database has tables %v", before)
	}
	t.Setenv("AUTH_DB", "")
	t.Setenv("SECURITY_PASSWORD_HASH", "")

	t.Setenv("SECURITY_PASSWORD_SALT", "")
	runSteps(t, db, []step{
		{name: "list", args: []string{"users", "list"}, stdout: []string{"alice@example.com", "Bob.Mixed@Example.com", "admin"}},
		{name: "list, schema given", args: []string{"-db", db, "-schema", "flask-security", "users", "list"}, raw: true, stdout: []string{"alice@example.com"}},
		{name: "schema native refused", args: []string{"-db", db, "-schema", "native", "users", "list"}, raw: true, code: 1, stderr: []string{"holds Flask-Security's tables", "-schema flask-security"}},
		{name: "unknown schema", args: []string{"-db", db, "-schema", "django", "users", "list"}, raw: true, code: 2, stderr: []string{`unknown -schema "django"`}},
		{name: "create without the salt", args: []string{"users", "create", "carol@example.com", "--password-stdin"}, stdin: "carol-flask-password\n", code: 1, stderr: []string{"SECURITY_PASSWORD_SALT is not set"}},
		{name: "set-password without the salt", args: []string{"users", "set-password", "alice@example.com", "--password-stdin"}, stdin: "alice-new-password\n", code: 1, stderr: []string{"SECURITY_PASSWORD_SALT is not set"}},
		{name: "create without password", args: []string{"users", "create", "dan@example.com", "--no-password", "--role", "viewer"}, stdout: []string{"created user", "<dan@example.com>"}},
		{name: "invalid email", args: []string{"users", "create", "not-an-email", "--no-password"}, code: 2, stderr: []string{"auth: invalid email address"}},
		{name: "deactivate", args: []string{"users", "deactivate", "dan@example.com"}, stdout: []string{"dan@example.com is now inactive"}},
		{name: "activate", args: []string{"users", "activate", "dan@example.com"}, stdout: []string{"dan@example.com is now active"}},
		{name: "confirm", args: []string{"users", "confirm", "bob.mixed@example.com"}, stdout: []string{"Bob.Mixed@Example.com is now confirmed"}},
		{name: "roles add", args: []string{"roles", "add", "dan@example.com", "admin"}, stdout: []string{"dan@example.com now has roles viewer,admin"}},
		{name: "roles remove", args: []string{"roles", "remove", "dan@example.com", "viewer"}, stdout: []string{"dan@example.com now has roles admin"}},
		{name: "tokens revoke", args: []string{"tokens", "revoke", "alice@example.com"}, stdout: []string{"revoked every token of alice@example.com"}},
		{name: "no duplicates", args: []string{"users", "duplicates"}, stdout: []string{"no two users' emails differ only in case"}},
	})
	// The application's case-sensitive unique constraint lets it store
	// case variants; authctl lists them.
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec("INSERT INTO user (email, active, fs_uniquifier) VALUES ('ALICE@example.com', 1, 'dup-uniq'), ('\u212Aate@example.com', 1, 'k-uniq'), ('kate@example.com', 1, 'k2-uniq')")
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, db, []step{
		{name: "duplicates", args: []string{"users", "duplicates"}, stdout: []string{"alice@example.com", "ALICE@example.com", "\u212Aate@example.com", "kate@example.com"}},
	})
	t.Setenv("SECURITY_PASSWORD_SALT", flaskSalt)
	runSteps(t, db, []step{
		{name: "create", args: []string{"users", "create", "carol@example.com", "--password-stdin", "--confirmed"}, stdin: "carol-flask-password\n", stdout: []string{"created user", "<carol@example.com>"}},
		{name: "set-password", args: []string{"users", "set-password", "alice@example.com", "--password-stdin"}, stdin: "alice-new-password\n", stdout: []string{"password changed for alice@example.com"}},
		{name: "list after", args: []string{"users", "list"}, stdout: []string{"carol@example.com", "dan@example.com"}},
	})
	if after := tablesOf(t, db); !slices.Equal(after, before) {
		t.Errorf("authctl changed the tables of the Flask database:\nbefore %v\nafter  %v", before, after)
	}

	// Flask-Security's own verify_password must accept what authctl wrote.
	hashOf := func(email string) string {
		t.Helper()
		conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var h string
		if err := conn.QueryRow(`SELECT password FROM "user" WHERE email = ?`, email).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	cases := []struct {
		email, password string
	}{
		{email: "carol@example.com", password: "carol-flask-password"},
		{email: "alice@example.com", password: "alice-new-password"},
	}
	var req []map[string]string
	for _, c := range cases {
		req = append(req, map[string]string{"hash": hashOf(c.email), "password": c.password})
	}
	body, _ := json.Marshal([]map[string]any{{"password_salt": flaskSalt, "cases": req}})
	verify := exec.Command(py, "-B", flaskDir+"verify_hash.py")
	verify.Stdin = bytes.NewReader(body)
	var stderr strings.Builder
	verify.Stderr = &stderr
	out, err := verify.Output()
	if err != nil {
		t.Fatalf("verify_hash.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Groups [][]struct {
			OK     bool   `json:"ok"`
			Scheme string `json:"scheme"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Groups) != 1 || len(res.Groups[0]) != len(cases) {
		t.Fatalf("verify_hash.py printed %s (%v)", out, err)
	}
	for i, c := range cases {
		if r := res.Groups[0][i]; !r.OK || r.Scheme != "bcrypt" {
			t.Errorf("Flask-Security on the hash authctl wrote for %s: ok=%v scheme=%q, want ok, bcrypt", c.email, r.OK, r.Scheme)
		}
	}
}

// TestReadOnlyCreatesNothing checks that the commands that only read
// refuse a database without tables, and leave it without any.
func TestReadOnlyCreatesNothing(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	t.Setenv("AUTH_SECRET", testSecret)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{name: "users list", args: []string{"users", "list"}, want: "has no tables"},
		{name: "tokens verify", args: []string{"tokens", "verify", "x.y.z"}, want: "has no tables"},
		{name: "users confirm", args: []string{"users", "confirm", "a@example.com"}, want: "has no tables"},
		{name: "other schema", args: []string{"users", "list"}, want: "another schema"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "empty.db")
			conn, err := sql.Open("sqlite", db)
			if err != nil {
				t.Fatal(err)
			}
			stmt := "VACUUM" // makes the file, with no table
			if tt.name == "other schema" {
				stmt = "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT)"
			}
			if _, err := conn.Exec(stmt); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			before := tablesOf(t, db)
			runSteps(t, db, []step{{name: "run", args: tt.args, code: 1, stderr: []string{tt.want}}})
			if after := tablesOf(t, db); !slices.Equal(after, before) {
				t.Errorf("tables before %v, after %v", before, after)
			}
		})
	}
}
