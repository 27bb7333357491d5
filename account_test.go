package auth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
	"github.com/authkit/auth/pwned"
)

// accountFixture is an HTTP server with the account handler under /auth/,
// the login handler and a token-protected route, mailing through a real
// SMTP server.
type accountFixture struct {
	m     *Manager
	store *MemoryStore
	smtp  *smtptest.Server
	srv   *httptest.Server
	base  string // the account handler's URL
	audit *lockedBuffer
}

func newAccountFixture(t testing.TB, change func(*Config)) *accountFixture {
	t.Helper()
	f := &accountFixture{smtp: smtptest.Start(t, smtptest.Config{}), audit: &lockedBuffer{}}
	mailer, err := smtpmail.New(smtpmail.Config{Addr: f.smtp.Addr, From: "auth@example.com", Security: smtpmail.Insecure})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.base = f.srv.URL + "/auth"
	cfg := Config{
		Account:     AccountConfig{Mailer: mailer, BaseURL: f.base},
		AuditLogger: newTextLogger(f.audit),
	}
	if change != nil {
		change(&cfg)
	}
	f.m, f.store = newSeeded(t, cfg)
	mux.Handle("/auth/", http.StripPrefix("/auth", f.m.AccountHandler()))
	mux.Handle("/login", f.m.LoginHandler())
	mux.Handle("/protected", f.m.RequireToken(whoami))
	return f
}

// accountResponse is a response as the tests read it.
type accountResponse struct {
	status int
	header http.Header
	body   string
	env    struct {
		Meta     struct{ Code int }
		Response struct {
			User *struct {
				ID    string `json:"id"`
				Token string `json:"authentication_token"`
			} `json:"user"`
			Status      string              `json:"status"`
			Errors      []string            `json:"errors"`
			FieldErrors map[string][]string `json:"field_errors"`
		}
	}
}

func (f *accountFixture) do(t *testing.T, method, path, body string, header ...string) accountResponse {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := accountResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.env); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
		if resp.StatusCode >= 400 {
			checkErrorCodes(t, b, nil)
		}
	}
	return out
}

func (f *accountFixture) post(t *testing.T, path, body string, header ...string) accountResponse {
	t.Helper()
	return f.do(t, http.MethodPost, path, body, header...)
}

// linkPath is the path, under the account handler, of the first link in
// the message's text that starts with the handler's URL and route.
func (f *accountFixture) linkPath(t *testing.T, msg smtptest.Received, route string) string {
	t.Helper()
	link := smtptest.LinkIn(t, msg.Text, f.base+"/"+route+"/")
	if !strings.Contains(msg.HTML, link) {
		t.Errorf("the HTML body lacks the link %s", link)
	}
	return strings.TrimPrefix(link, f.base)
}

func (f *accountFixture) protected(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/protected", nil)
	req.Header.Set("Authentication-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (f *accountFixture) login(t *testing.T, email, password string) (int, string) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/login", "application/json", strings.NewReader(loginJSON(email, password)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp.StatusCode, env.Response.User.Token
}

func jsonBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestRegisterConfirmLogin(t *testing.T) {
	f := newAccountFixture(t, nil)
	r := f.post(t, "/register", jsonBody("email", "new@example.com", "password", "a new password", "password_confirm", "a new password"))
	if r.status != http.StatusOK || r.env.Response.User == nil || r.env.Response.User.Token != "" {
		t.Fatalf("register: %d %s, want 200 with an empty user and no token", r.status, r.body)
	}
	u, err := f.store.UserByEmail(context.Background(), "new@example.com")
	if err != nil || u.Confirmed || !u.Active {
		t.Fatalf("stored user %+v, %v: want active and unconfirmed", u, err)
	}
	msgs := f.smtp.Wait(t, 1)
	if msgs[0].To[0] != "new@example.com" || msgs[0].Subject != "Confirm your email address" {
		t.Fatalf("message to %v, subject %q", msgs[0].To, msgs[0].Subject)
	}
	link := f.linkPath(t, msgs[0], "confirm")
	if got := f.do(t, http.MethodGet, link, ""); got.status != http.StatusOK || got.env.Response.Status != "confirmed" {
		t.Fatalf("confirmation link: %d %s", got.status, got.body)
	}
	if u, _ := f.store.UserByEmail(context.Background(), "new@example.com"); !u.Confirmed {
		t.Fatal("not confirmed after the link")
	}
	if got := f.do(t, http.MethodGet, link, ""); got.status != http.StatusOK || got.env.Response.Status != "already-confirmed" {
		t.Errorf("confirmation link again: %d %s", got.status, got.body)
	}
	status, tok := f.login(t, "new@example.com", "a new password")
	if status != http.StatusOK || f.protected(t, tok) != http.StatusOK {
		t.Errorf("login after confirmation: %d", status)
	}
	if !strings.Contains(f.audit.String(), EventRegistered) || !strings.Contains(f.audit.String(), EventConfirmed) {
		t.Errorf("audit log lacks the registration or the confirmation:\n%s", f.audit)
	}
}

// sameAnswer fails unless two responses have the same status, body and
// headers (but Date).
func sameAnswer(t *testing.T, what string, a, b accountResponse) {
	t.Helper()
	if a.status != b.status || a.body != b.body {
		t.Errorf("%s: %d %q against %d %q", what, a.status, a.body, b.status, b.body)
	}
	a.header.Del("Date")
	b.header.Del("Date")
	for k := range a.header {
		if a.header.Get(k) != b.header.Get(k) {
			t.Errorf("%s: header %s %q against %q", what, k, a.header.Get(k), b.header.Get(k))
		}
	}
	if len(a.header) != len(b.header) {
		t.Errorf("%s: headers %v against %v", what, a.header, b.header)
	}
}

func TestAccountNoEnumeration(t *testing.T) {
	f := newAccountFixture(t, nil)
	for _, c := range []struct {
		path, known, unknown string
		mails                int // messages the known email gets
	}{
		{"/register", jsonBody("email", "user@example.com", "password", "some password"), jsonBody("email", "nobody@example.com", "password", "some password"), 1},
		{"/confirm", jsonBody("email", "unconfirmed@example.com"), jsonBody("email", "nobody2@example.com"), 1},
		{"/confirm", jsonBody("email", "user@example.com"), jsonBody("email", "nobody3@example.com"), 0},
		{"/reset", jsonBody("email", "user@example.com"), jsonBody("email", "nobody4@example.com"), 1},
		{"/reset", jsonBody("email", "inactive@example.com"), jsonBody("email", "nobody5@example.com"), 0},
	} {
		before := len(f.smtp.Messages())
		known := f.post(t, c.path, c.known)
		unknown := f.post(t, c.path, c.unknown)
		if known.status != http.StatusOK {
			t.Errorf("%s %s: %d %s", c.path, c.known, known.status, known.body)
		}
		sameAnswer(t, c.path+" "+c.known, known, unknown)
		want := before + c.mails
		if c.path == "/register" {
			want++ // the unknown email registers
		}
		if c.path == "/register" || c.mails > 0 {
			f.smtp.Wait(t, want)
		}
		time.Sleep(50 * time.Millisecond) // a message that should not come would arrive by now
		if got := len(f.smtp.Messages()); got != want {
			t.Errorf("%s %s: %d messages, want %d", c.path, c.known, got-before, want-before)
		}
	}
	var notice bool
	for _, m := range f.smtp.Messages() {
		if m.To[0] == "user@example.com" && strings.Contains(m.Subject, "register") {
			notice = true
			if strings.Contains(m.Text, f.base+"/confirm/") {
				t.Error("the owner's notice carries a confirmation link")
			}
		}
	}
	if !notice {
		t.Error("the owner of the taken email got no notice")
	}
}

func TestPasswordReset(t *testing.T) {
	f := newAccountFixture(t, nil)
	_, oldTok := f.login(t, "user@example.com", "user-password")
	if r := f.post(t, "/reset", jsonBody("email", "USER@example.com")); r.status != http.StatusOK {
		t.Fatalf("reset request: %d %s", r.status, r.body)
	}
	msg := f.smtp.Wait(t, 1)[0]
	link := f.linkPath(t, msg, "reset")
	if r := f.do(t, http.MethodGet, link, ""); r.status != http.StatusOK || r.env.Response.Status != "valid" {
		t.Fatalf("GET reset link: %d %s", r.status, r.body)
	}
	if r := f.post(t, link, jsonBody("password", "short")); r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["password"]) != 1 {
		t.Fatalf("short password: %d %s", r.status, r.body)
	}
	if r := f.post(t, link, jsonBody("password", "brand new password", "password_confirm", "brand new passwort")); r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["password_confirm"]) != 1 {
		t.Fatalf("mismatched confirmation: %d %s", r.status, r.body)
	}
	r := f.post(t, link, jsonBody("password", "brand new password", "password_confirm", "brand new password"))
	if r.status != http.StatusOK || r.env.Response.User == nil || r.env.Response.User.Token == "" {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if got := f.protected(t, r.env.Response.User.Token); got != http.StatusOK {
		t.Errorf("the token the reset answered: %d", got)
	}
	if got := f.protected(t, oldTok); got != http.StatusUnauthorized {
		t.Errorf("a token from before the reset: %d, want 401", got)
	}
	if again := f.post(t, link, jsonBody("password", "another new password")); again.status != http.StatusBadRequest {
		t.Errorf("the reset link used twice: %d %s", again.status, again.body)
	}
	if again := f.do(t, http.MethodGet, link, ""); again.status != http.StatusBadRequest || again.env.Response.Status != "invalid" {
		t.Errorf("GET the used reset link: %d %s", again.status, again.body)
	}
	if status, _ := f.login(t, "user@example.com", "user-password"); status != http.StatusBadRequest {
		t.Errorf("login with the old password: %d", status)
	}
	if status, _ := f.login(t, "user@example.com", "brand new password"); status != http.StatusOK {
		t.Errorf("login with the new password: %d", status)
	}
	if notice := f.smtp.Wait(t, 2)[1]; notice.Subject != "Your password was reset" {
		t.Errorf("second message %q, want the reset notice", notice.Subject)
	}
}

func TestChangePassword(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) { c.Throttle = ThrottleConfig{FreeAttempts: 5} })
	_, tok := f.login(t, "user@example.com", "user-password")
	_, other := f.login(t, "user@example.com", "user-password")
	auth := []string{"Authentication-Token", tok}
	if r := f.post(t, "/change", jsonBody("password", "user-password", "new_password", "changed password")); r.status != http.StatusUnauthorized {
		t.Errorf("change without a token: %d", r.status)
	}
	r := f.post(t, "/change", jsonBody("password", "wrong-password", "new_password", "changed password"), auth...)
	if r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["password"]) != 1 {
		t.Fatalf("wrong current password: %d %s", r.status, r.body)
	}
	r = f.post(t, "/change", jsonBody("password", "user-password", "new_password", "user-password"), auth...)
	if r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["new_password"]) != 1 {
		t.Fatalf("the same password: %d %s", r.status, r.body)
	}
	r = f.post(t, "/change", jsonBody("password", "user-password", "new_password", "changed password", "new_password_confirm", "changed password"), auth...)
	if r.status != http.StatusOK || r.env.Response.User == nil || r.env.Response.User.Token == "" {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if f.protected(t, r.env.Response.User.Token) != http.StatusOK || f.protected(t, other) != http.StatusUnauthorized {
		t.Error("after the change the new token must work and the other session's must not")
	}
	if status, _ := f.login(t, "user@example.com", "changed password"); status != http.StatusOK {
		t.Errorf("login with the changed password: %d", status)
	}
	if notice := f.smtp.Wait(t, 1)[0]; notice.Subject != "Your password was changed" || notice.To[0] != "user@example.com" {
		t.Errorf("notice %q to %v", notice.Subject, notice.To)
	}
}

func TestChangeEmail(t *testing.T) {
	f := newAccountFixture(t, nil)
	_, tok := f.login(t, "user@example.com", "user-password")
	auth := []string{"Authentication-Token", tok}
	if r := f.post(t, "/change-email", jsonBody("email", "not an address"), auth...); r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["email"]) != 1 {
		t.Fatalf("bad address: %d %s", r.status, r.body)
	}
	if r := f.post(t, "/change-email", jsonBody("email", "moved@example.com"), auth...); r.status != http.StatusOK {
		t.Fatalf("change-email: %d %s", r.status, r.body)
	}
	msg := f.smtp.Wait(t, 1)[0]
	if msg.To[0] != "moved@example.com" {
		t.Fatalf("link sent to %v, want the new address", msg.To)
	}
	link := f.linkPath(t, msg, "change-email")
	if r := f.do(t, http.MethodGet, link, ""); r.status != http.StatusOK || r.env.Response.Status != "changed" {
		t.Fatalf("change-email link: %d %s", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, link, ""); r.status != http.StatusBadRequest {
		t.Errorf("the link again: %d %s", r.status, r.body)
	}
	if status, _ := f.login(t, "moved@example.com", "user-password"); status != http.StatusOK {
		t.Errorf("login with the new address: %d", status)
	}
	if notice := f.smtp.Wait(t, 2)[1]; notice.To[0] != "user@example.com" || !strings.Contains(notice.Text, "moved@example.com") {
		t.Errorf("notice to %v: %q", notice.To, notice.Text)
	}

	// A link to an address another account took meanwhile fails.
	_, tok = f.login(t, "admin@example.com", "admin-password")
	f.post(t, "/change-email", jsonBody("email", "colon@example.com"), "Authentication-Token", tok)
	link = f.linkPath(t, f.smtp.Wait(t, 3)[2], "change-email")
	if r := f.do(t, http.MethodGet, link, ""); r.status != http.StatusBadRequest || r.env.Response.Status != "invalid" {
		t.Errorf("a link to a taken address: %d %s", r.status, r.body)
	}
}

// TestLinkTokensArePurposeBound uses each kind of token where another is
// expected: none is accepted.
func TestLinkTokensArePurposeBound(t *testing.T) {
	f := newAccountFixture(t, nil)
	u, _ := f.store.UserByID(context.Background(), idUnconfirmed)
	tokens := map[string]string{"login": tokenOf(t, f.m, f.store, idUnconfirmed)}
	for _, p := range []string{purposeConfirm, purposeReset, purposeChangeEmail} {
		email := ""
		if p == purposeChangeEmail {
			email = "elsewhere@example.com"
		}
		tok, err := f.m.accounts.links.MakeLinkToken(context.Background(), p, u, email)
		if err != nil {
			t.Fatal(err)
		}
		tokens[p] = tok
	}
	for kind, tok := range tokens {
		for _, route := range []string{purposeConfirm, purposeReset, purposeChangeEmail} {
			if kind == route {
				continue
			}
			r := f.do(t, http.MethodGet, "/"+route+"/"+url.PathEscape(tok), "")
			if r.status != http.StatusBadRequest || r.env.Response.Status != "invalid" {
				t.Errorf("a %s token at /%s/: %d %s", kind, route, r.status, r.body)
			}
		}
		if kind != "login" && f.protected(t, tok) != http.StatusUnauthorized {
			t.Errorf("a %s link token accepted as a login token", kind)
		}
	}
	if u, _ := f.store.UserByID(context.Background(), idUnconfirmed); u.Confirmed || u.Email != "unconfirmed@example.com" {
		t.Errorf("the user changed: %+v", u)
	}
}

func TestConfirmLinkExpired(t *testing.T) {
	f := newAccountFixture(t, nil)
	clock := setClock(f.m, seedClock)
	f.post(t, "/confirm", jsonBody("email", "unconfirmed@example.com"))
	link := f.linkPath(t, f.smtp.Wait(t, 1)[0], "confirm")
	clock.t = clock.t.Add(5*24*time.Hour + time.Second)
	r := f.do(t, http.MethodGet, link, "")
	if r.status != http.StatusBadRequest || r.env.Response.Status != "expired" {
		t.Fatalf("expired link: %d %s", r.status, r.body)
	}
	fresh := f.linkPath(t, f.smtp.Wait(t, 2)[1], "confirm")
	if r := f.do(t, http.MethodGet, fresh, ""); r.status != http.StatusOK || r.env.Response.Status != "confirmed" {
		t.Errorf("the fresh link: %d %s", r.status, r.body)
	}
}

func TestConfirmLinkDiesWithEmailChange(t *testing.T) {
	f := newAccountFixture(t, nil)
	f.post(t, "/confirm", jsonBody("email", "unconfirmed@example.com"))
	link := f.linkPath(t, f.smtp.Wait(t, 1)[0], "confirm")
	setUser(t, f.store, idUnconfirmed, func(u *User) { u.Email = "someone-else@example.com" })
	if r := f.do(t, http.MethodGet, link, ""); r.status != http.StatusBadRequest || r.env.Response.Status != "invalid" {
		t.Errorf("a confirmation link for the old address: %d %s", r.status, r.body)
	}
}

func TestAccountRedirects(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) {
		c.Account.ConfirmRedirect = "/confirmed"
		c.Account.ResetRedirect = "https://spa.example.com/reset"
	})
	f.post(t, "/confirm", jsonBody("email", "unconfirmed@example.com"))
	r := f.do(t, http.MethodGet, f.linkPath(t, f.smtp.Wait(t, 1)[0], "confirm"), "")
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc.Path != "/confirmed" || loc.Query().Get("status") != "confirmed" || loc.Query().Get("info") == "" {
		t.Errorf("confirmation redirect: %d %s", r.status, loc)
	}
	f.post(t, "/reset", jsonBody("email", "user@example.com"))
	link := f.linkPath(t, f.smtp.Wait(t, 2)[1], "reset")
	r = f.do(t, http.MethodGet, link, "")
	loc, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc.Host != "spa.example.com" || loc.Query().Get("token") != strings.TrimPrefix(link, "/reset/") {
		t.Errorf("reset redirect: %d %s", r.status, loc)
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("Referrer-Policy %q", r.header.Get("Referrer-Policy"))
	}
	r = f.do(t, http.MethodGet, "/reset/not-a-token", "")
	loc, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc.Query().Get("status") != "invalid" || loc.Query().Get("error") == "" || loc.Query().Has("token") {
		t.Errorf("invalid reset link redirect: %d %s", r.status, loc)
	}
}

func TestAccountFormPosts(t *testing.T) {
	f := newAccountFixture(t, nil)
	body := url.Values{"email": {"form@example.com"}, "password": {"a form password"}, "next": {"/welcome"}}.Encode()
	r := f.post(t, "/register", body, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html",
		"Origin", f.srv.URL, "Referer", f.srv.URL+"/register-page")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/welcome?status=registered" {
		t.Errorf("form register: %d %q", r.status, r.header.Get("Location"))
	}
	body = url.Values{"email": {"form2@example.com"}, "password": {"short"}, "next": {"/welcome"}}.Encode()
	r = f.post(t, "/register", body, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html",
		"Origin", f.srv.URL, "Referer", f.srv.URL+"/register-page")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/register-page?error=password&next=%2Fwelcome" {
		t.Errorf("form register with a short password: %d %q", r.status, r.header.Get("Location"))
	}
	r = f.post(t, "/register", body, "Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example")
	if r.status != http.StatusForbidden {
		t.Errorf("cross-origin form register: %d", r.status)
	}
	// A failed reset form goes back to its page with the page's token.
	body = url.Values{"password": {"short"}}.Encode()
	r = f.post(t, "/reset/some-token", body, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html",
		"Origin", f.srv.URL, "Referer", f.srv.URL+"/reset-page?token=T&error=password")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/reset-page?error=link&token=T" {
		t.Errorf("failed reset form: %d %q", r.status, r.header.Get("Location"))
	}
	// A next with a fragment gets the status before it.
	body = url.Values{"email": {"frag@example.com"}, "password": {"a form password"}, "next": {"/welcome#top"}}.Encode()
	r = f.post(t, "/register", body, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html",
		"Origin", f.srv.URL, "Referer", f.srv.URL+"/register-page")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/welcome?status=registered#top" {
		t.Errorf("form register with a fragment in next: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestAccountBadRequests(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) { c.MaxBodyBytes = 512 })
	for _, c := range []struct {
		method, path, body, ctype string
		status                    int
		field                     string
	}{
		{"POST", "/register", `{"password":"long enough password"}`, "application/json", 400, "email"},
		{"POST", "/register", `{"email":"a@example.com"}`, "application/json", 400, "password"},
		{"POST", "/register", `{"email":"a@example.com","password":"short"}`, "application/json", 400, "password"},
		{"POST", "/register", `{"email":"Alice <a@example.com>","password":"long enough password"}`, "application/json", 400, "email"},
		{"POST", "/register", `{"email":"a@example.com","password":"long enough password","password_confirm":"other"}`, "application/json", 400, "password_confirm"},
		{"POST", "/register", `{"email":1}`, "application/json", 400, ""},
		{"POST", "/register", `{"email":"a@example.com","email":"b@example.com"}`, "application/json", 400, ""},
		{"POST", "/register", `[]`, "application/json", 400, ""},
		{"POST", "/register", `{"email":"` + strings.Repeat("a", 600) + `"}`, "application/json", 413, ""},
		{"POST", "/register", `email=a`, "text/plain", 415, ""},
		{"GET", "/register", ``, "", 405, ""},
		{"POST", "/confirm/abc", `{}`, "application/json", 405, ""},
		{"DELETE", "/reset/abc", ``, "", 405, ""},
		{"POST", "/reset", `{}`, "application/json", 400, "email"},
		{"GET", "/nowhere", ``, "", 404, ""},
		{"GET", "/confirm/a/b", ``, "", 404, ""},
		{"POST", "/change-email", `{"email":"x@example.com"}`, "application/json", 401, ""},
	} {
		var hdr []string
		if c.ctype != "" {
			hdr = []string{"Content-Type", c.ctype}
		}
		r := f.do(t, c.method, c.path, c.body, hdr...)
		if r.status != c.status || r.env.Meta.Code != c.status {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, r.status, r.body, c.status)
			continue
		}
		if c.field != "" && len(r.env.Response.FieldErrors[c.field]) == 0 {
			t.Errorf("%s %s %s: no field error for %s: %s", c.method, c.path, c.body, c.field, r.body)
		}
		if c.status >= 400 && len(r.env.Response.Errors) == 0 {
			t.Errorf("%s %s: no errors in %s", c.method, c.path, r.body)
		}
		checkNoLeak(t, r.body)
	}
}

func TestAccountSendLimit(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) { c.Throttle = ThrottleConfig{FreeAttempts: 5} })
	for i := 0; i < sendLimitTo.Free; i++ {
		if r := f.post(t, "/reset", jsonBody("email", "user@example.com")); r.status != http.StatusOK {
			t.Fatalf("reset request %d: %d", i+1, r.status)
		}
		if r := f.post(t, "/reset", jsonBody("email", "nobody@example.com")); r.status != http.StatusOK {
			t.Fatalf("reset request %d for an unknown email: %d", i+1, r.status)
		}
	}
	known := f.post(t, "/reset", jsonBody("email", "user@example.com"))
	unknown := f.post(t, "/reset", jsonBody("email", "nobody@example.com"))
	if known.status != http.StatusTooManyRequests || known.header.Get("Retry-After") == "" {
		t.Errorf("reset request over the limit: %d, Retry-After %q", known.status, known.header.Get("Retry-After"))
	}
	sameAnswer(t, "over the limit", known, unknown)
	f.smtp.Wait(t, sendLimitTo.Free)
	time.Sleep(50 * time.Millisecond)
	if n := len(f.smtp.Messages()); n != sendLimitTo.Free {
		t.Errorf("%d messages, want %d", n, sendLimitTo.Free)
	}
}

func TestAccountMailFailure(t *testing.T) {
	logs := &lockedBuffer{}
	f := newAccountFixture(t, func(c *Config) {
		mailer, err := smtpmail.New(smtpmail.Config{Addr: smtptest.Silent(t), From: "auth@example.com", Security: smtpmail.Insecure, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c.Account.Mailer = mailer
		c.Logger = newTextLogger(logs)
	})
	if r := f.post(t, "/reset", jsonBody("email", "user@example.com")); r.status != http.StatusOK {
		t.Fatalf("reset with a mail server that never answers: %d", r.status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(f.audit.String(), EventMailFailed) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(f.audit.String(), EventMailFailed) || !strings.Contains(logs.String(), "cannot send mail") {
		t.Fatalf("the failure was not reported:\naudit: %s\nlog: %s", f.audit, logs)
	}
	if strings.Contains(logs.String(), "user@example.com") || strings.Contains(f.audit.String(), "user@example.com") {
		t.Error("the address reached the logs")
	}
}

func TestAccountHandlerWithoutMailer(t *testing.T) {
	m, _ := newSeeded(t, Config{})
	rec := serve(m.AccountHandler(), httptest.NewRequest(http.MethodPost, "/register", strings.NewReader(`{}`)))
	if rec.Code != http.StatusNotImplemented {
		t.Errorf("without a Mailer: %d", rec.Code)
	}
	for _, c := range []AccountConfig{
		{Mailer: mailFunc(nil)},
		{Mailer: mailFunc(nil), BaseURL: "/auth"},
		{Mailer: mailFunc(nil), BaseURL: "ftp://example.com/auth"},
		{BaseURL: "https://example.com/auth"},
		{Mailer: mailFunc(nil), BaseURL: "https://example.com/auth", Templates: badTemplates{}},
	} {
		if _, err := New(NewMemoryStore(), seededKey, Config{Account: c}); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
	if _, err := New(readOnlyStore{NewMemoryStore()}, seededKey, Config{Account: AccountConfig{Mailer: mailFunc(nil), BaseURL: "https://example.com/auth"}}); err == nil {
		t.Error("New accepted the account handler over a read-only store")
	}
}

// TestBreachedPassword refuses a password that package pwned's client
// finds in a local server speaking the Pwned Passwords range protocol, and
// accepts any when that server fails.
func TestBreachedPassword(t *testing.T) {
	sum := sha1.Sum([]byte("password1234"))
	hexSum := strings.ToUpper(hex.EncodeToString(sum[:]))
	var down atomic.Bool
	ranges := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/range/"+hexSum[:5] {
			io.WriteString(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n"+hexSum[5:]+":42\r\n")
			return
		}
		io.WriteString(w, "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n")
	}))
	t.Cleanup(ranges.Close)
	f := newAccountFixture(t, func(c *Config) { c.Password.Breached = &pwned.Client{BaseURL: ranges.URL} })
	r := f.post(t, "/register", jsonBody("email", "b@example.com", "password", "password1234"))
	if r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["password"]) != 1 {
		t.Errorf("breached password: %d %s", r.status, r.body)
	}
	if r := f.post(t, "/register", jsonBody("email", "c@example.com", "password", "not in any list 7Yq")); r.status != http.StatusOK {
		t.Errorf("a password the range lacks: %d %s", r.status, r.body)
	}
	down.Store(true)
	if r := f.post(t, "/register", jsonBody("email", "b@example.com", "password", "password1234")); r.status != http.StatusOK {
		t.Errorf("with the range server down: %d %s", r.status, r.body)
	}
}

// mailFunc is a Mailer of a function, for tests that never send.
type mailFunc func(context.Context, *mail.Message) error

func (f mailFunc) Send(ctx context.Context, m *mail.Message) error { return f(ctx, m) }

// badTemplates has a confirm template that does not parse.
type badTemplates struct{}

func (badTemplates) Open(name string) (fs.File, error) {
	if name == "confirm.txt" {
		return fstest.MapFS{"confirm.txt": {Data: []byte(`{{define "subject"}}{{.Nope`)}}.Open(name)
	}
	return nil, fs.ErrNotExist
}

// newTextLogger logs text records into b.
func newTextLogger(b *lockedBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestAccountStoreFailure answers 503 with Retry-After, never 500 or a
// success, when the store cannot be written.
func TestAccountStoreFailure(t *testing.T) {
	f := newAccountFixture(t, nil)
	f.post(t, "/confirm", jsonBody("email", "unconfirmed@example.com"))
	confirm := f.linkPath(t, f.smtp.Wait(t, 1)[0], "confirm")
	f.post(t, "/reset", jsonBody("email", "user@example.com"))
	reset := f.linkPath(t, f.smtp.Wait(t, 2)[1], "reset")

	// The same key over the same users, with writes failing.
	broken := newManagerWithKey(t, brokenUpdater{f.store}, seededKey, Config{
		Account: AccountConfig{Mailer: mailFunc(func(context.Context, *mail.Message) error { return nil }), BaseURL: f.base},
	})
	h := broken.AccountHandler()
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, confirm, ""},
		{http.MethodPost, reset, jsonBody("password", "a new long password")},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		rec := serve(h, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s %s with the store failing: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
		checkNoLeak(t, rec.Body.String())
	}
}

// TestRegisterSkipConfirmation: the new user is confirmed and answered with
// a working token, no mail is sent, and a taken email gets a field error.
func TestRegisterSkipConfirmation(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) { c.Account.SkipConfirmation = true; c.Account.Roles = []string{"reader"} })
	r := f.post(t, "/register", jsonBody("email", "quick@example.com", "password", "a quick password"))
	if r.status != http.StatusOK || r.env.Response.User == nil || r.env.Response.User.Token == "" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if f.protected(t, r.env.Response.User.Token) != http.StatusOK {
		t.Error("the token the registration answered does not work")
	}
	u, err := f.store.UserByEmail(context.Background(), "quick@example.com")
	if err != nil || !u.Confirmed || !u.HasRole("reader") {
		t.Errorf("stored %+v, %v: want confirmed with role reader", u, err)
	}
	if r := f.post(t, "/register", jsonBody("email", "USER@example.com", "password", "a quick password")); r.status != http.StatusBadRequest || len(r.env.Response.FieldErrors["email"]) != 1 {
		t.Errorf("a taken email: %d %s", r.status, r.body)
	}
	time.Sleep(50 * time.Millisecond) // a message that should not come would arrive by now
	if n := len(f.smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}
