package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// refreshFixture is a Manager with refresh tokens over the seeded users,
// on a hand-moved clock.
type refreshFixture struct {
	m     *Manager
	store *MemoryStore
	clock *stepClock
	audit *lockedBuffer
	h     http.Handler // the account handler
}

func newRefreshFixture(t *testing.T, rc RefreshConfig) *refreshFixture {
	t.Helper()
	rc.Enabled = true
	f := &refreshFixture{audit: &lockedBuffer{}}
	f.m, f.store = newSeeded(t, Config{Refresh: rc, AuditLogger: newTextLogger(f.audit)})
	f.clock = setClock(f.m, seedClock)
	f.h = f.m.AccountHandler()
	return f
}

type pair struct{ access, refresh string }

// login logs the user in over JSON and returns the pair answered.
func (f *refreshFixture) login(t *testing.T, email, password string) pair {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON(email, password)))
	req.Header.Set("Content-Type", "application/json")
	rec := serve(f.m.LoginHandler(), req)
	p := pairOf(t, rec)
	if rec.Code != http.StatusOK || p.refresh == "" {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return p
}

func pairOf(t *testing.T, rec *httptest.ResponseRecorder) pair {
	t.Helper()
	var env struct {
		Response struct {
			User struct {
				Token   string `json:"authentication_token"`
				Refresh string `json:"refresh_token"`
			} `json:"user"`
		}
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &env)
	return pair{env.Response.User.Token, env.Response.User.Refresh}
}

// refresh posts the refresh token and returns the status and the pair.
// A 401 must name its scheme.
func (f *refreshFixture) refresh(t *testing.T, tok string) (int, pair) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"refresh_token": tok})
	req := httptest.NewRequest(http.MethodPost, "/refresh-token", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "refresh-test/1.0")
	rec := serve(f.h, req)
	if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") != `Bearer realm="auth", error="invalid_token"` {
		t.Errorf("401 with WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
	}
	return rec.Code, pairOf(t, rec)
}

func (f *refreshFixture) verifies(t *testing.T, access string) bool {
	t.Helper()
	_, err := f.m.VerifyToken(context.Background(), access)
	return err == nil
}

func TestRefreshRotation(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{Grace: -1})
	p0 := f.login(t, "user@example.com", "user-password")
	code, p1 := f.refresh(t, p0.refresh)
	if code != http.StatusOK || p1.refresh == "" || p1.refresh == p0.refresh || !f.verifies(t, p1.access) {
		t.Fatalf("refresh: %d %+v", code, p1)
	}
	code, p2 := f.refresh(t, p1.refresh)
	if code != http.StatusOK || p2.refresh == p1.refresh {
		t.Fatalf("second refresh: %d", code)
	}
	sessions, _ := f.store.UserSessions(context.Background(), idUser)
	if len(sessions) != 1 || sessions[0].Generation != 2 || sessions[0].UserAgent != "refresh-test/1.0" {
		t.Fatalf("sessions %+v", sessions)
	}
	for _, s := range sessions {
		if strings.Contains(string(s.TokenHash), p2.refresh) {
			t.Error("the store holds the token")
		}
	}

	// p1's token again: a reuse, which ends the session; p2's dies too.
	if code, _ := f.refresh(t, p1.refresh); code != http.StatusUnauthorized {
		t.Errorf("a rotated token: %d, want 401", code)
	}
	if !strings.Contains(f.audit.String(), EventRefreshReused) {
		t.Errorf("no %s event:\n%s", EventRefreshReused, f.audit)
	}
	if code, _ := f.refresh(t, p2.refresh); code != http.StatusUnauthorized {
		t.Errorf("the newest token after a reuse: %d, want 401", code)
	}
	// p0's token, two generations back, is recognized as reused too (the
	// session is gone by now, so it is simply unknown).
	if code, _ := f.refresh(t, p0.refresh); code != http.StatusUnauthorized {
		t.Errorf("the first token: %d", code)
	}
}

func TestRefreshReuseTwoGenerationsBack(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{Grace: -1})
	p0 := f.login(t, "user@example.com", "user-password")
	_, p1 := f.refresh(t, p0.refresh)
	_, p2 := f.refresh(t, p1.refresh)
	if code, _ := f.refresh(t, p0.refresh); code != http.StatusUnauthorized || !strings.Contains(f.audit.String(), EventRefreshReused) {
		t.Fatalf("a token two generations back: %d, audit:\n%s", code, f.audit)
	}
	if code, _ := f.refresh(t, p2.refresh); code != http.StatusUnauthorized {
		t.Errorf("the current token after the reuse: %d", code)
	}
}

func TestRefreshGrace(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{Grace: 10 * time.Second})
	p0 := f.login(t, "user@example.com", "user-password")
	_, p1 := f.refresh(t, p0.refresh)
	f.clock.t = f.clock.t.Add(5 * time.Second)
	code, again := f.refresh(t, p0.refresh)
	if code != http.StatusOK || again.refresh != p1.refresh {
		t.Fatalf("a retry within the grace: %d, refresh %q, want the same as %q", code, again.refresh, p1.refresh)
	}
	f.clock.t = f.clock.t.Add(6 * time.Second)
	if code, _ := f.refresh(t, p0.refresh); code != http.StatusUnauthorized {
		t.Errorf("after the grace: %d, want 401 (reuse)", code)
	}
	if code, _ := f.refresh(t, p1.refresh); code != http.StatusUnauthorized {
		t.Errorf("the session after a reuse past the grace: %d", code)
	}
}

func TestRefreshExpiry(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{IdleTimeout: time.Hour, MaxLifetime: 3 * time.Hour})
	p := f.login(t, "user@example.com", "user-password")
	f.clock.t = f.clock.t.Add(time.Hour + time.Second)
	if code, _ := f.refresh(t, p.refresh); code != http.StatusUnauthorized {
		t.Errorf("idle past the timeout: %d", code)
	}
	p = f.login(t, "user@example.com", "user-password")
	for i := 0; i < 4; i++ { // refreshed every 50 min, within the idle timeout
		f.clock.t = f.clock.t.Add(50 * time.Minute)
		code, next := f.refresh(t, p.refresh)
		if i < 3 && code != http.StatusOK {
			t.Fatalf("refresh %d at %v: %d", i, f.clock.t, code)
		}
		if i == 3 && code != http.StatusUnauthorized {
			t.Errorf("past the absolute lifetime: %d", code)
		}
		p.refresh = next.refresh
	}
}

func TestRefreshEndsWithUniquifier(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(f *refreshFixture)
	}{
		{"logout everywhere", func(f *refreshFixture) { _ = f.m.RevokeTokens(context.Background(), idUser) }},
		{"new password", func(f *refreshFixture) { _ = f.m.SetPassword(context.Background(), idUser, "a new password") }},
		{"deactivated", func(f *refreshFixture) { setUser(t, f.store, idUser, func(u *User) { u.Active = false }) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newRefreshFixture(t, RefreshConfig{})
			p := f.login(t, "user@example.com", "user-password")
			c.change(f)
			if s, _ := f.store.UserSessions(context.Background(), idUser); len(s) != 0 && c.name != "deactivated" {
				t.Errorf("%d sessions left after the uniquifier changed", len(s))
			}
			if code, _ := f.refresh(t, p.refresh); code != http.StatusUnauthorized {
				t.Errorf("refresh: %d, want 401", code)
			}
			if s, _ := f.store.UserSessions(context.Background(), idUser); len(s) != 0 {
				t.Errorf("%d sessions left", len(s))
			}
		})
	}
}

func TestRefreshRefusesForgeries(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{})
	p := f.login(t, "user@example.com", "user-password")
	sid, gen, _, _ := parseRefresh(p.refresh)
	other := newRefreshFixture(t, RefreshConfig{})
	foreign := other.login(t, "user@example.com", "user-password")
	for _, tok := range []string{
		"", "x", p.refresh + "A", p.refresh[:len(p.refresh)-2],
		formatRefresh(sid, gen, make([]byte, 32)),   // the right session, a made-up secret
		formatRefresh(sid, gen+1, make([]byte, 32)), // a generation to come
		strings.Replace(p.refresh, ".0.", ".00.", 1),
		foreign.refresh, // another Manager's key
		p.access,        // an access token
	} {
		if code, _ := f.refresh(t, tok); code != http.StatusUnauthorized && code != http.StatusBadRequest {
			t.Errorf("refresh with %q: %d", tok, code)
		}
	}
	if strings.Contains(f.audit.String(), EventRefreshReused) {
		t.Error("a forgery was taken for a reuse")
	}
	if code, _ := f.refresh(t, p.refresh); code != http.StatusOK {
		t.Errorf("the real token after the forgeries: %d", code)
	}
}

// TestRefreshConcurrent races many refreshes with one token: with a grace
// every one succeeds with the same new refresh token; without one, at most
// one succeeds.
func TestRefreshConcurrent(t *testing.T) {
	for _, grace := range []time.Duration{10 * time.Second, -1} {
		f := newRefreshFixture(t, RefreshConfig{Grace: grace})
		p := f.login(t, "user@example.com", "user-password")
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		ok := 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, next := f.refresh(t, p.refresh)
				mu.Lock()
				defer mu.Unlock()
				if code == http.StatusOK {
					ok++
					got[next.refresh]++
				}
			}()
		}
		wg.Wait()
		if len(got) > 1 || grace > 0 && ok != n || grace < 0 && ok > 1 {
			t.Errorf("grace %v: %d successes, %d distinct refresh tokens", grace, ok, len(got))
		}
	}
}

func TestRefreshDefaults(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{})
	if got := f.m.tokenMaxAge(); got != 15*time.Minute {
		t.Errorf("access tokens with refresh on: %v, want 15m", got)
	}
	if _, err := New(readOnlyStore{NewMemoryStore()}, seededKey, Config{Refresh: RefreshConfig{Enabled: true}}); err == nil {
		t.Error("New accepted refresh tokens over a store without sessions")
	}
	m, _ := newSeeded(t, Config{})
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON("user@example.com", "user-password")))
	req.Header.Set("Content-Type", "application/json")
	if rec := serve(m.LoginHandler(), req); strings.Contains(rec.Body.String(), "refresh_token") {
		t.Errorf("refresh tokens off, the login answered %s", rec.Body)
	}
	if rec := serve(m.AccountHandler(), httptest.NewRequest(http.MethodPost, "/refresh-token", nil)); rec.Code != http.StatusNotImplemented {
		t.Errorf("refresh tokens off: /refresh-token answered %d", rec.Code)
	}
}

func TestRefreshCookie(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{Cookie: true, CookiePath: "/auth/refresh-token"})
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON("user@example.com", "user-password")))
	req.Header.Set("Content-Type", "application/json")
	rec := serve(f.m.LoginHandler(), req)
	if p := pairOf(t, rec); p.refresh != "" || p.access == "" {
		t.Fatalf("cookie mode answered %s", rec.Body)
	}
	var c *http.Cookie
	for _, k := range rec.Result().Cookies() {
		if k.Name == refreshCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/auth/refresh-token" {
		t.Fatalf("refresh cookie %+v", c)
	}
	req = httptest.NewRequest(http.MethodPost, "/refresh-token", nil)
	req.AddCookie(c)
	rec = serve(f.h, req)
	if rec.Code != http.StatusOK || pairOf(t, rec).access == "" || len(rec.Result().Cookies()) != 1 {
		t.Errorf("refresh by cookie: %d %s", rec.Code, rec.Body)
	}
	// Logout deletes the cookie.
	req = httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.Header.Set("Authentication-Token", pairOf(t, rec).access)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = serve(f.m.LogoutHandler(), req)
	gone := false
	for _, k := range rec.Result().Cookies() {
		gone = gone || k.Name == refreshCookie && k.MaxAge < 0 && k.Path == "/auth/refresh-token"
	}
	if rec.Code != http.StatusOK || !gone {
		t.Errorf("logout: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
}

func TestDeviceSessions(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{Cookie: true, CookiePath: "/"})
	loginCookie := func(ua string) (string, *http.Cookie) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON("user@example.com", "user-password")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", ua)
		rec := serve(f.m.LoginHandler(), req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == refreshCookie {
				return pairOf(t, rec).access, c
			}
		}
		t.Fatalf("login set no refresh cookie: %d", rec.Code)
		return "", nil
	}
	phoneToken, phone := loginCookie("phone")
	f.clock.t = f.clock.t.Add(time.Minute)
	_, laptop := loginCookie("laptop")
	f.clock.t = f.clock.t.Add(time.Minute)
	_, tablet := loginCookie("tablet")
	adminAccess := tokenOf(t, f.m, f.store, idAdmin)

	list := func(access string, cookie *http.Cookie) (int, []sessionView) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/sessions", nil)
		req.Header.Set("Authentication-Token", access)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := serve(f.h, req)
		var env struct {
			Response struct{ Sessions []sessionView }
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &env)
		if strings.Contains(rec.Body.String(), phone.Value) || strings.Contains(rec.Body.String(), "hash") {
			t.Errorf("the listing shows a token: %s", rec.Body)
		}
		return rec.Code, env.Response.Sessions
	}
	code, got := list(phoneToken, phone)
	if code != http.StatusOK || len(got) != 3 || got[0].UserAgent != "tablet" || got[2].UserAgent != "phone" || !got[2].Current || got[0].Current {
		t.Fatalf("GET /sessions: %d %+v", code, got)
	}
	if code, _ := list("", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /sessions without a token: %d", code)
	}
	del := func(path, access string, cookie *http.Cookie) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodDelete, path, nil)
		req.Header.Set("Authentication-Token", access)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		return serve(f.h, req)
	}
	// Another user cannot end the user's sessions, nor learn they exist.
	if rec := del("/sessions/"+got[1].ID, adminAccess, nil); rec.Code != http.StatusNotFound {
		t.Errorf("DELETE another user's session: %d", rec.Code)
	}
	if rec := del("/sessions/"+got[1].ID, phoneToken, nil); rec.Code != http.StatusOK {
		t.Errorf("DELETE /sessions/{laptop}: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodPost, "/refresh-token", nil)
	req.AddCookie(laptop)
	if rec := serve(f.h, req); rec.Code != http.StatusUnauthorized {
		t.Errorf("the laptop's refresh after its session ended: %d", rec.Code)
	}
	if rec := del("/sessions", phoneToken, phone); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ended":1`) {
		t.Errorf("DELETE /sessions: %d %s", rec.Code, rec.Body)
	}
	if _, got := list(phoneToken, phone); len(got) != 1 || got[0].UserAgent != "phone" {
		t.Errorf("after ending the others: %+v", got)
	}
	req = httptest.NewRequest(http.MethodPost, "/refresh-token", nil)
	req.AddCookie(tablet)
	if rec := serve(f.h, req); rec.Code != http.StatusUnauthorized {
		t.Errorf("the tablet's refresh: %d", rec.Code)
	}
	if rec := serve(f.h, httptest.NewRequest(http.MethodPut, "/sessions", nil)); rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusUnauthorized {
		t.Errorf("PUT /sessions: %d", rec.Code)
	}
}

// FuzzParseRefresh: parseRefresh never panics, and accepts exactly the
// canonical spelling of a token: formatting what it read gives the input
// back.
func FuzzParseRefresh(f *testing.F) {
	for _, s := range []string{
		formatRefresh("AAAAAAAAAAAAAAAAAAAAAA", 0, make([]byte, 32)),
		formatRefresh("AAAAAAAAAAAAAAAAAAAAAA", 123456789, make([]byte, 32)),
		"AAAAAAAAAAAAAAAAAAAAAA.01.AAAA", "AAAAAAAAAAAAAAAAAAAAAA.-1.x", "..", "a.b.c", "",
		"AAAAAAAAAAAAAAAAAAAAAA.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sid, gen, secret, ok := parseRefresh(tok)
		if !ok {
			return
		}
		if gen < 0 || len(secret) != 32 || formatRefresh(sid, gen, secret) != tok {
			t.Fatalf("accepted %q as %q, %d, %x", tok, sid, gen, secret)
		}
	})
}
