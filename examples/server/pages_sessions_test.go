package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// apiLogin logs the user in as an API client with the user agent ua and
// returns its refresh token.
func apiLogin(t *testing.T, base, email, password, ua string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rt, err := findRefreshToken(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("JSON login of %s: %d %s", email, resp.StatusCode, body)
	}
	return rt
}

// refreshes reports whether the refresh token still gets a new pair.
func refreshes(t *testing.T, base, rt string) bool {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"refresh_token": rt})
	resp, err := http.Post(base+"/auth/refresh-token", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestAccountDevices: the account page lists the user's device sessions
// as GET /auth/sessions does, never a token, and its buttons end one of
// the user's own, behind the session's CSRF check.
func TestAccountDevices(t *testing.T) {
	srv, store := newTestApp(t)
	base := srv.URL
	cookie := browserLogin(t, base)
	showPage(t, base+"/account", cookie, "<h2 id=\"devices-heading\">Devices</h2>", "No app is logged in with a refresh token.")

	cli := apiLogin(t, base, "test@example.com", "test123", "example-cli/1.0")
	phone := apiLogin(t, base, "test@example.com", "test123", "phone-app/2.0 <script>")
	admin := apiLogin(t, base, "admin@example.com", "admin123", "admin-cli/1.0")
	sessions, err := store.UserSessions(context.Background(), "1")
	if err != nil || len(sessions) != 2 {
		t.Fatalf("the test user's sessions: %v, %v", sessions, err)
	}
	ids := map[string]string{}
	for _, s := range sessions {
		ids[strings.Fields(s.UserAgent)[0]] = s.ID
	}
	adminSessions, err := store.UserSessions(context.Background(), "2")
	if err != nil || len(adminSessions) != 1 {
		t.Fatalf("the admin's sessions: %v, %v", adminSessions, err)
	}

	page := showPage(t, base+"/account", cookie,
		"example-cli/1.0", "phone-app/2.0 &lt;script&gt;", "from 127.0.0.1", "last used <time datetime=\""+time.Now().UTC().Format("2006-01-02"),
		`name="session" value="`+ids["example-cli/1.0"]+`"`, `name="session" value="`+ids["phone-app/2.0"]+`"`)
	for _, secret := range []string{cli, phone, admin, adminSessions[0].ID, "admin-cli"} {
		if strings.Contains(page, secret) {
			t.Errorf("the account page shows %q:\n%s", secret, page)
		}
	}
	if n := strings.Count(page, `action="/account/sessions/end"`); n != 2 {
		t.Errorf("%d end buttons, want 2", n)
	}
	csrf := csrfTokenIn(t, page)
	end := func(id, token, origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/account/sessions/end", strings.NewReader(url.Values{"csrf_token": {token}, "session": {id}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", browserAccept)
		req.Header.Set("Origin", origin)
		req.Header.Set("Cookie", cookie)
		resp, err := noRedirect(base).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// Refused posts end nothing.
	wantRedirect(t, "no CSRF token", end(ids["example-cli/1.0"], "", base), "/account?error=csrf")
	wantRedirect(t, "another origin", end(ids["example-cli/1.0"], csrf, "http://127.0.0.1:1"), "/account?error=origin")
	wantRedirect(t, "another user's session", end(adminSessions[0].ID, csrf, base), "/account?error=no-session")
	wantRedirect(t, "no session", end("", csrf, base), "/account?error=no-session")
	wantRedirect(t, "a path", end("x/y", csrf, base), "/account?error=no-session")
	if !refreshes(t, base, admin) {
		t.Error("the admin's session ended")
	}
	if resp, _ := get(t, base+"/account/sessions/end", browserAccept, cookie); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /account/sessions/end: %d, want 405", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/account/sessions/end", strings.NewReader("session="+ids["example-cli/1.0"]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	if resp, err := noRedirect(base).Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("ending a session logged out: %d to %q, want the login form", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The button ends the session: its refresh token dies, the other lives.
	wantRedirect(t, "end", end(ids["example-cli/1.0"], csrf, base), "/account?status=session-ended")
	page = showPage(t, base+"/account?status=session-ended", cookie, "The session has ended", "phone-app/2.0")
	if strings.Contains(page, "example-cli/1.0") {
		t.Errorf("the ended session is still listed:\n%s", page)
	}
	if refreshes(t, base, cli) {
		t.Error("the ended session's refresh token still works")
	}
	if !refreshes(t, base, phone) {
		t.Error("the other session's refresh token stopped working")
	}
	wantRedirect(t, "end again", end(ids["example-cli/1.0"], csrf, base), "/account?error=no-session")
	showPage(t, base+"/account?error=no-session", cookie, "That session had ended already.", `role="alert"`)
}

// TestAccountDevicesOff: without refresh tokens (the Flask-Security
// schema) the account page has no Devices section.
func TestAccountDevicesOff(t *testing.T) {
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{
		Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), m, store); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(m))
	defer srv.Close()
	page := showPage(t, srv.URL+"/account", browserLogin(t, srv.URL), "Logged in as")
	if strings.Contains(page, "Devices") || strings.Contains(page, "sessions/end") {
		t.Errorf("the account page without refresh tokens has a Devices section:\n%s", page)
	}
}
