package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/totp"
)

// tfFixture is a Manager with second factors over the seeded users, on a
// hand-moved clock, and its account handler.
type tfFixture struct {
	m       *Manager
	store   *MemoryStore
	clock   *stepClock
	account http.Handler
	audit   *lockedBuffer
}

func newTFFixture(t *testing.T, change func(*Config)) *tfFixture {
	t.Helper()
	f := &tfFixture{audit: &lockedBuffer{}}
	cfg := Config{TwoFactor: TwoFactorConfig{Enabled: true, Issuer: "Example"}, AuditLogger: newTextLogger(f.audit)}
	if change != nil {
		change(&cfg)
	}
	f.m, f.store = newSeeded(t, cfg)
	f.clock = setClock(f.m, seedClock)
	f.account = f.m.AccountHandler()
	return f
}

// post posts a JSON body to the account handler, with the token if not "".
func (f *tfFixture) post(t *testing.T, path, token string, body map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authentication-Token", token)
	}
	rec := serve(f.account, r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		checkErrorCodes(t, rec.Body.Bytes(), nil)
	}
	return rec.Code, env.Response
}

// code is the authenticator app's code of key now.
func (f *tfFixture) code(t *testing.T, key []byte) string {
	t.Helper()
	c, err := totp.Config{}.Code(key, f.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setUp turns the authenticator on for the user whose login token is tok
// and returns its key.
func (f *tfFixture) setUp(t *testing.T, tok string) []byte {
	t.Helper()
	code, resp := f.post(t, "/tf-setup", tok, map[string]string{"setup": "authenticator"})
	if code != http.StatusOK {
		t.Fatalf("POST /tf-setup: %d %v", code, resp)
	}
	key, err := totp.DecodeKey(resp["tf_authr_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	state := resp["tf_state_token"].(string)
	if code, resp := f.post(t, "/tf-setup/"+state, tok, map[string]string{"code": f.code(t, key)}); code != http.StatusOK || resp["tf_state"] != "ready" {
		t.Fatalf("POST /tf-setup/{state}: %d %v", code, resp)
	}
	return key
}

// login logs in over JSON and returns the answer's status and response.
func (f *tfFixture) login(t *testing.T, email, password string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON(email, password)))
	r.Header.Set("Content-Type", "application/json")
	rec := serve(f.m.LoginHandler(), r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return rec.Code, env.Response
}

func (f *tfFixture) works(tok string) bool {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authentication-Token", tok)
	return serve(f.m.RequireToken(whoami), r).Code == http.StatusOK
}

func TestTwoFactorLogin(t *testing.T) {
	f := newTFFixture(t, nil)
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	if !strings.Contains(f.audit.String(), "auth.two_factor.enabled") {
		t.Errorf("no auth.two_factor.enabled event: %s", f.audit)
	}

	// The password alone answers a state token, no auth token.
	code, resp := f.login(t, "user@example.com", "user-password")
	state, _ := resp["tf_state_token"].(string)
	if code != http.StatusOK || resp["tf_required"] != true || resp["tf_method"] != "authenticator" ||
		resp["tf_primary_method"] != "authenticator" || resp["tf_state"] != "ready" || state == "" || resp["user"] != nil {
		t.Fatalf("login: %d %v", code, resp)
	}
	// The code that set the factor up cannot log in: it is used.
	if code, resp := f.post(t, "/tf-validate", "", map[string]string{"code": f.code(t, key), "tf_state_token": state}); code != http.StatusBadRequest {
		t.Errorf("the setup's code again: %d %v, want 400", code, resp)
	}
	// The next period's code does, once.
	f.clock.t = f.clock.t.Add(30 * time.Second)
	next := f.code(t, key)
	code, resp = f.post(t, "/tf-validate", "", map[string]string{"code": next, "tf_state_token": state})
	user, _ := resp["user"].(map[string]any)
	tok, _ := user["authentication_token"].(string)
	if code != http.StatusOK || user["id"] != idUser || !f.works(tok) {
		t.Fatalf("tf-validate: %d %v", code, resp)
	}
	if code, resp := f.post(t, "/tf-validate", "", map[string]string{"code": next, "tf_state_token": state}); code != http.StatusBadRequest ||
		!strings.Contains(jsonText(resp), `"code":["Invalid code"]`) {
		t.Errorf("the same code twice: %d %v, want 400 with a field error", code, resp)
	}
	// Logged in: the trackable fields say so.
	if u := mustUser(t, f.store, idUser); u.LoginCount != 1 {
		t.Errorf("LoginCount = %d after one login with a code, want 1", u.LoginCount)
	}
	if _, err := f.m.Login(context.Background(), "user@example.com", "user-password", "192.0.2.1"); !errors.Is(err, ErrTwoFactorRequired) {
		t.Errorf("Login = %v, want ErrTwoFactorRequired", err)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTwoFactorRefusals(t *testing.T) {
	f := newTFFixture(t, nil)
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	_, resp := f.login(t, "user@example.com", "user-password")
	state := resp["tf_state_token"].(string)
	f.clock.t = f.clock.t.Add(30 * time.Second)
	good := f.code(t, key)
	wrong := "000000"
	if wrong == good {
		wrong = "111111"
	}
	tests := []struct {
		name  string
		body  map[string]string
		want  int
		field string // a substring of the answer
	}{
		{name: "no state", body: map[string]string{"code": good}, want: 400, field: `tf_state_token`},
		{name: "forged state", body: map[string]string{"code": good, "tf_state_token": state + "x"}, want: 400, field: "not valid"},
		{name: "no code", body: map[string]string{"tf_state_token": state}, want: 400, field: `"code":["Code not provided."]`},
		{name: "wrong code", body: map[string]string{"code": wrong, "tf_state_token": state}, want: 400, field: `"code":["Invalid code"]`},
		{name: "letters", body: map[string]string{"code": "abcdef", "tf_state_token": state}, want: 400, field: `"code":["Invalid code"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, resp := f.post(t, "/tf-validate", "", tt.body)
			if code != tt.want || !strings.Contains(jsonText(resp), tt.field) || resp["user"] != nil {
				t.Errorf("got %d %v, want %d with %s", code, resp, tt.want, tt.field)
			}
		})
	}
	if !strings.Contains(f.audit.String(), "auth.two_factor.failed") {
		t.Errorf("no auth.two_factor.failed event: %s", f.audit)
	}
	t.Run("setup state is no login state", func(t *testing.T) {
		_, resp := f.post(t, "/tf-setup", tokenOf(t, f.m, f.store, idAdmin), map[string]string{"setup": "authenticator"})
		if code, _ := f.post(t, "/tf-validate", "", map[string]string{"code": good, "tf_state_token": resp["tf_state_token"].(string)}); code != http.StatusBadRequest {
			t.Errorf("a setup's state token at /tf-validate: %d, want 400", code)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		f.clock.t = f.clock.t.Add(5*time.Minute + time.Second)
		defer func() { f.clock.t = f.clock.t.Add(-5*time.Minute - time.Second) }()
		if code, _ := f.post(t, "/tf-validate", "", map[string]string{"code": f.code(t, key), "tf_state_token": state}); code != http.StatusBadRequest {
			t.Errorf("a state token older than 5 min: %d, want 400", code)
		}
	})
	t.Run("after logout everywhere", func(t *testing.T) {
		g := newTFFixture(t, nil)
		key := g.setUp(t, tokenOf(t, g.m, g.store, idUser))
		_, resp := g.login(t, "user@example.com", "user-password")
		if err := g.m.RevokeTokens(context.Background(), idUser); err != nil {
			t.Fatal(err)
		}
		g.clock.t = g.clock.t.Add(30 * time.Second)
		if code, _ := g.post(t, "/tf-validate", "", map[string]string{"code": g.code(t, key), "tf_state_token": resp["tf_state_token"].(string)}); code != http.StatusBadRequest {
			t.Errorf("a state token from before RevokeTokens: %d, want 400", code)
		}
	})
	t.Run("basic credentials", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
		rec := serve(f.m.RequireBasic(whoami), r)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != challengeBasic {
			t.Errorf("RequireBasic with the password alone: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		checkNoLeak(t, rec.Body.String())
		r = httptest.NewRequest(http.MethodPost, "/tokens/", nil)
		r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
		if rec := serve(f.m.TokenHandler(), r); rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), `"token"`) {
			t.Errorf("TokenHandler with the password alone: %d %s", rec.Code, rec.Body)
		}
		// Users without a second factor are as before.
		r = httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
		if rec := serve(f.m.RequireBasic(whoami), r); rec.Code != http.StatusOK {
			t.Errorf("RequireBasic for a user without a second factor: %d", rec.Code)
		}
	})
}

// TestTwoFactorThrottled checks that codes are throttled per user as
// passwords are: after the free attempts even the right code waits.
func TestTwoFactorThrottled(t *testing.T) {
	f := newTFFixture(t, func(c *Config) { c.Throttle = ThrottleConfig{FreeAttempts: 3, BaseDelay: time.Minute} })
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	_, resp := f.login(t, "user@example.com", "user-password")
	state := resp["tf_state_token"].(string)
	f.clock.t = f.clock.t.Add(30 * time.Second)
	good := f.code(t, key)
	for i := range 3 {
		wrong := "000000"
		if wrong == good {
			wrong = "111111"
		}
		if code, _ := f.post(t, "/tf-validate", "", map[string]string{"code": wrong, "tf_state_token": state}); code != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i, code)
		}
	}
	if code, resp := f.post(t, "/tf-validate", "", map[string]string{"code": good, "tf_state_token": state}); code != http.StatusTooManyRequests {
		t.Errorf("the right code after 3 wrong ones: %d %v, want 429", code, resp)
	}
}

func TestTwoFactorSetup(t *testing.T) {
	t.Run("answer", func(t *testing.T) {
		f := newTFFixture(t, func(c *Config) {
			c.TwoFactor.QRCode = func(uri string) ([]byte, error) { return []byte("PNG of " + uri), nil }
		})
		code, resp := f.post(t, "/tf-setup", tokenOf(t, f.m, f.store, idUser), map[string]string{"setup": "authenticator"})
		key, _ := resp["tf_authr_key"].(string)
		uri, _ := resp["tf_authr_uri"].(string)
		if code != http.StatusOK || resp["tf_state"] != "validating_profile" || resp["tf_primary_method"] != "authenticator" ||
			resp["tf_authr_username"] != "user@example.com" || resp["tf_authr_issuer"] != "Example" ||
			uri != "otpauth://totp/Example:user@example.com?issuer=Example&secret="+key ||
			resp["tf_authr_qrcode"] != "data:image/png;base64,"+base64.StdEncoding.EncodeToString([]byte("PNG of "+uri)) {
			t.Errorf("POST /tf-setup: %d %v", code, resp)
		}
		// Nothing is stored until a code comes.
		if _, err := f.store.TwoFactor(context.Background(), idUser); !errors.Is(err, ErrTokenNotFound) {
			t.Errorf("a factor stored before its first code: %v", err)
		}
		if code, resp := f.login(t, "user@example.com", "user-password"); code != http.StatusOK || resp["tf_required"] != nil {
			t.Errorf("login during setup: %d %v, want a plain login", code, resp)
		}
	})
	t.Run("wrong code stores nothing", func(t *testing.T) {
		f := newTFFixture(t, nil)
		tok := tokenOf(t, f.m, f.store, idUser)
		_, resp := f.post(t, "/tf-setup", tok, map[string]string{"setup": "authenticator"})
		code, answer := f.post(t, "/tf-setup/"+resp["tf_state_token"].(string), tok, map[string]string{"code": "12345"})
		if code != http.StatusBadRequest || !strings.Contains(jsonText(answer), `"code":["Invalid code"]`) {
			t.Errorf("wrong code: %d %v", code, answer)
		}
		if _, err := f.store.TwoFactor(context.Background(), idUser); !errors.Is(err, ErrTokenNotFound) {
			t.Errorf("a factor stored after a wrong code: %v", err)
		}
	})
	t.Run("another user's state", func(t *testing.T) {
		f := newTFFixture(t, nil)
		_, resp := f.post(t, "/tf-setup", tokenOf(t, f.m, f.store, idAdmin), map[string]string{"setup": "authenticator"})
		key, _ := totp.DecodeKey(resp["tf_authr_key"].(string))
		code, _ := f.post(t, "/tf-setup/"+resp["tf_state_token"].(string), tokenOf(t, f.m, f.store, idUser), map[string]string{"code": f.code(t, key)})
		if code != http.StatusBadRequest {
			t.Errorf("the admin's setup state with the user's token: %d, want 400", code)
		}
	})
	t.Run("needs a fresh login", func(t *testing.T) {
		f := newTFFixture(t, nil)
		tok := tokenOf(t, f.m, f.store, idUser)
		f.clock.t = f.clock.t.Add(2 * time.Hour)
		if code, resp := f.post(t, "/tf-setup", tok, map[string]string{"setup": "authenticator"}); code != http.StatusUnauthorized || resp["reauth_required"] != true {
			t.Errorf("setup with a 2-hour-old login: %d %v, want 401 reauth_required", code, resp)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		f := newTFFixture(t, nil)
		if code, resp := f.post(t, "/tf-setup", tokenOf(t, f.m, f.store, idUser), map[string]string{"setup": "sms"}); code != http.StatusBadRequest ||
			!strings.Contains(jsonText(resp), `"setup":[`) {
			t.Errorf("setup sms: %d %v", code, resp)
		}
	})
	t.Run("disable", func(t *testing.T) {
		f := newTFFixture(t, nil)
		f.setUp(t, tokenOf(t, f.m, f.store, idUser))
		if code, resp := f.post(t, "/tf-setup", tokenOf(t, f.m, f.store, idUser), map[string]string{"setup": "disable"}); code != http.StatusOK {
			t.Fatalf("disable: %d %v", code, resp)
		}
		if code, resp := f.login(t, "user@example.com", "user-password"); code != http.StatusOK || resp["tf_required"] != nil {
			t.Errorf("login after disable: %d %v, want a plain login", code, resp)
		}
		if !strings.Contains(f.audit.String(), "auth.two_factor.disabled") {
			t.Errorf("no auth.two_factor.disabled event")
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		f := newTFFixture(t, nil)
		if code, _ := f.post(t, "/tf-setup", "", map[string]string{"setup": "authenticator"}); code != http.StatusUnauthorized {
			t.Errorf("setup without a login: %d, want 401", code)
		}
	})
	t.Run("GET", func(t *testing.T) {
		f := newTFFixture(t, nil)
		rec := serve(f.account, httptest.NewRequest(http.MethodGet, "/tf-validate", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("GET /tf-validate: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
}

// TestTwoFactorSecretSealed checks that the store holds the key encrypted,
// bound to its user, and that it still opens after a key rotation.
func TestTwoFactorSecretSealed(t *testing.T) {
	f := newTFFixture(t, nil)
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	stored, err := f.store.TwoFactor(context.Background(), idUser)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.Secret, key) || !stored.Enabled || stored.EnabledAt.IsZero() {
		t.Fatalf("stored factor %+v holds the key in the clear, or is not on", stored)
	}
	if _, err := f.m.tf.openSecret(idAdmin, stored.Secret); err == nil {
		t.Error("the user's sealed secret opens as another user's")
	}
	rotated := newManagerWithKey(t, f.store, otherKey, Config{
		Token: TokenConfig{OldKeys: [][]byte{seededKey}}, TwoFactor: TwoFactorConfig{Enabled: true},
	})
	if got, err := rotated.tf.openSecret(idUser, stored.Secret); err != nil || !bytes.Equal(got, key) {
		t.Errorf("after rotating the signing key: %x, %v", got, err)
	}
}

// TestTwoFactorResetNoLogin checks that a password reset does not log in a
// user with a second factor: a mailed link is not one.
func TestTwoFactorResetNoLogin(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) { c.TwoFactor = TwoFactorConfig{Enabled: true} })
	g := &tfFixture{m: f.m, store: f.store, clock: setClock(f.m, time.Now()), account: f.m.AccountHandler()}
	g.setUp(t, tokenOf(t, f.m, f.store, idUser))
	if r := f.post(t, "/reset", jsonBody("email", "user@example.com")); r.status != http.StatusOK {
		t.Fatalf("POST /reset: %d %s", r.status, r.body)
	}
	link := f.linkPath(t, f.smtp.Wait(t, 1)[0], "reset")
	r := f.post(t, link, jsonBody("password", "a new password 42"))
	if r.status != http.StatusOK || strings.Contains(r.body, "authentication_token") || !strings.Contains(r.body, `"tf_required":true`) {
		t.Errorf("reset of a user with a second factor: %d %s, want 200 without a token", r.status, r.body)
	}
}

func TestTwoFactorConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  TwoFactorConfig
		want string
	}{
		{name: "settings without Enabled", cfg: TwoFactorConfig{Issuer: "x"}, want: "without Enabled"},
		{name: "on", cfg: TwoFactorConfig{Enabled: true}},
	} {
		_, err := New(NewMemoryStore(), seededKey, Config{TwoFactor: tt.cfg})
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(storeWithoutPersonalTokens{NewMemoryStore()}, seededKey, Config{TwoFactor: TwoFactorConfig{Enabled: true}}); err == nil ||
		!strings.Contains(err.Error(), "TwoFactorStore") {
		t.Errorf("a store without TwoFactorStore: %v", err)
	}
}

// TestTwoFactorCodeRace sends one code in concurrent requests: exactly one
// logs in.
func TestTwoFactorCodeRace(t *testing.T) {
	f := newTFFixture(t, nil)
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	_, resp := f.login(t, "user@example.com", "user-password")
	state := resp["tf_state_token"].(string)
	f.clock.t = f.clock.t.Add(30 * time.Second)
	code := f.code(t, key)
	const n = 8
	results := make(chan int, n)
	for range n {
		go func() {
			b, _ := json.Marshal(map[string]string{"code": code, "tf_state_token": state})
			r := httptest.NewRequest(http.MethodPost, "/tf-validate", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			results <- serve(f.account, r).Code
		}()
	}
	ok := 0
	for range n {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d racing requests with one code logged in, want 1", ok, n)
	}
}

// TestTwoFactorBrowser checks a browser's login of a user with a second
// factor: the form login sends it to the login page for the code, with the
// state token in a cookie; the code form begins the session.
func TestTwoFactorBrowser(t *testing.T) {
	f := newTFFixture(t, nil)
	key := f.setUp(t, tokenOf(t, f.m, f.store, idUser))
	form := "email=user%40example.com&password=user-password&remember=on&next=%2Fsettings"
	r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://app.example")
	r.Header.Set("Accept", htmlAccept)
	resp := serve(f.m.LoginHandler(), r).Result()
	state := findCookie(resp.Cookies(), tfCookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fsettings&tf=1&tf_methods=authenticator" || state == nil || !state.HttpOnly ||
		findCookie(resp.Cookies(), defaultSessionCookieName) != nil {
		t.Fatalf("form login: %s to %q, cookies %v", resp.Status, resp.Header.Get("Location"), resp.Cookies())
	}
	post := func(code string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, "http://app.example/tf-validate", strings.NewReader("code="+code+"&next=%2Fsettings"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "http://app.example")
		r.Header.Set("Referer", "http://app.example/login?next=%2Fsettings&tf=1")
		r.Header.Set("Accept", htmlAccept)
		r.AddCookie(&http.Cookie{Name: tfCookie, Value: state.Value})
		return serve(f.account, r).Result()
	}
	f.clock.t = f.clock.t.Add(30 * time.Second)
	good := f.code(t, key)
	wrong := "000000"
	if wrong == good {
		wrong = "111111"
	}
	if resp := post(wrong); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error=code") ||
		findCookie(resp.Cookies(), defaultSessionCookieName) != nil {
		t.Errorf("wrong code: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	resp = post(good)
	session := findCookie(resp.Cookies(), defaultSessionCookieName)
	cleared := findCookie(resp.Cookies(), tfCookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" || session == nil ||
		findCookie(resp.Cookies(), defaultRememberCookieName) == nil || cleared == nil || cleared.MaxAge >= 0 {
		t.Fatalf("right code: %s to %q, cookies %v", resp.Status, resp.Header.Get("Location"), resp.Cookies())
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(session)
	if rec := serve(f.m.Require(Session)(whoami), r); rec.Code != http.StatusOK {
		t.Errorf("the session the code began: %d", rec.Code)
	}
	// From another origin the code form is refused, as a login form is.
	cross := httptest.NewRequest(http.MethodPost, "http://app.example/tf-validate", strings.NewReader("code="+good))
	cross.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cross.Header.Set("Origin", "http://evil.example")
	cross.AddCookie(&http.Cookie{Name: tfCookie, Value: state.Value})
	if rec := serve(f.account, cross); rec.Code != http.StatusForbidden {
		t.Errorf("cross-origin code form: %d, want 403", rec.Code)
	}
}
