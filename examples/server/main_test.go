package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/passhash"
)

// newTestApp serves the application's routes over a store seeded as run
// seeds it, with a cheap bcrypt cost.
func newTestApp(t *testing.T) (*httptest.Server, *auth.MemoryStore) {
	t.Helper()
	m, store := newTestManager(t)
	srv := httptest.NewServer(routes(m))
	t.Cleanup(srv.Close)
	return srv, store
}

// newTestManager is newTestApp's Manager and store, for a test that serves
// the routes itself.
func newTestManager(t *testing.T) (*auth.Manager, *auth.MemoryStore) {
	t.Helper()
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{

		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Token: auth.TokenConfig{MaxAge: time.Hour, Scopes: demoScopes()}, Refresh: nativeRefresh(), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), m, store); err != nil {
		t.Fatal(err)
	}
	return m, store
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // seeding twice must not fail or duplicate
		if err := seed(ctx, m, store); err != nil {
			t.Fatal(err)
		}
	}
	users, _ := store.ListUsers(ctx)
	if len(users) != len(demoUsers) {
		t.Fatalf("%d users, want %d", len(users), len(demoUsers))
	}
	for i, d := range demoUsers {
		t.Run(d.email, func(t *testing.T) {
			u := users[i]
			if u.Email != d.email || !u.Active || u.Confirmed != d.confirmed || strings.Join(u.Roles, ",") != strings.Join(d.roles, ",") || u.Uniquifier == "" {
				t.Errorf("seeded %+v, want %+v", u, d)
			}
			if err := m.CheckPassword(u.PasswordHash, d.password); err != nil {
				t.Errorf("password: %v", err)
			}
		})
	}
}

// flowStep is one request of the client flow. In path, header values and
// Basic credentials and body, "{name}" stands for a token saved by an
// earlier step.
type flowStep struct {
	name      string
	method    string // default GET
	path      string
	header    map[string]string
	basic     [2]string // user and password of an Authorization: Basic header, if user is set
	body      string
	save      string // save the response's token under this name
	saveRT    string // and its refresh token under this one
	wantCode  int
	wantJSON  string // the exact response, as JSON; may use "{name}"
	wantChall string // WWW-Authenticate
}

const (
	itemsJSON  = `{"items":{"Key1":"Value1","Key2":"value2"}}`
	unauthJSON = `{"meta":{"code":401},"response":{"errors":["You are not authenticated. Please supply the correct credentials."],"error_codes":["UNAUTHENTICATED"]}}`
	badJSON    = `{"meta":{"code":401},"response":{"errors":["Invalid email or password."],"error_codes":["GENERIC_AUTHN_FAILED"]}}`
	bearer     = `Bearer realm="auth"`
	invalid    = `Bearer realm="auth", error="invalid_token"`
	basic      = `Basic realm="auth", charset="UTF-8"`
	// The challenges of /api/v1/posts/, which takes Basic credentials and
	// personal access tokens (Bearer).
	bearerBasic  = bearer + " | " + basic
	invalidBasic = invalid + " | " + basic
)

// TestClientFlow drives the demo API as the tutorial's Python client does.
func TestClientFlow(t *testing.T) {
	srv, store := newTestApp(t)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	steps := []flowStep{
		{name: "public without auth", path: "/public/", wantCode: 200, wantJSON: itemsJSON},
		{
			name: "login", method: "POST", path: "/login", header: jsonCT,
			body: `{"email": "test@example.com", "password": "test123"}`, save: "test", saveRT: "testRT", wantCode: 200,
			wantJSON: `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"{test}","refresh_token":"{testRT}"}}}`,
		},
		{
			name: "admin login", method: "POST", path: "/login", header: jsonCT,
			body: `{"email": "ADMIN@example.com", "password": "admin123"}`, save: "admin", saveRT: "adminRT", wantCode: 200,
			wantJSON: `{"meta":{"code":200},"response":{"user":{"id":"2","authentication_token":"{admin}","refresh_token":"{adminRT}"}}}`,
		},
		{
			name: "login with wrong password", method: "POST", path: "/login", header: jsonCT,
			body: `{"email": "test@example.com", "password": "test124"}`, wantCode: 400,
			wantJSON: `{"meta":{"code":400},"response":{"errors":["Invalid email or password."],"error_codes":["GENERIC_AUTHN_FAILED"]}}`,
		},
		{name: "login page as JSON", path: "/login", header: map[string]string{"Accept": "application/json"}, wantCode: 200}, // its login CSRF token: TestLoginPage
		{name: "login with PUT", method: "PUT", path: "/login", wantCode: 405},
		{
			name: "protected with header", path: "/protected", header: map[string]string{"Authentication-Token": "{test}"},
			wantCode: 200, wantJSON: `{"message":"Hello test@example.com","id":"1"}`,
		},
		{
			name: "protected with query", path: "/protected?auth_token={test}",
			wantCode: 200, wantJSON: `{"message":"Hello test@example.com","id":"1"}`,
		},
		{name: "protected without token", path: "/protected", wantCode: 401, wantJSON: unauthJSON, wantChall: bearer},
		// Refresh tokens (the native schema has them): each refresh answers
		// a new pair and rotates the token. Within the 10 s grace the token
		// before gets the same refresh token again (a client's retry); one
		// rotated further back is taken for a stolen copy, which ends the
		// session: its newest refresh token dies too, its access tokens
		// live on until they expire.
		{
			name: "refresh", method: "POST", path: "/auth/refresh-token", header: jsonCT,
			body: `{"refresh_token": "{testRT}"}`, save: "refreshed", saveRT: "testRT1", wantCode: 200,
			wantJSON: `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"{refreshed}","refresh_token":"{testRT1}"}}}`,
		},
		{
			name: "refreshed token on protected", path: "/protected", header: map[string]string{"Authentication-Token": "{refreshed}"},
			wantCode: 200, wantJSON: `{"message":"Hello test@example.com","id":"1"}`,
		},
		{
			name: "refresh retried within the grace", method: "POST", path: "/auth/refresh-token", header: jsonCT,
			body: `{"refresh_token": "{testRT}"}`, save: "retried", saveRT: "testRT1", wantCode: 200,
			wantJSON: `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"{retried}","refresh_token":"{testRT1}"}}}`,
		},
		{
			name: "refresh again", method: "POST", path: "/auth/refresh-token", header: jsonCT,
			body: `{"refresh_token": "{testRT1}"}`, save: "refreshed2", saveRT: "testRT2", wantCode: 200,
			wantJSON: `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"{refreshed2}","refresh_token":"{testRT2}"}}}`,
		},
		{
			name: "rotated refresh token again", method: "POST", path: "/auth/refresh-token", header: jsonCT,
			body: `{"refresh_token": "{testRT}"}`, wantCode: 401, wantJSON: unauthJSON, wantChall: invalid,
		},
		{
			name: "newest refresh token after the reuse", method: "POST", path: "/auth/refresh-token", header: jsonCT,
			body: `{"refresh_token": "{testRT2}"}`, wantCode: 401, wantJSON: unauthJSON, wantChall: invalid,
		},
		{name: "access token after the reuse", path: "/protected", header: map[string]string{"Authentication-Token": "{refreshed2}"}, wantCode: 200},
		{
			name: "refresh without a token", method: "POST", path: "/auth/refresh-token", header: jsonCT, body: `{}`,
			wantCode: 400, wantJSON: `{"meta":{"code":400},"response":{"errors":["Send the refresh token as \"refresh_token\"."],"error_codes":["REFRESH_TOKEN_NOT_PROVIDED"]}}`,
		},
		{name: "sessions without auth", path: "/auth/sessions", wantCode: 401, wantJSON: unauthJSON, wantChall: bearer},
		{name: "dummy-api with header", path: "/dummy-api/", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 200, wantJSON: itemsJSON},
		{name: "dummy-api with query", path: "/dummy-api/?auth_token={test}", wantCode: 200, wantJSON: itemsJSON},
		{name: "dummy-api with bearer", path: "/dummy-api/", header: map[string]string{"Authorization": "Bearer {test}"}, wantCode: 200, wantJSON: itemsJSON},
		{name: "dummy-api without token", path: "/dummy-api/", wantCode: 401, wantJSON: unauthJSON, wantChall: bearer},
		{name: "dummy-api with bad token", path: "/dummy-api/?auth_token=x.y.z", wantCode: 401, wantJSON: unauthJSON, wantChall: invalid},
		{name: "basic-api with Basic", path: "/basic-api/", basic: [2]string{"test@example.com", "test123"}, wantCode: 200, wantJSON: itemsJSON},
		{name: "basic-api with wrong password", path: "/basic-api/", basic: [2]string{"test@example.com", "wrong"}, wantCode: 401, wantJSON: badJSON, wantChall: basic},
		{name: "basic-api without auth", path: "/basic-api/", wantCode: 401, wantJSON: unauthJSON, wantChall: basic},
		{name: "basic-api with token", path: "/basic-api/", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 401, wantJSON: unauthJSON, wantChall: basic},
		{
			name: "tokens", method: "POST", path: "/api/v1/tokens/", basic: [2]string{"test@example.com", "test123"},
			save: "minted", wantCode: 200, wantJSON: `{"token":"{minted}","expiration":3600}`,
		},
		{
			name: "tokens unconfirmed", method: "POST", path: "/api/v1/tokens/", basic: [2]string{"unconfirmed@example.com", "test123"},
			wantCode: 403, wantJSON: `{"meta":{"code":403},"response":{"errors":["Unconfirmed account"],"error_codes":["CONFIRMATION_REQUIRED"]}}`,
		},
		{name: "tokens with wrong password", method: "POST", path: "/api/v1/tokens/", basic: [2]string{"admin@example.com", "nope"}, wantCode: 401, wantJSON: badJSON, wantChall: basic},
		{name: "tokens without auth", method: "POST", path: "/api/v1/tokens/", wantCode: 401, wantJSON: unauthJSON, wantChall: basic},
		{name: "tokens with token as username", method: "POST", path: "/api/v1/tokens/", basic: [2]string{"{test}", ""}, wantCode: 401, wantJSON: unauthJSON, wantChall: basic},
		{name: "tokens with GET", path: "/api/v1/tokens/", basic: [2]string{"test@example.com", "test123"}, wantCode: 405},
		{name: "minted token on dummy-api", path: "/dummy-api/", header: map[string]string{"Authentication-Token": "{minted}"}, wantCode: 200, wantJSON: itemsJSON},
		{
			name: "posts with email and password", path: "/api/v1/posts/", basic: [2]string{"test@example.com", "test123"},
			wantCode: 200, wantJSON: `{"posts":[{"id":"1","title":"Hello","author":"test@example.com"}]}`,
		},
		{
			name: "posts with token as username", path: "/api/v1/posts/", basic: [2]string{"{minted}", ""},
			wantCode: 200, wantJSON: `{"posts":[{"id":"1","title":"Hello","author":"test@example.com"}]}`,
		},
		{
			name: "posts unconfirmed", path: "/api/v1/posts/", basic: [2]string{"unconfirmed@example.com", "test123"},
			wantCode: 403, wantJSON: `{"meta":{"code":403},"response":{"errors":["Unconfirmed account"],"error_codes":["CONFIRMATION_REQUIRED"]}}`,
		},
		{name: "posts with wrong password", path: "/api/v1/posts/", basic: [2]string{"test@example.com", "nope"}, wantCode: 401, wantJSON: badJSON, wantChall: bearerBasic},
		{name: "posts with token header", path: "/api/v1/posts/", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 401, wantJSON: unauthJSON, wantChall: invalidBasic}, // a login token is no personal one
		{
			name: "admin as admin", path: "/admin/", header: map[string]string{"Authentication-Token": "{admin}"},
			wantCode: 200, wantJSON: `{"message":"Welcome, administrator admin@example.com"}`,
		},
		{
			name: "admin as test", path: "/admin/", header: map[string]string{"Authentication-Token": "{test}"},
			wantCode: 403, wantJSON: `{"meta":{"code":403},"response":{"errors":["You do not have permission to view this resource."],"error_codes":["UNAUTHORIZED"]}}`,
		},
		{name: "admin without token", path: "/admin/", wantCode: 401, wantJSON: unauthJSON, wantChall: bearer},
		{name: "logout without token", method: "POST", path: "/logout", wantCode: 401, wantJSON: unauthJSON, wantChall: bearer},
		{name: "logout", method: "POST", path: "/logout", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 200, wantJSON: `{"meta":{"code":200},"response":{}}`},
		{name: "protected after logout", path: "/protected", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 401, wantJSON: unauthJSON, wantChall: invalid},
		{name: "minted token after logout", path: "/dummy-api/?auth_token={minted}", wantCode: 401, wantJSON: unauthJSON, wantChall: invalid},
		{name: "token as username after logout", path: "/api/v1/posts/", basic: [2]string{"{minted}", ""}, wantCode: 401, wantChall: invalidBasic},
		{name: "admin token after test's logout", path: "/admin/", header: map[string]string{"Authentication-Token": "{admin}"}, wantCode: 200},
		{name: "password still works after logout", path: "/basic-api/", basic: [2]string{"test@example.com", "test123"}, wantCode: 200, wantJSON: itemsJSON},
	}
	tokens := map[string]string{}
	expand := func(s string) string {
		for name, tok := range tokens {
			s = strings.ReplaceAll(s, "{"+name+"}", tok)
		}
		return s
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			method := st.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL+expand(st.path), strings.NewReader(expand(st.body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range st.header {
				req.Header.Set(k, expand(v))
			}
			if st.basic[0] != "" {
				req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(expand(st.basic[0])+":"+st.basic[1])))
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != st.wantCode {
				t.Fatalf("%s %s: %d %s, want %d", method, st.path, resp.StatusCode, body, st.wantCode)
			}
			if st.save != "" {
				tok, err := findToken(body)
				if err != nil {
					t.Fatalf("no token in %s: %v", body, err)
				}
				tokens[st.save] = tok
			}
			if st.saveRT != "" {
				rt, err := findRefreshToken(body)
				if err != nil {
					t.Fatalf("no refresh token in %s: %v", body, err)
				}
				if old, ok := tokens[st.saveRT]; ok && old != rt {
					t.Errorf("refresh token %s, want {%s} again, %s", rt, st.saveRT, old)
				}
				tokens[st.saveRT] = rt
			}
			if st.wantJSON != "" {
				if !sameJSON(t, body, []byte(expand(st.wantJSON))) {
					t.Errorf("body %s, want %s", body, expand(st.wantJSON))
				}
			}
			if got := strings.Join(resp.Header.Values("WWW-Authenticate"), " | "); got != st.wantChall {
				t.Errorf("WWW-Authenticate %q, want %q", got, st.wantChall)
			}
			if strings.Contains(string(body), "auth:") {
				t.Errorf("body %s carries internal error text", body)
			}
			if st.save != "" && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("token response with Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
		})
		if !ok && st.save != "" {
			t.Fatalf("step %q failed; the later steps need its token", st.name)
		}
	}

	if len(tokens) != 10 {
		return // steps were filtered out with -run
	}
	u, err := store.UserByEmail(context.Background(), "test@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginCount != 2 || u.CurrentLoginIP != "127.0.0.1" {
		t.Errorf("test user: LoginCount %d, CurrentLoginIP %q; want 2 logins (login, tokens) from 127.0.0.1", u.LoginCount, u.CurrentLoginIP)
	}
}

// findToken returns the token of a login or token-endpoint response.
func findToken(body []byte) (string, error) {
	var v struct {
		Token    string `json:"token"`
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	if tok := v.Token + v.Response.User.Token; tok != "" {
		return tok, nil
	}
	return "", errors.New("no token member")
}

// findRefreshToken returns the refresh token of a login or refresh response.
func findRefreshToken(body []byte) (string, error) {
	var v struct {
		Response struct {
			User struct {
				Refresh string `json:"refresh_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	if v.Response.User.Refresh == "" {
		return "", errors.New("no refresh_token member")
	}
	return v.Response.User.Refresh, nil
}

// sameJSON reports whether a and b hold the same JSON value, keys in any order.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Errorf("response is not JSON: %s", a)
		return false
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("bad test JSON %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunShutsDown starts the real program on a free port and cancels its
// context: run must stop serving and return nil.
func TestRunShutsDown(t *testing.T) {
	t.Parallel() // New in run hashes at the default bcrypt cost, which takes a while
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"AUTH_SECRET": "a secret of at least sixteen bytes"}

	// A store with one user, hashed cheaply, so that run does not seed
	// (three hashes at cost 12 take seconds under -race).
	db := filepath.Join(t.TempDir(), "auth.db")
	store, closeStore, err := dbopen.Open(ctx, db, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.New(store, []byte(env["AUTH_SECRET"]), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := m.HashPassword("preexisting")
	if err != nil {
		t.Fatal(err)
	}
	err = store.CreateUser(ctx, &auth.User{Email: "pre@example.com", PasswordHash: hash, Active: true, Uniquifier: auth.NewUniquifier()})
	closeStore()
	if err != nil {
		t.Fatal(err)
	}

	var stderr syncBuffer
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, func(k string) string { return env[k] }, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("run returned before listening: %v\n%s", err, stderr.String())
	}

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/public/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !sameJSON(t, body, []byte(itemsJSON)) {
		t.Errorf("GET /public/: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		user, password string
		want           int
	}{
		{user: "pre@example.com", password: "preexisting", want: http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/basic-api/", nil)
		req.SetBasicAuth(c.user, c.password)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /basic-api/ as %s: %d, want %d", c.user, resp.StatusCode, c.want)
		}
	}

	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run after cancel: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"listening", "http://" + addr, "shutting down"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "AUTH_SECRET is not set") {
		t.Errorf("warned about AUTH_SECRET although it was set:\n%s", stderr.String())
	}
	if resp, err := client.Get("http://" + addr + "/public/"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after run returned: %d", resp.StatusCode)
	}
	store, closeStore, err = dbopen.Open(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if users, err := store.ListUsers(context.Background()); err != nil || len(users) != 1 {
		t.Errorf("after run: %d users (%v); want the one, no demo users seeded into a non-empty store", len(users), err)
	}
}

func TestRunBadFlag(t *testing.T) {
	var stderr syncBuffer
	err := run(context.Background(), []string{"-no-such-flag"}, func(string) string { return "" }, &stderr, nil)
	if err == nil || !strings.Contains(stderr.String(), "-addr") {
		t.Errorf("run with a bad flag = %v, usage %q; want an error and the usage", err, stderr.String())
	}
}

// TestRunHelp: -h and -help print the usage and are no error, so the
// program exits 0.
func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			var stderr syncBuffer
			err := run(context.Background(), []string{arg}, func(string) string { return "" }, &stderr, nil)
			if err != nil {
				t.Errorf("run %s = %v, want nil", arg, err)
			}
			for _, want := range []string{"Usage of server", "-addr", "-db"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("run %s printed %q, want the usage (%q)", arg, stderr.String(), want)
				}
			}
		})
	}
}
