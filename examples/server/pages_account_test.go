package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/mail/smtpmail"
	"github.com/authkit/auth/passhash"
)

// newAccountApp serves the application's routes with the server's
// configuration over a seeded store, the account handler mailing through
// a real SMTP server. It returns the app's URL.
func newAccountApp(t *testing.T) (string, *auth.MemoryStore, *smtptest.Server) {
	t.Helper()
	smtp := smtptest.Start(t, smtptest.Config{})
	mailer, err := smtpmail.New(smtpmail.Config{Addr: smtp.Addr, From: "auth@example.com", Security: smtpmail.Insecure})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg, err := serverConfig(func(string) string { return "" }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}
	cfg.Account = accountConfig(mailer, base)
	cfg.Refresh = nativeRefresh()
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("example server test secret, 32 b"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(context.Background(), m, store); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = routes(m)
	srv.Start()
	t.Cleanup(srv.Close)
	return base, store, smtp
}

// pagePost posts form to the action as the page's form does in a browser:
// url-encoded, with the Origin and Referer of the page and a browser's
// Accept. An empty page sends neither header.
func pagePost(t *testing.T, base, page, action string, form url.Values, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	if page != "" {
		req.Header.Set("Origin", base)
		req.Header.Set("Referer", base+page)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := noRedirect(base).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// wantRedirect fails the test unless resp is a 303 to location.
func wantRedirect(t *testing.T, what string, resp *http.Response, location string) {
	t.Helper()
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != location {
		t.Fatalf("%s: %d to %q, want 303 to %q", what, resp.StatusCode, got, location)
	}
}

// csrfTokenIn is the value of the csrf_token field of the page.
func csrfTokenIn(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `name="csrf_token" value="`)
	token, _, _ := strings.Cut(rest, `"`)
	if !ok || token == "" {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return token
}

// showPage fetches the page as a browser with cookie and fails the test
// unless it answers 200 with every text of want.
func showPage(t *testing.T, u, cookie string, want ...string) string {
	t.Helper()
	resp, page := get(t, u, browserAccept, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, want 200", u, resp.StatusCode)
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("GET %s lacks %q:\n%s", u, w, page)
		}
	}
	return page
}

// TestAccountPagesServed: every account page answers HTML under the
// pages' headers, its form posting to the account handler with a CSRF
// token and its next page; the pages of a logged-in user send others to
// the login form.
func TestAccountPagesServed(t *testing.T) {
	base, _, _ := newAccountApp(t)
	cookie := browserLogin(t, base)
	for _, tt := range []struct {
		path, cookie string
		want         []string
	}{
		{path: "/register", want: []string{`action="/auth/register"`, `name="next" value="/check-mail/confirm"`, `name="password_confirm"`, `href="/login"`}},
		{path: "/check-mail/confirm", want: []string{"Check your mail", `action="/auth/confirm"`, `name="next" value="/check-mail/confirm"`}},
		{path: "/check-mail/reset", want: []string{"Check your mail", `href="/forgot-password"`}},
		{path: "/check-mail/change-email", want: []string{"Check your mail", `href="/account"`}},
		{path: "/forgot-password", want: []string{`action="/auth/reset"`, `name="next" value="/check-mail/reset"`}},
		{path: "/reset-password", want: []string{"Open the link we mailed you", `href="/forgot-password"`}},
		{path: "/reset-password/a-token.x", want: []string{`action="/auth/reset/a-token.x"`, `name="next" value="/login"`}},
		{path: "/confirmed?status=confirmed", want: []string{"your email address is confirmed", `href="/login"`}},
		{path: "/email-changed?status=changed", want: []string{"Your email address has been changed", `href="/account"`}},
		{path: "/change-password", cookie: cookie, want: []string{`action="/auth/change"`, `name="new_password_confirm"`, `name="next" value="/account"`}},
		{path: "/change-email", cookie: cookie, want: []string{`action="/auth/change-email"`, "test@example.com", `name="next" value="/check-mail/change-email"`}},
		{path: "/login", want: []string{`href="/register"`, `href="/forgot-password"`}},
		{path: "/account", cookie: cookie, want: []string{`href="/change-password"`, `href="/change-email"`}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, page := get(t, base+tt.path, browserAccept, tt.cookie)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
				!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self'") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d, headers %v", resp.StatusCode, resp.Header)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("lacks %q:\n%s", w, page)
				}
			}
			if strings.Contains(page, "<form") {
				csrfTokenIn(t, page)
			}
		})
	}
	for _, path := range []string{"/change-password", "/change-email"} {
		resp, _ := get(t, base+path, browserAccept, "")
		wantRedirect(t, path+" without a session", resp, "/login?next="+url.QueryEscape(path))
	}
	if resp, _ := get(t, base+"/check-mail/other", browserAccept, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/check-mail/other: %d, want 404", resp.StatusCode)
	}
}

// TestAccountPageTexts: the pages show their own text for each status and
// error code in the query, and never the query's own text.
func TestAccountPageTexts(t *testing.T) {
	base, _, _ := newAccountApp(t)
	cookie := browserLogin(t, base)
	for _, tt := range []struct {
		path, cookie string
		want, not    string
	}{
		{path: "/register?error=password", want: passwordError},
		{path: "/register?error=password_confirm", want: retypeError},
		{path: "/register?error=email", want: emailError},
		{path: "/register?error=throttled", want: commonErrors["throttled"]},
		{path: "/register?error=origin", want: csrfErrors["origin"]},
		{path: "/register?error=%3Cb%3Ehi%3C%2Fb%3E", want: "Something went wrong.", not: "<b>hi"},
		{path: "/check-mail/confirm?status=registered", want: "Open the link in it to confirm your account"},
		{path: "/check-mail/confirm?status=sent", want: "we sent it a new link"},
		{path: "/check-mail/confirm?error=email", want: emailError},
		{path: "/check-mail/reset?status=sent", want: "a link to choose a new password"},
		{path: "/check-mail/change-email?status=sent", want: "We sent a link to the new address."},
		{path: "/forgot-password?error=unavailable", want: commonErrors["unavailable"]},
		{path: "/reset-password?status=expired", want: "This link has expired. We sent you a new one."},
		{path: "/reset-password?status=invalid&error=Call+0800+now", want: "This link is not valid any more.", not: "0800"},
		{path: "/reset-password/t?error=link", want: commonErrors["link"]},
		{path: "/reset-password/t?error=password", want: passwordError},
		{path: "/confirmed?status=already-confirmed", want: "confirmed already"},
		{path: "/confirmed?status=expired&error=Wire+money", want: "We sent you a new one.", not: "Wire money"},
		{path: "/confirmed?status=invalid", want: "Send the confirmation link again"},
		{path: "/confirmed?status=confirmed&info=Call+0800+now", want: "your email address is confirmed", not: "0800"},
		{path: "/confirmed", want: "Open the link we mailed you."},
		{path: "/email-changed?status=invalid", want: "another account has that address"},
		{path: "/email-changed?status=expired", want: "Ask for the change again."},
		{path: "/change-password?error=password", cookie: cookie, want: "The current password is wrong."},
		{path: "/change-password?error=new_password", cookie: cookie, want: "other than the current one"},
		{path: "/change-password?error=csrf", cookie: cookie, want: csrfErrors["csrf"]},
		{path: "/change-email?error=email", cookie: cookie, want: "other than the current one"},
		{path: "/account?status=changed", cookie: cookie, want: accountStatuses["changed"]},
		{path: "/login?status=reset", want: loginStatuses["reset"]},
	} {
		t.Run(tt.path, func(t *testing.T) {
			page := showPage(t, base+tt.path, tt.cookie, templateEscape(tt.want))
			if tt.not != "" && strings.Contains(page, tt.not) {
				t.Errorf("shows %q from the query:\n%s", tt.not, page)
			}
		})
	}
	// A valid reset link's token goes into the form's path.
	resp, _ := get(t, base+"/reset-password?status=valid&info=x&token=WyI0Il0.aw.x-y_z", browserAccept, "")
	wantRedirect(t, "the reset page with a valid token", resp, "/reset-password/WyI0Il0.aw.x-y_z")
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the redirect of a URL with a token: headers %v", resp.Header)
	}
}

// TestAccountForms drives every form as a browser without script would,
// with the real account handler behind: field errors bring the browser
// back to the page with its error, success leads to the next page, and
// the links mailed lead to the pages.
func TestAccountForms(t *testing.T) {
	base, store, smtp := newAccountApp(t)
	const email = "form@example.com"

	// Registration.
	reg, page := get(t, base+"/register", browserAccept, "")
	anon := cookieHeader(reg)
	form := url.Values{"csrf_token": {csrfTokenIn(t, page)}, "next": {"/check-mail/confirm"}, "email": {email}}
	form.Set("password", "short")
	wantRedirect(t, "a short password", pagePost(t, base, "/register", "/auth/register", form, anon), "/register?error=password&next=%2Fcheck-mail%2Fconfirm")
	form.Set("password", "a password for the form")
	form.Set("password_confirm", "another password")
	resp := pagePost(t, base, "/register", "/auth/register", form, anon)
	wantRedirect(t, "passwords that differ", resp, "/register?error=password_confirm&next=%2Fcheck-mail%2Fconfirm")
	showPage(t, base+resp.Header.Get("Location"), anon, retypeError, `aria-invalid="true"`)
	form.Set("password_confirm", "a password for the form")
	resp = pagePost(t, base, "/register", "/auth/register", form, anon)
	wantRedirect(t, "register", resp, "/check-mail/confirm?status=registered")
	showPage(t, base+resp.Header.Get("Location"), anon, "Open the link in it to confirm your account")

	// The confirmation link.
	msg := smtp.Wait(t, 1)[0]
	loc := redirectOf(t, smtptest.LinkIn(t, msg.Text, base+"/auth/confirm/"))
	showPage(t, base+loc.String(), "", "your email address is confirmed")
	if u, _ := store.UserByEmail(context.Background(), email); u == nil || !u.Confirmed {
		t.Fatalf("after the link: %+v", u)
	}

	// Change password, logged in.
	login := formPost(t, base+"/login", url.Values{"email": {email}, "password": {"a password for the form"}}, "")
	wantRedirect(t, "login", login, "/account")
	session := cookieHeader(login)
	page = showPage(t, base+"/change-password", session)
	change := url.Values{"next": {"/account"}, "password": {"wrong password"}, "new_password": {"a changed password"}}
	wantRedirect(t, "change without the CSRF token", pagePost(t, base, "/change-password", "/auth/change", change, session), "/change-password?error=csrf")
	change.Set("csrf_token", csrfTokenIn(t, page))
	resp = pagePost(t, base, "/change-password", "/auth/change", change, session)
	wantRedirect(t, "a wrong current password", resp, "/change-password?error=password&next=%2Faccount")
	showPage(t, base+resp.Header.Get("Location"), session, "The current password is wrong.")
	change.Set("password", "a password for the form")
	change.Set("new_password_confirm", "a changed password")
	resp = pagePost(t, base, "/change-password", "/auth/change", change, session)
	wantRedirect(t, "change", resp, "/account?status=changed")
	session = cookieHeader(resp)
	if session == "" {
		t.Fatal("the change set no new session cookie")
	}
	showPage(t, base+"/account?status=changed", session, accountStatuses["changed"], email)
	if notice := smtp.Wait(t, 2)[1]; notice.Subject != "Your password was changed" {
		t.Errorf("after the change: message %q", notice.Subject)
	}

	// Change email, logged in.
	page = showPage(t, base+"/change-email", session, email)
	ce := url.Values{"csrf_token": {csrfTokenIn(t, page)}, "next": {"/check-mail/change-email"}, "email": {email}}
	wantRedirect(t, "the same email", pagePost(t, base, "/change-email", "/auth/change-email", ce, session), "/change-email?error=email&next=%2Fcheck-mail%2Fchange-email")
	ce.Set("email", "moved@example.com")
	resp = pagePost(t, base, "/change-email", "/auth/change-email", ce, session)
	wantRedirect(t, "change email", resp, "/check-mail/change-email?status=sent")
	msg = smtp.Wait(t, 3)[2]
	if msg.To[0] != "moved@example.com" {
		t.Fatalf("the change link went to %v", msg.To)
	}
	loc = redirectOf(t, smtptest.LinkIn(t, msg.Text, base+"/auth/change-email/"))
	showPage(t, base+loc.String(), "", "Your email address has been changed")

	// Forgot password, then the reset form.
	page = showPage(t, base+"/forgot-password", "")
	forgot := url.Values{"csrf_token": {csrfTokenIn(t, page)}, "next": {"/check-mail/reset"}, "email": {"moved@example.com"}}
	wantRedirect(t, "forgot password", pagePost(t, base, "/forgot-password", "/auth/reset", forgot, ""), "/check-mail/reset?status=sent")
	var resetMsg smtptest.Received
	for _, m := range smtp.Wait(t, 5) { // the reset link, and the old address's notice of the change
		if m.Subject == "Reset your password" {
			resetMsg = m
		}
	}
	if resetMsg.To == nil || resetMsg.To[0] != "moved@example.com" {
		t.Fatalf("no reset link to moved@example.com in %+v", smtp.Messages())
	}
	loc = redirectOf(t, smtptest.LinkIn(t, resetMsg.Text, base+"/auth/reset/"))
	formURL := redirectOf(t, base+loc.String()).String()
	fetched, page := get(t, base+formURL, browserAccept, "")
	anon = cookieHeader(fetched)
	reset := url.Values{"csrf_token": {csrfTokenIn(t, page)}, "next": {"/login"}, "password": {"the reset password"}, "password_confirm": {"not the same"}}
	action := "/auth/reset/" + strings.TrimPrefix(formURL, resetPage+"/")
	resp = pagePost(t, base, formURL, action, reset, anon)
	wantRedirect(t, "reset with passwords that differ", resp, formURL+"?error=password_confirm&next=%2Flogin")
	showPage(t, base+resp.Header.Get("Location"), anon, retypeError, `action="`+action+`"`)
	reset.Set("password_confirm", "the reset password")
	resp = pagePost(t, base, formURL, action, reset, anon)
	wantRedirect(t, "reset", resp, "/login?status=reset")
	showPage(t, base+"/login?status=reset", "", loginStatuses["reset"])
	wantRedirect(t, "the reset link used again", pagePost(t, base, formURL, action, reset, anon), formURL+"?error=link&next=%2Flogin")
	wantRedirect(t, "login with the reset password",
		formPost(t, base+"/login", url.Values{"email": {"moved@example.com"}, "password": {"the reset password"}}, ""), "/account")
}

// TestAccountFormsCSRF: an anonymous form post that sends neither Origin
// nor Referer needs the page's login CSRF token and cookie; one from
// another origin is refused. A refused browser comes back to its page with
// the reason; an API client gets the library's 403.
func TestAccountFormsCSRF(t *testing.T) {
	base, _, smtp := newAccountApp(t)
	page, html := get(t, base+"/forgot-password", browserAccept, "")
	token, cookie := csrfTokenIn(t, html), cookieHeader(page)
	form := url.Values{"next": {"/check-mail/reset"}, "email": {"test@example.com"}}
	wantRedirect(t, "no token, no Origin", pagePost(t, base, "", "/auth/reset", form, cookie), "/forgot-password?error=csrf")
	form.Set("csrf_token", token)
	wantRedirect(t, "the token without its cookie", pagePost(t, base, "", "/auth/reset", form, ""), "/forgot-password?error=csrf")

	req, _ := http.NewRequest(http.MethodPost, base+"/auth/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	req.Header.Set("Origin", "http://evil.example")
	resp, err := noRedirect(base).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantRedirect(t, "another origin", resp, "/register?error=origin")
	req, _ = http.NewRequest(http.MethodPost, base+"/auth/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another origin, an API client: %d, want 403", resp.StatusCode)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent for refused posts", n)
	}

	wantRedirect(t, "the token and its cookie", pagePost(t, base, "", "/auth/reset", form, cookie), "/check-mail/reset?status=sent")
	smtp.Wait(t, 1)
}

func TestFormPage(t *testing.T) {
	for path, want := range map[string]string{
		"/auth/register":     "/register",
		"/auth/confirm":      "/check-mail/confirm",
		"/auth/reset":        "/forgot-password",
		"/auth/reset/a.b-c":  "/reset-password/a.b-c",
		"/auth/reset/a b":    "/reset-password/a%20b",
		"/auth/reset/a/b":    "",
		"/auth/change":       "/change-password",
		"/auth/change-email": "/change-email",
		"/auth/confirm/tok":  "",
		"/auth/nowhere":      "",
		"/auth/":             "",
	} {
		if got := formPage(path); got != want {
			t.Errorf("formPage(%q) = %q, want %q", path, got, want)
		}
	}
}
