package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/internal/testpg"
	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/sqlstore"
)

// flaskScript builds, serves and reads Flask-Security databases with the
// real Flask-Security; see its docstring.
const flaskScript = "../../testdata/flask/make_app_db.py"

// flaskPython returns a Python that has Flask-Security and what the
// script needs; with postgres, psycopg2 too.
func flaskPython(tb testing.TB, postgres bool) string {
	pkgs, modules := "python3-flask-security python3-flask-sqlalchemy python3-passlib python3-bcrypt", []string{"flask_security", "flask_sqlalchemy", "passlib", "bcrypt"}
	if postgres {
		pkgs, modules = pkgs+" python3-psycopg2", append(modules, "psycopg2")
	}
	return testpython.Find(tb, pkgs, modules...)
}

// flaskEnv is the Flask app's configuration, given to both services as
// environment variables named as its config keys.
var flaskEnv = map[string]string{
	"SECRET_KEY":             "the flask app's secret key",
	"SECRET_KEY_FALLBACKS":   "an older secret key,the oldest secret key",
	"SECURITY_PASSWORD_SALT": "the flask app's password salt",
	"SECURITY_PASSWORD_HASH": "pbkdf2_sha512",
	"SECURITY_REMEMBER_SALT": "the flask app's remember salt",
	"SECURITY_TOKEN_MAX_AGE": "3600",
}

func envList(env map[string]string) []string {
	list := os.Environ()
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	return list
}

// createFlaskUsers runs make_app_db.py create with args under env and
// returns the users it made.
func createFlaskUsers(t *testing.T, py string, env map[string]string, args ...string) []createdUser {
	t.Helper()
	create := exec.Command(py, append([]string{flaskScript, "create"}, args...)...)
	create.Env = envList(env)
	var stderr bytes.Buffer
	create.Stderr = &stderr
	out, err := create.Output()
	if err != nil {
		t.Fatalf("make_app_db.py create: %v\n%s", err, stderr.String())
	}
	var created struct{ Users []createdUser }
	if err := json.Unmarshal(out, &created); err != nil {
		t.Fatalf("make_app_db.py printed %s (%v)", out, err)
	}
	return created.Users
}

// createdUser is a user the script's create mode made.
type createdUser struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Scheme   string `json:"scheme"`
	Token    string `json:"token"`
}

// startFlask serves the Flask app over the database and returns its base
// URL; the process is killed at cleanup.
func startFlask(t *testing.T, py string, where []string) string {
	t.Helper()
	return startFlaskEnv(t, py, where, flaskEnv)
}

// startFlaskEnv is startFlask with the app configured by env.
func startFlaskEnv(t *testing.T, py string, where []string, env map[string]string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{flaskScript, "serve", "--port", "0"}, where...)...)
	cmd.Env = envList(env)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var ready struct{ Port int }
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready.Port == 0 {
		t.Fatalf("the Flask app did not start: %q, %v\n%s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	return "http://127.0.0.1:" + strconv.Itoa(ready.Port)
}

// startGo runs the example server in-process in compatibility mode and
// returns its base URL; it is stopped at cleanup.
func startGo(t *testing.T, dsn string) string {
	t.Helper()
	return startGoEnv(t, dsn, flaskEnv)
}

// startGoEnv is startGo with the environment env.
func startGoEnv(t *testing.T, dsn string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", dsn, "-schema", "flask-security"},
			func(k string) string { return env[k] }, &stderr, ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v\n%s", err, stderr.String())
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-errc:
		errc <- err
		t.Fatalf("run returned before listening: %v\n%s", err, stderr.String())
	}
	return ""
}

// login posts a JSON login and returns the status and the token, if any.
func login(t *testing.T, base, email, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/login?include_auth_token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	tok, _ := findToken(raw)
	return resp.StatusCode, tok
}

// getProtected returns the status of GET /protected with the token.
func getProtected(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/protected", nil)
	req.Header.Set("Authentication-Token", token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFlaskCompatibility is the migration's end-to-end check: a database
// made by the real Flask-Security app, the example server on it in
// compatibility mode and the Flask app serving it at the same time. Users
// log in on either with their original passwords (pbkdf2_sha512 and bcrypt
// hashes); each accepts the other's tokens; after a password change on the
// Go side the old Flask token is refused by both, and the Flask app logs
// the user in with the new password only.
func TestFlaskCompatibility(t *testing.T) {
	for _, tt := range []struct {
		name     string
		postgres bool
		token    bool // the user table has fs_token_uniquifier
	}{
		{name: "SQLite"},
		{name: "SQLite/fs_token_uniquifier", token: true},
		{name: "Postgres", postgres: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			py := flaskPython(t, tt.postgres)
			var dsn string
			var where []string
			if tt.postgres {
				base, schema := testpg.Schema(t, "flask_e2e_")
				dsn, where = testpg.WithSearchPath(base, schema), []string{"--db", base, "--pg-schema", schema}
			} else {
				dsn = filepath.Join(t.TempDir(), "flask.db")
				where = []string{"--db", dsn}
			}
			users := createFlaskUsers(t, py, flaskEnv, append(where, tokenFlag(tt.token)...)...)
			if len(users) != 2 {
				t.Fatalf("make_app_db.py created %d users", len(users))
			}
			alice, bob := users[0], users[1]
			if alice.Scheme != "pbkdf2_sha512" || bob.Scheme != "bcrypt" {
				t.Fatalf("the app hashed with %s and %s, want pbkdf2_sha512 and bcrypt", alice.Scheme, bob.Scheme)
			}

			goURL := startGo(t, dsn)
			flaskURL := startFlask(t, py, where)

			for _, u := range users {
				status, goToken := login(t, goURL, u.Email, u.Password)
				if status != http.StatusOK || goToken == "" {
					t.Fatalf("Go login of %s (%s hash) with the original password: %d", u.Email, u.Scheme, status)
				}
				status, flaskToken := login(t, flaskURL, u.Email, u.Password)
				if status != http.StatusOK || flaskToken == "" {
					t.Fatalf("Flask login of %s: %d", u.Email, status)
				}
				for _, c := range []struct {
					what, base, token string
				}{
					{"the token Flask issued at creation, at Go", goURL, u.Token},
					{"a token from Flask's /login, at Go", goURL, flaskToken},
					{"a token from Go's /login, at Go", goURL, goToken},
					{"a token from Go's /login, at Flask", flaskURL, goToken},
				} {
					if got := getProtected(t, c.base, c.token); got != http.StatusOK {
						t.Errorf("%s: GET /protected with %s: %d, want 200", u.Email, c.what, got)
					}
				}
			}

			// The password change, as authctl would make it: a Manager over
			// the same database with the same settings.
			m, closeStore, err := flaskManager(t.Context(), dsn, "", auth.AccountConfig{}, func(k string) string { return flaskEnv[k] },
				slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			const newPassword = "bob's brand new password"
			if err := m.SetPassword(t.Context(), "2", newPassword); err != nil {
				t.Fatal(err)
			}
			// Another process's change: the Go server sees it within its
			// user cache's bound.
			if got := statusWithin(t, http.StatusUnauthorized, func() int { return getProtected(t, goURL, bob.Token) }); got != http.StatusUnauthorized {
				t.Errorf("Go, Bob's Flask token after the password change: %d, want 401", got)
			}
			if got := getProtected(t, flaskURL, bob.Token); got != http.StatusUnauthorized {
				t.Errorf("Flask, Bob's Flask token after the password change: %d, want 401", got)
			}
			if got := getProtected(t, goURL, alice.Token); got != http.StatusOK {
				t.Errorf("Go, Alice's Flask token after Bob's password change: %d, want 200", got)
			}
			for _, c := range []struct {
				base, password string
				want           int
			}{
				{flaskURL, newPassword, http.StatusOK},
				{flaskURL, bob.Password, http.StatusBadRequest},
				{goURL, newPassword, http.StatusOK},
				{goURL, bob.Password, http.StatusBadRequest},
			} {
				if status, _ := login(t, c.base, bob.Email, c.password); status != c.want {
					t.Errorf("login at %s with the %s password: %d, want %d", c.base,
						map[bool]string{true: "new", false: "old"}[c.password == newPassword], status, c.want)
				}
			}
			u, err := m.Authenticate(t.Context(), bob.Email, newPassword)
			if err != nil || !strings.HasPrefix(u.PasswordHash, "$pbkdf2-sha512$") {
				t.Errorf("Bob's hash after the password change is not SECURITY_PASSWORD_HASH's pbkdf2_sha512: %v", err)
			}
		})
	}
}

func tokenFlag(token bool) []string {
	if token {
		return []string{"--token-uniquifier"}
	}
	return nil
}

// TestRunFlaskConfigErrors checks that run refuses a bad compatibility
// setup at start, with a message that names the problem.
func TestRunFlaskConfigErrors(t *testing.T) {
	good := func(k string) string { return flaskEnv[k] }
	without := func(key string) func(string) string {
		return func(k string) string {
			if k == key {
				return ""
			}
			return flaskEnv[k]
		}
	}
	with := func(key, value string) func(string) string {
		return func(k string) string {
			if k == key {
				return value
			}
			return flaskEnv[k]
		}
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	empty := emptyFlaskDB(t)
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		want   string
	}{
		{name: "unknown schema", args: []string{"-schema", "django"}, getenv: good, want: `unknown -schema "django": want native or flask-security`},
		{name: "no SECRET_KEY", args: []string{"-schema", "flask-security"}, getenv: without("SECRET_KEY"), want: "needs SECRET_KEY"},
		{name: "no password salt", args: []string{"-schema", "flask-security"}, getenv: without("SECURITY_PASSWORD_SALT"), want: "needs SECURITY_PASSWORD_SALT"},
		{name: "bad max age", args: []string{"-schema", "flask-security"}, getenv: with("SECURITY_TOKEN_MAX_AGE", "1h"), want: `SECURITY_TOKEN_MAX_AGE="1h" is not a positive whole number of seconds`},
		{name: "negative max age", args: []string{"-schema", "flask-security"}, getenv: with("SECURITY_TOKEN_MAX_AGE", "-5"), want: "not a positive whole number"},
		{name: "unknown hash", args: []string{"-schema", "flask-security", "-db", empty}, getenv: with("SECURITY_PASSWORD_HASH", "md5_crypt"), want: `PasswordHash "md5_crypt" is not one of`},
		{name: "not a Flask database", args: []string{"-schema", "flask-security", "-db", nativeDB(t)}, getenv: good, want: `has no table "user"`},
		{name: "unknown tokens", args: []string{"-schema", "flask-security", "-tokens", "jwt"}, getenv: good, want: `unknown -tokens "jwt"`},
		{name: "tokens in native mode", args: []string{"-tokens", "flask"}, getenv: good, want: "-tokens applies to -schema flask-security only"},
		{name: "missing database", args: []string{"-schema", "flask-security", "-db", missing}, getenv: good, want: "no SQLite database at " + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer
			err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tt.args...), tt.getenv, &stderr, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// emptyFlaskDB returns the path of an SQLite file with the tables the
// Flask app creates, from the schema file beside the script.
func emptyFlaskDB(t *testing.T) string {
	t.Helper()
	ddl, err := os.ReadFile("../../testdata/flask/schema_sqlite.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "empty-flask.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range strings.Split(string(ddl), ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			if _, err := db.Exec(strings.TrimSuffix(stmt, ";")); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	return path
}

// nativeDB returns the path of an SQLite file with this package's own
// tables.
func nativeDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "native.db")
	_, closeStore, err := dbopen.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	return path
}

// TestFlaskHashNoPingPong runs the README's command: the example server
// given the Flask app's SECRET_KEY and SECURITY_PASSWORD_SALT but not its
// SECURITY_PASSWORD_HASH, beside a Flask app that writes pbkdf2_sha512 (and
// one on Flask-Security's defaults, bcrypt). A user whose hash the app
// wrote logs in on the Go side, then on the app, then on the Go side
// again: neither rewrites the hash, where the Go side used to rewrite it to
// bcrypt and the app to rewrite it back, at every login.
func TestFlaskHashNoPingPong(t *testing.T) {
	for _, appHash := range []string{"pbkdf2_sha512", "bcrypt"} {
		t.Run(appHash, func(t *testing.T) {
			t.Parallel()
			py := flaskPython(t, false)
			appEnv := maps.Clone(flaskEnv)
			appEnv["SECURITY_PASSWORD_HASH"] = appHash
			goEnv := maps.Clone(flaskEnv)
			delete(goEnv, "SECURITY_PASSWORD_HASH")

			dsn := filepath.Join(t.TempDir(), "flask.db")
			where := []string{"--db", dsn}
			users := createFlaskUsers(t, py, appEnv, where...)
			if len(users) != 2 {
				t.Fatalf("make_app_db.py created %d users", len(users))
			}
			store, closeStore, err := dbopen.OpenFlask(t.Context(), dsn, sqlstore.FlaskSchema{})
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			hashOf := func(email string) string {
				t.Helper()
				u, err := store.UserByEmail(t.Context(), email)
				if err != nil {
					t.Fatal(err)
				}
				return u.PasswordHash
			}

			goURL := startGoEnv(t, dsn, goEnv)
			flaskURL := startFlaskEnv(t, py, where, appEnv)
			for _, u := range users {
				if u.Scheme != appHash {
					continue // a hash in another scheme, which the app itself rewrites
				}
				written := hashOf(u.Email)
				for i, base := range []string{goURL, flaskURL, goURL, flaskURL} {
					if status, _ := login(t, base, u.Email, u.Password); status != http.StatusOK {
						t.Fatalf("login %d of %s: %d", i+1, u.Email, status)
					}
					if got := hashOf(u.Email); got != written {
						side := map[bool]string{true: "Go", false: "Flask"}[base == goURL]
						t.Fatalf("login %d of %s, on the %s side, rewrote the %s hash the app wrote to %.20s…", i+1, u.Email, side, appHash, got)
					}
				}
			}
		})
	}
}

// TestFlaskLogoutKeepsTokens checks what MIGRATING_FROM_FLASK.md says of
// logout: the Flask app's own /logout ends its session but leaves the
// user's auth token valid on both sides; the Go side's /logout revokes it
// on both.
func TestFlaskLogoutKeepsTokens(t *testing.T) {
	t.Parallel()
	py := flaskPython(t, false)
	dsn := filepath.Join(t.TempDir(), "flask.db")
	where := []string{"--db", dsn}
	users := createFlaskUsers(t, py, flaskEnv, where...)
	if len(users) == 0 {
		t.Fatalf("make_app_db.py created %d users", len(users))
	}
	alice := users[0]
	goURL := startGo(t, dsn)
	flaskURL := startFlask(t, py, where)
	logout := func(base string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/logout", strings.NewReader("{}"))
		req.Header.Set("Authentication-Token", alice.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := logout(flaskURL); got != http.StatusOK {
		t.Fatalf("Flask POST /logout: %d", got)
	}
	for _, base := range []string{flaskURL, goURL} {
		if got := getProtected(t, base, alice.Token); got != http.StatusOK {
			t.Errorf("%s: the token after Flask's /logout: %d, want 200 (Flask's logout revokes nothing)", base, got)
		}
	}
	if got := logout(goURL); got >= 300 {
		t.Fatalf("Go POST /logout: %d", got)
	}
	for _, base := range []string{flaskURL, goURL} {
		if got := getProtected(t, base, alice.Token); got != http.StatusUnauthorized {
			t.Errorf("%s: the token after Go's /logout: %d, want 401", base, got)
		}
	}
}
