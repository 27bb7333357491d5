package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// accountServer serves the account handler of a Manager over the SQLite
// file with the key authctl is given, under /auth as the example server
// mounts it, and returns its origin.
func accountServer(t *testing.T, db string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	m, err := auth.New(openTestStore(t, db), []byte(testSecret), auth.Config{
		Logger:   slog.New(slog.DiscardHandler),
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Account:  auth.AccountConfig{Mailer: mail.Dir{Path: t.TempDir(), From: "server@example.com"}, BaseURL: base + "/auth"},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", m.AccountHandler()))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

// linkAnswer is the status and JSON "status" of a request to a link.
func linkAnswer(t *testing.T, method, link, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, link, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v struct {
		Response struct {
			Status string `json:"status"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s %s: %d %s", method, link, resp.StatusCode, raw)
	}
	return resp.StatusCode, v.Response.Status
}

// onlyMessage is the one .eml file in dir, parsed.
func onlyMessage(t *testing.T, dir string) smtptest.Received {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(names) != 1 {
		t.Fatalf("%s holds %d messages, want 1", dir, len(names))
	}
	raw, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	msg, err := smtptest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// sendTestDB makes a database with an unconfirmed user, a confirmed one
// and an inactive one.
func sendTestDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create new", args: []string{"users", "create", "New@example.com", "--password-stdin"}, stdin: "a first password\n"},
		{name: "create old", args: []string{"users", "create", "old@example.com", "--password-stdin", "--confirmed"}, stdin: "an old password\n"},
		{name: "create gone", args: []string{"users", "create", "gone@example.com", "--no-password"}},
		{name: "deactivate gone", args: []string{"users", "deactivate", "gone@example.com"}},
	})
	return db
}

// TestSendLinksMailDir: the links authctl writes into -mail-dir work at
// an account handler signing with the same key under -base-url.
func TestSendLinksMailDir(t *testing.T) {
	t.Setenv("AUTH_SECRET", testSecret)
	t.Setenv("MAIL_FROM", "")
	db := sendTestDB(t)
	base := accountServer(t, db)
	confirmDir, resetDir := filepath.Join(t.TempDir(), "confirm"), filepath.Join(t.TempDir(), "reset")
	runSteps(t, db, []step{
		{
			name: "send-confirmation", args: []string{"users", "send-confirmation", "new@example.com", "-base-url", base + "/", "-mail-dir", confirmDir},
			stdout: []string{"mailed a confirmation link to New@example.com into " + confirmDir},
		},
		{
			name: "send-reset", args: []string{"users", "send-reset", "-base-url", base, "-mail-dir", resetDir, "old@example.com"},
			stdout: []string{"mailed a password reset link to old@example.com into " + resetDir},
		},
	})

	msg := onlyMessage(t, confirmDir)
	if msg.Header.Get("To") != "New@example.com" || msg.Header.Get("From") != devFrom || msg.Subject != "Confirm your email address" {
		t.Errorf("confirmation message from %q to %q, subject %q", msg.Header.Get("From"), msg.Header.Get("To"), msg.Subject)
	}
	link := smtptest.LinkIn(t, msg.Text, base+"/auth/confirm/")
	if code, status := linkAnswer(t, http.MethodGet, link, ""); code != http.StatusOK || status != "confirmed" {
		t.Errorf("the confirmation link at the account handler: %d %q", code, status)
	}
	if u, err := openTestStore(t, db).UserByEmail(t.Context(), "new@example.com"); err != nil || !u.Confirmed {
		t.Errorf("after the link: %+v, %v", u, err)
	}

	msg = onlyMessage(t, resetDir)
	link = smtptest.LinkIn(t, msg.Text, base+"/auth/reset/")
	if code, status := linkAnswer(t, http.MethodGet, link, ""); code != http.StatusOK || status != "valid" {
		t.Errorf("the reset link at the account handler: %d %q", code, status)
	}
	if code, _ := linkAnswer(t, http.MethodPost, link, `{"password":"a reset password"}`); code != http.StatusOK {
		t.Fatalf("reset through the link: %d", code)
	}
	m, err := auth.New(openTestStore(t, db), []byte(testSecret), auth.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(t.Context(), "old@example.com", "a reset password"); err != nil {
		t.Errorf("the password set through authctl's link: %v", err)
	}
}

// TestSendLinksSMTP: authctl sends through a real SMTP server, and the
// link received works at the account handler.
func TestSendLinksSMTP(t *testing.T) {
	t.Setenv("AUTH_SECRET", testSecret)
	t.Setenv("MAIL_FROM", "ops@example.com")
	t.Setenv("SMTP_USERNAME", "")
	t.Setenv("SMTP_PASSWORD", "")
	db := sendTestDB(t)
	base := accountServer(t, db)
	smtp := smtptest.Start(t, smtptest.Config{})
	runSteps(t, db, []step{
		{
			name: "send-reset", args: []string{"users", "send-reset", "new@example.com", "-base-url", base, "-smtp", smtp.Addr, "-smtp-security", "insecure"},
			stdout: []string{"mailed a password reset link to New@example.com through " + smtp.Addr},
		},
		{
			name: "send-confirmation", args: []string{"users", "send-confirmation", "new@example.com", "-base-url", base, "-smtp", smtp.Addr, "-smtp-security", "insecure"},
			stdout: []string{"mailed a confirmation link to New@example.com"},
		},
	})
	msgs := smtp.Wait(t, 2)
	if msgs[0].From != "ops@example.com" || !slices.Equal(msgs[0].To, []string{"New@example.com"}) || msgs[0].Subject != "Reset your password" {
		t.Errorf("message from %s to %v, subject %q", msgs[0].From, msgs[0].To, msgs[0].Subject)
	}
	reset := smtptest.LinkIn(t, msgs[0].Text, base+"/auth/reset/")
	if code, _ := linkAnswer(t, http.MethodPost, reset, `{"password":"a reset password","password_confirm":"a reset password"}`); code != http.StatusOK {
		t.Errorf("reset through the link: %d", code)
	}
	confirm := smtptest.LinkIn(t, msgs[1].Text, base+"/auth/confirm/")
	if code, status := linkAnswer(t, http.MethodGet, confirm, ""); code != http.StatusOK || status != "confirmed" {
		t.Errorf("the confirmation link: %d %q", code, status)
	}
	if code, _ := linkAnswer(t, http.MethodPost, reset, `{"password":"another password"}`); code != http.StatusBadRequest {
		t.Errorf("the reset link used twice: %d", code)
	}
}

// TestSendLinksStdout: without -mail-dir or -smtp the message, link
// included, is logged to stdout, as the server logs it.
func TestSendLinksStdout(t *testing.T) {
	t.Setenv("AUTH_SECRET", testSecret)
	db := sendTestDB(t)
	var stdout, stderr strings.Builder
	code := run([]string{"-db", db, "users", "send-reset", "old@example.com", "-base-url", "https://auth.example.com"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "https://auth.example.com/auth/reset/") ||
		!strings.Contains(stdout.String(), "mailed a password reset link to old@example.com to stdout") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// TestSendLinksErrors: what the commands refuse.
func TestSendLinksErrors(t *testing.T) {
	t.Setenv("AUTH_SECRET", testSecret)
	t.Setenv("MAIL_FROM", "")
	db := sendTestDB(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	base := []string{"-base-url", "http://127.0.0.1:8080"}
	runSteps(t, db, []step{
		{name: "no base URL", args: []string{"users", "send-reset", "old@example.com"}, code: 2, stderr: []string{"give -base-url"}},
		{name: "base URL with a path", args: []string{"users", "send-reset", "old@example.com", "-base-url", "http://127.0.0.1:8080/auth"}, code: 2, stderr: []string{`-base-url "http://127.0.0.1:8080/auth"`}},
		{name: "dir and smtp", args: append([]string{"users", "send-reset", "old@example.com", "-mail-dir", dir, "-smtp", refused}, base...), code: 2, stderr: []string{"exclude each other"}},
		{name: "smtp without MAIL_FROM", args: append([]string{"users", "send-reset", "old@example.com", "-smtp", refused}, base...), code: 1, stderr: []string{"-smtp needs MAIL_FROM"}},
		{name: "unknown security", args: append([]string{"users", "send-reset", "old@example.com", "-smtp", refused, "-smtp-security", "ssl"}, base...), code: 2, stderr: []string{`unknown -smtp-security "ssl"`}},
		{name: "unknown user", args: append([]string{"users", "send-reset", "nobody@example.com", "-mail-dir", dir}, base...), code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "inactive user", args: append([]string{"users", "send-reset", "gone@example.com", "-mail-dir", dir}, base...), code: 1, stderr: []string{"gone@example.com is inactive: no link sent"}},
		{name: "confirmed user", args: append([]string{"users", "send-confirmation", "old@example.com", "-mail-dir", dir}, base...), code: 1, stderr: []string{"old@example.com is confirmed already: no link sent"}},
	})
	if names, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(names) != 0 {
		t.Errorf("refused commands wrote %d messages", len(names))
	}

	t.Setenv("MAIL_FROM", "ops@example.com")
	runSteps(t, db, []step{
		{
			name: "the SMTP server refuses the connection", args: append([]string{"users", "send-reset", "old@example.com", "-smtp", refused, "-smtp-security", "insecure"}, base...),
			code: 1, stderr: []string{"auth: cannot send mail", "a password reset link to old@example.com could not be sent"},
		},
	})
	t.Setenv("AUTH_SECRET", "")
	runSteps(t, db, []step{
		{name: "no key", args: append([]string{"users", "send-reset", "old@example.com", "-mail-dir", dir}, base...), code: 1, stderr: []string{"AUTH_SECRET is not set"}},
	})
}

// TestSendLinksFlask: on a Flask-Security database, authctl mails
// Flask-Security's own reset link, signed with SECRET_KEY, which
// flask.Links (as the example server mounts it) reads as the user's.
func TestSendLinksFlask(t *testing.T) {
	py := testpython.Find(t, "python3-flask-security python3-flask-sqlalchemy python3-passlib python3-bcrypt",
		"flask_security", "flask_sqlalchemy", "passlib", "bcrypt")
	db := filepath.Join(t.TempDir(), "flask.db")
	cmd := exec.Command(py, "-B", flaskDir+"make_app_db.py", "create", "--db", db)
	cmd.Env = append(os.Environ(), "SECURITY_PASSWORD_SALT="+flaskSalt)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_app_db.py create: %v\n%s", err, out)
	}
	t.Setenv("AUTH_DB", "")
	t.Setenv("MAIL_FROM", "")
	t.Setenv("SECURITY_CONFIRM_SALT", "")
	t.Setenv("SECURITY_RESET_SALT", "")
	dir := filepath.Join(t.TempDir(), "mail")
	t.Setenv("SECRET_KEY", "")
	runSteps(t, db, []step{{
		name: "send-reset without SECRET_KEY", args: []string{"users", "send-reset", "alice@example.com", "-base-url", "http://127.0.0.1:1", "-mail-dir", dir},
		code: 1, stderr: []string{"SECRET_KEY is not set"},
	}})
	const secret = "the Flask app's secret key"
	t.Setenv("SECRET_KEY", secret)
	runSteps(t, db, []step{{
		name: "send-reset", args: []string{"users", "send-reset", "alice@example.com", "-base-url", "http://127.0.0.1:1", "-mail-dir", dir},
		stdout: []string{"mailed a password reset link to alice@example.com"},
	}})
	link := smtptest.LinkIn(t, onlyMessage(t, dir).Text, "http://127.0.0.1:1/auth/reset/")
	store, closeStore, err := dbopen.OpenFlask(t.Context(), db, sqlstore.FlaskSchema{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	links, err := flask.NewLinks(flask.Config{SecretKey: []byte(secret)}, store)
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := links.ReadLinkToken(t.Context(), "reset", strings.TrimPrefix(link, "http://127.0.0.1:1/auth/reset/"), time.Hour)
	if err != nil || u.Email != "alice@example.com" {
		t.Errorf("Flask-Security's reader on authctl's link: %v, %v", u, err)
	}
}
