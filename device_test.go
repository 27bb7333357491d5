package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loginWith posts a JSON login from ip, sending device (if not "") in the
// DeviceTokenHeader.
func (f *throttleFixture) loginWith(email, password, ip, device string) *httptest.ResponseRecorder {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if device != "" {
		r.Header.Set(DeviceTokenHeader, device)
	}
	r.RemoteAddr = net.JoinHostPort(ip, "1234")
	w := httptest.NewRecorder()
	f.m.LoginHandler().ServeHTTP(w, r)
	return w
}

// deviceToken logs the owner in from ownerIP and returns the device token
// of the answer.
func (f *throttleFixture) deviceToken(t *testing.T) string {
	t.Helper()
	w := f.login("owner@example.com", "owner-password", ownerIP)
	tok := w.Header().Get(DeviceTokenHeader)
	if w.Code != http.StatusOK || tok == "" {
		t.Fatalf("owner's login: %d, device token %q", w.Code, tok)
	}
	return tok
}

// lockAddress makes ip throttled with failures for other emails.
func (f *throttleFixture) lockAddress(ip string) {
	for i := 0; i < 10; i++ {
		f.login(fmt.Sprintf("other%d@example.com", i), "guess", ip)
	}
}

// lockAccount makes the account of email throttled with failures from
// addresses that are not throttled themselves.
func (f *throttleFixture) lockAccount(email string) {
	for i := 0; i < 10; i++ {
		f.login(email, "guess", fmt.Sprintf("203.0.113.%d", 100+i))
	}
}

// TestThrottleNoExistenceOracle: from the address of an account's last
// login, a throttled account that exists and one that does not get the same
// answer, status, headers and body (before device tokens, the existing one
// got 400, the unknown one 429).
func TestThrottleNoExistenceOracle(t *testing.T) {
	tests := []struct {
		name     string
		password string
	}{
		{name: "wrong password", password: "wrong-password"},
		{name: "owner's password", password: "owner-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newThrottleFixture(t, ThrottleConfig{})
			if w := f.login("owner@example.com", "owner-password", ownerIP); w.Code != http.StatusOK {
				t.Fatalf("owner's login: %d", w.Code)
			}
			var answers []*httptest.ResponseRecorder
			for _, email := range []string{"owner@example.com", "nobody@example.com"} {
				f.lockAccount(email)
				answers = append(answers, f.login(email, tt.password, ownerIP))
			}
			known, unknown := answers[0], answers[1]
			if known.Code != http.StatusTooManyRequests || unknown.Code != http.StatusTooManyRequests {
				t.Errorf("existing account %d, unknown email %d; want 429 for both", known.Code, unknown.Code)
			}
			if !reflect.DeepEqual(known.Header(), unknown.Header()) {
				t.Errorf("headers differ:\n%v\n%v", known.Header(), unknown.Header())
			}
			if known.Body.String() != unknown.Body.String() {
				t.Errorf("bodies differ:\n%s%s", known.Body, unknown.Body)
			}
		})
	}
}

// TestDeviceTokenOwnerNotLockedOut: a device token from an earlier login
// exempts its owner from the lock-out of the address and of the account;
// without it the owner is throttled as anyone.
func TestDeviceTokenOwnerNotLockedOut(t *testing.T) {
	tests := []struct {
		name string
		lock func(f *throttleFixture)
		ip   string
	}{
		{name: "shared address locked by failures for other emails", lock: func(f *throttleFixture) { f.lockAddress(ownerIP) }, ip: ownerIP},
		{name: "account locked from many addresses", lock: func(f *throttleFixture) { f.lockAccount("owner@example.com") }, ip: "192.0.2.200"},
		{name: "both", lock: func(f *throttleFixture) { f.lockAddress(ownerIP); f.lockAccount("owner@example.com") }, ip: ownerIP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newThrottleFixture(t, ThrottleConfig{})
			tok := f.deviceToken(t)
			tt.lock(f)
			if w := f.loginWith("owner@example.com", "owner-password", tt.ip, ""); w.Code != http.StatusTooManyRequests {
				t.Errorf("without the device token: %d, want 429", w.Code)
			}
			w := f.loginWith("owner@example.com", "owner-password", tt.ip, tok)
			if w.Code != http.StatusOK {
				t.Fatalf("with the device token: %d %s, want 200", w.Code, w.Body)
			}
			if next := w.Header().Get(DeviceTokenHeader); next == "" || next == tok {
				t.Errorf("the login gave device token %q, want a new one", next)
			}
			// A typo from the device is an ordinary failure, not a 429.
			if w := f.loginWith("owner@example.com", "typo", tt.ip, tok); w.Code != http.StatusBadRequest {
				t.Errorf("a wrong password with the device token: %d, want 400", w.Code)
			}
		})
	}
}

// TestDeviceTokenRejected: tokens that are not a valid device token of the
// account exempt nothing.
func TestDeviceTokenRejected(t *testing.T) {
	other, err := New(NewMemoryStore(), []byte("another signing key, 32 bytes.."), Config{Logger: discardLogger})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := other.devices.issue("owner@example.com", time.Now())
	tests := []struct {
		name  string
		token func(f *throttleFixture, tok string) string
	}{
		{name: "none", token: func(*throttleFixture, string) string { return "" }},
		{name: "garbage", token: func(*throttleFixture, string) string { return "not a token" }},
		{name: "tampered", token: func(_ *throttleFixture, tok string) string {
			b := []byte(tok)
			b[3] ^= 1
			return string(b)
		}},
		{name: "truncated", token: func(_ *throttleFixture, tok string) string { return tok[:len(tok)-2] }},
		{name: "another account's", token: func(f *throttleFixture, _ string) string {
			return f.m.devices.issue("nobody@example.com", f.now)
		}},
		{name: "another key's", token: func(*throttleFixture, string) string { return otherKey }},
		{name: "expired", token: func(f *throttleFixture, tok string) string {
			f.now = f.now.Add(defaultDeviceMaxAge + time.Hour)
			return tok
		}},
		{name: "from the future", token: func(f *throttleFixture, _ string) string {
			return f.m.devices.issue("owner@example.com", f.now.Add(time.Hour))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newThrottleFixture(t, ThrottleConfig{})
			tok := tt.token(f, f.deviceToken(t))
			f.lockAddress(ownerIP)
			if w := f.loginWith("owner@example.com", "owner-password", ownerIP, tok); w.Code != http.StatusTooManyRequests {
				t.Errorf("got %d, want 429", w.Code)
			}
		})
	}
}

// TestDeviceTokenThrottledItself: failures with a device token count
// against the device; after FreeAttempts of them the device is an unknown
// client again, throttled by address and account.
func TestDeviceTokenThrottledItself(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	tok := f.deviceToken(t)
	var codes []int
	for i := 0; i < 11; i++ {
		codes = append(codes, f.loginWith("owner@example.com", "guess", ownerIP, tok).Code)
	}
	for i, c := range codes {
		want := http.StatusBadRequest
		if i == 10 {
			want = http.StatusTooManyRequests
		}
		if c != want {
			t.Fatalf("codes %v: want 400 for 5 attempts of the device and 5 of the address, then 429", codes)
		}
	}
}

// TestDeviceTokenBasicAndTokenHandler: TokenHandler gives a device token
// in the DeviceTokenHeader; Basic credentials and TokenHandler accept it
// back in that header.
func TestDeviceTokenBasicAndTokenHandler(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	tokens := f.m.TokenHandler()
	basic := f.m.RequireBasic(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(h http.Handler, password, device string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth("owner@example.com", password)
		r.RemoteAddr = ownerIP + ":1"
		if device != "" {
			r.Header.Set(DeviceTokenHeader, device)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := do(tokens, "owner-password", "")
	tok := w.Header().Get(DeviceTokenHeader)
	if w.Code != http.StatusOK || tok == "" {
		t.Fatalf("token endpoint: %d, device token %q", w.Code, tok)
	}
	f.lockAddress(ownerIP)
	for name, h := range map[string]http.Handler{"tokens": tokens, "basic": basic} {
		if w := do(h, "owner-password", ""); w.Code != http.StatusTooManyRequests {
			t.Errorf("%s without the device token: %d, want 429", name, w.Code)
		}
		if w := do(h, "owner-password", tok); w.Code != http.StatusOK {
			t.Errorf("%s with the device token: %d, want 200", name, w.Code)
		}
	}
}

// TestDeviceCookie: a browser's form login gets the device token as an
// HttpOnly, Secure, SameSite=Lax cookie lasting DeviceMaxAge, which
// exempts its next login; a plain JSON login gets the header only.
func TestDeviceCookie(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{})
	form := func(c *http.Cookie) *httptest.ResponseRecorder {
		body := url.Values{"email": {"owner@example.com"}, "password": {"owner-password"}}.Encode()
		r := httptest.NewRequest(http.MethodPost, "http://app.example/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "http://app.example")
		r.Header.Set("Accept", htmlAccept)
		r.RemoteAddr = ownerIP + ":1"
		if c != nil {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		f.m.LoginHandler().ServeHTTP(w, r)
		return w
	}
	w := form(nil)
	c := findCookie(w.Result().Cookies(), deviceCookieName)
	if w.Code != http.StatusSeeOther || c == nil {
		t.Fatalf("form login: %d, device cookie %v", w.Code, c)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != int(defaultDeviceMaxAge/time.Second) || c.Path != "/" {
		t.Errorf("device cookie %+v", c)
	}
	f.lockAddress(ownerIP)
	if w := form(nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("without the cookie: %d, want 429", w.Code)
	}
	if w := form(c); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Errorf("with the device cookie: %d to %q, want 303 to /", w.Code, w.Header().Get("Location"))
	}
	if w := f.login("owner@example.com", "owner-password", "192.0.2.1"); len(w.Result().Cookies()) != 0 || w.Header().Get(DeviceTokenHeader) == "" {
		t.Errorf("JSON login: cookies %v, header %q", w.Result().Cookies(), w.Header().Get(DeviceTokenHeader))
	}
}

// TestDeviceTokensOff: a negative DeviceMaxAge issues and accepts none.
func TestDeviceTokensOff(t *testing.T) {
	f := newThrottleFixture(t, ThrottleConfig{DeviceMaxAge: -1})
	if w := f.login("owner@example.com", "owner-password", ownerIP); w.Code != http.StatusOK || w.Header().Get(DeviceTokenHeader) != "" {
		t.Fatalf("login: %d, device token %q", w.Code, w.Header().Get(DeviceTokenHeader))
	}
}
