package auth

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFCheck(t *testing.T) {
	const site = "http://app.example"
	tests := []struct {
		name string
		// prepare sets the request's CSRF token, origin and so on; token is
		// a valid token for the session.
		method      string
		prepare     func(r *http.Request, token string)
		form        func(token string) url.Values // a form body
		wantStatus  int
		wantText    string
		wantFormVal string // the handler still reads this form field
	}{
		{name: "GET needs no token", method: http.MethodGet, wantStatus: 200},
		{name: "HEAD needs no token", method: http.MethodHead, wantStatus: 200},
		{name: "OPTIONS needs no token", method: http.MethodOptions, wantStatus: 200},
		{name: "POST without token", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "PUT without token", method: http.MethodPut, wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "PATCH without token", method: http.MethodPatch, wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "DELETE without token", method: http.MethodDelete, wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "POST with header token", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok) }},
		{name: "DELETE with header token", method: http.MethodDelete, wantStatus: 200,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok) }},
		{name: "POST with form token", method: http.MethodPost, wantStatus: 200, wantFormVal: "kept",
			form: func(tok string) url.Values { return url.Values{CSRFField: {tok}, "title": {"kept"}} }},
		{name: "form token in the query only", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text,
			prepare: func(r *http.Request, tok string) { r.URL.RawQuery = CSRFField + "=" + url.QueryEscape(tok) }},
		{name: "wrong token", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, maskCSRF(newCSRFSecret())) }},
		{name: "unmasked secret", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text,
			prepare: func(r *http.Request, tok string) {
				raw, _ := base64.RawURLEncoding.DecodeString(tok)
				pad, masked := raw[:csrfSecretBytes], raw[csrfSecretBytes:]
				secret := make([]byte, csrfSecretBytes)
				for i := range secret {
					secret[i] = pad[i] ^ masked[i]
				}
				r.Header.Set(CSRFHeader, base64.RawURLEncoding.EncodeToString(secret))
			}},
		{name: "truncated token", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok[:len(tok)-1]) }},
		{name: "token with padding", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCSRF].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok+"==") }},
		{name: "same origin", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok); r.Header.Set("Origin", site) }},
		{name: "same origin, default port", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok); r.Header.Set("Origin", site+":80") }},
		{name: "same origin, host in capitals", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", "http://APP.example")
			}},
		{name: "other origin", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", "http://evil.example")
			}},
		{name: "other port", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok); r.Header.Set("Origin", site+":8443") }},
		{name: "suffix host", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", "http://app.example.evil.example")
			}},
		{name: "null origin", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set(CSRFHeader, tok); r.Header.Set("Origin", "null") }},
		{name: "other origin without token", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) { r.Header.Set("Origin", "http://evil.example") }},
		{name: "same referer", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Referer", site+"/account")
			}},
		{name: "other referer", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Referer", "http://evil.example/app.example")
			}},
		{name: "Origin decides over Referer", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", site)
				r.Header.Set("Referer", "http://elsewhere.example/")
			}},
		{name: "http origin over TLS", method: http.MethodPost, wantStatus: 403, wantText: catalogue[msgCrossOrigin].text,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", site)
				r.TLS = &tls.ConnectionState{}
			}},
		{name: "https origin over TLS", method: http.MethodPost, wantStatus: 200,
			prepare: func(r *http.Request, tok string) {
				r.Header.Set(CSRFHeader, tok)
				r.Header.Set("Origin", "https://app.example")
				r.TLS = &tls.ConnectionState{}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessFixture(t, sessKey, Config{})
			cookies := f.sessionCookies(t, false)
			tok := sessCSRF(t, f.m, cookies...)
			var body io.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form(tok).Encode())
			}
			r := httptest.NewRequest(tt.method, site+"/items", body)
			if tt.form != nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.prepare != nil {
				tt.prepare(r, tok)
			}
			var formVal string
			h := f.m.Require(Session)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				formVal = r.PostFormValue("title")
				whoamiSession(w, r)
			}))
			resp := sessDo(h, r, cookies...)
			got := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s %s, want %d", resp.Status, got, tt.wantStatus)
			}
			if tt.wantText != "" {
				if text := errorText(t, got); text != tt.wantText {
					t.Errorf("error %q, want %q", text, tt.wantText)
				}
			}
			if formVal != tt.wantFormVal {
				t.Errorf("the handler read title=%q, want %q", formVal, tt.wantFormVal)
			}
		})
	}
}

// TestCSRFExemptions: requests a token or HTTP Basic authenticates carry
// no ambient credentials, so they need no CSRF token, even with a session
// cookie beside them.
func TestCSRFExemptions(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	cookies := f.sessionCookies(t, false)
	tok, err := f.m.IssueToken(f.stored(t))
	if err != nil {
		t.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sessEmail+":"+sessPassword))
	tests := []struct {
		name       string
		schemes    []Scheme
		header     http.Header
		cookies    bool
		wantStatus int
		wantText   string
	}{
		{name: "token", schemes: []Scheme{Token, Session}, header: http.Header{"Authentication-Token": {tok}}, cookies: true, wantStatus: 200},
		{name: "bearer token", schemes: []Scheme{Session, Token}, header: http.Header{"Authorization": {"Bearer " + tok}}, wantStatus: 200},
		{name: "basic token", schemes: []Scheme{Session, BasicToken}, header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(tok+":"))}}, wantStatus: 200},
		{name: "basic", schemes: []Scheme{Basic, Session}, header: http.Header{"Authorization": {basic}}, wantStatus: 200},
		{name: "session wins over basic, so needs the token", schemes: []Scheme{Basic, Session}, header: http.Header{"Authorization": {basic}}, cookies: true,
			wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "bad token falls back to the session", schemes: []Scheme{Token, Session}, header: http.Header{"Authentication-Token": {"forged"}}, cookies: true,
			wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "session alone", schemes: []Scheme{Token, Session}, cookies: true, wantStatus: 403, wantText: catalogue[msgCSRF].text},
		{name: "session not accepted", schemes: []Scheme{Token}, cookies: true, wantStatus: 401, wantText: catalogue[msgUnauthenticated].text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://app.example/items", nil)
			for k, v := range tt.header {
				r.Header[k] = v
			}
			r.Header.Set("Origin", "http://evil.example") // a cross-site request, too
			var cs []*http.Cookie
			if tt.cookies {
				cs = cookies
			}
			resp := sessDo(f.m.Require(tt.schemes...)(whoamiSession), r, cs...)
			got := sessBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %s %s, want %d", resp.Status, got, tt.wantStatus)
			}
			if tt.wantText != "" {
				// A cross-origin session request is refused for its origin first.
				want := tt.wantText
				if want == catalogue[msgCSRF].text {
					want = catalogue[msgCrossOrigin].text
				}
				if text := errorText(t, got); text != want {
					t.Errorf("error %q, want %q", text, want)
				}
			} else if got != sessEmail {
				t.Errorf("body %q", got)
			}
		})
	}
}

func TestOptionalSessionCSRF(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	cookies := f.sessionCookies(t, false)
	h := f.m.Optional(Session)(whoamiSession)
	tests := []struct {
		name   string
		method string
		token  bool
		want   string
	}{
		{name: "GET", method: http.MethodGet, want: sessEmail},
		{name: "POST with token", method: http.MethodPost, token: true, want: sessEmail},
		{name: "POST without token goes on anonymously", method: http.MethodPost, want: "anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/", nil)
			if tt.token {
				r.Header.Set(CSRFHeader, sessCSRF(t, f.m, cookies...))
			}
			resp := sessDo(h, r, cookies...)
			if got := sessBody(t, resp); resp.StatusCode != 200 || got != tt.want {
				t.Errorf("got %s %q, want 200 %q", resp.Status, got, tt.want)
			}
		})
	}
}

func TestCSRFToken(t *testing.T) {
	f := newSessFixture(t, sessKey, Config{})
	cookies := f.sessionCookies(t, true)
	a, b := sessCSRF(t, f.m, cookies...), sessCSRF(t, f.m, cookies...)
	if a == b {
		t.Error("two CSRF tokens are equal; each must use a fresh pad")
	}
	if len(a) != 86 || strings.ContainsAny(a, "+/=") {
		t.Errorf("token %q is not 64 bytes of unpadded base64url", a)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := f.m.CSRFToken(r); got != "" {
		t.Errorf("CSRFToken without a session: %q", got)
	}
	// Either token passes for the session, and only for it.
	other := f.sessionCookies(t, false)
	h := f.m.Require(Session)(whoamiSession)
	for _, tc := range []struct {
		tok     string
		cookies []*http.Cookie
		want    int
	}{
		{a, cookies, 200}, {b, cookies, 200}, {a, other, 403},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set(CSRFHeader, tc.tok)
		if resp := sessDo(h, r, tc.cookies...); resp.StatusCode != tc.want {
			t.Errorf("token %.8s…: %s, want %d", tc.tok, resp.Status, tc.want)
		}
	}
}

func TestCSRFMatches(t *testing.T) {
	secret := newCSRFSecret()
	good := maskCSRF(secret)
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{name: "good", token: good, want: true},
		{name: "empty", token: ""},
		{name: "short", token: good[:85]},
		{name: "long", token: good + "A"},
		{name: "std alphabet", token: strings.NewReplacer("-", "+", "_", "/").Replace(good), want: !strings.ContainsAny(good, "-_")},
		{name: "not base64", token: strings.Repeat("*", 86)},
		{name: "flipped bit", token: flipLast(good)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := csrfMatches(tt.token, secret); got != tt.want {
				t.Errorf("csrfMatches(%q) = %v, want %v", tt.token, got, tt.want)
			}
		})
	}
	if csrfMatches(good, nil) || csrfMatches(good, secret[:16]) {
		t.Error("a token matched a secret of the wrong length")
	}
}

// flipLast changes the last character of a base64url string to another
// that decodes (the last of 86 characters carries 4 bits, so change a high one).
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'g'
	}
	return s[:len(s)-1] + string(repl)
}
