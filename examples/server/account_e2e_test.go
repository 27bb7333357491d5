package main

import (
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/smtptest"
)

// accountEnv is the environment of the servers the account tests start.
func accountEnv() map[string]string {
	return map[string]string{
		"AUTH_SECRET":      "account test secret, 32 bytes...",
		"AUTH_BCRYPT_COST": "4",
		"MAIL_FROM":        "auth@example.com",
	}
}

// postJSON posts body as JSON to u and returns the status and body.
func postJSON(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := noRedirect(u).Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// redirectOf fetches u without following redirects and returns where the
// 303 answer sends the browser.
func redirectOf(t *testing.T, u string) *url.URL {
	t.Helper()
	resp, body := get(t, u, browserAccept, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET %s: %d %s, want 303", u, resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// mailIn waits until dir holds at least n .eml files and returns them
// parsed, oldest first (mail.Dir's names sort in the order sent).
func mailIn(t *testing.T, dir string, n int) []smtptest.Received {
	t.Helper()
	deadline := time.Now().Add(smtptest.WaitTimeout)
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		if len(names) >= n {
			slices.Sort(names)
			var msgs []smtptest.Received
			for _, name := range names {
				raw, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				msg, err := smtptest.Parse(raw)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				msgs = append(msgs, msg)
			}
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages after %s, want %d", dir, len(names), smtptest.WaitTimeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAccountOverSMTP goes from nothing to a confirmed account, forgets
// the password and recovers it, as a JSON client of the real server,
// which mails through a real SMTP server; each link is taken out of the
// message received.
func TestAccountOverSMTP(t *testing.T) {
	smtp := smtptest.Start(t, smtptest.Config{})
	base, log := startServer(t, accountEnv(), "-db", filepath.Join(t.TempDir(), "auth.db"),
		"-smtp", smtp.Addr, "-smtp-security", "insecure")
	if want := `mail="smtp ` + smtp.Addr + ` (Insecure)"`; !strings.Contains(log.String(), want) {
		t.Errorf("the startup log lacks %s:\n%s", want, log)
	}
	const email, password, newPassword = "jo@example.com", "jo's first password", "jo's second password"

	status, body := postJSON(t, base+"/auth/register", `{"email":"`+email+`","password":"`+password+`","password_confirm":"`+password+`"}`)
	if status != http.StatusOK || !sameJSON(t, []byte(body), []byte(`{"meta":{"code":200},"response":{"user":{}}}`)) {
		t.Fatalf("register: %d %s", status, body)
	}
	msg := smtp.Wait(t, 1)[0]
	if msg.From != "auth@example.com" || len(msg.To) != 1 || msg.To[0] != email || msg.Subject != "Confirm your email address" {
		t.Fatalf("message from %s to %v, subject %q", msg.From, msg.To, msg.Subject)
	}
	loc := redirectOf(t, smtptest.LinkIn(t, msg.Text, base+"/auth/confirm/"))
	if loc.Path != confirmedPage || loc.Query().Get("status") != "confirmed" {
		t.Fatalf("the confirmation link leads to %s", loc)
	}
	if _, page := get(t, base+loc.String(), browserAccept, ""); !strings.Contains(page, "your email address is confirmed") {
		t.Errorf("the confirmation page:\n%s", page)
	}

	status, oldToken := login(t, base, email, password)
	if status != http.StatusOK || getProtected(t, base, oldToken) != http.StatusOK {
		t.Fatalf("login after the confirmation: %d", status)
	}
	if status, body := postJSON(t, base+"/auth/reset", `{"email":"`+email+`"}`); status != http.StatusOK {
		t.Fatalf("forgot password: %d %s", status, body)
	}
	msg = smtp.Wait(t, 2)[1]
	if msg.To[0] != email || msg.Subject != "Reset your password" {
		t.Fatalf("message to %v, subject %q", msg.To, msg.Subject)
	}
	link := smtptest.LinkIn(t, msg.Text, base+"/auth/reset/")
	token, _ := url.PathUnescape(strings.TrimPrefix(link, base+"/auth/reset/"))
	loc = redirectOf(t, link)
	if loc.Path != resetPage || loc.Query().Get("status") != "valid" || loc.Query().Get("token") != token {
		t.Fatalf("the reset link leads to %s", loc)
	}
	form := redirectOf(t, base+loc.String())
	if form.Path != resetPage+"/"+token {
		t.Fatalf("the reset page sends the browser to %s, want the form at %s/{token}", form, resetPage)
	}
	if _, page := get(t, base+form.String(), browserAccept, ""); !strings.Contains(page, `action="/auth/reset/`+url.PathEscape(token)+`"`) {
		t.Errorf("the reset form does not post to the link:\n%s", page)
	}
	status, body = postJSON(t, base+"/auth/reset/"+url.PathEscape(token), `{"password":"`+newPassword+`","password_confirm":"`+newPassword+`"}`)
	newToken, err := findToken([]byte(body))
	if status != http.StatusOK || err != nil {
		t.Fatalf("set the new password: %d %s", status, body)
	}
	if got := getProtected(t, base, newToken); got != http.StatusOK {
		t.Errorf("the token the reset answered: %d", got)
	}
	if got := getProtected(t, base, oldToken); got != http.StatusUnauthorized {
		t.Errorf("a token from before the reset: %d, want 401", got)
	}
	if status, _ := login(t, base, email, password); status != http.StatusBadRequest {
		t.Errorf("login with the old password: %d, want 400", status)
	}
	if status, tok := login(t, base, email, newPassword); status != http.StatusOK || getProtected(t, base, tok) != http.StatusOK {
		t.Errorf("login with the new password: %d", status)
	}
	if status, body := postJSON(t, base+"/auth/reset/"+url.PathEscape(token), `{"password":"a third password"}`); status != http.StatusBadRequest {
		t.Errorf("the reset link used again: %d %s", status, body)
	}
	if notice := smtp.Wait(t, 3)[2]; notice.To[0] != email || notice.Subject != "Your password was reset" {
		t.Errorf("third message to %v, subject %q; want the reset notice", notice.To, notice.Subject)
	}
}

// TestAccountMailDir: with -mail-dir each message is an .eml file there,
// holding the link, which works.
func TestAccountMailDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail") // made by the server
	db := filepath.Join(t.TempDir(), "auth.db")
	base, log := startServer(t, accountEnv(), "-db", db, "-mail-dir", dir)
	if !strings.Contains(log.String(), `mail="dir `+dir) {
		t.Errorf("the startup log does not name the directory:\n%s", log)
	}
	if status, body := postJSON(t, base+"/auth/register", `{"email":"dir@example.com","password":"a password for dir"}`); status != http.StatusOK {
		t.Fatalf("register: %d %s", status, body)
	}
	msg := mailIn(t, dir, 1)[0]
	if to := msg.Header.Get("To"); to != "dir@example.com" || msg.Header.Get("From") != "auth@example.com" {
		t.Errorf("message from %q to %q", msg.Header.Get("From"), to)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if info, err := os.Stat(names[0]); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the message file: %v, mode %v; want 0600", err, info.Mode())
	}
	loc := redirectOf(t, smtptest.LinkIn(t, msg.Text, base+"/auth/confirm/"))
	if loc.Query().Get("status") != "confirmed" {
		t.Fatalf("the confirmation link leads to %s", loc)
	}
	if u := storedUser(t, db, "dir@example.com"); !u.Confirmed {
		t.Errorf("after the link the user is %+v, want confirmed", u)
	}
}

// TestAccountMailLog: with neither -mail-dir nor -smtp, the startup log
// says that messages go to the log, and they do, links included.
func TestAccountMailLog(t *testing.T) {
	env := accountEnv()
	delete(env, "MAIL_FROM")
	base, log := startServer(t, env, "-db", filepath.Join(t.TempDir(), "auth.db"))
	if !strings.Contains(log.String(), `mail="log: account messages, links included, are written to this log`) {
		t.Errorf("the startup log does not say where messages go:\n%s", log)
	}
	if status, body := postJSON(t, base+"/auth/reset", `{"email":"test@example.com"}`); status != http.StatusOK {
		t.Fatalf("forgot password: %d %s", status, body)
	}
	deadline := time.Now().Add(smtptest.WaitTimeout)
	for !strings.Contains(log.String(), base+"/auth/reset/") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(log.String(), base+"/auth/reset/") || !strings.Contains(log.String(), "from="+devFrom) {
		t.Errorf("the log lacks the message from %s with its link:\n%s", devFrom, log)
	}
}

// TestAccountBaseURL: -base-url makes the links, whatever the address
// listened on.
func TestAccountBaseURL(t *testing.T) {
	smtp := smtptest.Start(t, smtptest.Config{})
	base, _ := startServer(t, accountEnv(), "-db", filepath.Join(t.TempDir(), "auth.db"),
		"-smtp", smtp.Addr, "-smtp-security", "insecure", "-base-url", "https://auth.example.com/")
	if status, body := postJSON(t, base+"/auth/reset", `{"email":"test@example.com"}`); status != http.StatusOK {
		t.Fatalf("forgot password: %d %s", status, body)
	}
	link := smtptest.LinkIn(t, smtp.Wait(t, 1)[0].Text, "https://auth.example.com/auth/reset/")
	// The link works at the server, whose public origin -base-url names.
	if loc := redirectOf(t, base+strings.TrimPrefix(link, "https://auth.example.com")); loc.Query().Get("status") != "valid" {
		t.Errorf("the link leads to %s", loc)
	}
}

func TestDefaultBaseURL(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 80}, "http://localhost:80"},
	} {
		if got := defaultBaseURL(tt.addr); got != tt.want {
			t.Errorf("defaultBaseURL(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestMailFlagErrors: run refuses a mail or base URL configuration that
// cannot work, before it listens.
func TestMailFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "dir and smtp", args: []string{"-mail-dir", "m", "-smtp", "127.0.0.1:25"}, want: "-mail-dir and -smtp exclude each other"},
		{name: "smtp without MAIL_FROM", args: []string{"-smtp", "127.0.0.1:25"}, want: "-smtp needs MAIL_FROM"},
		{name: "bad MAIL_FROM", args: []string{"-mail-dir", "m"}, env: map[string]string{"MAIL_FROM": "Auth <auth@example.com>"}, want: "MAIL_FROM="},
		{name: "unknown security", args: []string{"-smtp", "127.0.0.1:25", "-smtp-security", "ssl"}, env: map[string]string{"MAIL_FROM": "a@example.com"}, want: `unknown -smtp-security "ssl"`},
		{name: "security without smtp", args: []string{"-smtp-security", "tls"}, want: "-smtp-security applies to -smtp only"},
		{name: "password without user", args: []string{"-smtp", "127.0.0.1:25"}, env: map[string]string{"MAIL_FROM": "a@example.com", "SMTP_PASSWORD": "x"}, want: "SMTP_PASSWORD is set without SMTP_USERNAME"},
		{
			name: "credentials in plain text to another host", args: []string{"-smtp", "mail.example.com:25", "-smtp-security", "insecure"},
			env: map[string]string{"MAIL_FROM": "a@example.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}, want: "smtpmail:",
		},
		{name: "base URL with a path", args: []string{"-base-url", "https://example.com/app"}, want: "-base-url"},
		{name: "base URL of another scheme", args: []string{"-base-url", "ftp://example.com"}, want: "-base-url"},
		{name: "base URL without a host", args: []string{"-base-url", "example.com"}, want: "-base-url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer
			ready := make(chan string, 1)
			err := run(t.Context(), append([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "auth.db")}, tt.args...),
				func(k string) string { return tt.env[k] }, &stderr, ready)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error with %q", err, tt.want)
			}
			if len(ready) > 0 {
				t.Error("run listened before refusing the configuration")
			}
		})
	}
}

// TestFlaskAccount: with -schema flask-security the account handler works
// over the Flask-Security database: a user registered and confirmed
// through the Go server logs in to the real Flask app too, and a password
// reset through the Go server is the one the Flask app then accepts.
func TestFlaskAccount(t *testing.T) {
	t.Parallel()
	py := flaskPython(t, false)
	dsn := filepath.Join(t.TempDir(), "flask.db")
	where := []string{"--db", dsn}
	users := createFlaskUsers(t, py, flaskEnv, where...)
	if len(users) == 0 {
		t.Fatal("make_app_db.py created no users")
	}
	env := maps.Clone(flaskEnv)
	env["MAIL_FROM"] = "auth@example.com"
	mailDir := filepath.Join(t.TempDir(), "mail")
	goURL, _ := startServer(t, env, "-db", dsn, "-schema", "flask-security", "-mail-dir", mailDir)
	flaskURL := startFlask(t, py, where)

	const email, password = "newcomer@example.com", "a newcomer's password"
	if status, body := postJSON(t, goURL+"/auth/register", `{"email":"`+email+`","password":"`+password+`"}`); status != http.StatusOK {
		t.Fatalf("register at Go: %d %s", status, body)
	}
	if loc := redirectOf(t, smtptest.LinkIn(t, mailIn(t, mailDir, 1)[0].Text, goURL+"/auth/confirm/")); loc.Query().Get("status") != "confirmed" {
		t.Fatalf("the confirmation link leads to %s", loc)
	}
	for _, base := range []string{goURL, flaskURL} {
		if status, tok := login(t, base, email, password); status != http.StatusOK || getProtected(t, base, tok) != http.StatusOK {
			t.Errorf("%s: login of the user registered at Go: %d", base, status)
		}
	}

	alice := users[0]
	if status, body := postJSON(t, goURL+"/auth/reset", `{"email":"`+alice.Email+`"}`); status != http.StatusOK {
		t.Fatalf("forgot password at Go: %d %s", status, body)
	}
	link := smtptest.LinkIn(t, mailIn(t, mailDir, 2)[1].Text, goURL+"/auth/reset/")
	if status, body := postJSON(t, link, `{"password":"alice's reset password"}`); status != http.StatusOK {
		t.Fatalf("reset at Go: %d %s", status, body)
	}
	if status, _ := login(t, flaskURL, alice.Email, alice.Password); status == http.StatusOK {
		t.Error("Flask still accepts the password from before the reset")
	}
	if status, _ := login(t, flaskURL, alice.Email, "alice's reset password"); status != http.StatusOK {
		t.Errorf("Flask login with the password reset at Go: %d", status)
	}
	// The notice of the reset, sent after the answer, must be in before
	// the directory is removed.
	if notice := mailIn(t, mailDir, 3)[2]; notice.Subject != "Your password was reset" {
		t.Errorf("third message %q, want the reset notice", notice.Subject)
	}
}
