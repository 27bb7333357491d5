package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/totp"
)

// flaskTOTPSecrets is the SECURITY_TOTP_SECRETS of the tests' Flask app.
var flaskTOTPSecrets = map[string]string{"1": "flask totp secret one", "2": "flask totp secret two"}

// flaskTotp runs the script with Flask-Security's Totp (passlib) over
// flaskTOTPSecrets as f, and its argument lines, and returns its output.
func flaskTotp(t *testing.T, py, script string, args ...string) string {
	t.Helper()
	secrets, _ := json.Marshal(flaskTOTPSecrets)
	prelude := "import json, sys\nfrom flask_security.totp import Totp\nf = Totp(json.loads(sys.argv[1]), 'Example')\n"
	out, err := exec.Command(py, append([]string{"-c", prelude + script, string(secrets)}, args...)...).CombinedOutput() // #nosec G204 -- test: Debian's Python with this package's script
	if err != nil {
		t.Fatalf("flask_security: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// postJSON posts body to h and returns the status and the envelope's
// response.
func postJSON(t *testing.T, h http.Handler, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authentication-Token", token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Code, env.Response
}

// TestFlaskTwoFactor: an authenticator app set up by Flask-Security logs
// in at a Manager over the FlaskStore with its codes (a password alone
// does not, a code works once), and one set up at the Manager is
// Flask-Security's: tf_primary_method "authenticator" and a
// tf_totp_secret whose codes its Totp checks and makes.
func TestFlaskTwoFactor(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			py := pythonFlask(t, false)
			ctx := context.Background()
			dsn := newFlaskDB(t, b, flaskVariants[0], nil)
			s := openFlask(t, b, dsn, sqlstore.FlaskSchema{})
			secrets, err := flask.NewTOTPSecrets(flask.Config{TOTPSecrets: flaskTOTPSecrets})
			if err != nil {
				t.Fatal(err)
			}
			m, err := auth.New(s, bytes.Repeat([]byte("k"), 32), auth.Config{
				Password:  auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
				TwoFactor: auth.TwoFactorConfig{Enabled: true, Secrets: secrets},
				Logger:    slog.New(slog.DiscardHandler), UserCache: auth.UserCacheConfig{Size: -1},
			})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, email := range []string{"flask@example.com", "go@example.com"} {
				u, err := m.NewUser(email, "correct horse battery")
				if err != nil {
					t.Fatal(err)
				}
				u.Confirmed = true
				if err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.ID)
			}
			login, account := m.LoginHandler(), m.AccountHandler()
			passwordLogin := func(email string) (int, map[string]any) {
				return postJSON(t, login, "/login", "", map[string]string{"email": email, "password": "correct horse battery"})
			}

			// Set up by Flask-Security, as its tf-setup stores it.
			secret := flaskTotp(t, py, "print(f.generate_totp_secret())")
			db := openDB(t, b.driver, dsn)
			q := `UPDATE "user" SET tf_primary_method = 'authenticator', tf_totp_secret = ? WHERE id = ?`
			if b.dialect == sqlstore.Postgres {
				q = `UPDATE "user" SET tf_primary_method = 'authenticator', tf_totp_secret = $1 WHERE id = $2`
			}
			if _, err := db.Exec(q, secret, ids[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Login(ctx, "flask@example.com", "correct horse battery", "192.0.2.1"); !errors.Is(err, auth.ErrTwoFactorRequired) {
				t.Fatalf("the password alone of a user with Flask-Security's app: %v", err)
			}
			code, resp := passwordLogin("flask@example.com")
			state, _ := resp["tf_state_token"].(string)
			if code != http.StatusOK || resp["tf_required"] != true || state == "" {
				t.Fatalf("login: %d %v", code, resp)
			}
			flaskCode := flaskTotp(t, py, "print(f.generate_totp_password(sys.argv[2]))", secret)
			code, resp = postJSON(t, account, "/tf-validate", "", map[string]string{"code": flaskCode, "tf_state_token": state})
			if code != http.StatusOK || resp["user"] == nil {
				t.Fatalf("Flask-Security's code: %d %v", code, resp)
			}
			_, resp = passwordLogin("flask@example.com")
			code, _ = postJSON(t, account, "/tf-validate", "", map[string]string{"code": flaskCode, "tf_state_token": resp["tf_state_token"].(string)})
			if code != http.StatusBadRequest {
				t.Errorf("the same code again: %d", code)
			}

			// Set up at the Manager.
			_, resp = passwordLogin("go@example.com")
			tok := resp["user"].(map[string]any)["authentication_token"].(string)
			code, resp = postJSON(t, account, "/tf-setup", tok, map[string]string{"setup": "authenticator"})
			if code != http.StatusOK {
				t.Fatalf("/tf-setup: %d %v", code, resp)
			}
			key, err := totp.DecodeKey(resp["tf_authr_key"].(string))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			goCode, _ := totp.Config{}.Code(key, now)
			if code, resp := postJSON(t, account, "/tf-setup/"+resp["tf_state_token"].(string), tok, map[string]string{"code": goCode}); code != http.StatusOK {
				t.Fatalf("/tf-setup/{state}: %d %v", code, resp)
			}
			var method, stored sql.NullString
			q = `SELECT tf_primary_method, tf_totp_secret FROM "user" WHERE id = ?`
			if b.dialect == sqlstore.Postgres {
				q = `SELECT tf_primary_method, tf_totp_secret FROM "user" WHERE id = $1`
			}
			if err := db.QueryRow(q, ids[1]).Scan(&method, &stored); err != nil {
				t.Fatal(err)
			}
			if method.String != "authenticator" || !strings.HasPrefix(stored.String, `{"enckey":`) {
				t.Fatalf("stored %q, %q", method.String, stored.String)
			}
			got := flaskTotp(t, py, `
t = f._totp.from_source(sys.argv[2])
print(json.dumps({"code": t.generate(int(sys.argv[4])).token, "verifies": f.verify_totp(sys.argv[3], sys.argv[2], None, window=30)}))
`, stored.String, goCode, "1700000000")
			var py2 struct {
				Code     string `json:"code"`
				Verifies bool   `json:"verifies"`
			}
			if err := json.Unmarshal([]byte(got), &py2); err != nil {
				t.Fatalf("%s", got)
			}
			want, _ := totp.Config{}.Code(key, time.Unix(1700000000, 0))
			if !py2.Verifies || py2.Code != want {
				t.Errorf("Flask-Security on the Manager's setup: %+v, want code %s", py2, want)
			}

			// Recovery codes stay Flask-Security's.
			if err := s.SetRecoveryCodes(ctx, ids[1], [][]byte{[]byte("hash")}); !errors.Is(err, auth.ErrReadOnlyStore) {
				t.Errorf("SetRecoveryCodes: %v", err)
			}
			// Turned off, the columns are NULL again, as Flask-Security's
			// tf_disable leaves them.
			if err := s.DeleteTwoFactor(ctx, ids[1]); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(q, ids[1]).Scan(&method, &stored); err != nil || method.Valid || stored.Valid {
				t.Errorf("after DeleteTwoFactor: %v %v %v", method, stored, err)
			}
			if _, err := m.Login(ctx, "go@example.com", "correct horse battery", "192.0.2.1"); err != nil {
				t.Errorf("the password alone after the factor is off: %v", err)
			}
		})
	}
}
