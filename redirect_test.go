package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next string
		want string // "" when rejected
	}{
		{next: "/", want: "/"},
		{next: "/account", want: "/account"},
		{next: "/account?tab=1&x=%2F%2F", want: "/account?tab=1&x=%2F%2F"},
		{next: "/a/b/../c", want: "/a/b/../c"},
		{next: "/a b", want: "/a%20b"},
		{next: "/ü", want: "/%C3%BC"},
		{next: "/page#part", want: "/page#part"},
		{next: "/javascript:alert(1)", want: "/javascript:alert(1)"},
		{next: "/.//evil.example", want: "/.//evil.example"}, // a path on this host

		{next: ""},
		{next: "account"},
		{next: "./account"},
		{next: "https://evil.example/"},
		{next: "http:/evil.example"},
		{next: "HTTPS://evil.example"},
		{next: "//evil.example"},
		{next: "//evil.example/path"},
		{next: "///evil.example"},
		{next: "/\\evil.example"},
		{next: "\\\\evil.example"},
		{next: "/\\/evil.example"},
		{next: "/a\\b"},
		{next: "javascript:alert(1)"},
		{next: "JavaScript:alert(1)"},
		{next: " /account"},
		{next: "\t//evil.example"},
		{next: "/\t/evil.example"},
		{next: "/\n/evil.example"},
		{next: "/account\r\nSet-Cookie: x=y"},
		{next: "/\x00"},
		{next: "/\x7f"},
		{next: "/%2F/evil.example"},
		{next: "/%2f/evil.example"},
		{next: "/%5Cevil.example"},
		{next: "/%09/evil.example"},
		{next: "/%0d%0aSet-Cookie:x"},
		{next: "%2F%2Fevil.example"},
		{next: "/%zz"},
		{next: "/\xff"},
		{next: "/" + strings.Repeat("a", maxNextBytes)},
		{next: "data:text/html,<script>alert(1)</script>"},
		{next: "/@evil.example", want: "/@evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			got, ok := safeNext(tt.next)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("safeNext(%q) = %q, %v; want %q", tt.next, got, ok, tt.want)
			}
		})
	}
}

// TestSafeNextFromForm: what an attacker puts in a login link reaches
// safeNext percent-decoded once; encoded variants of the attacks above
// must still fail.
func TestSafeNextFromForm(t *testing.T) {
	for _, raw := range []string{
		"https%3A%2F%2Fevil.example", "%2F%2Fevil.example", "%2F%5Cevil.example", "%2F%252F%2Fevil.example",
		"javascript%3Aalert(1)", "%2F%09%2Fevil.example", "%252F%252Fevil.example",
	} {
		q, err := url.ParseQuery("next=" + raw)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := safeNext(q.Get("next")); ok {
			t.Errorf("next=%s accepted as %q", raw, got)
		}
	}
}

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept []string
		want   bool
	}{
		{accept: nil},
		{accept: []string{""}},
		{accept: []string{"*/*"}},
		{accept: []string{"application/json"}},
		{accept: []string{"text/html"}, want: true},
		{accept: []string{htmlAccept}, want: true},
		{accept: []string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"}, want: true}, // Chrome
		{accept: []string{"application/json, text/html"}},
		{accept: []string{"application/json;q=0.5, text/html"}, want: true},
		{accept: []string{"text/html;q=0.5, application/json"}},
		{accept: []string{"text/*, application/json;q=0.9"}, want: true},
		{accept: []string{"text/html;q=0, */*"}},
		{accept: []string{"TEXT/HTML"}, want: true},
		{accept: []string{"text/html;q=bogus"}},
		{accept: []string{"text/html", "application/json"}},
		{accept: []string{"text/plain"}},
		{accept: []string{"*/*;q=0.8, application/json;q=0.1"}, want: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.accept, " | "), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tt.accept {
				r.Header.Add("Accept", v)
			}
			if got := prefersHTML(r); got != tt.want {
				t.Errorf("prefersHTML = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoginPageURL(t *testing.T) {
	tests := []struct {
		page   string
		next   string
		failed bool
		want   string
	}{
		{page: "/login", want: "/login"},
		{page: "/login", next: "/account?x=1", want: "/login?next=%2Faccount%3Fx%3D1"},
		{page: "/login", next: "//evil", failed: true, want: "/login?error=1"},
		{page: "/login?lang=de", next: "/a", failed: true, want: "/login?lang=de&error=1&next=%2Fa"},
		{page: "https://sso.example/login", next: "/a", want: "https://sso.example/login?next=%2Fa"},
	}
	for _, tt := range tests {
		m := &Manager{sessions: sessions{loginPage: tt.page}}
		if got := m.sessions.loginPageURL(tt.next, tt.failed); got != tt.want {
			t.Errorf("loginPageURL(%q, %q, %v) = %q, want %q", tt.page, tt.next, tt.failed, got, tt.want)
		}
	}
}

// TestRequireByClient: the same failed request gets a redirect when a
// browser makes it and a JSON 401 when a script does, and only when the
// route accepts sessions.
func TestRequireByClient(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{Session: SessionConfig{LoginPage: "/signin"}})
	tests := []struct {
		name       string
		schemes    []Scheme
		method     string
		accept     string
		wantStatus int
		wantLoc    string
	}{
		{name: "browser, session route", schemes: []Scheme{Session}, method: "GET", accept: htmlAccept, wantStatus: 303, wantLoc: "/signin?next=%2Fdocs%3Fpage%3D2"},
		{name: "browser, HEAD", schemes: []Scheme{Session}, method: "HEAD", accept: htmlAccept, wantStatus: 303, wantLoc: "/signin?next=%2Fdocs%3Fpage%3D2"},
		{name: "browser, POST keeps no next", schemes: []Scheme{Session}, method: "POST", accept: htmlAccept, wantStatus: 303, wantLoc: "/signin"},
		{name: "browser, mixed route", schemes: []Scheme{Token, Session, Basic}, method: "GET", accept: htmlAccept, wantStatus: 303, wantLoc: "/signin?next=%2Fdocs%3Fpage%3D2"},
		{name: "browser, token route", schemes: []Scheme{Token}, method: "GET", accept: htmlAccept, wantStatus: 401},
		{name: "script, session route", schemes: []Scheme{Session}, method: "GET", accept: "application/json", wantStatus: 401},
		{name: "curl, session route", schemes: []Scheme{Session}, method: "GET", accept: "*/*", wantStatus: 401},
		{name: "no Accept, session route", schemes: []Scheme{Session}, method: "GET", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://app.example/docs?page=2", nil)
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			resp := sessDo(f.m.Require(tt.schemes...)(whoamiSession), r)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLoc {
				t.Fatalf("got %s to %q, want %d to %q", resp.Status, resp.Header.Get("Location"), tt.wantStatus, tt.wantLoc)
			}
			if tt.wantStatus == 401 && resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("401 with Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

// FuzzSafeNext: safeNext never panics, and whatever it accepts stays on
// the site when a browser resolves it, is free of control characters and
// backslashes, and is accepted again unchanged.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/", "/account?x=1#y", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)",
		"/%2F/evil", "/\t/evil", "/a b", "/ü", "/.//x", "/..;/x", "/?next=//evil",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/dir/page")
	f.Fuzz(func(t *testing.T, next string) {
		got, ok := safeNext(next)
		if !ok {
			if got != "" {
				t.Fatalf("rejected %q but returned %q", next, got)
			}
			return
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\\") || strings.IndexFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			t.Fatalf("safeNext(%q) = %q has a backslash or control character", next, got)
		}
		if len(got) < 1 || got[0] != '/' || (len(got) > 1 && got[1] == '/') {
			t.Fatalf("safeNext(%q) = %q does not start with a single slash", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", next, got, err)
		}
		if abs := base.ResolveReference(u); abs.Scheme != base.Scheme || abs.Host != base.Host || abs.User != nil {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, got, abs)
		}
		if again, ok := safeNext(got); !ok || again != got {
			t.Fatalf("safeNext(%q) = %q, but safeNext of that = %q, %v", next, got, again, ok)
		}
	})
}
