package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoginPageNegotiation: GET /login gives the HTML form to whatever
// accepts HTML or anything, and Flask-Security's JSON to clients that
// prefer application/json.
func TestLoginPageNegotiation(t *testing.T) {
	srv, _ := newTestApp(t)
	for _, tt := range []struct {
		name, accept string
		wantJSON     bool
	}{
		{name: "no Accept"},
		{name: "curl", accept: "*/*"},
		{name: "browser", accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{name: "text/html", accept: "text/html"},
		{name: "text/plain only", accept: "text/plain"},
		{name: "json", accept: "application/json", wantJSON: true},
		{name: "json preferred", accept: "application/json, text/html;q=0.5", wantJSON: true},
		{name: "json with anything else", accept: "application/json, */*;q=0.1", wantJSON: true},
		{name: "html preferred over json", accept: "text/html, application/json;q=0.9"},
		{name: "equal weights", accept: "application/json, text/html"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/login", nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s, want 200", resp.StatusCode, body)
			}
			if v := resp.Header.Get("Vary"); !strings.Contains(v, "Accept") {
				t.Errorf("Vary %q, want Accept", v)
			}
			ct := resp.Header.Get("Content-Type")
			if tt.wantJSON {
				if ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				var v struct {
					Meta     struct{ Code int } `json:"meta"`
					Response struct {
						CSRFToken  string   `json:"csrf_token"`
						Attributes []string `json:"identity_attributes"`
					} `json:"response"`
				}
				if err := json.Unmarshal(body, &v); err != nil || v.Meta.Code != 200 || v.Response.CSRFToken == "" ||
					len(v.Response.Attributes) != 1 || v.Response.Attributes[0] != "email" || cookieHeader(resp) == "" {
					t.Errorf("body %s, cookies %v; want a login CSRF token and its cookie", body, resp.Cookies())
				}
				return
			}
			if ct != "text/html; charset=utf-8" || !strings.Contains(string(body), `<form method="post" action="/login"`) {
				t.Errorf("Content-Type %q, body %.200s; want the HTML form", ct, body)
			}
		})
	}
}

// TestLoginPageJSONCSRFToken: with a session, the JSON of GET /login
// carries a CSRF token the session accepts.
func TestLoginPageJSONCSRFToken(t *testing.T) {
	srv, _ := newTestApp(t)
	cookie := browserLogin(t, srv.URL)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/login", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", cookie)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Response struct {
			CSRFToken string `json:"csrf_token"`
		} `json:"response"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || v.Response.CSRFToken == "" {
		t.Fatalf("GET /login as JSON with a session: %v, csrf_token %q", err, v.Response.CSRFToken)
	}
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/logout", strings.NewReader(url.Values{"csrf_token": {v.Response.CSRFToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("logout with that token: %d, want 200", resp.StatusCode)
	}
}

// noRedirect is a client that does not follow redirects.
func noRedirect(string) *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// formPost posts form as a browser does, with the cookies given.
func formPost(t *testing.T, u string, form url.Values, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	if o, err := url.Parse(u); err == nil {
		req.Header.Set("Origin", o.Scheme+"://"+o.Host) // as browsers send with every POST
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := noRedirect(u).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// cookieHeader is the Cookie header that sends back the cookies resp sets.
func cookieHeader(resp *http.Response) string {
	var parts []string
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// browserLogin logs test@example.com in through the form and returns the
// Cookie header of its session.
func browserLogin(t *testing.T, base string) string {
	t.Helper()
	resp := formPost(t, base+"/login", url.Values{"email": {"test@example.com"}, "password": {"test123"}}, "")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc == "" || strings.HasPrefix(loc, "/login") {
		t.Fatalf("form login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return cookieHeader(resp)
}

// get fetches u with the cookie and Accept given and returns the response
// and its body.
func get(t *testing.T, u, accept, cookie string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", accept)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := noRedirect(u).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestLogoutCSRFFailure: a browser whose logout fails the CSRF check is
// sent back to its account page, which says why; other clients keep the
// library's JSON 403.
func TestLogoutCSRFFailure(t *testing.T) {
	srv, _ := newTestApp(t)
	cookie := browserLogin(t, srv.URL)
	for _, tt := range []struct {
		name, accept, origin string
		wantCode             int
		wantLocation         string
		wantPage             string // on the page the redirect leads to
		wantJSON             string
	}{
		{
			name: "browser, no token", accept: browserAccept, wantCode: http.StatusSeeOther,
			wantLocation: "/account?error=csrf", wantPage: "CSRF token missing or invalid.",
		},
		{
			name: "browser, other origin", accept: browserAccept, origin: "http://127.0.0.1:1", wantCode: http.StatusSeeOther,
			wantLocation: "/account?error=origin", wantPage: "CSRF check failed: the request comes from another origin.",
		},
		{
			name: "API client, no token", accept: "application/json", wantCode: http.StatusForbidden,
			wantJSON: `{"meta":{"code":403},"response":{"errors":["CSRF token missing or invalid."],"error_codes":["CSRF_TOKEN_INVALID"]}}`,
		},
		{
			name: "curl, no token", accept: "*/*", wantCode: http.StatusForbidden,
			wantJSON: `{"meta":{"code":403},"response":{"errors":["CSRF token missing or invalid."],"error_codes":["CSRF_TOKEN_INVALID"]}}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/logout", strings.NewReader("csrf_token="))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", tt.accept)
			req.Header.Set("Cookie", cookie)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := noRedirect(srv.URL).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tt.wantCode)
			}
			if tt.wantJSON != "" && !sameJSON(t, body, []byte(tt.wantJSON)) {
				t.Errorf("body %s, want %s", body, tt.wantJSON)
			}
			if tt.wantLocation == "" {
				return
			}
			if loc := resp.Header.Get("Location"); loc != tt.wantLocation {
				t.Fatalf("Location %q, want %q", loc, tt.wantLocation)
			}
			if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") {
				t.Errorf("redirect with Content-Type %q", ct)
			}
			page, html := get(t, srv.URL+tt.wantLocation, browserAccept, cookie)
			if page.StatusCode != http.StatusOK || !strings.Contains(html, tt.wantPage) || !strings.Contains(html, `role="alert"`) {
				t.Errorf("account page: %d, want 200 with the alert %q:\n%s", page.StatusCode, tt.wantPage, html)
			}
		})
	}
	// The session survived every refused logout.
	if resp, body := get(t, srv.URL+"/account", browserAccept, cookie); resp.StatusCode != http.StatusOK || strings.Contains(body, `role="alert"`) {
		t.Errorf("account page after the refused logouts: %d\n%s", resp.StatusCode, body)
	}
}

// TestFailedLoginKeepsEmail: after a failed form login the form comes back
// with the email typed, never the password, and neither travels in a URL.
func TestFailedLoginKeepsEmail(t *testing.T) {
	srv, _ := newTestApp(t)
	for _, tt := range []struct {
		name, email, password string
		next                  string
	}{
		{name: "wrong password", email: "test@example.com", password: "wrong password"},
		{name: "unknown email", email: "nobody@example.com", password: "secret-pw"},
		{name: "with next", email: "test@example.com", password: "nope-nope", next: "/account"},
		{name: "markup in the email", email: `"><script>x</script>@example.com`, password: "nope-nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"email": {tt.email}, "password": {tt.password}}
			if tt.next != "" {
				form.Set("next", tt.next)
			}
			resp := formPost(t, srv.URL+"/login", form, "")
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
				t.Fatalf("failed login: %d to %q", resp.StatusCode, loc)
			}
			if strings.Contains(loc, url.QueryEscape(tt.email)) || strings.Contains(loc, "example.com") || strings.Contains(loc, url.QueryEscape(tt.password)) {
				t.Errorf("the redirect %q carries the credentials", loc)
			}
			page, html := get(t, srv.URL+loc, browserAccept, cookieHeader(resp))
			if page.StatusCode != http.StatusOK {
				t.Fatalf("login page: %d", page.StatusCode)
			}
			want := `value="` + templateEscape(tt.email) + `"`
			if !strings.Contains(html, want) || !strings.Contains(html, "Invalid email or password.") {
				t.Errorf("login page lacks %s and the error:\n%s", want, html)
			}
			if strings.Contains(html, tt.password) || strings.Contains(html, "<script>") {
				t.Errorf("login page shows the password or unescaped markup:\n%s", html)
			}
			for _, c := range page.Cookies() {
				if c.Name == emailCookie && c.MaxAge >= 0 {
					t.Errorf("the login page keeps the email cookie: %+v", c)
				}
			}
			// Without the cookie, or without error=1, the form is empty.
			for _, u := range []struct{ url, cookie string }{{loc, ""}, {"/login", cookieHeader(resp)}} {
				if _, html := get(t, srv.URL+u.url, browserAccept, u.cookie); strings.Contains(html, want) {
					t.Errorf("GET %s (cookie %q) shows the email", u.url, u.cookie)
				}
			}
		})
	}
}

// templateEscape escapes s as html/template does in an attribute value.
func templateEscape(s string) string {
	r := strings.NewReplacer(`"`, "&#34;", "<", "&lt;", ">", "&gt;", "&", "&amp;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}

// TestStatic: /static/ serves the style sheet and the passkey script, and
// no directory listing.
func TestStatic(t *testing.T) {
	srv, _ := newTestApp(t)
	for _, tt := range []struct {
		path     string
		wantCode int
		wantType string
	}{
		{path: "/static/style.css", wantCode: http.StatusOK, wantType: "text/css; charset=utf-8"},
		{path: "/static/passkey.js", wantCode: http.StatusOK, wantType: "text/javascript; charset=utf-8"},
		{path: "/static/", wantCode: http.StatusNotFound},
		{path: "/static/missing.css", wantCode: http.StatusNotFound},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, browserAccept, "")
			if resp.StatusCode != tt.wantCode {
				t.Errorf("%d, want %d", resp.StatusCode, tt.wantCode)
			}
			if ct := resp.Header.Get("Content-Type"); tt.wantType != "" && ct != tt.wantType {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantType)
			}
			if strings.Contains(body, `<a href="style.css">`) {
				t.Errorf("lists the directory: %s", body)
			}
		})
	}
}

// TestLoginFormCSRFToken: the login form carries a login CSRF token, with
// which a browser that sends neither Origin nor Referer can log in; without
// it, or with it but without the page's cookie, the login is refused.
func TestLoginFormCSRFToken(t *testing.T) {
	srv, _ := newTestApp(t)
	page, html := get(t, srv.URL+"/login", browserAccept, "")
	_, rest, _ := strings.Cut(html, `name="csrf_token" value="`)
	token, _, _ := strings.Cut(rest, `"`)
	if page.StatusCode != http.StatusOK || token == "" || cookieHeader(page) == "" {
		t.Fatalf("login page: %d, token %q, cookies %v", page.StatusCode, token, page.Cookies())
	}
	for _, tt := range []struct {
		name     string
		token    string
		cookie   string
		wantCode int
	}{
		{name: "token and cookie", token: token, cookie: cookieHeader(page), wantCode: http.StatusSeeOther},
		{name: "no token", cookie: cookieHeader(page), wantCode: http.StatusForbidden},
		{name: "token without the cookie", token: token, wantCode: http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"email": {"test@example.com"}, "password": {"test123"}, "csrf_token": {tt.token}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", browserAccept)
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			}
			resp, err := noRedirect(srv.URL).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("origin-less form login: %d, want %d", resp.StatusCode, tt.wantCode)
			}
		})
	}
}

// TestLoginReauth: where the library sends a browser whose login is too
// old (reauth=1), the login form asks for the password again, with the
// session's email filled in and the next page kept.
func TestLoginReauth(t *testing.T) {
	srv, _ := newTestApp(t)
	cookie := browserLogin(t, srv.URL)
	const line = "Enter your password again to continue."
	for _, tt := range []struct {
		name, query, cookie string
		want, wantNot       []string
	}{
		{name: "reauth", query: "?reauth=1&next=%2Faccount", cookie: cookie,
			want: []string{line, `value="test@example.com"`, `name="next" value="/account"`}},
		{name: "reauth without a session", query: "?reauth=1&next=%2Faccount",
			want: []string{line, `name="next" value="/account"`}, wantNot: []string{"test@example.com"}},
		{name: "a plain login", query: "?next=%2Faccount", cookie: cookie, wantNot: []string{line, "test@example.com"}},
		{name: "reauth other than 1", query: "?reauth=yes", cookie: cookie, wantNot: []string{line, "test@example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page := showPage(t, srv.URL+"/login"+tt.query, tt.cookie, tt.want...)
			for _, w := range tt.wantNot {
				if strings.Contains(page, w) {
					t.Errorf("the login page shows %q:\n%s", w, page)
				}
			}
		})
	}
}
