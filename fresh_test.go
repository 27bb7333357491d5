package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// reauthBody is the exact answer to a request that is not fresh enough.
const reauthBody = `{"meta":{"code":401},"response":{"errors":["You must re-authenticate to access this endpoint"],"error_codes":["REAUTHENTICATION_REQUIRED"],"reauth_required":true}}`

// checkReauth checks that rec is RequireFresh's refusal with the RFC 9470
// challenge for within.
func checkReauth(t *testing.T, rec *httptest.ResponseRecorder, within time.Duration) {
	t.Helper()
	if rec.Code != http.StatusUnauthorized || strings.TrimSpace(rec.Body.String()) != reauthBody {
		t.Errorf("got %d %s, want 401 %s", rec.Code, rec.Body, reauthBody)
	}
	want := `Bearer realm="auth", error="insufficient_user_authentication"`
	if within > 0 {
		want += ", max_age=" + strconv.FormatInt(int64(within/time.Second), 10)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

func TestRequireFresh(t *testing.T) {
	const within = 5 * time.Minute
	tests := []struct {
		name    string
		auth    func(t *testing.T, m *Manager, store *MemoryStore, r *http.Request)
		advance time.Duration
		within  time.Duration
		want    int // 0: the reauth refusal
	}{
		{name: "token just issued", auth: withToken, want: http.StatusOK},
		{name: "token within", auth: withToken, advance: within, want: http.StatusOK},
		{name: "token a second too old", auth: withToken, advance: within + time.Second},
		{name: "token, zero within", auth: withToken, within: -1},
		{name: "basic, long after", auth: func(_ *testing.T, _ *Manager, _ *MemoryStore, r *http.Request) {
			r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
		}, advance: 48 * time.Hour, want: http.StatusOK},
		{name: "token as basic username, too old", auth: func(t *testing.T, m *Manager, store *MemoryStore, r *http.Request) {
			r.Header.Set("Authorization", basicAuth(tokenOf(t, m, store, idUser), ""))
		}, advance: within + time.Second},
		{name: "no credentials", auth: func(*testing.T, *Manager, *MemoryStore, *http.Request) {}, want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, Config{})
			clock := setClock(m, seedClock)
			w := within
			if tt.within != 0 {
				w = 0
			}
			h := m.Require(Token, BasicToken, Basic)(m.RequireFresh(w)(whoami))
			r := httptest.NewRequest(http.MethodGet, "/fresh", nil)
			tt.auth(t, m, store, r)
			clock.t = clock.t.Add(tt.advance)
			rec := serve(h, r)
			switch tt.want {
			case 0:
				checkReauth(t, rec, w)
			default:
				if rec.Code != tt.want {
					t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
				}
			}
		})
	}
}

func withToken(t *testing.T, m *Manager, store *MemoryStore, r *http.Request) {
	r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
}

// TestRequireFreshWithoutGrant checks that a user put in the context by
// NewContext, whose credential the Manager never saw, is never fresh, and
// that RequireFresh without any user answers as Require does.
func TestRequireFreshWithoutGrant(t *testing.T) {
	m, store := newSeeded(t, Config{})
	u := mustUser(t, store, idUser)
	h := m.RequireFresh(time.Hour)(whoami)
	r := httptest.NewRequest(http.MethodGet, "/fresh", nil)
	checkReauth(t, serve(h, r.WithContext(NewContext(r.Context(), u))), time.Hour)
	rec := serve(h, httptest.NewRequest(http.MethodGet, "/fresh", nil))
	checkErrorResponse(t, rec, http.StatusUnauthorized, textUnauthenticated)
	if got := rec.Header().Get("WWW-Authenticate"); got != challengeBearer {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

// TestRequireFreshAfterRefresh checks that an access token from a refresh
// carries the login's time, not its own: a refresh is no password check.
func TestRequireFreshAfterRefresh(t *testing.T) {
	f := newRefreshFixture(t, RefreshConfig{})
	p := f.login(t, "user@example.com", "user-password")
	f.clock.t = f.clock.t.Add(10 * time.Minute)
	code, next := f.refresh(t, p.refresh)
	if code != http.StatusOK {
		t.Fatalf("refresh: %d", code)
	}
	for _, tt := range []struct {
		within time.Duration
		fresh  bool
	}{{5 * time.Minute, false}, {10 * time.Minute, true}} {
		h := f.m.RequireToken(f.m.RequireFresh(tt.within)(whoami))
		r := httptest.NewRequest(http.MethodGet, "/fresh", nil)
		r.Header.Set("Authentication-Token", next.access)
		rec := serve(h, r)
		if tt.fresh && rec.Code != http.StatusOK {
			t.Errorf("within %v: %d %s, want 200 (the login was 10 min ago)", tt.within, rec.Code, rec.Body)
		}
		if !tt.fresh {
			checkReauth(t, rec, tt.within)
		}
	}
	// The refreshed token's payload records the login's time.
	seg, _, err := f.m.tokens.Unsign(next.access)
	if err != nil {
		t.Fatal(err)
	}
	var scratch [256]byte
	if _, _, at, err := parseClaims(f.m.tokens, seg, scratch[:0]); err != nil || at != seedClock.Unix() {
		t.Errorf("refreshed token's authentication time = %d, %v; want the login's, %d", at, err, seedClock.Unix())
	}
}

// verifyRequest is a POST /verify with a JSON body and the token.
func verifyRequest(password, token string) *http.Request {
	body, _ := json.Marshal(map[string]string{"password": password})
	r := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authentication-Token", token)
	}
	return r
}

func TestVerifyEndpoint(t *testing.T) {
	m, store := newSeeded(t, Config{})
	clock := setClock(m, seedClock)
	old := tokenOf(t, m, store, idUser)
	clock.t = clock.t.Add(2 * time.Hour)
	h := m.AccountHandler()
	fresh := m.RequireToken(m.RequireFresh(time.Minute)(whoami))
	ask := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/fresh", nil)
		r.Header.Set("Authentication-Token", tok)
		return serve(fresh, r)
	}
	checkReauth(t, ask(old), time.Minute)

	t.Run("missing password", func(t *testing.T) {
		rec := serve(h, verifyRequest("", old))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field_errors":{"password":["Password not provided."]}`) {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		rec := serve(h, verifyRequest("not-the-password", old))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field_errors":{"password":["Invalid password."]}`) {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		rec := serve(h, verifyRequest("user-password", ""))
		checkErrorResponse(t, rec, http.StatusUnauthorized, textUnauthenticated)
	})
	t.Run("GET", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/verify", nil)
		r.Header.Set("Authentication-Token", old)
		rec := serve(h, r)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("got %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
	t.Run("right password", func(t *testing.T) {
		rec := serve(h, verifyRequest("user-password", old))
		p := pairOf(t, rec)
		if rec.Code != http.StatusOK || p.access == "" {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
		if got := ask(p.access); got.Code != http.StatusOK {
			t.Errorf("the token /verify answered is not fresh: %d %s", got.Code, got.Body)
		}
		// The old token still works, and is still not fresh.
		checkReauth(t, ask(old), time.Minute)
	})
}

// TestVerifyThrottled checks that /verify counts wrong passwords as logins
// do: after the free attempts, even the right password waits.
func TestVerifyThrottled(t *testing.T) {
	m, store := newSeeded(t, Config{Throttle: ThrottleConfig{FreeAttempts: 2, BaseDelay: time.Minute}})
	setClock(m, seedClock)
	tok := tokenOf(t, m, store, idUser)
	h := m.AccountHandler()
	for range 2 {
		if rec := serve(h, verifyRequest("wrong-password", tok)); rec.Code != http.StatusBadRequest {
			t.Fatalf("wrong password: %d %s", rec.Code, rec.Body)
		}
	}
	rec := serve(h, verifyRequest("user-password", tok))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("after the free attempts: %d %s, want 429 with Retry-After", rec.Code, rec.Body)
	}
}

// TestFreshSessions checks a browser session's freshness: fresh after the
// form login, stale later (and a browser is sent to the login page with
// reauth=1), stale too when restored from the remember-me cookie (which
// is no password check), and fresh again after POST /verify with the
// session's CSRF token.
func TestFreshSessions(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	cookies := f.sessionCookies(t, true)
	h := f.m.Require(Session)(f.m.RequireFresh(10 * time.Minute)(whoamiSession))
	get := func(accept string, cookies ...*http.Cookie) *http.Response {
		r := httptest.NewRequest(http.MethodGet, "http://app.example/settings?tab=keys", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		return sessDo(h, r, cookies...)
	}
	if resp := get("", cookies...); resp.StatusCode != http.StatusOK {
		t.Fatalf("just after login: %s", resp.Status)
	}
	f.clock.add(11 * time.Minute)
	if resp := get("", cookies...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("11 min after login: %s, want 401", resp.Status)
	}
	resp := get(htmlAccept, cookies...)
	want := "/login?" + url.Values{"next": {"/settings?tab=keys"}, "reauth": {"1"}}.Encode()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Errorf("browser: %s to %q, want 303 to %q", resp.Status, resp.Header.Get("Location"), want)
	}

	// Three hours on, the session has expired; the remember-me cookie
	// starts a new one, which is not fresh.
	f.clock.add(3 * time.Hour)
	remember := findCookie(cookies, defaultRememberCookieName)
	resp = get("", remember)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("restored session: %s, want 401", resp.Status)
	}
	restored := findCookie(resp.Cookies(), defaultSessionCookieName)
	if restored == nil {
		t.Fatal("no restored session cookie")
	}

	// POST /verify with the restored session and its CSRF token.
	csrf := sessCSRF(t, f.m, restored)
	r := httptest.NewRequest(http.MethodPost, "http://app.example/verify", strings.NewReader(`{"password":"`+sessPassword+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(CSRFHeader, csrf)
	resp = sessDo(f.m.AccountHandler(), r, restored)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %s %s", resp.Status, sessBody(t, resp))
	}
	renewed := findCookie(resp.Cookies(), defaultSessionCookieName)
	if renewed == nil {
		t.Fatal("/verify did not renew the session cookie")
	}
	if resp := get("", renewed); resp.StatusCode != http.StatusOK {
		t.Errorf("after /verify: %s, want 200", resp.Status)
	}
	f.clock.add(11 * time.Minute)
	if resp := get("", renewed); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("11 min after /verify: %s, want 401", resp.Status)
	}
}

// TestVerifyTokenAuthTimes checks the authentication time of each kind of
// native token: a login token's is its issue time; one with a later time
// in its payload than its stamp is clamped to the stamp.
func TestVerifyTokenAuthTimes(t *testing.T) {
	m, store := newSeeded(t, Config{})
	setClock(m, seedClock)
	u := mustUser(t, store, idUser)
	for _, tt := range []struct {
		name   string
		authAt int64
		want   int64
	}{
		{name: "login token", want: seedClock.Unix()},
		{name: "refreshed token", authAt: seedClock.Unix() - 3600, want: seedClock.Unix() - 3600},
		{name: "a time after the stamp", authAt: seedClock.Unix() + 3600, want: seedClock.Unix()},
	} {
		tok, err := m.issueOwnToken(u, tt.authAt)
		if err != nil {
			t.Fatal(err)
		}
		got, at, err := m.verifyToken(context.Background(), tok)
		if err != nil || got.ID != idUser || at != tt.want {
			t.Errorf("%s: verifyToken = %v, %d, %v; want user 1 at %d", tt.name, got, at, err, tt.want)
		}
	}
}
