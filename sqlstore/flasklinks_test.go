package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/sqlstore"
)

// The FlaskStore finds users by fs_uniquifier for flask.Links.
var _ flask.FsUniquifierLookup = (*sqlstore.FlaskStore)(nil)

// TestFlaskFsUniquifier checks UserByFsUniquifier and FsUniquifier with
// and without fs_token_uniquifier: they read fs_uniquifier, whichever
// column Uniquifier is, and follow its rotation.
func TestFlaskFsUniquifier(t *testing.T) {
	for _, b := range backends {
		for _, v := range flaskVariants {
			t.Run(b.name+"/"+v.name, func(t *testing.T) {
				b.require(t)
				dsn := newFlaskDB(t, b, v, nil)
				s := openFlask(t, b, dsn, sqlstore.FlaskSchema{})
				db := openDB(t, b.driver, dsn)
				ctx := t.Context()
				u := &auth.User{Email: "links@example.com", Active: true, Uniquifier: "links-uniq-1"}
				if err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				other := &auth.User{Email: "other@example.com", Active: true, Uniquifier: "links-uniq-2"}
				if err := s.CreateUser(ctx, other); err != nil {
					t.Fatal(err)
				}
				fs := rawFsUniquifier(t, db, u.ID)
				if !v.token && fs != u.Uniquifier || v.token && (fs == "" || fs == u.Uniquifier) {
					t.Fatalf("fs_uniquifier %q with Uniquifier %q", fs, u.Uniquifier)
				}
				if got, err := s.FsUniquifier(ctx, u.ID); err != nil || got != fs {
					t.Errorf("FsUniquifier = %q, %v; want %q", got, err, fs)
				}
				if got, err := s.UserByFsUniquifier(ctx, fs); err != nil || got.ID != u.ID || got.Uniquifier != u.Uniquifier || got.Email != u.Email {
					t.Errorf("UserByFsUniquifier(%q) = %+v, %v; want user %s", fs, got, err, u.ID)
				}
				for _, uniq := range []string{"", "no-such-uniquifier", strings.ToUpper(fs)} {
					if got, err := s.UserByFsUniquifier(ctx, uniq); got != nil || !errors.Is(err, auth.ErrUserNotFound) {
						t.Errorf("UserByFsUniquifier(%q) = %v, %v; want ErrUserNotFound", uniq, got, err)
					}
				}
				if v.token {
					if got, err := s.UserByFsUniquifier(ctx, u.Uniquifier); got != nil || !errors.Is(err, auth.ErrUserNotFound) {
						t.Errorf("UserByFsUniquifier(fs_token_uniquifier) = %v, %v; want ErrUserNotFound", got, err)
					}
				}
				for _, id := range []string{"999", "abc", "", "01"} {
					if got, err := s.FsUniquifier(ctx, id); got != "" || !errors.Is(err, auth.ErrUserNotFound) {
						t.Errorf("FsUniquifier(%q) = %q, %v; want ErrUserNotFound", id, got, err)
					}
				}

				// A rotation gives fs_uniquifier a new value in both
				// shapes; the old one names nobody.
				if err := s.UpdateUser(ctx, u.ID, func(u *auth.User) error { u.Uniquifier = "links-uniq-3"; return nil }); err != nil {
					t.Fatal(err)
				}
				fs2 := rawFsUniquifier(t, db, u.ID)
				if got, err := s.FsUniquifier(ctx, u.ID); err != nil || got != fs2 || fs2 == fs {
					t.Errorf("after rotation FsUniquifier = %q, %v; fs_uniquifier %q, was %q", got, err, fs2, fs)
				}
				if got, err := s.UserByFsUniquifier(ctx, fs); got != nil || !errors.Is(err, auth.ErrUserNotFound) {
					t.Errorf("UserByFsUniquifier(old fs_uniquifier) = %v, %v; want ErrUserNotFound", got, err)
				}
			})
		}
	}
}

// rawFsUniquifier reads a user's fs_uniquifier.
func rawFsUniquifier(t *testing.T, db *sql.DB, id string) string {
	t.Helper()
	var fs string
	if err := db.QueryRowContext(t.Context(), `SELECT fs_uniquifier FROM "user" WHERE id = `+id).Scan(&fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestFlaskLinksRealApp has the real Flask-Security read the links that
// flask.Links over a FlaskStore makes, and the Links read the links it
// makes, on an SQLite database both share, with and without
// fs_token_uniquifier.
func TestFlaskLinksRealApp(t *testing.T) {
	py := testpython.Find(t, "python3-flask-security python3-flask-sqlalchemy python3-passlib", "flask_security", "flask_sqlalchemy", "passlib")
	sqlite := backends[0]
	for _, v := range flaskVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "flask.db")
			dsn := sqlstore.SQLiteDSN(path)
			db := openDB(t, sqlite.driver, dsn)
			for _, stmt := range v.ddl(t, sqlite) {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			s := openFlask(t, sqlite, dsn, sqlstore.FlaskSchema{})
			ctx := t.Context()
			u := &auth.User{Email: "links@example.com", PasswordHash: "$pbkdf2-sha512$25000$c2FsdA$stored", Active: true, Uniquifier: auth.NewUniquifier()}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			fs := rawFsUniquifier(t, db, u.ID)
			const secret = "links real app secret"
			// hex_md5 keeps the test fast; flask's own tests cover the
			// default schemes.
			fc := flask.Config{SecretKey: []byte(secret), HashingSchemes: []string{"hex_md5"}}
			links, err := flask.NewLinks(fc, s)
			if err != nil {
				t.Fatal(err)
			}
			var reads []map[string]string
			for _, p := range []string{"confirm", "reset", "change-email"} {
				email := ""
				if p == "change-email" {
					email = "new@example.com"
				}
				tok, err := links.MakeLinkToken(context.Background(), p, u, email)
				if err != nil {
					t.Fatalf("MakeLinkToken(%s): %v", p, err)
				}
				reads = append(reads, map[string]string{"purpose": p, "token": tok})
			}
			req, _ := json.Marshal(map[string]any{
				"secret_key": secret, "db": path, "user": map[string]string{"email": u.Email},
				"config":    map[string]any{"SECURITY_HASHING_SCHEMES": []string{"hex_md5"}, "SECURITY_DEPRECATED_HASHING_SCHEMES": []string{}},
				"new_email": "new@example.com", "read": reads,
			})
			// #nosec G204 -- tests only: the interpreter testpython found, a script of the module's
			cmd := exec.Command(py, "-B", filepath.Join("..", "flask", "testdata", "links.py"))
			cmd.Stdin = strings.NewReader(string(req))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("links.py: %v\n%s", err, stderr.String())
			}
			var out struct {
				FsUniquifier string            `json:"fs_uniquifier"`
				Confirm      string            `json:"confirm"`
				Reset        string            `json:"reset"`
				ChangeEmail  string            `json:"change-email"`
				Read         []json.RawMessage `json:"read"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("links.py printed %q: %v", raw, err)
			}
			if out.FsUniquifier != fs {
				t.Fatalf("the app's user has fs_uniquifier %q, the table %q", out.FsUniquifier, fs)
			}
			want := `{"expired": false, "invalid": false, "user": "` + fs + `", "new_email": null}`
			for i, r := range out.Read {
				w := want
				if reads[i]["purpose"] == "change-email" {
					w = strings.Replace(want, `null}`, `"new@example.com"}`, 1)
				}
				if string(r) != w {
					t.Errorf("Flask-Security on the Go %s link: %s, want %s", reads[i]["purpose"], r, w)
				}
			}
			for p, tok := range map[string]string{"confirm": out.Confirm, "reset": out.Reset, "change-email": out.ChangeEmail} {
				got, email, err := links.ReadLinkToken(ctx, p, tok, time.Hour)
				if err != nil || got.ID != u.ID || (p == "change-email") != (email == "new@example.com") {
					t.Errorf("ReadLinkToken(Flask-Security's %s link) = %v, %q, %v; want user %s", p, got, email, err, u.ID)
				}
			}
		})
	}
}
