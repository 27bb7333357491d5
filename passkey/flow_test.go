package passkey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/passkey"
	"github.com/authkit/auth/totp"
)

const (
	origin = "https://app.example"
	rpID   = "app.example"
)

// fixture is a Manager with passkeys over a MemoryStore holding alice and
// bob (password "correct horse"), and its handlers.
type fixture struct {
	rp      *passkey.RelyingParty
	m       *auth.Manager
	store   *auth.MemoryStore
	account http.Handler
	login   http.Handler
}

func newFixture(t testing.TB, change func(*auth.Config)) *fixture {
	t.Helper()
	rp, err := passkey.New(passkey.Config{RPID: rpID, RPName: "Example", Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	store := auth.NewMemoryStore()
	cfg := auth.Config{
		Passkeys: rp,
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Logger:   discard(), AuditLogger: discard(),
	}
	if change != nil {
		change(&cfg)
	}
	m, err := auth.New(store, fixtureKey, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		h, err := m.HashPassword("correct horse")
		if err != nil {
			t.Fatal(err)
		}
		u := &auth.User{ID: strings.Split(email, "@")[0], Email: email, PasswordHash: h, Active: true, Uniquifier: auth.NewUniquifier()}
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{rp: rp, m: m, store: store, account: m.AccountHandler(), login: m.LoginHandler()}
}

// fixtureKey is the fixtures' signing key.
var fixtureKey = bytes.Repeat([]byte("k"), 32)

// manager returns another Manager over f's store, key and relying party.
func (f *fixture) manager(t testing.TB, change func(*auth.Config)) *auth.Manager {
	t.Helper()
	cfg := auth.Config{Passkeys: f.rp, Logger: discard(), AuditLogger: discard()}
	if change != nil {
		change(&cfg)
	}
	m, err := auth.New(f.store, fixtureKey, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// post posts body as JSON to h, with the token if not "", and returns the
// status and the envelope's response.
func post(t testing.TB, h http.Handler, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authentication-Token", token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("POST %s: %d %q", path, rec.Code, rec.Body)
	}
	return rec.Code, env.Response
}

// get sends GET path to h with the token.
func get(t testing.TB, h http.Handler, path, token string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authentication-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("GET %s: %d %q", path, rec.Code, rec.Body)
	}
	return rec.Code, env.Response
}

// passwordLogin logs email in with the password and returns the answer.
func (f *fixture) passwordLogin(t testing.TB, email string) (int, map[string]any) {
	t.Helper()
	return post(t, f.login, "/login", "", map[string]string{"email": email, "password": "correct horse"})
}

// token logs email in with the password and returns its token.
func (f *fixture) token(t testing.TB, email string) string {
	t.Helper()
	code, resp := f.passwordLogin(t, email)
	user, _ := resp["user"].(map[string]any)
	tok, _ := user["authentication_token"].(string)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("login of %s: %d %v", email, code, resp)
	}
	return tok
}

func optionsOf(t testing.TB, resp map[string]any) (json.RawMessage, string) {
	t.Helper()
	o, _ := json.Marshal(resp["credential_options"])
	state, _ := resp["wan_state"].(string)
	if state == "" || len(o) < 10 {
		t.Fatalf("no options and state in %v", resp)
	}
	return o, state
}

// register registers a's credential for the user whose token is tok.
func (f *fixture) register(t testing.TB, tok string, a *authenticator, name, usage string) (int, map[string]any) {
	t.Helper()
	code, resp := post(t, f.account, "/wan-register", tok, map[string]string{"name": name, "usage": usage})
	if code != http.StatusOK {
		t.Fatalf("POST /wan-register: %d %v", code, resp)
	}
	o, state := optionsOf(t, resp)
	return post(t, f.account, "/wan-register/"+state, tok, map[string]string{"credential": a.create(t, o)})
}

func (f *fixture) mustRegister(t testing.TB, tok string, a *authenticator, name, usage string) {
	t.Helper()
	if code, resp := f.register(t, tok, a, name, usage); code != http.StatusOK {
		t.Fatalf("registration of %q: %d %v", name, code, resp)
	}
}

// beginSignIn begins a sign-in, the second step of a password login if
// tfState is not "", and returns the options and the state.
func (f *fixture) beginSignIn(t testing.TB, tfState string) (json.RawMessage, string) {
	t.Helper()
	body := map[string]string{}
	if tfState != "" {
		body["tf_state_token"] = tfState
	}
	code, resp := post(t, f.account, "/wan-signin", "", body)
	if code != http.StatusOK {
		t.Fatalf("POST /wan-signin: %d %v", code, resp)
	}
	if got := resp["is_secondary"]; got != (tfState != "") {
		t.Errorf("is_secondary = %v", got)
	}
	return optionsOf(t, resp)
}

// signIn signs in with a, as the second step if tfState is not "".
func (f *fixture) signIn(t testing.TB, a *authenticator, tfState string) (int, map[string]any) {
	t.Helper()
	o, state := f.beginSignIn(t, tfState)
	return post(t, f.account, "/wan-signin/"+state, "", map[string]string{"credential": a.get(t, o)})
}

// signInToken signs in with a (see signIn) and returns the login token,
// failing t without one.
func (f *fixture) signInToken(t testing.TB, a *authenticator, tfState string) string {
	t.Helper()
	code, resp := f.signIn(t, a, tfState)
	return tokenOfAnswer(t, code, resp)
}

// signInWith logs the owner of a's secondary passkey in: password, then
// the passkey.
func (f *fixture) signInWith(t testing.TB, a *authenticator) string {
	t.Helper()
	_, resp := f.passwordLogin(t, "alice@example.com")
	tfState, _ := resp["tf_state_token"].(string)
	return f.signInToken(t, a, tfState)
}

// tokenOfAnswer returns the login token of a login's answer.
func tokenOfAnswer(t testing.TB, code int, resp map[string]any) string {
	t.Helper()
	user, _ := resp["user"].(map[string]any)
	tok, _ := user["authentication_token"].(string)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("no login: %d %v", code, resp)
	}
	return tok
}

// fieldError returns the first error of the field in an answer.
func fieldError(resp map[string]any, field string) string {
	fe, _ := resp["field_errors"].(map[string]any)
	list, _ := fe[field].([]any)
	if len(list) == 0 {
		return ""
	}
	s, _ := list[0].(string)
	return s
}

func TestPasswordlessSignIn(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	a.transports = []string{"hybrid", "in ternal", "internal", "hybrid", strings.Repeat("x", 300)}
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "laptop", "first")

	tok := f.signInToken(t, a, "")
	u, err := f.m.VerifyToken(context.Background(), tok)
	if err != nil || u.ID != "alice" {
		t.Fatalf("the passkey's token: %v, %v", u, err)
	}
	// The password still logs in: a passkey of usage "first" is no
	// second factor.
	f.token(t, "alice@example.com")

	// Listed, with its use.
	code, resp := get(t, f.account, "/wan-register", tok)
	list, _ := resp["registered_credentials"].([]any)
	if code != http.StatusOK || len(list) != 1 {
		t.Fatalf("GET /wan-register: %d %v", code, resp)
	}
	c := list[0].(map[string]any)
	if c["name"] != "laptop" || c["usage"] != "first" || c["discoverable"] != true || c["lastuse"] == nil ||
		c["sign_count"] != float64(1) || c["device_type"] != "single_device" || c["credential_id"] != b64.EncodeToString(a.id) ||
		fmt.Sprint(c["transports"]) != "[hybrid internal]" {
		t.Errorf("listed: %v", c)
	}
	// A second sign-in, right away.
	f.signInToken(t, a, "")
}

func TestSecondFactorPasskey(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	a.rk, a.uv = false, false // a security key, no PIN
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "yubikey", "secondary")

	code, resp := f.passwordLogin(t, "alice@example.com")
	if code != http.StatusOK || resp["tf_required"] != true || resp["tf_method"] != "webauthn" || resp["user"] != nil {
		t.Fatalf("password login with a secondary passkey: %d %v", code, resp)
	}
	if m, _ := resp["tf_methods"].([]any); len(m) != 1 || m[0] != "webauthn" {
		t.Errorf("tf_methods = %v", resp["tf_methods"])
	}
	tfState := resp["tf_state_token"].(string)
	o, _ := f.beginSignIn(t, tfState)
	var opts struct {
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
		UV string `json:"userVerification"`
	}
	_ = json.Unmarshal(o, &opts)
	if len(opts.Allow) != 1 || opts.Allow[0].ID != b64.EncodeToString(a.id) || opts.UV != "preferred" {
		t.Errorf("second-factor options: %s", o)
	}
	tok := f.signInToken(t, a, tfState)
	if u, err := f.m.VerifyToken(context.Background(), tok); err != nil || u.ID != "alice" {
		t.Fatalf("token: %v %v", u, err)
	}

	// It cannot sign in alone.
	code, resp = f.signIn(t, a, "")
	if code != http.StatusBadRequest || fieldError(resp, "credential") == "" {
		t.Errorf("a secondary passkey alone: %d %v", code, resp)
	}
	// Nor does the password alone, over Basic.
	h := f.m.Require(auth.Basic)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth("alice@example.com", "correct horse")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("Basic with a secondary passkey: %d", rec.Code)
	}
}

func TestSecondFactorOtherUsersPasskey(t *testing.T) {
	f := newFixture(t, nil)
	alice, bob := newAuthenticator(t, origin, rpID), newAuthenticator(t, origin, rpID)
	f.mustRegister(t, f.token(t, "alice@example.com"), alice, "key", "secondary")
	f.mustRegister(t, f.token(t, "bob@example.com"), bob, "key", "secondary")
	_, resp := f.passwordLogin(t, "alice@example.com")
	code, resp := f.signIn(t, bob, resp["tf_state_token"].(string))
	if code != http.StatusBadRequest || fieldError(resp, "credential") == "" {
		t.Errorf("bob's passkey for alice's login: %d %v", code, resp)
	}
}

func TestSignInRefusals(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(a *authenticator)
	}{
		{"wrong origin", func(a *authenticator) { a.origin = "https://evil.example" }},
		{"wrong RP ID", func(a *authenticator) { a.rpID = "evil.example" }},
		{"bad signature", func(a *authenticator) { a.badSign = true }},
		{"no user verification", func(a *authenticator) { a.uv = false }},
		{"counter went back", func(a *authenticator) { a.count, a.step = 0, 0 }},
		{"unknown credential", func(a *authenticator) { a.id = []byte("another credential") }},
		{"other user handle", func(a *authenticator) { a.handle = []byte("someone else") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			a := newAuthenticator(t, origin, rpID)
			f.mustRegister(t, f.token(t, "alice@example.com"), a, "laptop", "first")
			f.signInToken(t, a, "") // count 1
			c.break_(a)
			code, resp := f.signIn(t, a, "")
			if code != http.StatusBadRequest || fieldError(resp, "credential") != "The passkey could not be verified." {
				t.Errorf("%d %v", code, resp)
			}
		})
	}
}

func TestSignInOnce(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	a.step = 0 // a synced passkey: its counter stays 0
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "phone", "first")
	o, state := f.beginSignIn(t, "")
	cred := a.get(t, o)
	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := post(t, f.account, "/wan-signin/"+state, "", map[string]string{"credential": cred})
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] != 1 || codes[http.StatusBadRequest] != n-1 {
		t.Errorf("one assertion sent %d times: %v", n, codes)
	}
	// And replayed later.
	code, resp := post(t, f.account, "/wan-signin/"+state, "", map[string]string{"credential": cred})
	if code != http.StatusBadRequest || !strings.Contains(fieldError(resp, "credential"), "another sign-in") {
		t.Errorf("replayed: %d %v", code, resp)
	}
}

func TestRegistrationRules(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t, "alice@example.com")
	a := newAuthenticator(t, origin, rpID)
	f.mustRegister(t, tok, a, "laptop", "")
	for _, c := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"name": ""}, "name"},
		{map[string]string{"name": "laptop"}, "name"},
		{map[string]string{"name": strings.Repeat("x", 65)}, "name"},
		{map[string]string{"name": "tab\tname"}, "name"},
		{map[string]string{"name": "phone", "usage": "third"}, "usage"},
	} {
		code, resp := post(t, f.account, "/wan-register", tok, c.body)
		if code != http.StatusBadRequest || fieldError(resp, c.field) == "" {
			t.Errorf("%v: %d %v", c.body, code, resp)
		}
	}
	// The same authenticator again: excluded in the options, refused if
	// it answers anyway.
	code, resp := post(t, f.account, "/wan-register", tok, map[string]string{"name": "again"})
	o, state := optionsOf(t, resp)
	if code != http.StatusOK || !strings.Contains(string(o), b64.EncodeToString(a.id)) {
		t.Errorf("excludeCredentials: %s", o)
	}
	code, resp = post(t, f.account, "/wan-register/"+state, tok, map[string]string{"credential": a.create(t, o)})
	if code != http.StatusBadRequest || fieldError(resp, "credential") != "This passkey is already registered." {
		t.Errorf("registered twice: %d %v", code, resp)
	}
	// Another user's state.
	bob := f.token(t, "bob@example.com")
	_, resp = post(t, f.account, "/wan-register", tok, map[string]string{"name": "tablet"})
	o, state = optionsOf(t, resp)
	code, resp = post(t, f.account, "/wan-register/"+state, bob, map[string]string{"credential": newAuthenticator(t, origin, rpID).create(t, o)})
	if code != http.StatusBadRequest {
		t.Errorf("alice's registration state with bob's token: %d %v", code, resp)
	}
	// A wrong origin.
	evil := newAuthenticator(t, "https://evil.example", rpID)
	if code, resp := f.register(t, tok, evil, "evil", "first"); code != http.StatusBadRequest || fieldError(resp, "credential") == "" {
		t.Errorf("registration from another origin: %d %v", code, resp)
	}
	// Without user verification, a passwordless passkey is refused.
	nouv := newAuthenticator(t, origin, rpID)
	nouv.uv = false
	if code, resp := f.register(t, tok, nouv, "nouv", "first"); code != http.StatusBadRequest {
		t.Errorf("a passwordless passkey without user verification: %d %v", code, resp)
	}
	if code, _ := f.register(t, tok, nouv, "nouv", "secondary"); code != http.StatusOK {
		t.Errorf("a secondary one without: %d", code)
	}
}

func TestDeletePasskey(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t, "alice@example.com")
	a := newAuthenticator(t, origin, rpID)
	f.mustRegister(t, tok, a, "laptop", "first")
	if code, resp := post(t, f.account, "/wan-delete", tok, map[string]string{"name": "phone"}); code != http.StatusBadRequest || fieldError(resp, "name") == "" {
		t.Errorf("deleting an unknown name: %d %v", code, resp)
	}
	bob := f.token(t, "bob@example.com")
	if code, _ := post(t, f.account, "/wan-delete", bob, map[string]string{"name": "laptop"}); code != http.StatusBadRequest {
		t.Errorf("bob deleting alice's passkey: %d", code)
	}
	if code, resp := post(t, f.account, "/wan-delete", tok, map[string]string{"name": "laptop"}); code != http.StatusOK {
		t.Fatalf("delete: %d %v", code, resp)
	}
	if code, _ := f.signIn(t, a, ""); code != http.StatusBadRequest {
		t.Errorf("a deleted passkey signed in: %d", code)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "laptop", "first")
	_, state := f.beginSignIn(t, "")
	for _, c := range []struct {
		path string
		cred string
	}{
		{"/wan-signin/" + state, ""},
		{"/wan-signin/" + state, "{"},
		{"/wan-signin/" + state, `{"id":"AA","rawId":"AA","type":"public-key","response":{}}`},
		{"/wan-signin/" + state, strings.Repeat("[", 5000)},
		{"/wan-signin/not-a-state", "{}"},
		{"/wan-signin/" + state[:len(state)-2], "{}"},
	} {
		code, resp := post(t, f.account, c.path, "", map[string]string{"credential": c.cred})
		if code != http.StatusBadRequest {
			t.Errorf("%s %.40q: %d %v", c.path, c.cred, code, resp)
		}
	}
	if code, _ := post(t, f.account, "/wan-signin", "", map[string]string{"tf_state_token": "forged"}); code != http.StatusBadRequest {
		t.Errorf("a forged tf_state_token: %d", code)
	}
	if code, _ := post(t, f.account, "/wan-register", "", map[string]string{"name": "x"}); code != http.StatusUnauthorized {
		t.Errorf("registration without a login: %d", code)
	}
}

func TestBothSecondFactors(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.TwoFactor = auth.TwoFactorConfig{Enabled: true} })
	tok := f.token(t, "alice@example.com")
	a := newAuthenticator(t, origin, rpID)
	a.rk = false
	f.mustRegister(t, tok, a, "key", "secondary")
	// An authenticator app too.
	code, resp := post(t, f.account, "/tf-setup", tok, map[string]string{"setup": "authenticator"})
	if code != http.StatusOK {
		t.Fatalf("/tf-setup: %d %v", code, resp)
	}
	key, err := totp.DecodeKey(resp["tf_authr_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	setupCode, _ := totp.Config{}.Code(key, now)
	if code, resp := post(t, f.account, "/tf-setup/"+resp["tf_state_token"].(string), tok, map[string]string{"code": setupCode}); code != http.StatusOK {
		t.Fatalf("/tf-setup/{state}: %d %v", code, resp)
	}

	_, resp = f.passwordLogin(t, "alice@example.com")
	if m, _ := resp["tf_methods"].([]any); resp["tf_method"] != "authenticator" || len(m) != 2 || m[1] != "webauthn" {
		t.Fatalf("tf_method %v, tf_methods %v", resp["tf_method"], resp["tf_methods"])
	}
	// Either completes the login.
	f.signInToken(t, a, resp["tf_state_token"].(string))
	_, resp = f.passwordLogin(t, "alice@example.com")
	next, _ := totp.Config{}.Code(key, now.Add(30*time.Second))
	code, resp = post(t, f.account, "/tf-validate", "", map[string]string{"code": next, "tf_state_token": resp["tf_state_token"].(string)})
	if code != http.StatusOK || resp["user"] == nil {
		t.Errorf("/tf-validate: %d %v", code, resp)
	}
}

func TestPasskeyOnlyUserRecoveryCodes(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.TwoFactor = auth.TwoFactorConfig{Enabled: true} })
	tok := f.token(t, "alice@example.com")
	f.mustRegister(t, tok, newAuthenticator(t, origin, rpID), "key", "secondary")
	code, resp := post(t, f.account, "/mf-recovery-codes", tok, map[string]string{})
	codes, _ := resp["recovery_codes"].([]any)
	if code != http.StatusOK || len(codes) != 10 {
		t.Fatalf("recovery codes of a user whose second factor is a passkey: %d %v", code, resp)
	}
	_, resp = f.passwordLogin(t, "alice@example.com")
	code, resp = post(t, f.account, "/mf-recovery", "", map[string]string{"code": codes[0].(string), "tf_state_token": resp["tf_state_token"].(string)})
	if code != http.StatusOK || resp["user"] == nil {
		t.Errorf("/mf-recovery: %d %v", code, resp)
	}
	// An app's code is no passkey's.
	_, resp = f.passwordLogin(t, "alice@example.com")
	code, _ = post(t, f.account, "/tf-validate", "", map[string]string{"code": "123456", "tf_state_token": resp["tf_state_token"].(string)})
	if code != http.StatusBadRequest {
		t.Errorf("/tf-validate for a user without an app: %d", code)
	}
}

func TestLogoutVoidsSecondStep(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	a.rk = false
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "key", "secondary")
	_, resp := f.passwordLogin(t, "alice@example.com")
	tfState := resp["tf_state_token"].(string)
	o, state := f.beginSignIn(t, tfState)
	if err := f.m.RevokeTokens(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	code, resp := post(t, f.account, "/wan-signin/"+state, "", map[string]string{"credential": a.get(t, o)})
	if code != http.StatusBadRequest || resp["user"] != nil {
		t.Errorf("second step after a logout everywhere: %d %v", code, resp)
	}
	if code, _ := post(t, f.account, "/wan-signin", "", map[string]string{"tf_state_token": tfState}); code != http.StatusBadRequest {
		t.Errorf("begun after a logout everywhere: %d", code)
	}
}

func TestBrowserFormSignIn(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Session = auth.SessionConfig{LoginPage: "/login"} })
	a := newAuthenticator(t, origin, rpID)
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "laptop", "first")
	o, state := f.beginSignIn(t, "")
	form := url.Values{"credential": {a.get(t, o)}, "next": {"/account"}, "remember": {"on"}}
	r := httptest.NewRequest(http.MethodPost, origin+"/wan-signin/"+state, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", "text/html")
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	f.account.ServeHTTP(rec, r)
	var session, remember bool
	for _, c := range rec.Result().Cookies() {
		session = session || (c.Name == "auth_session" && c.Value != "")
		remember = remember || (c.Name == "auth_remember" && c.Value != "")
	}
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" || !session || !remember {
		t.Errorf("a browser's passkey sign-in: %d %v %v", rec.Code, rec.Header(), rec.Result().Cookies())
	}
	// From another site, refused before any check.
	o, state = f.beginSignIn(t, "")
	form.Set("credential", a.get(t, o))
	r = httptest.NewRequest(http.MethodPost, origin+"/wan-signin/"+state, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	f.account.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("a cross-site form post: %d %s", rec.Code, rec.Body)
	}
}

func TestVerifyWithPasskey(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthenticator(t, origin, rpID)
	a.rk, a.uv = false, false // a security key: re-authenticates as well
	f.mustRegister(t, f.token(t, "alice@example.com"), a, "key", "secondary")
	tok := f.signInWith(t, a)

	// Over the same store, a Manager for which every login is stale by
	// the time it is used.
	var audit bytes.Buffer
	stale := f.manager(t, func(c *auth.Config) {
		c.Freshness = time.Nanosecond
		c.AuditLogger = slog.New(slog.NewTextHandler(&audit, nil))
	})
	account := stale.AccountHandler()
	code, resp := post(t, account, "/wan-register", tok, map[string]string{"name": "laptop"})
	if code != http.StatusUnauthorized || resp["reauth_required"] != true {
		t.Fatalf("a stale login registering: %d %v", code, resp)
	}
	code, resp = post(t, account, "/wan-verify", tok, map[string]string{})
	if code != http.StatusOK {
		t.Fatalf("POST /wan-verify: %d %v", code, resp)
	}
	o, state := optionsOf(t, resp)
	cred := a.get(t, o)
	// Another user's login cannot use alice's ceremony.
	if code, _ := post(t, account, "/wan-verify/"+state, f.token(t, "bob@example.com"), map[string]string{"credential": cred}); code != http.StatusBadRequest {
		t.Errorf("bob finishing alice's re-authentication: %d", code)
	}
	code, resp = post(t, account, "/wan-verify/"+state, tok, map[string]string{"credential": cred})
	fresh := tokenOfAnswer(t, code, resp)
	if !strings.Contains(audit.String(), "auth.reauthenticated") {
		t.Errorf("no audit event: %s", audit.String())
	}
	// The new token is a fresh login's.
	h := stale.Require(auth.Token)(stale.RequireFresh(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authentication-Token", fresh)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Errorf("the re-authenticated token behind RequireFresh(1m): %d", rec.Code)
	}
	// Once.
	if code, resp := post(t, account, "/wan-verify/"+state, tok, map[string]string{"credential": cred}); code != http.StatusBadRequest {
		t.Errorf("a re-authentication replayed: %d %v", code, resp)
	}
	// Without a passkey, nothing to verify with.
	if code, _ := post(t, account, "/wan-verify", f.token(t, "bob@example.com"), map[string]string{}); code != http.StatusBadRequest {
		t.Errorf("bob, without passkeys: %d", code)
	}
}
