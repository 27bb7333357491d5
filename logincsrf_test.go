package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// loginPageFor is a login page mounted as the docs say: behind
// Optional(Session), writing CSRFToken in its body.
func loginPageFor(m *Manager) http.Handler {
	return m.Optional(Session)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, m.CSRFToken(r))
	}))
}

// getLoginPage gets the login page with cookies and returns its token and
// the cookies it set.
func getLoginPage(t *testing.T, m *Manager, cookies ...*http.Cookie) (string, []*http.Cookie) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://app.example/login", nil)
	resp := sessDo(loginPageFor(m), r, cookies...)
	return sessBody(t, resp), resp.Cookies()
}

func TestLoginCSRF(t *testing.T) {
	type browser struct {
		token   string         // the form's csrf_token field
		header  string         // the CSRFHeader
		cookies []*http.Cookie // the cookies sent
		origin  http.Header
	}
	tests := []struct {
		name       string
		json       bool
		setup      func(t *testing.T, f *sessFixture) browser
		wantStatus int
		wantText   string
	}{
		{name: "same origin, no token", wantStatus: http.StatusSeeOther, setup: func(*testing.T, *sessFixture) browser {
			return browser{origin: http.Header{"Origin": {"http://app.example"}}}
		}},
		{name: "no origin, no token", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text, setup: func(*testing.T, *sessFixture) browser {
			return browser{}
		}},
		{name: "no origin, the page's token", wantStatus: http.StatusSeeOther, setup: func(t *testing.T, f *sessFixture) browser {
			tok, cookies := getLoginPage(t, f.m)
			return browser{token: tok, cookies: cookies}
		}},
		{name: "no origin, the page's token in the header", wantStatus: http.StatusSeeOther, setup: func(t *testing.T, f *sessFixture) browser {
			tok, cookies := getLoginPage(t, f.m)
			return browser{header: tok, cookies: cookies}
		}},
		{name: "no origin, the token of a page shown again", wantStatus: http.StatusSeeOther, setup: func(t *testing.T, f *sessFixture) browser {
			_, cookies := getLoginPage(t, f.m)
			tok, again := getLoginPage(t, f.m, cookies...)
			if len(again) != 0 {
				t.Errorf("a page shown again set cookies %v", again)
			}
			return browser{token: tok, cookies: cookies}
		}},
		{name: "no origin, the token of a session", wantStatus: http.StatusSeeOther, setup: func(t *testing.T, f *sessFixture) browser {
			c := f.cookie(t, f.m.sessions.name)
			return browser{token: sessCSRF(t, f.m, c), cookies: []*http.Cookie{c}}
		}},
		{name: "no origin, token without its cookie", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text, setup: func(t *testing.T, f *sessFixture) browser {
			tok, _ := getLoginPage(t, f.m)
			return browser{token: tok}
		}},
		{name: "no origin, the attacker's token with the victim's cookie", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text, setup: func(t *testing.T, f *sessFixture) browser {
			_, victim := getLoginPage(t, f.m)
			attacker, _ := getLoginPage(t, f.m)
			return browser{token: attacker, cookies: victim}
		}},
		{name: "no origin, expired cookie", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text, setup: func(t *testing.T, f *sessFixture) browser {
			tok, cookies := getLoginPage(t, f.m)
			f.clock.add(loginCSRFMaxAge + time.Minute)
			return browser{token: tok, cookies: cookies}
		}},
		{name: "no origin, garbage token", wantStatus: http.StatusForbidden, wantText: catalogue[msgCSRF].text, setup: func(t *testing.T, f *sessFixture) browser {
			_, cookies := getLoginPage(t, f.m)
			return browser{token: "garbage", cookies: cookies}
		}},
		{name: "cross-site, the page's token", wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text, setup: func(t *testing.T, f *sessFixture) browser {
			tok, cookies := getLoginPage(t, f.m)
			return browser{token: tok, cookies: cookies, origin: http.Header{"Origin": {"http://evil.example"}}}
		}},
		{name: "cross-site referer, no token", wantStatus: http.StatusForbidden, wantText: catalogue[msgCrossOrigin].text, setup: func(*testing.T, *sessFixture) browser {
			return browser{origin: http.Header{"Referer": {"http://evil.example/"}}}
		}},
		{name: "JSON, no origin, no token", json: true, wantStatus: http.StatusOK, setup: func(*testing.T, *sessFixture) browser {
			return browser{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			b := tt.setup(t, f)
			form := url.Values{"email": {sessEmail}, "password": {sessPassword}}
			if b.token != "" {
				form.Set(CSRFField, b.token)
			}
			body, ct := form.Encode(), "application/x-www-form-urlencoded"
			if tt.json {
				body, ct = loginJSON(sessEmail, sessPassword), "application/json"
			}
			r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(body))
			r.Header.Set("Content-Type", ct)
			r.Header.Set("Accept", htmlAccept)
			for k, v := range b.origin {
				r.Header[k] = v
			}
			if b.header != "" {
				r.Header.Set(CSRFHeader, b.header)
			}
			resp := sessDo(f.m.LoginHandler(), r, b.cookies...)
			text := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s %s, want %d", resp.Status, text, tt.wantStatus)
			}
			if tt.wantText != "" {
				if got := errorText(t, text); got != tt.wantText {
					t.Errorf("error %q, want %q", got, tt.wantText)
				}
				if len(resp.Cookies()) != 0 {
					t.Errorf("cookies set: %v", resp.Cookies())
				}
			}
		})
	}
}

// TestLoginCSRFCookie: the login page's cookie is HttpOnly, with the
// session cookies' attributes; it is set only through Optional(Session),
// and re-issued with the same secret once older than half its life.
func TestLoginCSRFCookie(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{CookiePath: "/app"}})
	tok, cookies := getLoginPage(t, f.m)
	c := findCookie(cookies, loginCSRFCookieName)
	if tok == "" || c == nil || len(cookies) != 1 {
		t.Fatalf("token %q, cookies %v", tok, cookies)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/app" || c.MaxAge != int(loginCSRFMaxAge/time.Second) {
		t.Errorf("cookie %+v", c)
	}
	secret, _, ok := f.m.sessions.loginSecret(withCookie(c), f.clock.now())
	if !ok || !csrfMatches(tok, secret) {
		t.Fatalf("the token does not match the cookie")
	}

	// Outside Optional, only a request that has the cookie gets a token.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := f.m.CSRFToken(r); got != "" {
		t.Errorf("CSRFToken outside Optional without the cookie = %q", got)
	}
	r.AddCookie(c)
	if got := f.m.CSRFToken(r); !csrfMatches(got, secret) {
		t.Errorf("CSRFToken outside Optional with the cookie = %q", got)
	}

	// Past half its life, the page re-issues the cookie with the same secret.
	f.clock.add(loginCSRFMaxAge/2 + time.Minute)
	tok2, again := getLoginPage(t, f.m, c)
	c2 := findCookie(again, loginCSRFCookieName)
	if c2 == nil {
		t.Fatal("the cookie was not re-issued")
	}
	secret2, _, _ := f.m.sessions.loginSecret(withCookie(c2), f.clock.now())
	if !csrfMatches(tok, secret2) || !csrfMatches(tok2, secret2) {
		t.Errorf("the re-issued cookie has another secret")
	}
}

// withCookie is a request that carries c.
func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	return r
}
