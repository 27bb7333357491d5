package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/totp"
)

// newTwoFactorApp is newTestApp with second factors on as -schema native
// has them (nativeTwoFactor), the login redirect of serverConfig and the
// freshness given (0: the library's hour).
func newTwoFactorApp(t *testing.T, freshness time.Duration) (string, *auth.MemoryStore) {
	t.Helper()
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{
		Logger: slog.New(slog.DiscardHandler), Freshness: freshness,
		Token: auth.TokenConfig{MaxAge: time.Hour, Scopes: demoScopes()}, Refresh: nativeRefresh(), TwoFactor: nativeTwoFactor(),
		Session:  auth.SessionConfig{LoginRedirect: "/account"},
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), m, store); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(m))
	t.Cleanup(srv.Close)
	return srv.URL, store
}

var (
	keyIn   = regexp.MustCompile(`<code class="secret" id="tf-key">([A-Z2-7]+)</code>`)
	stateIn = regexp.MustCompile(`name="state" value="([^"]+)"`)
	qrIn    = regexp.MustCompile(`<img id="tf-qrcode" class="qrcode" src="data:image/png;base64,([^"]+)"`)
	codesIn = regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`)
)

// codeAt is the app's code of key at t.
func codeAt(t *testing.T, key []byte, at time.Time) string {
	t.Helper()
	c, err := totp.Config{}.Code(key, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a code of six digits that none of the periods around now
// has for key: the server accepts one period either side.
func wrongCode(t *testing.T, key []byte) string {
	t.Helper()
	now := time.Now()
	near := map[string]bool{}
	for d := -2; d <= 3; d++ {
		near[codeAt(t, key, now.Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555", "666666"} {
		if !near[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// setUpTwoFactor turns the second factor of the user of cookie on through
// the account page and returns the key the setup page showed. The code
// that turned it on is the current period's, now used up.
func setUpTwoFactor(t *testing.T, base, cookie string) []byte {
	t.Helper()
	page := showPage(t, base+"/account", cookie, `<h2 id="tf-heading">Two-factor authentication</h2>`, `id="tf-off"`, `action="/account/2fa/setup"`)
	csrf := csrfTokenIn(t, page)
	resp, body := postPage(t, base, "/account/2fa/setup", url.Values{"csrf_token": {csrf}}, cookie, "")
	km, sm, qm := keyIn.FindStringSubmatch(body), stateIn.FindStringSubmatch(body), qrIn.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || km == nil || sm == nil || qm == nil {
		t.Fatalf("setup: %d, no key, state or QR code in\n%s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the setup page has Cache-Control %q, want no-store", cc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src data:") {
		t.Errorf("the setup page's CSP %q does not let the QR code show", csp)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(qm[1]))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 100 || img.Bounds().Dx() != img.Bounds().Dy() {
		t.Errorf("the QR code is not a square PNG image: %v", err)
	}
	key, err := totp.DecodeKey(km[1])
	if err != nil {
		t.Fatal(err)
	}
	// Refused: a wrong code shows the setup page again with the same key;
	// a state that is not one goes back to the account page.
	confirm := func(state, code string) (*http.Response, string) {
		return postPage(t, base, "/account/2fa/confirm", url.Values{"csrf_token": {csrf}, "state": {state}, "key": {km[1]}, "code": {code}}, cookie, "")
	}
	resp, body = confirm(sm[1], wrongCode(t, key))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "That code does not match the key.") || !strings.Contains(body, km[1]) || qrIn.FindString(body) == "" {
		t.Fatalf("a wrong setup code: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = confirm("x"+sm[1], codeAt(t, key, time.Now()))
	wantRedirect(t, "a forged state", resp, "/account?error=2fa-state")
	showPage(t, base+"/account", cookie, `id="tf-off"`)

	resp, _ = confirm(sm[1], codeAt(t, key, time.Now()))
	wantRedirect(t, "the right setup code", resp, "/account?status=2fa-on")
	showPage(t, base+"/account?status=2fa-on", cookie, "Two-factor authentication is on", `id="tf-on"`, `<strong id="tf-left">0</strong>`,
		`action="/account/2fa/recovery-codes"`, `action="/account/2fa/disable"`)
	return key
}

// passwordStep posts the login form of test@example.com and returns the
// Cookie header that carries its state token to the code form, failing
// unless the answer sends the browser to the login page for the code.
func passwordStep(t *testing.T, base string) string {
	t.Helper()
	resp := formPost(t, base+"/login", url.Values{"email": {"test@example.com"}, "password": {"test123"}, "next": {"/account"}}, "")
	wantRedirect(t, "the password of a user with a second factor", resp, "/login?next=%2Faccount&tf=1&tf_methods=authenticator")
	cookie := cookieHeader(resp)
	if !strings.Contains(cookie, "auth_tf=") || strings.Contains(cookie, "session") {
		t.Fatalf("the password step set %q, want the state token's cookie alone", cookie)
	}
	return cookie
}

// codeStep shows the login page's second step (recovery: the recovery
// code's form) and posts code with its form, as a browser does, returning
// the answer.
func codeStep(t *testing.T, base, cookie, code string, recovery bool) *http.Response {
	t.Helper()
	page, action, want := "/login?next=%2Faccount&tf=1", "/auth/tf-validate", []string{
		"Enter the code from your authenticator app", `autocomplete="one-time-code"`, `inputmode="numeric"`, `action="/auth/tf-validate"`,
		`href="/login?next=%2faccount&amp;recovery=1&amp;tf=1"`}
	if recovery {
		page, action, want = "/login?next=%2Faccount&recovery=1&tf=1", "/auth/mf-recovery", []string{"Recovery code", `action="/auth/mf-recovery"`}
	}
	resp, body := get(t, base+page, browserAccept, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", page, resp.StatusCode)
	}
	for _, w := range append(want, `name="next" value="/account"`) {
		if !strings.Contains(body, w) {
			t.Errorf("GET %s lacks %q:\n%s", page, w, body)
		}
	}
	if strings.Contains(body, `action="/login"`) {
		t.Errorf("the second step shows the password form:\n%s", body)
	}
	if c := cookieHeader(resp); c != "" {
		cookie += "; " + c // the login CSRF cookie
	}
	return pagePost(t, base, page, action, url.Values{"csrf_token": {csrfTokenIn(t, body)}, "next": {"/account"}, "code": {code}}, cookie)
}

// sessionOf returns the Cookie header of the session resp began, failing
// unless it is a redirect to the account page that the session opens.
func sessionOf(t *testing.T, base, what string, resp *http.Response) string {
	t.Helper()
	wantRedirect(t, what, resp, "/account")
	cookie := cookieHeader(resp)
	showPage(t, base+"/account", cookie, "Logged in as", `id="tf-on"`)
	return cookie
}

// TestTwoFactorPages: a user turns the second factor on through the
// account page with a code of the key it shows; a login then asks for a
// code after the password, refuses a wrong one, takes the app's next, and
// takes a recovery code once; turning it off makes the password enough.
func TestTwoFactorPages(t *testing.T) {
	base, _ := newTwoFactorApp(t, 0)
	cookie := browserLogin(t, base)
	key := setUpTwoFactor(t, base, cookie)

	// Recovery codes: ten, shown once, counted on the account page.
	csrf := csrfTokenIn(t, showPage(t, base+"/account", cookie))
	resp, body := postPage(t, base, "/account/2fa/recovery-codes", url.Values{"csrf_token": {csrf}}, cookie, "")
	codes := codesIn.FindAllStringSubmatch(body, -1)
	if resp.StatusCode != http.StatusOK || len(codes) != 10 || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(body, "shown only this once") {
		t.Fatalf("recovery codes: %d, %d codes, Cache-Control %q\n%s", resp.StatusCode, len(codes), resp.Header.Get("Cache-Control"), body)
	}
	showPage(t, base+"/account", cookie, `<strong id="tf-left">10</strong>`)

	// Log out; the password alone no longer logs in.
	wantRedirect(t, "logout", pagePost(t, base, "/account", "/logout", url.Values{"csrf_token": {csrf}}, cookie), "/login")
	if resp, _ := get(t, base+"/account", browserAccept, cookie); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the account page after the logout: %d", resp.StatusCode)
	}
	tf := passwordStep(t, base)
	if resp, _ := get(t, base+"/account", browserAccept, tf); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the account page after the password alone: %d, want the login form", resp.StatusCode)
	}

	// A wrong code comes back to the page with the error; one from another
	// origin is refused.
	resp = codeStep(t, base, tf, wrongCode(t, key), false)
	wantRedirect(t, "a wrong code", resp, "/login?error=code&next=%2Faccount&tf=1")
	showPage(t, base+resp.Header.Get("Location"), tf, "That code is not valid. Try again.", `aria-invalid="true"`, `action="/auth/tf-validate"`)
	// The code of the next period: the setup used this one's, and the
	// server accepts one period either side.
	next := codeAt(t, key, time.Now().Add(30*time.Second))
	resp, _ = postPage(t, base, "/auth/tf-validate", url.Values{"code": {next}}, tf, "http://127.0.0.1:1")
	if resp.StatusCode != http.StatusForbidden || cookieHeader(resp) != "" {
		t.Fatalf("the code form from another origin: %d, cookies %q", resp.StatusCode, cookieHeader(resp))
	}
	s := sessionOf(t, base, "the right code", codeStep(t, base, tf, next, false))

	// A recovery code logs in once.
	csrf = csrfTokenIn(t, showPage(t, base+"/account", s))
	wantRedirect(t, "logout", pagePost(t, base, "/account", "/logout", url.Values{"csrf_token": {csrf}}, s), "/login")
	tf = passwordStep(t, base)
	sessionOf(t, base, "a recovery code", codeStep(t, base, tf, strings.ToUpper(codes[3][1]), true))
	tf = passwordStep(t, base)
	wantRedirect(t, "a recovery code again", codeStep(t, base, tf, codes[3][1], true), "/login?error=code&next=%2Faccount&recovery=1&tf=1")
	s = sessionOf(t, base, "another recovery code", codeStep(t, base, tf, codes[4][1], true))
	showPage(t, base+"/account", s, `<strong id="tf-left">8</strong>`)

	// Turned off, the password is enough again.
	csrf = csrfTokenIn(t, showPage(t, base+"/account", s))
	wantRedirect(t, "turning it off without a CSRF token", pagePost(t, base, "/account", "/account/2fa/disable", nil, s), "/account?error=csrf")
	showPage(t, base+"/account", s, `id="tf-on"`)
	wantRedirect(t, "turning it off", pagePost(t, base, "/account", "/account/2fa/disable", url.Values{"csrf_token": {csrf}}, s), "/account?status=2fa-off")
	showPage(t, base+"/account?status=2fa-off", s, "Two-factor authentication is off", `id="tf-off"`)
	browserLogin(t, base)
}

// TestTwoFactorLoginPage: the login page's second step shows the texts of
// the errors it comes back with, and a state token that no longer works
// asks for the password again.
func TestTwoFactorLoginPage(t *testing.T) {
	base, _ := newTwoFactorApp(t, 0)
	for _, tt := range []struct {
		query, want, notWant string
	}{
		{"?tf=1", `action="/auth/tf-validate"`, `action="/login"`},
		{"?tf=1&error=code", "That code is not valid. Try again.", `action="/login"`},
		{"?tf=1&error=throttled", commonErrors["throttled"], `action="/login"`},
		{"?tf=1&recovery=1&error=code", `action="/auth/mf-recovery"`, `action="/auth/tf-validate"`},
		{"?tf=1&error=invalid", "This sign-in has expired or is not valid. Log in again.", `action="/auth/tf-validate"`},
		{"?tf=1&error=invalid", `action="/login"`, "Invalid email or password."},
		{"?error=1", "Invalid email or password.", `action="/auth/tf-validate"`},
		{"?recovery=1", `action="/login"`, `action="/auth/mf-recovery"`},
	} {
		page := showPage(t, base+"/login"+tt.query, "", tt.want)
		if strings.Contains(page, tt.notWant) {
			t.Errorf("/login%s shows %q:\n%s", tt.query, tt.notWant, page)
		}
	}
}

// TestTwoFactorReauth: with a login older than the freshness changes
// need, the section still shows the state, and its buttons send the
// browser to the login form; nothing changes.
func TestTwoFactorReauth(t *testing.T) {
	base, store := newTwoFactorApp(t, time.Nanosecond)
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, `id="tf-off"`, `action="/account/2fa/setup"`)
	csrf := csrfTokenIn(t, page)
	for _, action := range []string{"/account/2fa/setup", "/account/2fa/recovery-codes", "/account/2fa/disable"} {
		resp, _ := postPage(t, base, action, url.Values{"csrf_token": {csrf}}, cookie, "")
		wantRedirect(t, action, resp, "/login?next=%2Faccount&reauth=1")
	}
	if _, err := store.TwoFactor(context.Background(), "1"); err == nil {
		t.Error("a stale login set a second factor up")
	}
}

// TestTwoFactorOff: over a Flask-Security database, which keeps no second
// factors, the account page has no two-factor section, its buttons change
// nothing, and a login needs no code.
func TestTwoFactorOff(t *testing.T) {
	base, _ := newFlaskApp(t)
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, "Logged in as")
	if strings.Contains(page, "Two-factor") || strings.Contains(page, "/account/2fa/") {
		t.Errorf("the account page without second factors has a two-factor section:\n%s", page)
	}
	resp, _ := postPage(t, base, "/account/2fa/setup", url.Values{"csrf_token": {csrfTokenIn(t, page)}}, cookie, "")
	wantRedirect(t, "setup", resp, "/account?error=unavailable")
}

// TestTwoFactorJSON: the server of -schema native has second factors on,
// with QR codes: a JSON client sets one up with a login token, and a login
// then answers tf_required and a state token, which POST
// /auth/tf-validate with a code turns into a token (docs/example-server.md).
func TestTwoFactorJSON(t *testing.T) {
	base, _ := startServer(t, map[string]string{"AUTH_SECRET": "example server test secret, 32 b", "AUTH_BCRYPT_COST": "4"},
		"-db", filepath.Join(t.TempDir(), "auth.db"))
	call := func(path, token string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authentication-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v struct {
			Response map[string]any `json:"response"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &v) != nil {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
		return v.Response
	}
	tok := loginToken(t, base, "test@example.com", "test123")
	setup := call("/auth/tf-setup", tok, map[string]string{"setup": "authenticator"})
	if qr, _ := setup["tf_authr_qrcode"].(string); !strings.HasPrefix(qr, "data:image/png;base64,") || setup["tf_authr_issuer"] != exampleIssuer {
		t.Fatalf("setup: %v", setup)
	}
	key, err := totp.DecodeKey(setup["tf_authr_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	call("/auth/tf-setup/"+setup["tf_state_token"].(string), tok, map[string]string{"code": codeAt(t, key, time.Now())})

	login := call("/login", "", map[string]string{"email": "test@example.com", "password": "test123"})
	state, _ := login["tf_state_token"].(string)
	if login["tf_required"] != true || state == "" || login["user"] != nil {
		t.Fatalf("login with a second factor: %v", login)
	}
	done := call("/auth/tf-validate", "", map[string]string{"code": codeAt(t, key, time.Now().Add(30*time.Second)), "tf_state_token": state})
	b, _ := json.Marshal(map[string]any{"response": done})
	newTok, err := findToken(b)
	if err != nil || newTok == "" {
		t.Fatalf("tf-validate: %v (%v)", done, err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/protected", nil)
	req.Header.Set("Authentication-Token", newTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /protected with the token of the code: %d", resp.StatusCode)
	}
}
