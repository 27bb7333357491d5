package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/internal/testpython"
)

// TestAuthctlUserLifecycle is the operators' story end to end, with the
// real programs on one SQLite file: a user created with authctl logs in
// through the server, the token survives a restart of the server, and
// "authctl tokens revoke" makes it fail within the cache's staleness bound.
func TestAuthctlUserLifecycle(t *testing.T) {
	dir := t.TempDir()
	authctl := filepath.Join(dir, "authctl")
	build := exec.Command("go", "build", "-o", authctl, "../../cmd/authctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building authctl: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "auth.db")
	// AUTH_BCRYPT_COST keeps the server at the test's cost: at its default
	// a login would rehash the cost-4 hash at cost 12, seconds in a race
	// build on a loaded machine.
	env := map[string]string{"AUTH_SECRET": "lifecycle test secret, 32 bytes..", "AUTH_BCRYPT_COST": "4"}
	ctl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(authctl, append([]string{"-db", db, "-bcrypt-cost", "4"}, args...)...)
		cmd.Env = append(os.Environ(), "AUTH_SECRET="+env["AUTH_SECRET"])
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("authctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ctl("operator-made-password\n", "users", "create", "ops@example.com", "--password-stdin", "--confirmed")

	start := func() (string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		errc := make(chan error, 1)
		var stderr syncBuffer
		go func() {
			errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, func(k string) string { return env[k] }, &stderr, ready)
		}()
		select {
		case addr := <-ready:
			return "http://" + addr, func() {
				cancel()
				if err := <-errc; err != nil {
					t.Errorf("server: %v\n%s", err, stderr.String())
				}
			}
		case err := <-errc:
			cancel()
			t.Fatalf("server did not start: %v\n%s", err, stderr.String())
		}
		return "", nil
	}
	// The timeout only catches a hang; nothing here is timed.
	client := &http.Client{Timeout: 5 * time.Minute}
	get := func(url, tok string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url+"/protected", nil)
		req.Header.Set("Authentication-Token", tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	url, stop := start()
	resp, err := client.Post(url+"/login", "application/json", strings.NewReader(`{"email":"ops@example.com","password":"operator-made-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := loginTokenOf(t, resp)
	if h := storedUser(t, db, "ops@example.com").PasswordHash; !strings.HasPrefix(h, "$2a$04$") {
		t.Errorf("after the login the hash is %.7s…, want it kept at the test's cost 4 ($2a$04$)", h)
	}
	if code := get(url, tok); code != http.StatusOK {
		t.Fatalf("token of the authctl user: %d, want 200", code)
	}
	stop()

	url, stop = start()
	defer stop()
	if code := get(url, tok); code != http.StatusOK {
		t.Fatalf("token after a restart: %d, want 200", code)
	}
	if out := ctl("", "tokens", "verify", tok); !strings.Contains(out, "ops@example.com") {
		t.Errorf("authctl tokens verify printed %q", out)
	}
	ctl("", "tokens", "revoke", "ops@example.com")
	if code := statusWithin(t, http.StatusUnauthorized, func() int { return get(url, tok) }); code != http.StatusUnauthorized {
		t.Fatalf("token after authctl tokens revoke: %d, want 401", code)
	}
}

// statusWithin calls get until it answers want, for as long as another
// process's change may take to reach a running server: the server's user
// cache learns of it from the store's change log, which it reads at most
// every 250 ms and trusts for 1 s, and a store without a change log keeps
// entries for 1 s. Once get answers want it must keep answering it. The
// deadline is generous; it only turns "never" into a failure. It returns
// the last status.
func statusWithin(t *testing.T, want int, get func() int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	code := get()
	for code != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		code = get()
	}
	for i := 0; code == want && i < 3; i++ {
		if code = get(); code != want {
			t.Errorf("answered %d after %d: the change did not stay seen", code, want)
		}
	}
	return code
}

// storedUser reads a user from the store dsn names, as it is now.
func storedUser(t *testing.T, dsn, email string) *auth.User {
	t.Helper()
	store, closeStore, err := dbopen.Open(context.Background(), dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	u, err := store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSecretFileSameKey checks the one rule of the secret: the text of
// auth.db.secret is the key, for the server that made it, for authctl
// (given the text in AUTH_SECRET, or reading the file itself) and for
// Python's itsdangerous.
func TestSecretFileSameKey(t *testing.T) {
	py := testpython.Find(t, "python3-itsdangerous", "itsdangerous")
	dir := t.TempDir()
	authctl := filepath.Join(dir, "authctl")
	if out, err := exec.Command("go", "build", "-o", authctl, "../../cmd/authctl").CombinedOutput(); err != nil {
		t.Fatalf("building authctl: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "auth.db")
	env := map[string]string{"AUTH_BCRYPT_COST": "4"} // no AUTH_SECRET: the server makes the file
	m, closeStore, err := nativeManager(context.Background(), db, "http://127.0.0.1:8080", auth.AccountConfig{}, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	store, closeStore2, err := dbopen.Open(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.UserByEmail(context.Background(), "test@example.com")
	closeStore2()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(db + ".secret")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(string(raw)) // what "$(cat auth.db.secret)" gives
	for _, tt := range []struct {
		name   string
		secret []string // the AUTH_SECRET setting, if any
	}{
		{name: "AUTH_SECRET from the file", secret: []string{"AUTH_SECRET=" + text}},
		{name: "AUTH_SECRET unset", secret: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(authctl, "-db", db, "tokens", "verify", tok)
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AUTH_SECRET=") && !strings.HasPrefix(kv, "AUTH_TOKEN_SALT=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, tt.secret...)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "VALID: token of user "+u.ID) {
				t.Errorf("authctl tokens verify: %v\n%s", err, out)
			}
		})
	}
	t.Run("itsdangerous", func(t *testing.T) {
		script := `
import hashlib, json, sys
from itsdangerous import URLSafeTimedSerializer
s = URLSafeTimedSerializer(sys.argv[1], salt="authkit-token", signer_kwargs={"digest_method": hashlib.sha256})
print(json.dumps(s.loads(sys.argv[2], max_age=3600)))
`
		out, err := exec.Command(py, "-B", "-c", script, text, tok).CombinedOutput()
		if want := `["` + u.ID + `", "` + u.Uniquifier + `"]`; err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("itsdangerous with the file's text: %v %s, want %s", err, out, want)
		}
	})
}

// loginTokenOf reads the token out of a login response.
func loginTokenOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok, err := findToken(body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s (%v)", resp.StatusCode, body, err)
	}
	return tok
}

// TestAuthctlSendsLinks: the links "authctl users send-confirmation" and
// "send-reset" mail, with the server's mail flags and -base-url, work at
// the running server: the confirmation confirms, the reset sets the
// password the user then logs in with.
func TestAuthctlSendsLinks(t *testing.T) {
	dir := t.TempDir()
	authctl := filepath.Join(dir, "authctl")
	if out, err := exec.Command("go", "build", "-o", authctl, "../../cmd/authctl").CombinedOutput(); err != nil {
		t.Fatalf("building authctl: %v\n%s", err, out)
	}
	db, mailDir := filepath.Join(dir, "auth.db"), filepath.Join(dir, "mail")
	env := accountEnv()
	base, _ := startServer(t, env, "-db", db, "-mail-dir", mailDir)
	ctl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(authctl, append([]string{"-db", db}, args...)...)
		cmd.Env = append(os.Environ(), "AUTH_SECRET="+env["AUTH_SECRET"], "MAIL_FROM="+env["MAIL_FROM"])
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("authctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	out := ctl("users", "send-confirmation", "unconfirmed@example.com", "-base-url", base, "-mail-dir", mailDir)
	if !strings.Contains(out, "mailed a confirmation link to unconfirmed@example.com into "+mailDir) {
		t.Errorf("authctl printed %q", out)
	}
	msg := mailIn(t, mailDir, 1)[0]
	if loc := redirectOf(t, smtptest.LinkIn(t, msg.Text, base+"/auth/confirm/")); loc.Query().Get("status") != "confirmed" {
		t.Errorf("authctl's confirmation link at the server leads to %s", loc)
	}
	if u := storedUser(t, db, "unconfirmed@example.com"); !u.Confirmed {
		t.Error("not confirmed after authctl's link")
	}

	ctl("users", "send-reset", "test@example.com", "-base-url", base, "-mail-dir", mailDir)
	link := smtptest.LinkIn(t, mailIn(t, mailDir, 2)[1].Text, base+"/auth/reset/")
	if loc := redirectOf(t, link); loc.Query().Get("status") != "valid" {
		t.Fatalf("authctl's reset link at the server leads to %s", loc)
	}
	if status, body := postJSON(t, link, `{"password":"set through authctl's link"}`); status != http.StatusOK {
		t.Fatalf("reset through authctl's link: %d %s", status, body)
	}
	if status, _ := login(t, base, "test@example.com", "set through authctl's link"); status != http.StatusOK {
		t.Errorf("login with the password set through authctl's link: %d", status)
	}
	// The server's notice of the reset, sent after its answer, must be in
	// before the directory is removed.
	if notice := mailIn(t, mailDir, 3)[2]; notice.Subject != "Your password was reset" {
		t.Errorf("third message %q, want the reset notice", notice.Subject)
	}
}
