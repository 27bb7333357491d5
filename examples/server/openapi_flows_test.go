package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/totp"
)

// apiAnswer is an answer of the JSON API.
type apiAnswer struct {
	status   int
	header   http.Header
	response map[string]any // the envelope's response, if any
}

// str returns the string member name of a.response.
func (a apiAnswer) str(name string) string {
	s, _ := a.response[name].(string)
	return s
}

// oaCall sends method path with a JSON (or, for a string starting with
// "form:", url-encoded) body, the token, cookie and CSRF token given
// (where not ""), as an API client does: no redirects followed.
func oaCall(t *testing.T, base, method, path, token, cookie, csrf string, body any) apiAnswer {
	t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, contentType = strings.NewReader(strings.TrimPrefix(b, "form:")), "application/x-www-form-urlencoded"
	default:
		raw, _ := json.Marshal(b)
		r, contentType = strings.NewReader(string(raw)), "application/json"
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authentication-Token", token)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := noRedirect(base).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode, header: resp.Header}
	var v struct {
		Response map[string]any `json:"response"`
	}
	if json.Unmarshal(raw, &v) == nil {
		a.response = v.Response
	}
	return a
}

// want fails the test unless a has the status.
func (a apiAnswer) want(t *testing.T, what string, status int) apiAnswer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: %d %v, want %d", what, a.status, a.response, status)
	}
	return a
}

// TestOpenAPIEndpoints drives, through the example's routes, the JSON
// endpoints that the page tests reach only from inside the example (the
// account page calls the account handler directly): the document's
// validator (openapi_test.go) sees each of them at least once, with its
// success and its usual refusals.
func TestOpenAPIEndpoints(t *testing.T) {
	base, store := newPasskeyApp(t, 0)
	login := func() apiAnswer {
		return oaCall(t, base, "POST", "/login", "", "", "", map[string]any{"email": "test@example.com", "password": "test123"}).
			want(t, "login", http.StatusOK)
	}
	tokenOf := func(a apiAnswer) string {
		user, _ := a.response["user"].(map[string]any)
		tok, _ := user["authentication_token"].(string)
		return tok
	}
	tok := tokenOf(login())
	other := tokenOf(login()) // a second device session

	// Re-authentication.
	oaCall(t, base, "POST", "/auth/verify", tok, "", "", map[string]any{"password": "test123"}).want(t, "verify", http.StatusOK)
	oaCall(t, base, "POST", "/auth/verify", tok, "", "", map[string]any{"password": "wrong"}).want(t, "verify, wrong password", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/verify", tok, "", "", "form:password=test123").want(t, "verify, a form", http.StatusOK)
	oaCall(t, base, "POST", "/auth/verify", tok, "", "", nil).want(t, "verify without a body", http.StatusUnsupportedMediaType)
	oaCall(t, base, "GET", "/auth/verify", tok, "", "", nil).want(t, "verify with GET", http.StatusMethodNotAllowed)
	oaCall(t, base, "GET", "/auth/verify", "", "", "", nil).want(t, "verify with GET, no login", http.StatusUnauthorized)

	// Device sessions: one ended by ID, then every other.
	list := oaCall(t, base, "GET", "/auth/sessions", tok, "", "", nil).want(t, "sessions", http.StatusOK)
	sessions, _ := list.response["sessions"].([]any)
	if len(sessions) < 2 {
		t.Fatalf("sessions: %v, want the two logins'", list.response)
	}
	first, _ := sessions[0].(map[string]any)
	id, _ := first["id"].(string)
	oaCall(t, base, "DELETE", "/auth/sessions/"+url.PathEscape(id), other, "", "", nil).want(t, "end a session", http.StatusOK)
	oaCall(t, base, "DELETE", "/auth/sessions/"+url.PathEscape(id), other, "", "", nil).want(t, "end it again", http.StatusNotFound)
	oaCall(t, base, "DELETE", "/auth/sessions", other, "", "", nil).want(t, "end the others", http.StatusOK)
	oaCall(t, base, "PUT", "/auth/sessions", other, "", "", nil).want(t, "sessions with PUT", http.StatusMethodNotAllowed)

	// Personal access tokens: made, listed, revoked.
	made := oaCall(t, base, "POST", "/auth/tokens", tok, "", "", map[string]any{"name": "ci", "scopes": "posts:read", "expires_in": 3600}).
		want(t, "make a token", http.StatusOK)
	oaCall(t, base, "POST", "/auth/tokens", tok, "", "", "form:name=ci2&scopes=posts:read&expires_in=600").want(t, "make a token, a form", http.StatusOK)
	oaCall(t, base, "POST", "/auth/tokens", tok, "", "", map[string]any{"name": "", "scopes": []string{"nope"}}).want(t, "a bad token", http.StatusBadRequest)
	oaCall(t, base, "GET", "/auth/tokens", tok, "", "", nil).want(t, "list the tokens", http.StatusOK)
	oaCall(t, base, "DELETE", "/auth/tokens/"+made.str("id"), tok, "", "", nil).want(t, "revoke a token", http.StatusOK)
	oaCall(t, base, "DELETE", "/auth/tokens/"+made.str("id"), tok, "", "", nil).want(t, "revoke it again", http.StatusNotFound)
	oaCall(t, base, "GET", "/auth/tokens/"+made.str("id"), tok, "", "", nil).want(t, "a token with GET", http.StatusMethodNotAllowed)
	oaCall(t, base, "GET", "/auth/sessions", made.str("token"), "", "", nil).want(t, "a personal access token where none is taken", http.StatusForbidden)

	// Recovery codes, before and after the second factor.
	oaCall(t, base, "GET", "/auth/mf-recovery-codes", tok, "", "", nil).want(t, "codes left, no second factor", http.StatusBadRequest)
	setup := oaCall(t, base, "POST", "/auth/tf-setup", tok, "", "", map[string]any{"setup": "authenticator"}).want(t, "tf-setup", http.StatusOK)
	key, err := totp.DecodeKey(setup.str("tf_authr_key"))
	if err != nil {
		t.Fatal(err)
	}
	oaCall(t, base, "POST", "/auth/tf-setup/"+setup.str("tf_state_token"), tok, "", "", map[string]any{"code": codeAt(t, key, time.Now())}).
		want(t, "tf-setup code", http.StatusOK)
	oaCall(t, base, "PUT", "/auth/tf-setup", tok, "", "", nil).want(t, "tf-setup with PUT", http.StatusMethodNotAllowed)
	oaCall(t, base, "POST", "/auth/mf-recovery-codes", tok, "", "", nil).want(t, "make codes", http.StatusOK)
	oaCall(t, base, "GET", "/auth/mf-recovery-codes", tok, "", "", nil).want(t, "codes left", http.StatusOK)
	oaCall(t, base, "DELETE", "/auth/mf-recovery-codes", tok, "", "", nil).want(t, "codes with DELETE", http.StatusMethodNotAllowed)
	oaCall(t, base, "POST", "/auth/tf-setup", tok, "", "", map[string]any{"setup": "disable"}).want(t, "tf-setup disable", http.StatusOK)

	// Passkeys: listed, registration begun and refused, deleted,
	// re-authentication begun and refused.
	oaCall(t, base, "GET", "/auth/wan-register", tok, "", "", nil).want(t, "list passkeys", http.StatusOK)
	begun := oaCall(t, base, "POST", "/auth/wan-register", tok, "", "", map[string]any{"name": "laptop", "usage": "first"}).
		want(t, "begin a registration", http.StatusOK)
	oaCall(t, base, "POST", "/auth/wan-register/"+begun.str("wan_state"), tok, "", "", map[string]any{"credential": "{}"}).
		want(t, "a credential that is none", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/wan-verify", tok, "", "", map[string]any{}).want(t, "verify without a passkey", http.StatusBadRequest)
	addPasskey(t, store, "phone", "secondary", 3, time.Time{})
	oaCall(t, base, "GET", "/auth/wan-register", tok, "", "", nil).want(t, "list a passkey", http.StatusOK)
	verify := oaCall(t, base, "POST", "/auth/wan-verify", tok, "", "", map[string]any{}).want(t, "begin a verification", http.StatusOK)
	oaCall(t, base, "POST", "/auth/wan-verify/"+verify.str("wan_state"), tok, "", "", map[string]any{"credential": "{}"}).
		want(t, "an assertion that is none", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/wan-verify/"+verify.str("wan_state"), tok, "", "", map[string]any{}).
		want(t, "no assertion", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/wan-delete", tok, "", "", map[string]any{"name": "tablet"}).want(t, "delete a passkey the user lacks", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/wan-delete", tok, "", "", "form:name=phone").want(t, "delete a passkey", http.StatusOK)
	oaCall(t, base, "GET", "/auth/wan-delete", tok, "", "", nil).want(t, "wan-delete with GET", http.StatusMethodNotAllowed)

	// Without a Mailer the account routes answer 501; an unknown route 404.
	oaCall(t, base, "POST", "/auth/confirm", "", "", "", map[string]any{"email": "test@example.com"}).want(t, "confirm without a Mailer", http.StatusNotImplemented)
	oaCall(t, base, "POST", "/auth/no-such-route", "", "", "", map[string]any{}).want(t, "an unknown route", http.StatusNotImplemented)

	// A session (a JSON login that asks to be remembered): its replies
	// carry its CSRF token, and a post without it is refused.
	remembered := oaCall(t, base, "POST", "/login", "", "", "", map[string]any{"email": "test@example.com", "password": "test123", "remember": true}).
		want(t, "a remembered login", http.StatusOK)
	var cookies []string
	for _, c := range (&http.Response{Header: remembered.header}).Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	cookie, csrf := strings.Join(cookies, "; "), remembered.header.Get("X-CSRF-Token")
	if csrf == "" || cookie == "" {
		t.Fatalf("a remembered login without cookies or CSRF token: %v", remembered.header)
	}
	if a := oaCall(t, base, "GET", "/auth/sessions", "", cookie, "", nil).want(t, "sessions with the session", http.StatusOK); a.str("csrf_token") == "" {
		t.Errorf("a session's reply without its csrf_token: %v", a.response)
	}
	oaCall(t, base, "POST", "/auth/verify", "", cookie, "", map[string]any{"password": "test123"}).want(t, "verify, the session without CSRF", http.StatusForbidden)
	oaCall(t, base, "POST", "/auth/verify", "", cookie, csrf, map[string]any{"password": "test123"}).want(t, "verify, the session", http.StatusOK)
	oaCall(t, base, "POST", "/logout", "", cookie, "", nil).want(t, "logout without CSRF", http.StatusForbidden)
	oaCall(t, base, "POST", "/logout", "", cookie, csrf, nil).want(t, "logout", http.StatusOK)
}

// TestOpenAPIAccountEndpoints: the account routes that need a Mailer,
// through the example's routes, as a JSON client uses them.
func TestOpenAPIAccountEndpoints(t *testing.T) {
	base, _, _ := newAccountApp(t)
	oaCall(t, base, "POST", "/auth/confirm", "", "", "", map[string]any{"email": "unconfirmed@example.com"}).want(t, "send the confirmation again", http.StatusOK)
	oaCall(t, base, "POST", "/auth/confirm", "", "", "", map[string]any{"email": "not an address"}).want(t, "confirm, a bad email", http.StatusBadRequest)
	oaCall(t, base, "POST", "/auth/confirm", "", "", "", `form:email=unconfirmed%40example.com`).want(t, "confirm, a form without Origin or CSRF token", http.StatusForbidden)
	oaCall(t, base, "GET", "/auth/confirm", "", "", "", nil).want(t, "confirm with GET", http.StatusMethodNotAllowed)
	oaCall(t, base, "GET", "/auth/confirm/not-a-token", "", "", "", nil).want(t, "a confirmation link that is none", http.StatusSeeOther)
	oaCall(t, base, "POST", "/auth/no-such-route", "", "", "", map[string]any{}).want(t, "an unknown route", http.StatusNotFound)
}
