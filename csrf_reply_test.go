package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// csrfOfReply returns the csrf_token member of a JSON reply, "" without
// one.
func csrfOfReply(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var v struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	s, _ := v.Response["csrf_token"].(string)
	return s
}

// TestJSONRepliesCarryCSRFToken: as Flask-Security's JSON replies do,
// those to requests with a browser session carry its CSRF token, which a
// cookie-session SPA sends back in X-CSRF-Token or X-XSRF-Token; token
// clients get none.
func TestJSONRepliesCarryCSRFToken(t *testing.T) {
	m, _ := newSeeded(t, Config{})
	login := postLogin("application/json", `{"email":"user@example.com","password":"user-password","remember":true}`)
	rec := serve(m.LoginHandler(), login)
	tok := csrfOfReply(t, rec)
	if tok == "" || tok != rec.Header().Get(CSRFHeader) {
		t.Fatalf("remembered JSON login: csrf_token %q, header %q", tok, rec.Header().Get(CSRFHeader))
	}
	cookies := rec.Result().Cookies()
	account := m.AccountHandler()
	verify := func(header, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "http://example.com/verify", strings.NewReader(`{"password":"user-password"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "http://example.com")
		if header != "" {
			r.Header.Set(header, token)
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return serve(account, r)
	}
	for _, c := range []struct {
		header, token string
		want          int
	}{
		{CSRFHeader, tok, http.StatusOK},
		{"X-XSRF-Token", tok, http.StatusOK},
		{"X-XSRF-Token", tok[:len(tok)-2] + "AA", http.StatusForbidden},
		{"", "", http.StatusForbidden},
	} {
		rec := verify(c.header, c.token)
		if rec.Code != c.want {
			t.Errorf("%s %.10q: %d %s", c.header, c.token, rec.Code, rec.Body)
			continue
		}
		if c.want == http.StatusOK {
			got := csrfOfReply(t, rec)
			if got == "" || got == tok {
				t.Errorf("/verify with a session: csrf_token %q (a fresh mask of the session's secret expected)", got)
			}
			// The reply's token works as well.
			if rec := verify("X-XSRF-Token", got); rec.Code != http.StatusOK {
				t.Errorf("the reply's token: %d %s", rec.Code, rec.Body)
			}
		}
	}

	// A token client's replies carry none.
	rec = serve(m.LoginHandler(), postLogin("application/json", loginJSON("user@example.com", "user-password")))
	if got := csrfOfReply(t, rec); got != "" || rec.Header().Get(CSRFHeader) != "" {
		t.Errorf("token login: csrf_token %q", got)
	}
	// Nor does the logout of a session, which ends it.
	r := httptest.NewRequest(http.MethodPost, "http://example.com/logout", nil)
	r.Header.Set("Origin", "http://example.com")
	r.Header.Set("X-XSRF-Token", tok)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec = serve(m.LogoutHandler(), r)
	if rec.Code != http.StatusOK || csrfOfReply(t, rec) != "" {
		t.Errorf("logout: %d %s", rec.Code, rec.Body)
	}
}
