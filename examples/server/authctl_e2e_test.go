package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuthctlUserLifecycle is the operators' story end to end, with the
// real programs on one SQLite file: a user created with authctl logs in
// through the server, the token survives a restart of the server, and
// "authctl tokens revoke" makes it fail on the next request.
func TestAuthctlUserLifecycle(t *testing.T) {
	dir := t.TempDir()
	authctl := filepath.Join(dir, "authctl")
	build := exec.Command("go", "build", "-o", authctl, "../../cmd/authctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building authctl: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "auth.db")
	env := map[string]string{"AUTH_SECRET": "lifecycle test secret, 32 bytes.."}
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
	client := &http.Client{Timeout: 10 * time.Second}
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
	if code := get(url, tok); code != http.StatusUnauthorized {
		t.Fatalf("token after authctl tokens revoke: %d, want 401", code)
	}
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
