package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

// TestAuditEventsCarryNoSecrets drives every credential path, success and
// failure, with both the audit log and the error log captured, and checks
// that the events are there and that no password, token, hash or key is.
func TestAuditEventsCarryNoSecrets(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key := []byte("audit-test-signing-key-KEYMATERIAL")
	store := NewMemoryStore()
	m, err := New(store, key, Config{Logger: logger, Throttle: ThrottleConfig{FreeAttempts: 3}, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	const password = "Pa55word-SECRET-1"
	u, _ := m.NewUser("audit@example.com", password)
	store.CreateUser(ctx, u)
	inactive, _ := m.NewUser("inactive-audit@example.com", "Inactive-SECRET-2")
	inactive.Active = false
	store.CreateUser(ctx, inactive)

	secrets := []string{password, "Inactive-SECRET-2", "Wrong-SECRET-3", "Unknown-SECRET-4", string(key), u.PasswordHash, inactive.PasswordHash}
	do := func(h http.Handler, method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	login := m.LoginHandler()
	jsonCT := map[string]string{"Content-Type": "application/json"}
	w := do(login, "POST", "/login", `{"email":"audit@example.com","password":"`+password+`"}`, jsonCT)
	var resp struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	json.Unmarshal(w.Body.Bytes(), &resp)
	token := resp.Response.User.Token
	if token == "" {
		t.Fatalf("login failed: %d %s", w.Code, w.Body)
	}
	secrets = append(secrets, token, token[strings.LastIndexByte(token, '.')+1:], u.Uniquifier)

	do(login, "POST", "/login", `{"email":"audit@example.com","password":"Wrong-SECRET-3"}`, jsonCT)
	do(login, "POST", "/login", `{"email":"nobody@example.com","password":"Unknown-SECRET-4"}`, jsonCT)
	do(login, "POST", "/login", `{"email":"inactive-audit@example.com","password":"Inactive-SECRET-2"}`, jsonCT)
	do(login, "POST", "/login", `email=audit%40example.com&password=Wrong-SECRET-3`, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://example.com"})
	w = do(login, "POST", "/login", `{"email":"audit@example.com","password":"Wrong-SECRET-3"}`, jsonCT)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("expected throttling, got %d", w.Code)
	}
	now = now.Add(time.Hour * 2)

	protected := m.RequireToken(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	do(protected, "GET", "/p", "", map[string]string{"Authentication-Token": token + "tampered"})
	do(protected, "GET", "/p?auth_token="+token[:len(token)-3]+"xyz", "", nil)
	basic := m.Require(Basic, BasicToken)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	do(basic, "GET", "/b", "", map[string]string{"Authorization": basicHeader("audit@example.com", "Wrong-SECRET-3")})
	do(m.TokenHandler(), "POST", "/tokens", "", map[string]string{"Authorization": basicHeader("audit@example.com", password)})
	do(m.LogoutHandler(), "POST", "/logout", "", map[string]string{"Authentication-Token": token})
	do(protected, "GET", "/p", "", map[string]string{"Authentication-Token": token}) // revoked
	if err := m.SetPassword(ctx, u.ID, "New-Password-SECRET-5"); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, "New-Password-SECRET-5")

	out := logs.String()
	for _, event := range []string{EventLoginSucceeded, EventLoginFailed, EventThrottled, EventTokenRejected, EventLogout, EventTokensRevoked, EventPasswordSet} {
		if !strings.Contains(out, `"msg":"`+event+`"`) {
			t.Errorf("no %s event in the log", event)
		}
	}
	for _, reason := range []string{reasonUnknownUser, reasonBadPassword, reasonInactive, reasonBadSignature, reasonRevoked} {
		if !strings.Contains(out, `"reason":"`+reason+`"`) {
			t.Errorf("no event with reason %s", reason)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
	if strings.Contains(out, "nobody@example.com") {
		t.Error("the log contains an unknown email as typed")
	}
}

func basicHeader(user, password string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

// TestAuditSessionEvents checks that every refused session or remember-me
// cookie and every failed CSRF check is an audit event with its reason,
// and that the cookie itself is never logged.
func TestAuditSessionEvents(t *testing.T) {
	tests := []struct {
		name       string
		cookie     string // "session" or "remember"
		change     func(f *sessFixture, c *http.Cookie) *http.Cookie
		method     string
		csrfHeader string
		origin     string
		wantEvent  string
		wantReason string
	}{
		{name: "tampered session", cookie: "session", wantEvent: EventSessionRejected, wantReason: reasonInvalidOrExpired,
			change: func(_ *sessFixture, c *http.Cookie) *http.Cookie { c.Value = flipLast(c.Value); return c }},
		{name: "idle session", cookie: "session", wantEvent: EventSessionRejected, wantReason: reasonInvalidOrExpired,
			change: func(f *sessFixture, c *http.Cookie) *http.Cookie { f.clock.add(3 * time.Hour); return c }},
		{name: "revoked session", cookie: "session", wantEvent: EventSessionRejected, wantReason: reasonRevoked,
			change: func(f *sessFixture, c *http.Cookie) *http.Cookie {
				if err := f.m.RevokeTokens(context.Background(), f.user.ID); err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "inactive user's session", cookie: "session", wantEvent: EventSessionRejected, wantReason: reasonInactive,
			change: func(f *sessFixture, c *http.Cookie) *http.Cookie {
				setUser(t, f.store, f.user.ID, func(u *User) { u.Active = false })
				return c
			}},
		{name: "unknown user's session", cookie: "session", wantEvent: EventSessionRejected, wantReason: reasonUnknownUser,
			change: func(f *sessFixture, _ *http.Cookie) *http.Cookie {
				st := sessionState{UserID: "no-such-user", Uniq: "u", Issued: f.clock.unix(), Seen: f.clock.unix(), CSRF: newCSRFSecret()}
				return f.encode(t, f.m.sessions.name, st)
			}},
		{name: "expired remember-me", cookie: "remember", wantEvent: EventSessionRejected, wantReason: reasonInvalidOrExpired,
			change: func(f *sessFixture, c *http.Cookie) *http.Cookie { f.clock.add(31 * 24 * time.Hour); return c }},
		{name: "revoked remember-me", cookie: "remember", wantEvent: EventSessionRejected, wantReason: reasonRevoked,
			change: func(f *sessFixture, c *http.Cookie) *http.Cookie {
				if err := f.m.RevokeTokens(context.Background(), f.user.ID); err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "POST without CSRF token", cookie: "session", method: http.MethodPost,
			wantEvent: EventCSRFRejected, wantReason: reasonCSRFToken},
		{name: "POST from another origin", cookie: "session", method: http.MethodPost, csrfHeader: "valid", origin: "http://evil.example",
			wantEvent: EventCSRFRejected, wantReason: reasonCrossOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			f := newSessFixture(t, sessKey, Config{AuditLogger: slog.New(slog.NewJSONHandler(&logs, nil))})
			name := f.m.sessions.name
			if tt.cookie == "remember" {
				name = f.m.sessions.rememberName
			}
			c := f.cookie(t, name)
			if tt.change != nil {
				c = tt.change(f, c)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "http://app.example/account", nil)
			if tt.csrfHeader != "" {
				r.Header.Set(CSRFHeader, sessCSRF(t, f.m, c))
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			before := len(logs.String()) // the changes above may log events of their own
			resp := sessDo(f.m.Require(Session)(whoamiSession), r, c)
			if resp.StatusCode < 400 {
				t.Fatalf("status %d, want a refusal", resp.StatusCode)
			}
			var event struct {
				Msg    string `json:"msg"`
				Reason string `json:"reason"`
				Cookie string `json:"cookie"`
				UserID string `json:"user_id"`
				Path   string `json:"path"`
			}
			logged := logs.String()[before:]
			if err := json.Unmarshal([]byte(logged), &event); err != nil {
				t.Fatalf("want one JSON event, got %q: %v", logged, err)
			}
			if event.Msg != tt.wantEvent || event.Reason != tt.wantReason || event.Path != "/account" {
				t.Errorf("event %+v, want %s with reason %s on /account", event, tt.wantEvent, tt.wantReason)
			}
			if tt.wantEvent == EventSessionRejected && event.Cookie != tt.cookie {
				t.Errorf("cookie attribute %q, want %q", event.Cookie, tt.cookie)
			}
			if tt.wantEvent == EventCSRFRejected && event.UserID != f.user.ID {
				t.Errorf("user_id %q, want %q", event.UserID, f.user.ID)
			}
			if strings.Contains(logs.String(), c.Value) || strings.Contains(logs.String(), f.user.Uniquifier) {
				t.Error("the log contains the cookie or the uniquifier")
			}
		})
	}
}
