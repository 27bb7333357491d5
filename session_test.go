package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
	"github.com/gorilla/securecookie"
)

// Fixtures of the session tests. They are their own, so that the session
// tests do not depend on fixtures other tests may change.

const (
	sessEmail    = "browser@example.com"
	sessPassword = "correct horse battery"
	htmlAccept   = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" // what Chromium sends
)

var (
	sessKey     = []byte("session test signing key, 32 b.")
	sessEpoch   = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	sessSilence = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// sessClock is a Manager clock the tests move by hand.
type sessClock struct{ t time.Time }

func (c *sessClock) now() time.Time       { return c.t }
func (c *sessClock) add(d time.Duration)  { c.t = c.t.Add(d) }
func (c *sessClock) since() time.Duration { return c.t.Sub(sessEpoch) }
func (c *sessClock) unix() int64          { return c.t.Unix() }
func (c *sessClock) rewind()              { c.t = sessEpoch }

// sessFixture is a Manager over a store holding one user, with a clock.
type sessFixture struct {
	m     *Manager
	store *MemoryStore
	user  *User
	clock *sessClock
}

func newSessFixture(t testing.TB, key []byte, cfg Config) *sessFixture {
	t.Helper()
	cfg.Password.BcryptCost = 4
	if cfg.Logger == nil {
		cfg.Logger = sessSilence
	}
	store := NewMemoryStore()
	m, err := New(store, key, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	clock := &sessClock{t: sessEpoch}
	m.now = clock.now
	u, err := m.NewUser(sessEmail, sessPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return &sessFixture{m: m, store: store, user: u, clock: clock}
}

// stored returns the user as the store now has it.
func (f *sessFixture) stored(t testing.TB) *User {
	t.Helper()
	u, err := f.store.UserByID(context.Background(), f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cookie returns a session (or, with the remember-me name, a remember-me)
// cookie for the stored user, made now.
func (f *sessFixture) cookie(t testing.TB, name string) *http.Cookie {
	t.Helper()
	u := f.stored(t)
	st := sessionState{UserID: u.ID, Uniq: u.Uniquifier, Issued: f.clock.unix(), Seen: f.clock.unix(), CSRF: newCSRFSecret()}
	if name == f.m.sessions.rememberName {
		st.Seen = 0
	}
	return f.encode(t, name, st)
}

func (f *sessFixture) encode(t testing.TB, name string, st sessionState) *http.Cookie {
	t.Helper()
	v, err := securecookie.EncodeMulti(name, st, f.m.sessions.codecs[0])
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: name, Value: v}
}

// formLogin posts the login form as a browser (or, with accept "", as an
// API client) and returns the response.
func (f *sessFixture) formLogin(t testing.TB, form url.Values, accept string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://app.example")
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	f.m.LoginHandler().ServeHTTP(rec, r)
	return rec.Result()
}

// sessionCookies logs in through the form and returns the cookies set.
func (f *sessFixture) sessionCookies(t testing.TB, remember bool) []*http.Cookie {
	t.Helper()
	form := url.Values{"email": {sessEmail}, "password": {sessPassword}}
	if remember {
		form.Set("remember", "on")
	}
	resp := f.formLogin(t, form, htmlAccept)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	return resp.Cookies()
}

// whoamiSession answers with the authenticated user's email.
var whoamiSession = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := FromContext(r.Context())
	if !ok {
		io.WriteString(w, "anonymous")
		return
	}
	io.WriteString(w, u.Email)
})

// sessDo serves r through h with the cookies added.
func sessDo(h http.Handler, r *http.Request, cookies ...*http.Cookie) *http.Response {
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result()
}

func sessBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// findCookie returns the cookie named name among cookies, or nil.
func findCookie(cookies []*http.Cookie, name string) *http.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// errorText returns the single error text of a JSON error envelope.
func errorText(t testing.TB, body string) string {
	t.Helper()
	var env struct {
		Response struct {
			Errors []string `json:"errors"`
		} `json:"response"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || len(env.Response.Errors) != 1 {
		t.Fatalf("not a JSON error envelope: %q (%v)", body, err)
	}
	return env.Response.Errors[0]
}

func TestBrowserFormLogin(t *testing.T) {
	tests := []struct {
		name         string
		form         url.Values
		query        string
		cfg          Config
		wantLocation string
		wantRemember bool
	}{
		{name: "default redirect", wantLocation: "/"},
		{name: "configured redirect", cfg: Config{Session: SessionConfig{LoginRedirect: "/home"}}, wantLocation: "/home"},
		{name: "next field", form: url.Values{"next": {"/account?tab=1"}}, wantLocation: "/account?tab=1"},
		{name: "next in the URL", query: "?next=%2Faccount", wantLocation: "/account"},
		{name: "field before URL", form: url.Values{"next": {"/a"}}, query: "?next=%2Fb", wantLocation: "/a"},
		{name: "unsafe next", form: url.Values{"next": {"//evil.example/"}}, wantLocation: "/"},
		{name: "absolute next", form: url.Values{"next": {"https://evil.example/"}}, wantLocation: "/"},
		{name: "remember on", form: url.Values{"remember": {"on"}}, wantLocation: "/", wantRemember: true},
		{name: "remember true", form: url.Values{"remember": {"true"}}, wantLocation: "/", wantRemember: true},
		{name: "remember 1", form: url.Values{"remember": {"1"}}, wantLocation: "/", wantRemember: true},
		{name: "remember off", form: url.Values{"remember": {"off"}}, wantLocation: "/"},
		{name: "remember disabled", cfg: Config{Session: SessionConfig{RememberMaxAge: -1}}, form: url.Values{"remember": {"on"}}, wantLocation: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, tt.cfg)
			form := url.Values{"email": {sessEmail}, "password": {sessPassword}}
			for k, v := range tt.form {
				form[k] = v
			}
			r := httptest.NewRequest(http.MethodPost, "http://app.example/login"+tt.query, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Accept", htmlAccept)
			r.Header.Set("Origin", "http://app.example")
			resp := sessDo(f.m.LoginHandler(), r)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.wantLocation {
				t.Fatalf("got %s to %q, want 303 to %q", resp.Status, resp.Header.Get("Location"), tt.wantLocation)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			sc := findCookie(resp.Cookies(), defaultSessionCookieName)
			if sc == nil {
				t.Fatal("no session cookie")
			}
			if !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.MaxAge != 0 || sc.Domain != "" {
				t.Errorf("session cookie attributes: %+v", sc)
			}
			rc := findCookie(resp.Cookies(), defaultRememberCookieName)
			if tt.wantRemember != (rc != nil) {
				t.Fatalf("remember cookie %+v, want one: %v", rc, tt.wantRemember)
			}
			if rc != nil && (rc.MaxAge != int(defaultRememberMaxAge/time.Second) || !rc.HttpOnly || !rc.Secure) {
				t.Errorf("remember cookie attributes: %+v", rc)
			}
			got := sessDo(f.m.Require(Session)(whoamiSession), httptest.NewRequest(http.MethodGet, "/", nil), sc)
			if body := sessBody(t, got); got.StatusCode != http.StatusOK || body != sessEmail {
				t.Errorf("with the cookie: %s %q", got.Status, body)
			}
		})
	}
}

func TestCookieAttributesFromConfig(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{CookieName: "sid", RememberCookieName: "rid", CookiePath: "/app", CookieDomain: "example.com", Insecure: true, SameSite: http.SameSiteStrictMode, RememberMaxAge: time.Hour}})
	cookies := f.sessionCookies(t, true)
	for _, name := range []string{"sid", "rid"} {
		c := findCookie(cookies, name)
		if c == nil {
			t.Fatalf("no cookie %s in %v", name, cookies)
		}
		if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/app" || c.Domain != "example.com" {
			t.Errorf("%s attributes: %+v", name, c)
		}
	}
	if c := findCookie(cookies, "rid"); c.MaxAge != 3600 {
		t.Errorf("remember Max-Age %d", c.MaxAge)
	}
}

func TestBrowserFormLoginFailure(t *testing.T) {
	tests := []struct {
		name         string
		form         url.Values
		query        string
		accept       string
		wantStatus   int
		wantLocation string
	}{
		{name: "wrong password", form: url.Values{"email": {sessEmail}, "password": {"wrong"}}, accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1"},
		{name: "next kept", form: url.Values{"email": {sessEmail}, "password": {"wrong"}, "next": {"/account"}}, accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1&next=%2Faccount"},
		{name: "next from URL kept", form: url.Values{"email": {sessEmail}, "password": {"wrong"}}, query: "?next=%2Fx", accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1&next=%2Fx"},
		{name: "unsafe next dropped", form: url.Values{"email": {sessEmail}, "password": {"wrong"}, "next": {"//evil"}}, accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1"},
		{name: "missing password", form: url.Values{"email": {sessEmail}}, accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1"},
		{name: "unknown user", form: url.Values{"email": {"nobody@example.com"}, "password": {"x"}}, accept: htmlAccept,
			wantStatus: http.StatusSeeOther, wantLocation: "/login?error=1"},
		{name: "API client", form: url.Values{"email": {sessEmail}, "password": {"wrong"}}, accept: "*/*",
			wantStatus: http.StatusBadRequest},
		{name: "JSON preferred", form: url.Values{"email": {sessEmail}, "password": {"wrong"}}, accept: "application/json, text/html;q=0.5",
			wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			r := httptest.NewRequest(http.MethodPost, "http://app.example/login"+tt.query, strings.NewReader(tt.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "http://app.example")
			r.Header.Set("Accept", tt.accept)
			resp := sessDo(f.m.LoginHandler(), r)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
				t.Fatalf("got %s to %q, want %d to %q", resp.Status, resp.Header.Get("Location"), tt.wantStatus, tt.wantLocation)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("cookies set: %v", resp.Cookies())
			}
		})
	}
}

func TestLoginOriginCheck(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		header      http.Header
		wantStatus  int
		wantText    string
	}{
		{name: "form, same origin", contentType: "application/x-www-form-urlencoded", header: http.Header{"Origin": {"http://app.example"}}, wantStatus: http.StatusSeeOther},
		{name: "form, no origin", contentType: "application/x-www-form-urlencoded", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text},
		{name: "form, same referer", contentType: "application/x-www-form-urlencoded", header: http.Header{"Referer": {"http://app.example/login"}}, wantStatus: http.StatusSeeOther},
		{name: "form, other origin", contentType: "application/x-www-form-urlencoded", header: http.Header{"Origin": {"http://evil.example"}}, wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text},
		{name: "form, other port", contentType: "application/x-www-form-urlencoded", header: http.Header{"Origin": {"http://app.example:8080"}}, wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text},
		{name: "form, null origin", contentType: "application/x-www-form-urlencoded", header: http.Header{"Origin": {"null"}}, wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text},
		{name: "form, other referer", contentType: "application/x-www-form-urlencoded", header: http.Header{"Referer": {"http://evil.example/page"}}, wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text},
		{name: "JSON, other origin", contentType: "application/json", header: http.Header{"Origin": {"http://spa.example"}}, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			body := url.Values{"email": {sessEmail}, "password": {sessPassword}}.Encode()
			if tt.contentType == "application/json" {
				body = `{"email":"` + sessEmail + `","password":"` + sessPassword + `"}`
			}
			r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(body))
			for k, v := range tt.header {
				r.Header[k] = v
			}
			r.Header.Set("Content-Type", tt.contentType)
			r.Header.Set("Accept", htmlAccept)
			resp := sessDo(f.m.LoginHandler(), r)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s, want %d", resp.Status, tt.wantStatus)
			}
			if tt.wantText != "" {
				if got := errorText(t, sessBody(t, resp)); got != tt.wantText {
					t.Errorf("error %q, want %q", got, tt.wantText)
				}
				if len(resp.Cookies()) != 0 {
					t.Errorf("cookies set: %v", resp.Cookies())
				}
			}
		})
	}
}

func TestJSONLoginRemember(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantStatus  int
		wantCookies bool
	}{
		{name: "no remember", body: `{"email":"` + sessEmail + `","password":"` + sessPassword + `"}`, wantStatus: 200},
		{name: "remember false", body: `{"email":"` + sessEmail + `","password":"` + sessPassword + `","remember":false}`, wantStatus: 200},
		{name: "remember null", body: `{"email":"` + sessEmail + `","password":"` + sessPassword + `","remember":null}`, wantStatus: 200},
		{name: "remember true", body: `{"remember":true,"email":"` + sessEmail + `","password":"` + sessPassword + `"}`, wantStatus: 200, wantCookies: true},
		{name: "remember a string", body: `{"email":"` + sessEmail + `","password":"` + sessPassword + `","remember":"yes"}`, wantStatus: 400},
		{name: "remember twice", body: `{"email":"` + sessEmail + `","password":"` + sessPassword + `","remember":true,"remember":true}`, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", htmlAccept) // a browser's fetch; still JSON
			resp := sessDo(f.m.LoginHandler(), r)
			body := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s %s, want %d", resp.Status, body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			var got struct {
				Response struct {
					User loginUser `json:"user"`
				} `json:"response"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			csrfMember := ""
			if h := resp.Header.Get(CSRFHeader); h != "" { // the session's token, as Flask-Security answers it
				csrfMember = `"csrf_token":"` + h + `",`
			}
			want := `{"meta":{"code":200},"response":{` + csrfMember + `"user":{"id":"` + f.user.ID + `","authentication_token":"` + got.Response.User.Token + `"}}}` + "\n"
			if body != want {
				t.Errorf("body %s, want the usual token answer %s", body, want)
			}
			sc := findCookie(resp.Cookies(), defaultSessionCookieName)
			rc := findCookie(resp.Cookies(), defaultRememberCookieName)
			csrf := resp.Header.Get(CSRFHeader)
			if !tt.wantCookies {
				if len(resp.Cookies()) != 0 || csrf != "" {
					t.Errorf("cookies %v, CSRF header %q on a plain token login", resp.Cookies(), csrf)
				}
				return
			}
			if sc == nil || rc == nil || csrf == "" {
				t.Fatalf("session %v, remember %v, CSRF %q", sc, rc, csrf)
			}
			// The CSRF token of the answer works for the session.
			r = httptest.NewRequest(http.MethodPost, "http://app.example/do", nil)
			r.Header.Set(CSRFHeader, csrf)
			if resp := sessDo(f.m.Require(Session)(whoamiSession), r, sc); resp.StatusCode != http.StatusOK {
				t.Errorf("POST with the login's CSRF token: %s", resp.Status)
			}
		})
	}
}

func TestRequireSession(t *testing.T) {
	other := newSessFixture(t, []byte("another signing key of 32 bytes."), Config{})
	tests := []struct {
		name string
		// cookie makes the request's session cookie; nil for none.
		cookie     func(t *testing.T, f *sessFixture) *http.Cookie
		accept     string
		target     string
		wantStatus int
		wantBody   string
		wantLoc    string
		wantClear  bool // the answer deletes the session cookie
	}{
		{name: "valid", cookie: func(t *testing.T, f *sessFixture) *http.Cookie { return f.cookie(t, defaultSessionCookieName) },
			wantStatus: 200, wantBody: sessEmail},
		{name: "none, API", wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text},
		{name: "none, browser", accept: htmlAccept, target: "/account?tab=2", wantStatus: 303, wantLoc: "/login?next=%2Faccount%3Ftab%3D2"},
		{name: "none, browser, unsafe path", accept: htmlAccept, target: "//evil.example/x", wantStatus: 303, wantLoc: "/login"},
		{name: "tampered", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			b := []byte(c.Value)
			b[len(b)/2] ^= 1
			c.Value = string(b)
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "garbage", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return &http.Cookie{Name: defaultSessionCookieName, Value: "not-a-cookie"}
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "tampered, browser", accept: htmlAccept, target: "/account", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return &http.Cookie{Name: defaultSessionCookieName, Value: strings.Repeat("A", 200)}
		}, wantStatus: 303, wantLoc: "/login?next=%2Faccount", wantClear: true},
		{name: "foreign key", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return other.encode(t, defaultSessionCookieName, sessionState{UserID: f.user.ID, Uniq: f.stored(t).Uniquifier,
				Issued: f.clock.unix(), Seen: f.clock.unix(), CSRF: newCSRFSecret()})
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "remember cookie value as session", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultRememberCookieName)
			c.Name = defaultSessionCookieName
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "idle too long", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			f.clock.add(defaultSessionIdleTimeout + time.Second)
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "idle just long enough", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			f.clock.add(defaultSessionIdleTimeout)
			return c
		}, wantStatus: 200, wantBody: sessEmail},
		{name: "past the absolute limit", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return f.encode(t, defaultSessionCookieName, sessionState{UserID: f.user.ID, Uniq: f.stored(t).Uniquifier,
				Issued: f.clock.t.Add(-defaultSessionMaxAge - time.Second).Unix(), Seen: f.clock.unix(), CSRF: newCSRFSecret()})
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "issued in the future", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return f.encode(t, defaultSessionCookieName, sessionState{UserID: f.user.ID, Uniq: f.stored(t).Uniquifier,
				Issued: f.clock.t.Add(time.Hour).Unix(), Seen: f.clock.t.Add(time.Hour).Unix(), CSRF: newCSRFSecret()})
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "no CSRF secret", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return f.encode(t, defaultSessionCookieName, sessionState{UserID: f.user.ID, Uniq: f.stored(t).Uniquifier,
				Issued: f.clock.unix(), Seen: f.clock.unix()})
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "unknown user", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			return f.encode(t, defaultSessionCookieName, sessionState{UserID: "999", Uniq: f.stored(t).Uniquifier,
				Issued: f.clock.unix(), Seen: f.clock.unix(), CSRF: newCSRFSecret()})
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "revoked", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			if err := f.m.RevokeTokens(context.Background(), f.user.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "password changed", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			if err := f.m.SetPassword(context.Background(), f.user.ID, "a new password, long enough"); err != nil {
				t.Fatal(err)
			}
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
		{name: "deactivated", cookie: func(t *testing.T, f *sessFixture) *http.Cookie {
			c := f.cookie(t, defaultSessionCookieName)
			err := f.store.UpdateUser(context.Background(), f.user.ID, func(u *User) error { u.Active = false; return nil })
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, wantStatus: 401, wantBody: catalogue[msgUnauthenticated].text, wantClear: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			target := tt.target
			if target == "" {
				target = "/account"
			}
			r := httptest.NewRequest(http.MethodGet, "http://app.example/", nil)
			u, err := url.ParseRequestURI(target) // as the server reads the request line
			if err != nil {
				t.Fatal(err)
			}
			r.URL, r.RequestURI = u, target
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			if tt.cookie != nil {
				r.AddCookie(tt.cookie(t, f))
			}
			resp := sessDo(f.m.Require(Session)(whoamiSession), r)
			body := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s %s, want %d", resp.Status, body, tt.wantStatus)
			}
			switch {
			case tt.wantLoc != "":
				if got := resp.Header.Get("Location"); got != tt.wantLoc {
					t.Errorf("Location %q, want %q", got, tt.wantLoc)
				}
			case tt.wantStatus == 401:
				if got := errorText(t, body); got != tt.wantBody {
					t.Errorf("error %q, want %q", got, tt.wantBody)
				}
				if resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
				}
			default:
				if body != tt.wantBody {
					t.Errorf("body %q, want %q", body, tt.wantBody)
				}
			}
			c := findCookie(resp.Cookies(), defaultSessionCookieName)
			cleared := c != nil && c.MaxAge < 0
			if cleared != tt.wantClear {
				t.Errorf("session cookie in the answer: %+v, want it cleared: %v", c, tt.wantClear)
			}
		})
	}
}

func TestRequireSessionStoreFailure(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	c := f.cookie(t, defaultSessionCookieName)
	m, err := New(failingStore{}, sessKey, Config{Logger: sessSilence, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	m.now = f.clock.now
	r := httptest.NewRequest(http.MethodGet, "/account", nil)
	r.Header.Set("Accept", htmlAccept)
	resp := sessDo(m.Require(Session)(whoamiSession), r, c)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %s, want 503", resp.Status)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("a store failure changed cookies: %v", resp.Cookies())
	}
}

// failingStore is a UserStore that is down.
type failingStore struct{}

func (failingStore) UserByID(context.Context, string) (*User, error) {
	return nil, errors.New("connection refused")
}
func (failingStore) UserByEmail(context.Context, string) (*User, error) {
	return nil, errors.New("connection refused")
}

func TestSessionIdleRefreshAndAbsoluteLimit(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{IdleTimeout: 80 * time.Minute, MaxAge: 5 * time.Hour}})
	cookie := f.sessionCookies(t, false)[0]
	h := f.m.Require(Session)(whoamiSession)
	steps := []struct {
		advance     time.Duration
		wantOK      bool
		wantRefresh bool
	}{
		{advance: 5 * time.Minute, wantOK: true},                     // younger than idle/8 (10 min): no new cookie
		{advance: 6 * time.Minute, wantOK: true, wantRefresh: true},  // 11 min since last seen
		{advance: 79 * time.Minute, wantOK: true, wantRefresh: true}, // within the idle timeout of the refreshed cookie
		{advance: 79 * time.Minute, wantOK: true, wantRefresh: true}, // 2h49 after login
		{advance: 79 * time.Minute, wantOK: true, wantRefresh: true}, // 4h08
		{advance: 53 * time.Minute, wantOK: false},                   // 5h01: past the absolute limit
	}
	for i, s := range steps {
		f.clock.add(s.advance)
		resp := sessDo(h, httptest.NewRequest(http.MethodGet, "/", nil), cookie)
		if ok := resp.StatusCode == http.StatusOK; ok != s.wantOK {
			t.Fatalf("step %d (%s after login): %s, want OK %v", i, f.clock.since(), resp.Status, s.wantOK)
		}
		c := findCookie(resp.Cookies(), defaultSessionCookieName)
		if refreshed := c != nil && c.MaxAge == 0 && c.Value != ""; refreshed != s.wantRefresh {
			t.Fatalf("step %d: cookie %+v, want a refresh: %v", i, c, s.wantRefresh)
		}
		if c != nil && c.Value != "" {
			cookie = c
		}
	}
	// Idle past the timeout without requests ends the session.
	f.clock.rewind()
	cookie = f.sessionCookies(t, false)[0]
	f.clock.add(81 * time.Minute)
	if resp := sessDo(h, httptest.NewRequest(http.MethodGet, "/", nil), cookie); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after 81 idle minutes: %s", resp.Status)
	}
}

func TestNoTimeouts(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{IdleTimeout: -1, MaxAge: -1}})
	cookie := f.sessionCookies(t, false)[0]
	f.clock.add(400 * 24 * time.Hour)
	resp := sessDo(f.m.Require(Session)(whoamiSession), httptest.NewRequest(http.MethodGet, "/", nil), cookie)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 {
		t.Errorf("without timeouts, after 400 days: %s, cookies %v", resp.Status, resp.Cookies())
	}
}

func TestRememberMe(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		revoke  bool
		cfg     Config
		wantOK  bool
	}{
		{name: "session expired, remembered", advance: 3 * time.Hour, wantOK: true},
		{name: "past the absolute limit, remembered", advance: 29 * 24 * time.Hour, wantOK: true},
		{name: "remember expired", advance: defaultRememberMaxAge + time.Second},
		{name: "revoked", advance: 3 * time.Hour, revoke: true},
		{name: "short remember", advance: 3 * time.Hour, cfg: Config{Session: SessionConfig{RememberMaxAge: 2 * time.Hour}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, tt.cfg)
			cookies := f.sessionCookies(t, true)
			remember := findCookie(cookies, defaultRememberCookieName)
			if remember == nil {
				t.Fatal("no remember cookie")
			}
			csrf := sessCSRF(t, f.m, cookies...)
			f.clock.add(tt.advance)
			if tt.revoke {
				if err := f.m.RevokeTokens(context.Background(), f.user.ID); err != nil {
					t.Fatal(err)
				}
			}
			h := f.m.Require(Session)(whoamiSession)
			// A POST with the page's CSRF token: the restored session keeps
			// the remembered CSRF secret, so forms rendered before still work.
			r := httptest.NewRequest(http.MethodPost, "http://app.example/do", nil)
			r.Header.Set(CSRFHeader, csrf)
			resp := sessDo(h, r, cookies...)
			if ok := resp.StatusCode == http.StatusOK; ok != tt.wantOK {
				t.Fatalf("got %s %s, want OK %v", resp.Status, sessBody(t, resp), tt.wantOK)
			}
			sc := findCookie(resp.Cookies(), defaultSessionCookieName)
			rc := findCookie(resp.Cookies(), defaultRememberCookieName)
			if !tt.wantOK {
				if rc == nil || rc.MaxAge >= 0 {
					t.Errorf("unusable remember cookie not cleared: %+v", rc)
				}
				return
			}
			if sc == nil || sc.Value == "" {
				t.Fatal("no new session cookie")
			}
			// The new session cookie works alone, and its idle timeout
			// counts from now.
			f.clock.add(defaultSessionIdleTimeout - time.Minute)
			resp = sessDo(h, httptest.NewRequest(http.MethodGet, "/", nil), sc)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("restored session: %s", resp.Status)
			}
		})
	}
}

// sessCSRF returns a CSRF token for the session the cookies carry.
func sessCSRF(t testing.TB, m *Manager, cookies ...*http.Cookie) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	tok := m.CSRFToken(r)
	if tok == "" {
		t.Fatal("no CSRF token for the session")
	}
	return tok
}

func TestSessionKeyRotation(t *testing.T) {
	pair := func(seed byte) [][]byte {
		return [][]byte{[]byte(strings.Repeat(string(rune('a'+seed)), 32)), []byte(strings.Repeat(string(rune('A'+seed)), 32))}
	}
	keys := func(pairs ...[][]byte) [][]byte {
		var out [][]byte
		for _, p := range pairs {
			out = append(out, p...)
		}
		return out
	}
	oldKey, newKey := []byte("the old signing key, 32 bytes..."), []byte("the new signing key, 32 bytes...")
	tests := []struct {
		name             string
		issuer, verifier Config
		issuerKey        []byte
		verifierKey      []byte
		wantOK           bool
	}{
		{name: "same pair", issuer: Config{Session: SessionConfig{Keys: pair(0)}}, verifier: Config{Session: SessionConfig{Keys: pair(0)}}, wantOK: true},
		{name: "old pair still read", issuer: Config{Session: SessionConfig{Keys: pair(0)}}, verifier: Config{Session: SessionConfig{Keys: keys(pair(1), pair(0))}}, wantOK: true},
		{name: "old pair dropped", issuer: Config{Session: SessionConfig{Keys: pair(0)}}, verifier: Config{Session: SessionConfig{Keys: pair(1)}}},
		{name: "new pair not yet known", issuer: Config{Session: SessionConfig{Keys: keys(pair(1), pair(0))}}, verifier: Config{Session: SessionConfig{Keys: pair(0)}}},
		{name: "derived, same key", issuerKey: oldKey, verifierKey: oldKey, wantOK: true},
		{name: "derived, key rotated with OldKeys", issuerKey: oldKey, verifierKey: newKey, verifier: Config{Token: TokenConfig{OldKeys: [][]byte{oldKey}}}, wantOK: true},
		{name: "derived, key replaced", issuerKey: oldKey, verifierKey: newKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ik, vk := tt.issuerKey, tt.verifierKey
			if ik == nil {
				ik, vk = sessKey, sessKey
			}
			issuer := newSessFixture(t, ik, tt.issuer)
			c := findCookie(issuer.sessionCookies(t, false), defaultSessionCookieName)
			verifier, err := New(issuer.store, vk, Config{Logger: sessSilence, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}, Session: SessionConfig{Keys: tt.verifier.Session.Keys}, Token: TokenConfig{OldKeys: tt.verifier.Token.OldKeys}})
			if err != nil {
				t.Fatal(err)
			}
			verifier.now = issuer.clock.now
			resp := sessDo(verifier.Require(Session)(whoamiSession), httptest.NewRequest(http.MethodGet, "/", nil), c)
			if ok := resp.StatusCode == http.StatusOK; ok != tt.wantOK {
				t.Errorf("got %s, want OK %v", resp.Status, tt.wantOK)
			}
		})
	}
}

func TestNewSessionConfig(t *testing.T) {
	k32, k16 := []byte(strings.Repeat("k", 32)), []byte(strings.Repeat("b", 16))
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "defaults"},
		{name: "one pair", cfg: Config{Session: SessionConfig{Keys: [][]byte{k32, k16}}}},
		{name: "odd keys", cfg: Config{Session: SessionConfig{Keys: [][]byte{k32, k16, k32}}}, wantErr: "pairs"},
		{name: "short hash key", cfg: Config{Session: SessionConfig{Keys: [][]byte{k16, k16}}}, wantErr: "shorter than 32"},
		{name: "bad block key", cfg: Config{Session: SessionConfig{Keys: [][]byte{k32, []byte("short")}}}, wantErr: "16, 24 or 32"},
		{name: "no block key", cfg: Config{Session: SessionConfig{Keys: [][]byte{k32, nil}}}, wantErr: "16, 24 or 32"},
		{name: "same cookie names", cfg: Config{Session: SessionConfig{CookieName: "x", RememberCookieName: "x"}}, wantErr: "different names"},
		{name: "invalid cookie name", cfg: Config{Session: SessionConfig{CookieName: "a b"}}, wantErr: "invalid cookie name"},
		{name: "SameSite=None without Secure", cfg: Config{Session: SessionConfig{SameSite: http.SameSiteNoneMode, Insecure: true}}, wantErr: "SameSite=None"},
		{name: "SameSite=None", cfg: Config{Session: SessionConfig{SameSite: http.SameSiteNoneMode}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Password.BcryptCost = 4
			_, err := New(NewMemoryStore(), sessKey, tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewCopiesSessionKeys(t *testing.T) {
	keys := [][]byte{[]byte(strings.Repeat("h", 32)), []byte(strings.Repeat("b", 32))}
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{Keys: keys}})
	c := f.cookie(t, defaultSessionCookieName)
	keys[0][0], keys[1][0] = 'x', 'x'
	resp := sessDo(f.m.Require(Session)(whoamiSession), httptest.NewRequest(http.MethodGet, "/", nil), c)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("changing the caller's key slices broke the Manager: %s", resp.Status)
	}
}

func TestSessionLogout(t *testing.T) {
	tests := []struct {
		name       string
		accept     string
		csrf       bool
		wantStatus int
		wantLoc    string
		wantEnded  bool
	}{
		{name: "browser", accept: htmlAccept, csrf: true, wantStatus: 303, wantLoc: "/login", wantEnded: true},
		{name: "script", csrf: true, wantStatus: 200, wantEnded: true},
		{name: "browser without CSRF token", accept: htmlAccept, wantStatus: 403},
		{name: "script without CSRF token", wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			cookies := f.sessionCookies(t, true)
			form := url.Values{}
			if tt.csrf {
				form.Set(CSRFField, sessCSRF(t, f.m, cookies...))
			}
			r := httptest.NewRequest(http.MethodPost, "http://app.example/logout", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "http://app.example")
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			resp := sessDo(f.m.LogoutHandler(), r, cookies...)
			body := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLoc {
				t.Fatalf("got %s to %q %s, want %d to %q", resp.Status, resp.Header.Get("Location"), body, tt.wantStatus, tt.wantLoc)
			}
			if tt.wantStatus == 403 {
				if got := errorText(t, body); got != catalogue[msgCSRF].text {
					t.Errorf("error %q, want %q", got, catalogue[msgCSRF].text)
				}
			}
			for _, name := range []string{defaultSessionCookieName, defaultRememberCookieName} {
				c := findCookie(resp.Cookies(), name)
				if cleared := c != nil && c.MaxAge < 0 && c.Value == ""; cleared != tt.wantEnded {
					t.Errorf("%s in the answer: %+v, want it cleared: %v", name, c, tt.wantEnded)
				}
			}
			// Whatever the browser does with the deletion, the old cookies
			// no longer authenticate once the session ended.
			after := sessDo(f.m.Require(Session)(whoamiSession), httptest.NewRequest(http.MethodGet, "/", nil), cookies...)
			if ended := after.StatusCode == http.StatusUnauthorized; ended != tt.wantEnded {
				t.Errorf("after logout: %s, want ended: %v", after.Status, tt.wantEnded)
			}
		})
	}
}

func TestLogoutWithoutSession(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	tok, err := f.m.IssueToken(f.stored(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		token      string
		accept     string
		wantStatus int
		wantLoc    string
	}{
		{name: "token", token: tok, wantStatus: 200},
		{name: "nothing, API", wantStatus: 401},
		{name: "nothing, browser", accept: htmlAccept, wantStatus: 303, wantLoc: "/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/logout", nil)
			if tt.token != "" {
				r.Header.Set("Authentication-Token", tt.token)
			}
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			resp := sessDo(f.m.LogoutHandler(), r)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLoc {
				t.Fatalf("got %s to %q, want %d to %q", resp.Status, resp.Header.Get("Location"), tt.wantStatus, tt.wantLoc)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("cookies without a session: %v", resp.Cookies())
			}
		})
	}
}

// FuzzSessionCookie feeds arbitrary values to the session cookie decoder:
// it never panics, and what it accepts is a state the test signed (the
// committed seeds include cookies made with this test's fixed keys).
func FuzzSessionCookie(f *testing.F) {
	m, err := New(NewMemoryStore(), []byte("fuzz session key, fixed forever."), Config{Logger: sessSilence, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		f.Fatal(err)
	}
	clock := time.Unix(1735689600, 0) // 2025-01-01T00:00:00Z
	m.now = func() time.Time { return clock }
	signed := map[string]bool{}
	for _, st := range []sessionState{
		{UserID: "1", Uniq: "0123456789abcdef0123456789abcdef", Issued: clock.Unix() - 60, Seen: clock.Unix() - 30, CSRF: make([]byte, csrfSecretBytes)},
		{UserID: "user-ü", Uniq: "u", Issued: clock.Unix(), Seen: clock.Unix(), CSRF: []byte(strings.Repeat("c", csrfSecretBytes))},
	} {
		b, _ := json.Marshal(st)
		signed[string(b)] = true
		v, err := securecookie.EncodeMulti(defaultSessionCookieName, st, m.sessions.codecs[0])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	for _, s := range []string{"", "x", "|||", strings.Repeat("A", 5000), "MTczNTY4OTYwMHx8"} {
		f.Add(s)
	}
	// The committed seeds were signed at these instants too.
	for _, st := range []sessionState{
		{UserID: "7", Uniq: "fedcba9876543210fedcba9876543210", Issued: 1735689000, Seen: 1735689500, CSRF: []byte(strings.Repeat("s", csrfSecretBytes))},
	} {
		b, _ := json.Marshal(st)
		signed[string(b)] = true
	}
	f.Fuzz(func(t *testing.T, value string) {
		st, ok := m.sessions.decodeSession(value, clock)
		if !ok {
			if st.UserID != "" || st.CSRF != nil {
				t.Fatalf("rejected but returned %+v", st)
			}
			return
		}
		b, _ := json.Marshal(st)
		if !signed[string(b)] {
			t.Fatalf("accepted a state the test never signed: %s", b)
		}
	})
}

// TestSessionCookieSeeds checks that the committed fuzz seeds still mean
// what their names say, so the fuzz target starts from an accepted cookie.
func TestSessionCookieSeeds(t *testing.T) {
	m, err := New(NewMemoryStore(), []byte("fuzz session key, fixed forever."), Config{Logger: sessSilence, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1735689600, 0)
	for name, want := range map[string]bool{
		"valid": true, "tampered": false, "expired": false, "future": false,
		"remember_name": false, "foreign_key": false, "truncated": false,
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzSessionCookie", name))
		if err != nil {
			t.Fatal(err)
		}
		_, arg, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		value, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(arg, "string("), ")"))
		if err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		if _, ok := m.sessions.decodeSession(value, now); ok != want {
			t.Errorf("seed %s: accepted %v, want %v", name, ok, want)
		}
	}
}

// TestSessionWithUserCache: with the verified-user cache on, a session
// still ends as soon as the Manager rotates the user's uniquifier.
func TestSessionWithUserCache(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{UserCache: UserCacheConfig{Size: 8, TTL: time.Hour}})
	cookies := f.sessionCookies(t, false)
	h := f.m.Require(Session)(whoamiSession)
	for i := range 2 { // the second request is answered from the cache
		if resp := sessDo(h, httptest.NewRequest(http.MethodGet, "/", nil), cookies...); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %s", i, resp.Status)
		}
	}
	if err := f.m.RevokeTokens(context.Background(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	if resp := sessDo(h, httptest.NewRequest(http.MethodGet, "/", nil), cookies...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after revocation: %s", resp.Status)
	}
}
