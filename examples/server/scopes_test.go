package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/sqlstore"
)

// loginToken logs the user in as an API client and returns its token.
func loginToken(t *testing.T, base, email, password string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/login", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok, err := findToken(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("JSON login of %s: %d %s", email, resp.StatusCode, body)
	}
	return tok
}

// createPAT makes a personal access token with the scopes through POST
// /auth/tokens, as a script would with a fresh login token, and returns
// its secret.
func createPAT(t *testing.T, base, loginTok, name string, scopes ...string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"name": name, "scopes": scopes})
	req, _ := http.NewRequest(http.MethodPost, base+"/auth/tokens", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authentication-Token", loginTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v struct {
		Response struct {
			Token string `json:"token"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &v); resp.StatusCode != http.StatusOK || err != nil || !strings.HasPrefix(v.Response.Token, "akpat_") {
		t.Fatalf("POST /auth/tokens %s: %d %s", b, resp.StatusCode, body)
	}
	return v.Response.Token
}

// apiCall is one request to a route and what it must answer.
type apiCall struct {
	name      string
	path      string
	header    map[string]string // "{name}" in a value stands for a saved token
	basic     [2]string
	wantCode  int
	wantJSON  string // the exact answer, if set
	wantChall string // the WWW-Authenticate values, joined with " | "
}

// runCalls makes each call against base, expanding {name} in its header
// values from tokens.
func runCalls(t *testing.T, base string, tokens map[string]string, calls []apiCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+c.path, nil)
			for k, v := range c.header {
				for name, tok := range tokens {
					v = strings.ReplaceAll(v, "{"+name+"}", tok)
				}
				req.Header.Set(k, v)
			}
			if c.basic[0] != "" {
				req.SetBasicAuth(c.basic[0], c.basic[1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.wantCode {
				t.Fatalf("GET %s: %d %s, want %d", c.path, resp.StatusCode, body, c.wantCode)
			}
			if c.wantJSON != "" && !sameJSON(t, body, []byte(c.wantJSON)) {
				t.Errorf("body %s, want %s", body, c.wantJSON)
			}
			if got := strings.Join(resp.Header.Values("WWW-Authenticate"), " | "); got != c.wantChall {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.wantChall)
			}
			for _, secret := range tokens {
				if strings.Contains(string(body), secret) {
					t.Errorf("the answer carries a secret: %s", body)
				}
			}
		})
	}
}

const (
	postsJSON = `{"posts":[{"id":"1","title":"Hello","author":"test@example.com"}]}`
	adminJSON = `{"message":"Welcome, administrator admin@example.com"}`
	roleJSON  = `{"meta":{"code":403},"response":{"errors":["You do not have permission to view this resource."],"error_codes":["UNAUTHORIZED"]}}`
)

// scopeChallenge is the challenge of a route that wants the scope ("":
// none named).
func scopeChallenge(scope string) string {
	v := `Bearer realm="auth", error="insufficient_scope"`
	if scope != "" {
		v += `, scope="` + scope + `"`
	}
	return v
}

// TestScopedRoutes: /api/v1/posts/ takes a personal access token with
// posts:read besides its Basic credentials, /admin/ one with admin:read
// of an admin besides a login token; every other route refuses one with
// 403 and the insufficient_scope challenge, and the login credentials keep
// every scope their roles allow.
func TestScopedRoutes(t *testing.T) {
	srv, _ := newTestApp(t)
	base := srv.URL
	testTok := loginToken(t, base, "test@example.com", "test123")
	adminTok := loginToken(t, base, "admin@example.com", "admin123")
	tokens := map[string]string{
		"test":       testTok,
		"admin":      adminTok,
		"posts":      createPAT(t, base, testTok, "reader", "posts:read"),
		"adminPosts": createPAT(t, base, adminTok, "admin's reader", "posts:read"),
		"adminRead":  createPAT(t, base, adminTok, "admin's monitor", "admin:read"),
		"adminBoth":  createPAT(t, base, adminTok, "admin's everything", "posts:read", "admin:read"),
	}
	bearerOf := func(name string) map[string]string {
		return map[string]string{"Authorization": "Bearer {" + name + "}"}
	}
	runCalls(t, base, tokens, []apiCall{
		{name: "posts with a posts:read token", path: "/api/v1/posts/", header: bearerOf("posts"), wantCode: 200, wantJSON: postsJSON},
		{name: "posts with it in the token header", path: "/api/v1/posts/", header: map[string]string{"Authentication-Token": "{posts}"}, wantCode: 200, wantJSON: postsJSON},
		{name: "posts with it in the query", path: "/api/v1/posts/?auth_token=" + tokens["posts"], wantCode: 401, wantJSON: unauthJSON, wantChall: invalidBasic},
		{name: "posts with an admin:read token", path: "/api/v1/posts/", header: bearerOf("adminRead"), wantCode: 403, wantChall: scopeChallenge("posts:read")},
		{name: "posts with both scopes", path: "/api/v1/posts/", header: bearerOf("adminBoth"), wantCode: 200},
		{name: "posts with a made-up personal token", path: "/api/v1/posts/", header: map[string]string{"Authorization": "Bearer akpat_000000000000000000000000000000000000"}, wantCode: 401, wantChall: invalidBasic},
		{name: "posts with Basic", path: "/api/v1/posts/", basic: [2]string{"test@example.com", "test123"}, wantCode: 200, wantJSON: postsJSON},
		{name: "posts with a login token as username", path: "/api/v1/posts/", basic: [2]string{testTok, ""}, wantCode: 200, wantJSON: postsJSON},
		{name: "posts with a login token as Bearer", path: "/api/v1/posts/", header: bearerOf("test"), wantCode: 401, wantChall: invalidBasic},

		{name: "admin with an admin's admin:read token", path: "/admin/", header: bearerOf("adminRead"), wantCode: 200, wantJSON: adminJSON},
		{name: "admin with an admin's both scopes", path: "/admin/", header: bearerOf("adminBoth"), wantCode: 200, wantJSON: adminJSON},
		{name: "admin with an admin's posts:read token", path: "/admin/", header: bearerOf("adminPosts"), wantCode: 403, wantChall: scopeChallenge("admin:read")},
		{name: "admin with a user's posts:read token", path: "/admin/", header: bearerOf("posts"), wantCode: 403, wantJSON: roleJSON},
		{name: "admin with the admin's login token", path: "/admin/", header: map[string]string{"Authentication-Token": "{admin}"}, wantCode: 200, wantJSON: adminJSON},
		{name: "admin with the user's login token", path: "/admin/", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 403, wantJSON: roleJSON},

		{name: "protected with a personal token", path: "/protected", header: bearerOf("posts"), wantCode: 403, wantChall: scopeChallenge("")},
		{name: "dummy-api with a personal token", path: "/dummy-api/", header: map[string]string{"Authentication-Token": "{adminBoth}"}, wantCode: 403, wantChall: scopeChallenge("")},
		{name: "the account handler with a personal token", path: "/auth/tokens", header: bearerOf("adminBoth"), wantCode: 403, wantChall: scopeChallenge("")},
		{name: "protected with the login token", path: "/protected", header: bearerOf("test"), wantCode: 200},
	})
}

// newFlaskApp serves the application's routes in -schema flask-security:
// flaskManager over an empty Flask-Security database, seeded with the demo
// users. It returns the app's URL and its Manager.
func newFlaskApp(t *testing.T) (string, *auth.Manager) {
	t.Helper()
	ctx := context.Background()
	dsn := emptyFlaskDB(t)
	m, closeStore, err := flaskManager(ctx, dsn, "", auth.AccountConfig{}, func(k string) string { return flaskEnv[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	store, closeSeeded, err := dbopen.OpenFlask(ctx, dsn, sqlstore.FlaskSchema{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSeeded()
	if err := seed(ctx, m, store); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(m))
	t.Cleanup(srv.Close)
	return srv.URL, m
}

// TestFlaskScopes: over a Flask-Security database, which keeps no personal
// access tokens, the demo's scopes hold for the other credentials by their
// users' roles: the scoped routes answer as before, /auth/tokens is not
// served, and a password change, which ends a user's personal tokens
// where the store keeps them, works.
func TestFlaskScopes(t *testing.T) {
	base, m := newFlaskApp(t)
	tokens := map[string]string{
		"test":  loginToken(t, base, "test@example.com", "test123"),
		"admin": loginToken(t, base, "admin@example.com", "admin123"),
	}
	runCalls(t, base, tokens, []apiCall{
		{name: "posts with Basic", path: "/api/v1/posts/", basic: [2]string{"test@example.com", "test123"}, wantCode: 200, wantJSON: postsJSON},
		{name: "posts with a login token as username", path: "/api/v1/posts/", basic: [2]string{tokens["test"], ""}, wantCode: 200, wantJSON: postsJSON},
		{name: "posts with a personal-looking token", path: "/api/v1/posts/", header: map[string]string{"Authorization": "Bearer akpat_000000000000000000000000000000000000"}, wantCode: 401, wantChall: invalidBasic},
		{name: "admin with the admin's token", path: "/admin/", header: map[string]string{"Authentication-Token": "{admin}"}, wantCode: 200, wantJSON: adminJSON},
		{name: "admin with the user's token", path: "/admin/", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 403, wantJSON: roleJSON},
		{name: "no personal tokens", path: "/auth/tokens", header: map[string]string{"Authentication-Token": "{test}"}, wantCode: 501},
	})
	if err := m.SetPassword(context.Background(), "1", "a new password for test"); err != nil {
		t.Fatal(err)
	}
	runCalls(t, base, tokens, []apiCall{
		{name: "posts with the new password", path: "/api/v1/posts/", basic: [2]string{"test@example.com", "a new password for test"}, wantCode: 200, wantJSON: postsJSON},
	})
}
