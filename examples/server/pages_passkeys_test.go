package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// newPasskeyApp is newTwoFactorApp with passkeys on as -schema native has
// them for the site http://localhost:8080 (the pages are fetched at
// 127.0.0.1, which no ceremony here verifies; TestBrowserPasskey does),
// and the freshness given (0: the library's hour).
func newPasskeyApp(t *testing.T, freshness time.Duration) (string, *auth.MemoryStore) {
	t.Helper()
	rp, err := nativePasskeys("http://localhost:8080", slog.New(slog.DiscardHandler))
	if err != nil || rp == nil {
		t.Fatalf("nativePasskeys: %v, %v", rp, err)
	}
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), auth.Config{
		Logger: slog.New(slog.DiscardHandler), Freshness: freshness,
		Token: auth.TokenConfig{MaxAge: time.Hour, Scopes: demoScopes()}, Refresh: nativeRefresh(), TwoFactor: nativeTwoFactor(),
		Passkeys: rp,
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

// addPasskey stores a passkey of test@example.com (ID "1") as a
// registration would.
func addPasskey(t *testing.T, store *auth.MemoryStore, name, usage string, signCount uint32, lastUsed time.Time) *auth.Passkey {
	t.Helper()
	p := &auth.Passkey{
		ID: []byte("credential " + name), UserID: "1", UserHandle: bytes.Repeat([]byte{7}, 64), Name: name, Usage: usage,
		PublicKey: []byte{0xa5}, SignCount: signCount, Transports: []string{"internal"}, AAGUID: make([]byte, 16),
		UserVerified: true, Discoverable: usage == "first",
		CreatedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), LastUsedAt: lastUsed,
	}
	if err := store.AddPasskey(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// callJSON posts body as JSON to path as the pages' script does: with the
// browser's cookies, its Origin (unless origin is set) and, if csrf is
// not "", the session's CSRF token in X-CSRF-Token. It returns the status
// and the envelope's response.
func callJSON(t *testing.T, base, path, cookie, csrf, origin string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	return callAPI(t, base, path, cookie, csrf, origin, "application/json", bytes.NewReader(b))
}

func callAPI(t *testing.T, base, path, cookie, csrf, origin, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	if origin == "" {
		origin = base
	}
	req, _ := http.NewRequest(http.MethodPost, base+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", origin)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if csrf != "" {
		req.Header.Set(auth.CSRFHeader, csrf)
	}
	resp, err := noRedirect(base).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Response map[string]any `json:"response"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, v.Response
}

// TestNativePasskeys: the relying party follows the site's origin; a
// site addressed by an IP gets none, and the log says which -base-url
// turns passkeys on.
func TestNativePasskeys(t *testing.T) {
	for _, tt := range []struct {
		base       string
		on         bool
		rpID, want string // want: in the log
	}{
		{base: "http://127.0.0.1:8080", want: "-base-url http://localhost:8080 and open http://localhost:8080"},
		{base: "http://[::1]:8080", want: "-base-url http://localhost:8080"},
		{base: "http://10.1.2.3:8080", want: "https:// origin"},
		{base: "http://localhost:8080", on: true, rpID: "localhost", want: "origin=http://localhost:8080"},
		{base: "https://Auth.Example.com:443", on: true, rpID: "auth.example.com", want: "origin=https://auth.example.com\n"},
		{base: "https://example.com", on: true, rpID: "example.com", want: "origin=https://example.com"},
	} {
		t.Run(tt.base, func(t *testing.T) {
			var logs bytes.Buffer
			rp, err := nativePasskeys(tt.base, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if (rp != nil) != tt.on || !strings.Contains(logs.String(), tt.want) {
				t.Fatalf("on %v, log %q; want on %v, %q", rp != nil, logs.String(), tt.on, tt.want)
			}
			if !tt.on {
				if !strings.Contains(logs.String(), "passkeys are off") {
					t.Errorf("log %q does not say passkeys are off", logs.String())
				}
				return
			}
			options, _, err := rp.BeginRegistration([]byte("handle"), "test@example.com", nil, true)
			if err != nil {
				t.Fatal(err)
			}
			var o struct {
				RP struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"rp"`
			}
			if err := json.Unmarshal(options, &o); err != nil || o.RP.ID != tt.rpID || o.RP.Name != exampleIssuer {
				t.Errorf("rp %+v (%v), want ID %q named %q", o.RP, err, tt.rpID, exampleIssuer)
			}
		})
	}
}

// TestRunPasskeys: the server of -schema native turns passkeys on for a
// -base-url of a domain name and off for the default address, saying so;
// over a Flask-Security database they stay off (TestPasskeysOff).
func TestRunPasskeys(t *testing.T) {
	env := map[string]string{"AUTH_SECRET": "example server test secret, 32 b", "AUTH_BCRYPT_COST": "4"}
	base, logs := startServer(t, env, "-db", t.TempDir()+"/auth.db")
	if !strings.Contains(logs.String(), "passkeys are off") {
		t.Errorf("the log of a server at %s does not say passkeys are off:\n%s", base, logs)
	}
	if page := showPage(t, base+"/login", ""); strings.Contains(page, "passkey") {
		t.Errorf("the login page of a server without passkeys offers one:\n%s", page)
	}
	_, logs = startServer(t, env, "-db", t.TempDir()+"/auth.db", "-base-url", "http://localhost:8080")
	if !strings.Contains(logs.String(), "passkeys are on") || !strings.Contains(logs.String(), "rp_id=localhost") {
		t.Errorf("the log of a server at localhost does not say passkeys are on:\n%s", logs)
	}
}

// TestAccountPasskeys: the account page lists the user's passkeys, their
// use, creation, last use and sign count, with the form that adds one
// (shown by its script) and a Delete button for each, which deletes that
// passkey once, after the CSRF check.
func TestAccountPasskeys(t *testing.T) {
	base, store := newPasskeyApp(t, 0)
	cookie := browserLogin(t, base)
	resp, page := get(t, base+"/account", browserAccept, cookie)
	for _, w := range []string{`<h2 id="passkeys-heading">Passkeys</h2>`, `<p id="no-passkeys">You have no passkey.</p>`,
		`<script src="/static/passkey.js" defer></script>`, `<form class="passkey" id="new-passkey"`, `data-reauth="/login?next=%2Faccount&amp;reauth=1"`,
		`<label for="passkey-name">Passkey name</label>`, `value="first" checked`, `value="secondary"`, `id="passkey-note"`} {
		if !strings.Contains(page, w) {
			t.Errorf("the account page lacks %q:\n%s", w, page)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the account page's CSP %q does not let its script run, or lets inline ones", csp)
	}
	if strings.Contains(page, "<script>") {
		t.Error("the account page has an inline script")
	}

	used := time.Date(2026, 4, 2, 14, 5, 0, 0, time.UTC)
	addPasskey(t, store, "laptop", "first", 7, used)
	addPasskey(t, store, `key <b>"2"</b>`, "secondary", 0, time.Time{})
	page = showPage(t, base+"/account", cookie,
		`<strong class="passkey-name">laptop</strong>`, `<span class="hint passkey-usage">Signs in alone</span>`,
		`last used <span class="passkey-last-use"><time datetime="2026-04-02T14:05:00Z">2 Apr 2026 14:05 UTC</time></span>, sign count <span class="passkey-sign-count">7</span>`,
		`created <time datetime="2026-03-01T09:30:00Z">1 Mar 2026</time>`,
		`<strong class="passkey-name">key &lt;b&gt;&#34;2&#34;&lt;/b&gt;</strong>`, `<span class="hint passkey-usage">Second factor</span>`,
		`last used <span class="passkey-last-use">never</span>, sign count <span class="passkey-sign-count">0</span>`,
		`<input type="hidden" name="name" value="laptop">`)
	if strings.Contains(page, "no-passkeys") {
		t.Error("the page lists passkeys and says there are none")
	}

	csrf := csrfTokenIn(t, page)
	del := func(name, token string) *http.Response {
		return pagePost(t, base, "/account", "/account/passkeys/delete", url.Values{"csrf_token": {token}, "name": {name}}, cookie)
	}
	wantRedirect(t, "a delete without the CSRF token", del("laptop", ""), "/account?error=csrf")
	wantRedirect(t, "a delete", del("laptop", csrf), "/account?status=passkey-deleted")
	wantRedirect(t, "the same delete again", del("laptop", csrf), "/account?error=no-passkey")
	wantRedirect(t, "a delete without a name", del("", csrf), "/account?error=no-passkey")
	showPage(t, base+"/account?status=passkey-deleted", cookie, "The passkey has been deleted: it no longer signs in.", `key &lt;b&gt;`)
	showPage(t, base+"/account?error=no-passkey", cookie, "That passkey had been deleted already.")
	showPage(t, base+"/account?status=passkey-added", cookie, "The passkey has been added.")
	list, err := store.Passkeys(context.Background(), "1")
	if err != nil || len(list) != 1 || list[0].Name != `key <b>"2"</b>` {
		t.Fatalf("after the delete the store holds %v (%v)", list, err)
	}
}

// TestPasskeyRegisterJSON: the account page's script begins a
// registration through the account handler's JSON with the session cookie
// and the page's CSRF token; without the token, or from another origin,
// it is refused, and a stale login answers reauth_required, as deleting
// does.
func TestPasskeyRegisterJSON(t *testing.T) {
	base, _ := newPasskeyApp(t, 0)
	cookie := browserLogin(t, base)
	csrf := csrfTokenIn(t, showPage(t, base+"/account", cookie))
	body := map[string]string{"name": "phone", "usage": "first"}

	if code, _ := callJSON(t, base, "/auth/wan-register", cookie, "", "", body); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", code)
	}
	if code, _ := callJSON(t, base, "/auth/wan-register", cookie, csrf, "http://evil.example", body); code != http.StatusForbidden {
		t.Errorf("from another origin: %d, want 403", code)
	}
	code, v := callJSON(t, base, "/auth/wan-register", cookie, csrf, "", body)
	opts, _ := v["credential_options"].(map[string]any)
	rp, _ := opts["rp"].(map[string]any)
	sel, _ := opts["authenticatorSelection"].(map[string]any)
	if code != http.StatusOK || v["wan_state"] == "" || rp["id"] != "localhost" || opts["challenge"] == "" || sel["residentKey"] != "required" {
		t.Fatalf("begin: %d %v", code, v)
	}
	state, _ := v["wan_state"].(string)
	code, v = callJSON(t, base, "/auth/wan-register/"+state, cookie, csrf, "", map[string]string{"credential": "{}"})
	if fe, _ := v["field_errors"].(map[string]any); code != http.StatusBadRequest || fe["credential"] == nil {
		t.Errorf("finish with no credential: %d %v", code, v)
	}

	stale, store := newPasskeyApp(t, time.Nanosecond)
	addPasskey(t, store, "laptop", "first", 0, time.Time{})
	cookie = browserLogin(t, stale)
	csrf = csrfTokenIn(t, showPage(t, stale+"/account", cookie))
	if code, v := callJSON(t, stale, "/auth/wan-register", cookie, csrf, "", body); code != http.StatusUnauthorized || v["reauth_required"] != true {
		t.Errorf("a stale login: %d %v, want 401 reauth_required", code, v)
	}
	resp := pagePost(t, stale, "/account", "/account/passkeys/delete", url.Values{"csrf_token": {csrf}, "name": {"laptop"}}, cookie)
	wantRedirect(t, "a delete with a stale login", resp, "/login?next=%2Faccount&reauth=1")
	if list, _ := store.Passkeys(context.Background(), "1"); len(list) != 1 {
		t.Errorf("a stale login deleted a passkey: %v", list)
	}
}

// TestPasskeyLoginPage: the login page offers a passkey, with its script
// and no inline one; the second step offers the user's passkey when
// tf_methods names one, the code form when it names the app (or nothing),
// and its links keep tf_methods; refused passkeys come back with their
// texts.
func TestPasskeyLoginPage(t *testing.T) {
	base, _ := newPasskeyApp(t, 0)
	resp, page := get(t, base+"/login?next=%2Faccount", browserAccept, "")
	for _, w := range []string{`<script src="/static/passkey.js" defer></script>`, `<form class="passkey" method="post" action="/auth/wan-signin" data-step="first"`,
		`<button type="submit" id="passkey-signin" class="secondary">Sign in with a passkey</button>`, `name="credential"`, `name="next" value="/account"`, `action="/login"`} {
		if !strings.Contains(page, w) {
			t.Errorf("the login page lacks %q:\n%s", w, page)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(page, "<script>") {
		t.Errorf("the login page's CSP %q, or an inline script", csp)
	}
	for _, tt := range []struct {
		query         string
		want, notWant []string
	}{
		{"?tf=1", []string{`action="/auth/tf-validate"`}, []string{`id="passkey-second"`, "passkey.js", "tf_methods"}},
		{"?tf=1&tf_methods=authenticator", []string{`action="/auth/tf-validate"`, `tf=1&amp;tf_methods=authenticator"`}, []string{`id="passkey-second"`}},
		{"?tf=1&tf_methods=webauthn", []string{`id="passkey-second"`, `data-step="second"`, "Use your passkey", "passkey.js", `id="passkey-note"`},
			[]string{`action="/auth/tf-validate"`, `action="/auth/mf-recovery"`, `action="/login"`, "use-recovery"}},
		{"?tf=1&tf_methods=authenticator%2Cwebauthn", []string{`id="passkey-second"`, `action="/auth/tf-validate"`, `tf=1&amp;tf_methods=authenticator%2cwebauthn"`},
			[]string{`id="passkey-note"`, `action="/login"`}},
		{"?tf=1&tf_methods=authenticator,webauthn&recovery=1", []string{`id="passkey-second"`, `action="/auth/mf-recovery"`}, []string{`action="/auth/tf-validate"`}},
		{"?tf=1&tf_methods=webauthn&error=credential", []string{"That passkey could not be verified. Try again.", `id="passkey-second"`}, []string{"Invalid email or password."}},
		{"?tf=1&tf_methods=webauthn&error=invalid", []string{"This sign-in has expired or is not valid. Log in again.", `action="/login"`}, []string{`id="passkey-second"`}},
		{"?tf=1&tf_methods=bogus", []string{`action="/auth/tf-validate"`}, []string{`id="passkey-second"`}},
		{"?error=credential", []string{"That passkey could not be verified. Try again, or log in with your password.", `id="passkey-signin"`},
			[]string{"Invalid email or password."}},
		{"?error=invalid", []string{"This passkey sign-in has expired or is not valid. Try again."}, []string{"Invalid email or password."}},
		{"?error=1", []string{"Invalid email or password."}, []string{"passkey could not"}},
	} {
		page := showPage(t, base+"/login"+tt.query, "", tt.want...)
		for _, nw := range tt.notWant {
			if strings.Contains(page, nw) {
				t.Errorf("/login%s shows %q:\n%s", tt.query, nw, page)
			}
		}
	}
}

// TestPasskeySignInBegin: the login page's script begins a passwordless
// sign-in with JSON, which names no user even when the password step's
// cookie comes along; the second step's url-encoded begin uses that
// cookie, for the user's passkeys. A sign-in the server refuses sends the
// form back to the login page with its error.
func TestPasskeySignInBegin(t *testing.T) {
	base, store := newPasskeyApp(t, 0)
	code, v := callJSON(t, base, "/auth/wan-signin", "", "", "", map[string]string{})
	opts, _ := v["credential_options"].(map[string]any)
	if code != http.StatusOK || v["is_secondary"] != false || opts["rpId"] != "localhost" || opts["allowCredentials"] != nil || opts["userVerification"] != "required" {
		t.Fatalf("passwordless begin: %d %v", code, v)
	}
	state, _ := v["wan_state"].(string)

	// The password of a user with a passkey that is a second factor leads
	// to the second step, which offers it.
	p := addPasskey(t, store, "key", "secondary", 0, time.Time{})
	resp := formPost(t, base+"/login", url.Values{"email": {"test@example.com"}, "password": {"test123"}, "next": {"/account"}}, "")
	wantRedirect(t, "the password of a user with a passkey", resp, "/login?next=%2Faccount&tf=1&tf_methods=webauthn")
	tf := cookieHeader(resp)
	showPage(t, base+resp.Header.Get("Location"), tf, `id="passkey-second"`)

	if _, v := callJSON(t, base, "/auth/wan-signin", tf, "", "", map[string]string{}); v["is_secondary"] != false {
		t.Errorf("a JSON begin with the password step's cookie: %v, want a passwordless one", v)
	}
	code, v = callAPI(t, base, "/auth/wan-signin", tf, "", "", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf_token": {"x"}}.Encode()))
	opts, _ = v["credential_options"].(map[string]any)
	allow, _ := opts["allowCredentials"].([]any)
	if code != http.StatusOK || v["is_secondary"] != true || len(allow) != 1 || allow[0].(map[string]any)["id"] != base64.RawURLEncoding.EncodeToString(p.ID) {
		t.Fatalf("second-factor begin: %d %v", code, v)
	}
	if code, _ := callAPI(t, base, "/auth/wan-signin", "", "", "", "application/x-www-form-urlencoded", strings.NewReader("")); code != http.StatusOK {
		t.Errorf("a form begin without the cookie: %d, want a passwordless one", code)
	}
	if code, _ := callJSON(t, base, "/auth/wan-signin", "", "", "http://evil.example", map[string]string{}); code != http.StatusOK {
		t.Errorf("a JSON begin from another origin: %d (JSON cannot be sent cross-origin without CORS)", code)
	}
	resp, _ = postPage(t, base, "/auth/wan-signin", url.Values{}, tf, "http://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a form begin from another origin: %d, want 403", resp.StatusCode)
	}

	// The form's finish, refused: back to the page with the reason.
	page := "/login?next=%2Faccount"
	wantRedirect(t, "a credential that is not one", pagePost(t, base, page, "/auth/wan-signin/"+state, url.Values{"next": {"/account"}, "credential": {"{}"}}, ""),
		"/login?error=credential&next=%2Faccount")
	wantRedirect(t, "a state that is not one", pagePost(t, base, page, "/auth/wan-signin/x"+state, url.Values{"next": {"/account"}, "credential": {"{}"}}, ""),
		"/login?error=invalid&next=%2Faccount")
}

// TestPasskeysOff: over a Flask-Security database, which keeps no
// passkeys, the pages offer none and the Delete route changes nothing.
func TestPasskeysOff(t *testing.T) {
	base, _ := newFlaskApp(t)
	cookie := browserLogin(t, base)
	page := showPage(t, base+"/account", cookie, "Logged in as")
	if strings.Contains(page, "Passkeys") || strings.Contains(page, "passkey.js") {
		t.Errorf("the account page without passkeys has a passkey section:\n%s", page)
	}
	resp, _ := postPage(t, base, "/account/passkeys/delete", url.Values{"csrf_token": {csrfTokenIn(t, page)}, "name": {"laptop"}}, cookie, "")
	wantRedirect(t, "delete", resp, "/account?error=unavailable")
	if page := showPage(t, base+"/login", ""); strings.Contains(page, "passkey") {
		t.Errorf("the login page without passkeys offers one:\n%s", page)
	}
	if page := showPage(t, base+"/login?tf=1&tf_methods=webauthn", ""); strings.Contains(page, "passkey-second") {
		t.Errorf("the second step without passkeys offers one:\n%s", page)
	}
}
