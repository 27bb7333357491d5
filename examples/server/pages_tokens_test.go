package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// newTokenApp is newTestApp with its log in logs and the freshness given
// (0: the library's hour).
func newTokenApp(t *testing.T, freshness time.Duration) (string, *auth.MemoryStore, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Token:  auth.TokenConfig{MaxAge: time.Hour, Scopes: demoScopes()}, Refresh: nativeRefresh(), Freshness: freshness,
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), m, store); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(m))
	t.Cleanup(srv.Close)
	return srv.URL, store, logs
}

// postPage posts form to the action as the account page's form does in a
// browser (same origin, unless origin is set) and returns the answer and
// its body, not following a redirect.
func postPage(t *testing.T, base, action string, form url.Values, cookie, origin string) (*http.Response, string) {
	t.Helper()
	if origin == "" {
		origin = base
	}
	req, _ := http.NewRequest(http.MethodPost, base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	req.Header.Set("Origin", origin)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := noRedirect(base).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// secretIn is the token secret the page shows.
var secretIn = regexp.MustCompile(`<code class="secret" id="token-secret">(akpat_[0-9A-Za-z]{36})</code>`)

// bearerStatus is the status of GET path with the token as Bearer.
func bearerStatus(t *testing.T, base, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAccountTokens: logged in through the form, the user makes a
// personal access token on the account page; the page that answers shows
// its secret once, which then works on /api/v1/posts/; the account page
// lists the token without it, and its Revoke button ends it. Refused
// forms come back with the library's texts, and refused posts change
// nothing.
func TestAccountTokens(t *testing.T) {
	base, store, logs := newTokenApp(t, 0)
	ctx := context.Background()
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, `<h2 id="tokens-heading">Personal access tokens</h2>`, "You have no personal access token.",
		`action="/account/tokens/new"`, `name="scopes" value="posts:read"`, `<option value="30d" selected>30 days</option>`)
	if strings.Contains(page, `value="admin:read"`) {
		t.Errorf("the user may not grant admin:read, yet the form offers it:\n%s", page)
	}
	csrf := csrfTokenIn(t, page)
	form := func(name, lifetime string, scopes ...string) url.Values {
		return url.Values{"csrf_token": {csrf}, "name": {name}, "scopes": scopes, "expires_in": {lifetime}}
	}

	// Refused forms: the account page again (400) with the library's
	// texts, the fields in error marked and what was typed kept.
	for _, tt := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"no name", form("  ", "7d", "posts:read"), []string{"Name not provided.", `aria-invalid="true"`, `value="posts:read" checked`}},
		{"no scope", form("deploy", "7d"), []string{"Choose at least one scope.", `class="invalid"`, `value="deploy"`, `<option value="7d" selected>`}},
		{"a scope the user may not grant", form("deploy", "30d", "admin:read"), []string{"Your account may not grant the scope admin:read."}},
		{"an unknown scope", form("deploy", "30d", "posts:write"), []string{"Unknown scope: &#34;posts:write&#34;."}},
		{"a name and no scope", form("", "1y"), []string{"Name not provided.", "Choose at least one scope.", `<option value="1y" selected>`}},
		{"a lifetime not offered", form("deploy", "3600", "posts:read"), []string{"Choose one of the lifetimes offered.", `name="expires_in" aria-invalid="true"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postPage(t, base, "/account/tokens/new", tt.form, cookie, "")
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("%d %s, want 400 and the account page", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, w := range append(tt.want, `role="alert" id="token-error"`, "Logged in as") {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
		})
	}
	wantRedirect(t, "no CSRF token", pagePost(t, base, "/account", "/account/tokens/new", url.Values{"name": {"x"}, "scopes": {"posts:read"}, "expires_in": {"7d"}}, cookie), "/account?error=csrf")
	resp, _ := postPage(t, base, "/account/tokens/new", form("deploy", "7d", "posts:read"), cookie, "http://127.0.0.1:1")
	wantRedirect(t, "another origin", resp, "/account?error=origin")
	resp, _ = postPage(t, base, "/account/tokens/new", form("deploy", "7d", "posts:read"), "", "")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("creating logged out: %d to %q, want the login form", resp.StatusCode, loc)
	}
	if list, _ := store.UserPersonalTokens(ctx, "1"); len(list) != 0 {
		t.Fatalf("refused forms made %d tokens", len(list))
	}

	// The token is made: its secret is on the page that answers, once.
	resp, body := postPage(t, base, "/account/tokens/new", form("deploy <script>", "7d", "posts:read"), cookie, "")
	m := secretIn.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d, no secret in\n%s", resp.StatusCode, body)
	}
	secret := m[1]
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the secret's page has Cache-Control %q, want no-store", cc)
	}
	for _, w := range []string{"shown only this once", "deploy &lt;script&gt;", "<code>posts:read</code>", time.Now().UTC().Add(7 * 24 * time.Hour).Format("2 Jan 2006")} {
		if !strings.Contains(body, w) {
			t.Errorf("the secret's page lacks %q:\n%s", w, body)
		}
	}
	if n := strings.Count(body, secret); n != 1 {
		t.Errorf("the secret's page shows it %d times, want once", n)
	}
	if got := bearerStatus(t, base, "/api/v1/posts/", secret); got != http.StatusOK {
		t.Fatalf("the new token on /api/v1/posts/: %d, want 200", got)
	}
	if got := bearerStatus(t, base, "/admin/", secret); got != http.StatusForbidden {
		t.Errorf("the new token on /admin/: %d, want 403", got)
	}

	// Listed, without its secret; another user's token is not.
	list, err := store.UserPersonalTokens(ctx, "1")
	if err != nil || len(list) != 1 {
		t.Fatalf("the user's tokens: %v, %v", list, err)
	}
	id := list[0].ID
	adminTok := loginToken(t, base, "admin@example.com", "admin123")
	adminSecret := createPAT(t, base, adminTok, "admin's script", "admin:read")
	adminList, _ := store.UserPersonalTokens(ctx, "2")
	page = showPage(t, base+"/account", cookie, "deploy &lt;script&gt;", "<code>posts:read</code>", "last used <time datetime=\""+time.Now().UTC().Format("2006-01-02"),
		`name="token_id" value="`+id+`"`, `action="/account/tokens/revoke"`)
	for _, s := range []string{secret, adminSecret, adminList[0].ID, "admin's script", "You have no personal access token."} {
		if strings.Contains(page, s) {
			t.Errorf("the account page shows %q:\n%s", s, page)
		}
	}

	// Refused revocations revoke nothing.
	revoke := func(id, token, origin string) *http.Response {
		t.Helper()
		resp, _ := postPage(t, base, "/account/tokens/revoke", url.Values{"csrf_token": {token}, "token_id": {id}}, cookie, origin)
		return resp
	}
	wantRedirect(t, "revoke without a CSRF token", revoke(id, "", ""), "/account?error=csrf")
	wantRedirect(t, "revoke from another origin", revoke(id, csrf, "http://127.0.0.1:1"), "/account?error=origin")
	wantRedirect(t, "revoke another user's token", revoke(adminList[0].ID, csrf, ""), "/account?error=no-token")
	wantRedirect(t, "revoke no token", revoke("", csrf, ""), "/account?error=no-token")
	wantRedirect(t, "revoke a path", revoke("x/y", csrf, ""), "/account?error=no-token")
	if resp, _ := get(t, base+"/account/tokens/revoke", browserAccept, cookie); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /account/tokens/revoke: %d, want 405", resp.StatusCode)
	}
	if got := bearerStatus(t, base, "/api/v1/posts/", secret); got != http.StatusOK {
		t.Fatalf("after refused revocations, the token on /api/v1/posts/: %d, want 200", got)
	}
	if got := bearerStatus(t, base, "/admin/", adminSecret); got != http.StatusOK {
		t.Errorf("the admin's token after the user's revocations: %d, want 200", got)
	}

	// The button revokes it: it is no longer listed, and refused with 401.
	wantRedirect(t, "revoke", revoke(id, csrf, ""), "/account?status=token-revoked")
	page = showPage(t, base+"/account?status=token-revoked", cookie, "The token has been revoked", "You have no personal access token.")
	if strings.Contains(page, "deploy &lt;script&gt;") {
		t.Errorf("the revoked token is still listed:\n%s", page)
	}
	if got := bearerStatus(t, base, "/api/v1/posts/", secret); got != http.StatusUnauthorized {
		t.Errorf("the revoked token on /api/v1/posts/: %d, want 401", got)
	}
	wantRedirect(t, "revoke again", revoke(id, csrf, ""), "/account?error=no-token")
	showPage(t, base+"/account?error=no-token", cookie, "That token had been revoked already.", `role="alert"`)

	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), adminSecret) {
		t.Errorf("a secret is in the log:\n%s", logs.String())
	}
}

// TestAccountTokensReauth: a session whose login is older than the
// freshness a new token needs is sent to the login form, which asks for
// the password again and leads back to the account page; no token is
// made.
func TestAccountTokensReauth(t *testing.T) {
	// Within a nanosecond every login is stale by the time of the next
	// request: the library counts a login's time in whole seconds.
	base, store, _ := newTokenApp(t, time.Nanosecond)
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, `action="/account/tokens/new"`)
	resp, _ := postPage(t, base, "/account/tokens/new",
		url.Values{"csrf_token": {csrfTokenIn(t, page)}, "name": {"deploy"}, "scopes": {"posts:read"}, "expires_in": {"30d"}}, cookie, "")
	wantRedirect(t, "a stale session's new token", resp, "/login?next=%2Faccount&reauth=1")
	showPage(t, base+resp.Header.Get("Location"), cookie, "Enter your password again to continue.", `value="test@example.com"`, `name="next" value="/account"`)
	if list, _ := store.UserPersonalTokens(context.Background(), "1"); len(list) != 0 {
		t.Errorf("a stale session made %d tokens", len(list))
	}

	// The password entered again leads back to the account page. (Within
	// a nanosecond, this login too is stale by the next request.)
	relogin := formPost(t, base+"/login", url.Values{"email": {"test@example.com"}, "password": {"test123"}, "next": {"/account"}}, cookie)
	wantRedirect(t, "the login again", relogin, "/account")
}

// TestAccountTokensOff: over a Flask-Security database, which keeps no
// personal access tokens, the account page has no token section, and its
// forms' routes make and revoke nothing.
func TestAccountTokensOff(t *testing.T) {
	base, _ := newFlaskApp(t)
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, "Logged in as")
	if strings.Contains(page, "Personal access tokens") || strings.Contains(page, "/account/tokens/") {
		t.Errorf("the account page without personal tokens has a token section:\n%s", page)
	}
	form := url.Values{"csrf_token": {csrfTokenIn(t, page)}, "name": {"deploy"}, "scopes": {"posts:read"}, "expires_in": {"30d"}, "token_id": {"abc"}}
	resp, _ := postPage(t, base, "/account/tokens/new", form, cookie, "")
	wantRedirect(t, "create", resp, "/account?error=unavailable")
	resp, _ = postPage(t, base, "/account/tokens/revoke", form, cookie, "")
	wantRedirect(t, "revoke", resp, "/account?error=unavailable")
}
