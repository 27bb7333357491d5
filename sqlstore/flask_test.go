package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// flaskScript makes, serves and reads databases with the real
// Flask-Security; see its docstring.
const flaskScript = "../testdata/flask/make_app_db.py"

// flaskVariant is one shape of Flask-Security's user table.
type flaskVariant struct {
	name string
	// token: the table has the optional fs_token_uniquifier column.
	token bool
	// webauthn: the app has a WebAuthn model, whose table is web_authn.
	webauthn bool
}

var flaskVariants = []flaskVariant{
	{name: "fsqla_v3"},
	{name: "fs_token_uniquifier", token: true},
	{name: "webauthn", webauthn: true},
}

// flaskWebAuthnVariant is the variant with a WebAuthn model.
var flaskWebAuthnVariant = flaskVariants[2]

// args returns the script's options that make the variant's tables.
func (v flaskVariant) args() []string {
	var args []string
	if v.token {
		args = append(args, "--token-uniquifier")
	}
	if v.webauthn {
		args = append(args, "--webauthn")
	}
	return args
}

// ddl returns the CREATE statements the Flask app's create_all runs on
// the backend's database, as committed beside the script (see
// TestFlaskSchemaFiles).
func (v flaskVariant) ddl(tb testing.TB, b backend) []string {
	tb.Helper()
	name := "schema_sqlite"
	if b.dialect == sqlstore.Postgres {
		name = "schema_postgresql"
	}
	if v.token {
		name += "_token"
	}
	if v.webauthn {
		name += "_webauthn"
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "flask", name+".sql"))
	if err != nil {
		tb.Fatal(err)
	}
	var stmts []string
	for _, s := range strings.Split(string(raw), ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, strings.TrimSuffix(s, ";"))
		}
	}
	return stmts
}

// newFlaskDB returns the DSN of a new database holding the Flask app's
// empty tables, after applying edit to each statement (nil: none).
func newFlaskDB(tb testing.TB, b backend, v flaskVariant, edit func(string) string) string {
	tb.Helper()
	dsn := b.newDSN(tb)
	db := openDB(tb, b.driver, dsn)
	for _, stmt := range v.ddl(tb, b) {
		if edit != nil {
			stmt = edit(stmt)
		}
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("%s: %v", stmt, err)
		}
	}
	return dsn
}

// openFlask opens a FlaskStore on dsn, closed at cleanup.
func openFlask(tb testing.TB, b backend, dsn string, schema sqlstore.FlaskSchema) *sqlstore.FlaskStore {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := sqlstore.OpenFlaskSecurity(ctx, openDB(tb, b.driver, dsn), b.dialect, schema)
	if err != nil {
		tb.Fatalf("OpenFlaskSecurity: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestFlaskConformance runs the storetest suite on the tables the Flask
// app creates, in both dialects and with and without fs_token_uniquifier.
// The limits are the schema's: integer IDs, lower() for emails, roles as
// a set (roles_users has no position) and, where the uniquifier column is
// NOT NULL (fs_uniquifier), generated uniquifiers.
func TestFlaskConformance(t *testing.T) {
	for _, b := range backends {
		for _, v := range flaskVariants {
			t.Run(b.name+"/"+v.name, func(t *testing.T) {
				b.require(t)
				storetest.RunWith(t, func(t *testing.T) (storetest.Store, storetest.Reopen) {
					dsn := newFlaskDB(t, b, v, nil)
					return openFlask(t, b, dsn, sqlstore.FlaskSchema{}), func(t *testing.T) storetest.Store {
						return openFlask(t, b, dsn, sqlstore.FlaskSchema{})
					}
				}, storetest.Limits{DecimalIDs: true, UnorderedRoles: true, GeneratedUniquifiers: !v.token})
			})
		}
	}
}

// TestFlaskOpenErrors checks that OpenFlaskSecurity names what is missing.
func TestFlaskOpenErrors(t *testing.T) {
	sqlite := backends[0]
	tests := []struct {
		name   string
		dsn    func(t *testing.T) string
		schema sqlstore.FlaskSchema
		want   string
	}{
		{
			name:   "empty database",
			dsn:    func(t *testing.T) string { return sqlite.newDSN(t) },
			want:   `sqlstore: the sqlite database has no table "user" (FlaskSchema.UserTable)`,
			schema: sqlstore.FlaskSchema{},
		},
		{
			name: "no fs_uniquifier",
			dsn: func(t *testing.T) string {
				return newFlaskDB(t, sqlite, flaskVariants[0], func(s string) string {
					s = strings.ReplaceAll(s, "fs_uniquifier VARCHAR(64) NOT NULL,", "")
					return strings.ReplaceAll(s, "UNIQUE (fs_uniquifier),", "")
				})
			},
			want: `sqlstore: Flask-Security table "user" lacks column "fs_uniquifier" (FlaskSchema.FsUniquifier)`,
		},
		{
			name:   "renamed table not configured",
			dsn:    func(t *testing.T) string { return newFlaskDB(t, sqlite, flaskVariants[0], nil) },
			schema: sqlstore.FlaskSchema{RoleTable: "roles"},
			want:   `no table "roles" (FlaskSchema.RoleTable)`,
		},
		{
			name:   "renamed columns not configured",
			dsn:    func(t *testing.T) string { return newFlaskDB(t, sqlite, flaskVariants[0], nil) },
			schema: sqlstore.FlaskSchema{Email: "mail", RolesUsersRoleID: "group_id"},
			want:   `lacks column "mail" (FlaskSchema.Email)`,
		},
		{
			name:   "native sqlstore database",
			dsn:    func(t *testing.T) string { return withSchema(t, "SELECT 1") },
			schema: sqlstore.FlaskSchema{UserTable: "users"},
			want:   `table "users" lacks column "password" (FlaskSchema.Password), "fs_uniquifier" (FlaskSchema.FsUniquifier)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "sqlite", tt.dsn(t))
			s, err := sqlstore.OpenFlaskSecurity(t.Context(), db, sqlstore.SQLite, tt.schema)
			if err == nil {
				t.Fatalf("OpenFlaskSecurity succeeded (%v); want an error containing %q", s, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := sqlstore.OpenFlaskSecurity(t.Context(), nil, sqlstore.SQLite, sqlstore.FlaskSchema{}); err == nil {
		t.Error("OpenFlaskSecurity(nil *sql.DB) succeeded")
	}
}

// TestFlaskRenamed checks tables and columns with names of the
// application's own, and a table without the optional columns.
func TestFlaskRenamed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			r := strings.NewReplacer(
				`TABLE user (`, `TABLE account (`, `TABLE "user" (`, `TABLE account (`,
				`REFERENCES user (id)`, `REFERENCES account (id)`, `REFERENCES "user" (id)`, `REFERENCES account (id)`,
				"\temail VARCHAR", "\temail_address VARCHAR", "UNIQUE (email)", "UNIQUE (email_address)",
				"\tconfirmed_at ", "\tverified_on ",
				"\tlast_login_at DATETIME,", "", "\tlast_login_at TIMESTAMP WITHOUT TIME ZONE,", "",
				"\tlogin_count INTEGER,", "",
			)
			dsn := newFlaskDB(t, b, flaskVariants[0], r.Replace)
			s := openFlask(t, b, dsn, sqlstore.FlaskSchema{UserTable: "account", Email: "email_address", ConfirmedAt: "verified_on"})
			ctx := t.Context()
			at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			u := &auth.User{Email: "Renamed@example.com", Active: true, Confirmed: true, Roles: []string{"admin"},
				LastLoginAt: at, CurrentLoginAt: at, LoginCount: 3, CurrentLoginIP: "192.0.2.1"}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			got, err := s.UserByEmail(ctx, "renamed@EXAMPLE.com")
			if err != nil {
				t.Fatal(err)
			}
			// The table has no last_login_at or login_count: those read as zero.
			want := auth.User{ID: "1", Email: "Renamed@example.com", Active: true, Confirmed: true, Roles: []string{"admin"},
				Uniquifier: u.Uniquifier, CurrentLoginAt: at, CurrentLoginIP: "192.0.2.1"}
			if got.ID != want.ID || got.Email != want.Email || !got.Confirmed || got.Uniquifier == "" || got.Uniquifier != want.Uniquifier ||
				!got.LastLoginAt.IsZero() || !got.CurrentLoginAt.Equal(at) || got.LoginCount != 0 || got.CurrentLoginIP != want.CurrentLoginIP ||
				strings.Join(got.Roles, ",") != "admin" {
				t.Errorf("read back %+v, want %+v", got, want)
			}
		})
	}
}

// TestFlaskBlockers checks that a NOT NULL column without a default that
// the store cannot fill makes CreateUser fail clearly, while reads work.
func TestFlaskBlockers(t *testing.T) {
	sqlite := backends[0]
	dsn := newFlaskDB(t, sqlite, flaskVariants[0], func(s string) string {
		return strings.Replace(s, "\tusername VARCHAR(255),", "\tusername VARCHAR(255) NOT NULL,", 1)
	})
	s := openFlask(t, sqlite, dsn, sqlstore.FlaskSchema{})
	err := s.CreateUser(t.Context(), &auth.User{Email: "a@example.com"})
	if err == nil || !strings.Contains(err.Error(), "its columns username are NOT NULL without a default") {
		t.Errorf("CreateUser error = %v, want one naming the column username", err)
	}
	if users, err := s.ListUsers(t.Context()); err != nil || len(users) != 0 {
		t.Errorf("ListUsers = %v, %v", users, err)
	}
}

// rawUniquifiers reads fs_uniquifier and fs_token_uniquifier of a user.
func rawUniquifiers(t *testing.T, db *sql.DB, id string) (fs, token sql.NullString) {
	t.Helper()
	err := db.QueryRowContext(t.Context(), `SELECT fs_uniquifier, fs_token_uniquifier FROM "user" WHERE id = `+id).Scan(&fs, &token)
	if err != nil {
		t.Fatal(err)
	}
	return fs, token
}

// TestFlaskUniquifiers checks which column the uniquifier is and what a
// rotation writes: with fs_token_uniquifier, Uniquifier is that column and
// its change gives fs_uniquifier a fresh value too; a new hash alone
// changes neither.
func TestFlaskUniquifiers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			dsn := newFlaskDB(t, b, flaskVariants[1], nil)
			s := openFlask(t, b, dsn, sqlstore.FlaskSchema{})
			db := openDB(t, b.driver, dsn)
			ctx := t.Context()
			u := &auth.User{Email: "u@example.com", Active: true, Uniquifier: "token-uniq-1"}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			fs1, tok1 := rawUniquifiers(t, db, u.ID)
			if tok1.String != "token-uniq-1" || fs1.String == "" || fs1.String == tok1.String {
				t.Fatalf("after CreateUser: fs_uniquifier %q, fs_token_uniquifier %q", fs1.String, tok1.String)
			}
			if got, err := s.UserByUniquifier(ctx, "token-uniq-1"); err != nil || got.ID != u.ID {
				t.Errorf("UserByUniquifier(fs_token_uniquifier) = %v, %v", got, err)
			}
			if _, err := s.UserByUniquifier(ctx, fs1.String); !errors.Is(err, auth.ErrUserNotFound) {
				t.Errorf("UserByUniquifier(fs_uniquifier) error = %v, want ErrUserNotFound: tokens name fs_token_uniquifier", err)
			}
			if _, err := s.UserByUniquifier(ctx, ""); !errors.Is(err, auth.ErrUserNotFound) {
				t.Errorf(`UserByUniquifier("") error = %v, want ErrUserNotFound`, err)
			}

			if err := s.UpdateUser(ctx, u.ID, func(u *auth.User) error { u.PasswordHash = "$2b$04$rehash"; return nil }); err != nil {
				t.Fatal(err)
			}
			if fs, tok := rawUniquifiers(t, db, u.ID); fs != fs1 || tok != tok1 {
				t.Errorf("a new hash alone rotated the uniquifiers: %q %q -> %q %q", fs1.String, tok1.String, fs.String, tok.String)
			}
			if err := s.UpdateUser(ctx, u.ID, func(u *auth.User) error { u.Uniquifier = "token-uniq-2"; return nil }); err != nil {
				t.Fatal(err)
			}
			fs2, tok2 := rawUniquifiers(t, db, u.ID)
			if tok2.String != "token-uniq-2" || fs2.String == fs1.String || fs2.String == "" {
				t.Errorf("after rotation: fs_uniquifier %q (was %q), fs_token_uniquifier %q", fs2.String, fs1.String, tok2.String)
			}
		})
	}
}

// TestFlaskSequenceBehind checks CreateUser on PostgreSQL when rows were
// inserted with explicit IDs that the ID sequence never gave: assigned
// IDs skip the taken ones, and an explicit ID moves the sequence past
// itself, so that the Flask app's next insert does not collide.
func TestFlaskSequenceBehind(t *testing.T) {
	b := backends[1]
	b.require(t)
	dsn := newFlaskDB(t, b, flaskVariants[0], nil)
	db := openDB(t, b.driver, dsn)
	for i := 1; i <= 3; i++ {
		_, err := db.Exec(`INSERT INTO "user" (id, email, active, fs_uniquifier) VALUES ($1, $2, true, $3)`,
			i, fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("uniq-%d", i))
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openFlask(t, b, dsn, sqlstore.FlaskSchema{})
	ctx := t.Context()
	u := &auth.User{Email: "auto@example.com"}
	if err := s.CreateUser(ctx, u); err != nil || u.ID != "4" {
		t.Fatalf("CreateUser with the sequence behind = ID %q, %v; want ID 4", u.ID, err)
	}
	if err := s.CreateUser(ctx, &auth.User{ID: "10", Email: "ten@example.com"}); err != nil {
		t.Fatal(err)
	}
	var next int64
	if err := db.QueryRow(`SELECT nextval(pg_get_serial_sequence('"user"', 'id'))`).Scan(&next); err != nil || next != 11 {
		t.Errorf("the sequence's next value after an explicit ID 10 = %d, %v; want 11", next, err)
	}
}

// TestFlaskEmailCase checks lookups in a table that holds two emails
// differing only in case, which Flask-Security's case-sensitive unique
// constraint allows: the exact one wins, and without one the answer is
// an error matching ErrUserNotFound (a login then answers as for a wrong
// password), never an arbitrary user, with a warning logged.
func TestFlaskEmailCase(t *testing.T) {
	sqlite := backends[0]
	dsn := newFlaskDB(t, sqlite, flaskVariants[0], nil)
	db := openDB(t, "sqlite", dsn)
	for i, email := range []string{"Twin@example.com", "twin@example.com"} {
		_, err := db.Exec(`INSERT INTO user (email, active, fs_uniquifier) VALUES (?, 1, ?)`, email, i)
		if err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	s := openFlask(t, sqlite, dsn, sqlstore.FlaskSchema{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := t.Context()
	for email, id := range map[string]string{"Twin@example.com": "1", "twin@example.com": "2"} {
		if u, err := s.UserByEmail(ctx, email); err != nil || u.ID != id {
			t.Errorf("UserByEmail(%q) = %v, %v; want user %s", email, u, err, id)
		}
	}
	u, err := s.UserByEmail(ctx, "TWIN@example.com")
	if !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("UserByEmail of an ambiguous email = %v, %v; want an error matching ErrUserNotFound", u, err)
	}
	if got := logs.String(); !strings.Contains(got, "WARN") || !strings.Contains(got, `user_ids="[1 2]"`) || strings.Contains(strings.ToLower(got), "twin@") {
		t.Errorf("the warning logged: %q; want one naming the users by ID and not the email", got)
	}
	if err := s.CreateUser(ctx, &auth.User{Email: "TWIN@EXAMPLE.COM"}); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("CreateUser of a third case variant: error = %v, want ErrDuplicateEmail", err)
	}
	err = s.UpdateUser(ctx, "1", func(u *auth.User) error { u.Email = "twin@example.com"; return nil })
	if !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("UpdateUser changing the case to the other user's email: error = %v, want ErrDuplicateEmail", err)
	}
	if _, err := s.UserByID(ctx, "01"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf(`UserByID("01") error = %v; want ErrUserNotFound: IDs are canonical decimals`, err)
	}
	if err := s.CreateUser(ctx, &auth.User{ID: "x", Email: "x@example.com"}); err == nil || !strings.Contains(err.Error(), "integer") {
		t.Errorf(`CreateUser with ID "x": error = %v, want one saying IDs are integers`, err)
	}
}

// pythonFlask returns a Python that has Flask-Security and what the
// script needs; with postgres, psycopg2 too.
func pythonFlask(tb testing.TB, postgres bool) string {
	pkgs, modules := "python3-flask-security python3-flask-sqlalchemy python3-passlib python3-bcrypt", []string{"flask_security", "flask_sqlalchemy", "passlib", "bcrypt"}
	if postgres {
		pkgs, modules = pkgs+" python3-psycopg2", append(modules, "psycopg2")
	}
	return testpython.Find(tb, pkgs, modules...)
}

// runFlaskScript runs the script with args and env, and returns stdout.
func runFlaskScript(tb testing.TB, py string, env []string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(py, append([]string{flaskScript}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", py, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestFlaskSchemaFiles checks that the committed schema files are what
// the installed Flask-Security's create_all runs.
func TestFlaskSchemaFiles(t *testing.T) {
	py := pythonFlask(t, false)
	for _, dialect := range []string{"sqlite", "postgresql"} {
		for _, v := range flaskVariants {
			name := "schema_" + dialect
			args := append([]string{"ddl", "--dialect", dialect}, v.args()...)
			if v.token {
				name += "_token"
			}
			if v.webauthn {
				name += "_webauthn"
			}
			path := filepath.Join("..", "testdata", "flask", name+".sql")
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := runFlaskScript(t, py, nil, args...); !bytes.Equal(got, want) {
				t.Errorf("%s differs from what Flask-Security creates; regenerate it with\n\t/usr/bin/python3 testdata/flask/make_app_db.py %s > testdata/flask/%s.sql\ngot:\n%s",
					path, strings.Join(args, " "), name, got)
			}
		}
	}
}

// flaskUser is a user as the script prints it.
type flaskUser struct {
	ID                int64    `json:"id"`
	Email             string   `json:"email"`
	Password          string   `json:"password"`
	Scheme            string   `json:"scheme"`
	FsUniquifier      string   `json:"fs_uniquifier"`
	FsTokenUniquifier *string  `json:"fs_token_uniquifier"`
	Confirmed         bool     `json:"confirmed"`
	ConfirmedAt       *string  `json:"confirmed_at"`
	Roles             []string `json:"roles"`
	Token             string   `json:"token"`
	LoginCount        *int     `json:"login_count"`
	CurrentLoginAt    *string  `json:"current_login_at"`
	CurrentLoginIP    *string  `json:"current_login_ip"`
}

// TestFlaskRealApp opens a database the real Flask-Security app made,
// authenticates its users through a Manager configured as the app is,
// writes to it, and has the app read back what the Go side wrote.
func TestFlaskRealApp(t *testing.T) {
	for _, b := range backends {
		for _, v := range flaskVariants {
			t.Run(b.name+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				b.require(t)
				py := pythonFlask(t, b.dialect == sqlstore.Postgres)
				var dsn string
				var where []string // the script's arguments naming the database
				if b.dialect == sqlstore.SQLite {
					path := filepath.Join(t.TempDir(), "app.db")
					dsn, where = sqlstore.SQLiteDSN(path), []string{"--db", path}
				} else {
					dsn = freshPostgres(t)
					where = []string{"--db", postgresDSN(t), "--pg-schema", searchPathOf(t, dsn)}
				}
				env := []string{"SECRET_KEY=flask app secret key", "SECURITY_PASSWORD_SALT=flask app password salt"}
				args := append(append([]string{"create"}, where...), v.args()...)
				var created struct{ Users []flaskUser }
				if err := json.Unmarshal(runFlaskScript(t, py, env, args...), &created); err != nil {
					t.Fatal(err)
				}
				s := openFlask(t, b, dsn, sqlstore.FlaskSchema{})
				fc := flask.Config{
					SecretKey:    []byte("flask app secret key"),
					PasswordSalt: "flask app password salt",
					PasswordHash: "pbkdf2_sha512",
					BcryptCost:   4,
				}
				tokens, err := flask.NewTokens(fc, s)
				if err != nil {
					t.Fatal(err)
				}
				hasher, err := flask.NewHasher(fc)
				if err != nil {
					t.Fatal(err)
				}
				m, err := auth.New(s, []byte("the Go service's own signing key"), auth.Config{
					Logger:   slog.New(slog.DiscardHandler),
					Token:    auth.TokenConfig{Verifiers: []auth.TokenVerifier{tokens}},
					Password: auth.PasswordConfig{Hasher: hasher},
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx := t.Context()
				for _, fu := range created.Users {
					uniq := fu.FsUniquifier
					if v.token {
						uniq = *fu.FsTokenUniquifier
					}
					u, err := m.Login(ctx, strings.ToUpper(fu.Email), fu.Password, "192.0.2.7")
					if err != nil {
						t.Fatalf("Login(%s, %s hash): %v", fu.Email, fu.Scheme, err)
					}
					if u.Email != fu.Email || u.Uniquifier != uniq || u.Confirmed != fu.Confirmed ||
						strings.Join(u.Roles, ",") != strings.Join(fu.Roles, ",") || !u.Active || u.LoginCount != 1 {
						t.Errorf("Flask user %+v reads as %+v", fu, u)
					}
					if got, err := m.VerifyToken(ctx, fu.Token); err != nil || got.ID != u.ID {
						t.Errorf("VerifyToken(the app's token for %s) = %v, %v", fu.Email, got, err)
					}
				}
				bob := created.Users[1]
				bobID := "2"
				if err := m.SetPassword(ctx, bobID, "bob's new password"); err != nil {
					t.Fatal(err)
				}
				if _, err := m.VerifyToken(ctx, bob.Token); !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("VerifyToken(Bob's Flask token after SetPassword) error = %v, want ErrInvalidToken", err)
				}
				err = s.UpdateUser(ctx, bobID, func(u *auth.User) error {
					u.Confirmed = true
					u.Roles = append(u.Roles, "editor", "admin")
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}

				var dumped []flaskUser
				if err := json.Unmarshal(runFlaskScript(t, py, env, append([]string{"dump"}, where...)...), &dumped); err != nil {
					t.Fatal(err)
				}
				if len(dumped) != 2 {
					t.Fatalf("the app reads %d users, want 2", len(dumped))
				}
				for i, d := range dumped {
					if d.LoginCount == nil || *d.LoginCount != 1 || d.CurrentLoginIP == nil || *d.CurrentLoginIP != "192.0.2.7" || d.CurrentLoginAt == nil {
						t.Errorf("the app reads user %d's login as count %v, IP %v, at %v", i+1, d.LoginCount, d.CurrentLoginIP, d.CurrentLoginAt)
					} else if at, err := time.Parse("2006-01-02T15:04:05.999999", *d.CurrentLoginAt); err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Minute {
						t.Errorf("the app reads current_login_at %q (%v): not the naive UTC time of the login", *d.CurrentLoginAt, err)
					}
				}
				d := dumped[1]
				if d.Scheme != "pbkdf2_sha512" || d.ConfirmedAt == nil || strings.Join(d.Roles, ",") != "admin,editor" {
					t.Errorf("the app reads Bob as %+v; want a pbkdf2_sha512 hash, confirmed, roles admin and editor", d)
				}
				if d.FsUniquifier == bob.FsUniquifier {
					t.Error("SetPassword left fs_uniquifier as it was: the app's sessions survive the password change")
				}
				if v.token && (d.FsTokenUniquifier == nil || *d.FsTokenUniquifier == *bob.FsTokenUniquifier) {
					t.Error("SetPassword left fs_token_uniquifier as it was: the app's tokens survive the password change")
				}
			})
		}
	}
}

// searchPathOf returns the search_path parameter of a DSN made by
// freshPostgres.
func searchPathOf(t *testing.T, dsn string) string {
	t.Helper()
	i := strings.Index(dsn, "search_path=")
	if i < 0 {
		t.Fatalf("no search_path in the test DSN")
	}
	sp := dsn[i+len("search_path="):]
	if j := strings.IndexAny(sp, "& "); j >= 0 {
		sp = sp[:j]
	}
	return sp
}
