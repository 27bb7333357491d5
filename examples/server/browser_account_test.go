package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/smtptest"
)

// TestBrowserAccount goes, in the real browser of TestBrowser, from
// nothing to a confirmed account and through every account page: it
// registers on the HTML page, opens the confirmation link from the message
// the server mailed to a real SMTP server, logs in, makes a personal access
// token and revokes it, changes the password
// and the email address, logs out, uses "forgot password", opens the reset
// link, sets a new password and logs in with it. It saves a screenshot of
// each page, and with AUTH_UPDATE_SCREENSHOTS=docs rewrites the docs'
// register.png, check-mail.png, confirmed.png, change-password.png,
// change-email.png, forgot-password.png and reset-password.png.
func TestBrowserAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium, driver := browserBinaries(t)
	shots := artifactDir(t)
	t.Logf("screenshots in %s", shots)
	smtp := smtptest.Start(t, smtptest.Config{})
	app, _ := startServer(t, accountEnv(), "-db", filepath.Join(t.TempDir(), "auth.db"),
		"-smtp", smtp.Addr, "-smtp-security", "insecure")
	wd := newWebDriver(t, driver, chromium)
	const (
		email, password = "sam@example.com", "sam's first password"
		changed, reset  = "sam's second password", "sam's third password"
		newEmail        = "samuel@example.com"
	)
	submit := func() { wd.click(wd.find("css selector", "main form button[type=submit]")) }
	link := func(text string) { wd.click(wd.find("xpath", "//a[normalize-space()='"+text+"']")) }

	// 1. From the login form to the registration form.
	wd.navigate(app + "/login")
	wd.waitPath("/login")
	link("Create an account")
	wd.waitPath("/register")
	wd.wantText("h1", "Create an account")
	wd.screenshot(shots, "11-register.png", "register.png")

	// 2. Passwords that differ bring the form back with the error; then
	// the account is made, and the browser is told to check its mail.
	wd.typeInto("Email", email)
	wd.typeInto("Password", password)
	wd.typeInto("Repeat the password", "not the same password")
	submit()
	wd.waitFor("the error", func() bool { return wd.exists("[role=alert]") })
	wd.wantText("[role=alert]", retypeError)
	wd.typeInto("Email", email)
	wd.typeInto("Password", password)
	wd.typeInto("Repeat the password", password)
	submit()
	wd.waitPath("/check-mail/confirm")
	wd.wantText("[role=status]", "Open the link in it to confirm your account")
	wd.screenshot(shots, "12-check-mail.png", "check-mail.png")

	// 3. The link in the message confirms the address.
	wd.navigate(linkIn(t, waitMail(t, smtp, email, "Confirm your email address"), app+"/auth/confirm/"))
	wd.waitPath(confirmedPage)
	wd.wantText("[role=status]", "your email address is confirmed")
	wd.screenshot(shots, "13-confirmed.png", "confirmed.png")

	// 4. Log in.
	link("Log in")
	wd.waitPath("/login")
	wd.typeInto("Email", email)
	wd.typeInto("Password", password)
	submit()
	wd.waitPath("/account")
	wd.wantText("#email", email)
	wd.wantText("dl", "Email confirmed\nyes")

	// 4b. A personal access token: made on the account page, its secret
	// shown once and good on the API as Bearer; listed, then revoked.
	wd.wantText("#tokens-heading", "Personal access tokens")
	wd.typeInto("Name", "sam's script")
	wd.click(wd.find("css selector", "#tokens input[name=scopes][value='posts:read']"))
	wd.click(wd.find("css selector", "form[action='/account/tokens/new'] button[type=submit]"))
	wd.waitFor("the new token", func() bool { return wd.exists("#token-secret") })
	wd.wantText("[role=status]", "shown only this once")
	wd.screenshot(shots, "13b-token-created.png", "")
	var secret string
	wd.do(http.MethodGet, "/element/"+wd.find("css selector", "#token-secret")+"/text", nil, &secret)
	if got := bearerStatus(t, app, "/api/v1/posts/", secret); !strings.HasPrefix(secret, "akpat_") || got != http.StatusOK {
		t.Fatalf("the secret shown, %q, on /api/v1/posts/: %d, want 200", secret, got)
	}
	link("Your account")
	wd.waitPath("/account")
	wd.wantText("#tokens .token-name", "sam's script")
	wd.execute("document.getElementById('tokens').scrollIntoView()")
	wd.screenshot(shots, "13c-tokens.png", "")
	wd.click(wd.find("css selector", "form[action='/account/tokens/revoke'] button"))
	wd.wantText("[role=status]", "The token has been revoked")
	wd.wantText("#no-tokens", "You have no personal access token.")
	if got := bearerStatus(t, app, "/api/v1/posts/", secret); got != http.StatusUnauthorized {
		t.Errorf("the revoked token on /api/v1/posts/: %d, want 401", got)
	}

	// 5. Change the password: a wrong current one is refused.
	link("Change password")
	wd.waitPath("/change-password")
	wd.wantText("h1", "Change your password")
	wd.screenshot(shots, "14-change-password.png", "change-password.png")
	wd.typeInto("Current password", "not my password")
	wd.typeInto("New password", changed)
	wd.typeInto("Repeat the new password", changed)
	submit()
	wd.waitFor("the error", func() bool { return wd.exists("[role=alert]") })
	wd.wantText("[role=alert]", "The current password is wrong.")
	wd.typeInto("Current password", password)
	wd.typeInto("New password", changed)
	wd.typeInto("Repeat the new password", changed)
	submit()
	wd.waitPath("/account")
	wd.wantText("[role=status]", "Your password has been changed.")
	waitMail(t, smtp, email, "Your password was changed")

	// 6. Change the email address: a link goes to the new one.
	link("Change email")
	wd.waitPath("/change-email")
	wd.wantText("#current-email", email)
	wd.screenshot(shots, "15-change-email.png", "change-email.png")
	wd.typeInto("New email", newEmail)
	submit()
	wd.waitPath("/check-mail/change-email")
	wd.wantText("[role=status]", "We sent a link to the new address.")
	wd.navigate(linkIn(t, waitMail(t, smtp, newEmail, "Confirm your new email address"), app+"/auth/change-email/"))
	wd.waitPath(emailChangePage)
	wd.wantText("[role=status]", "Your email address has been changed.")
	link("Your account")
	wd.waitPath("/account")
	wd.wantText("#email", newEmail)

	// 7. Log out, and forget the password.
	wd.click(wd.find("css selector", "form[action='/logout'] button"))
	wd.waitPath("/login")
	link("Forgot your password?")
	wd.waitPath("/forgot-password")
	wd.wantText("h1", "Forgot your password?")
	wd.screenshot(shots, "16-forgot-password.png", "forgot-password.png")
	wd.typeInto("Email", newEmail)
	submit()
	wd.waitPath("/check-mail/reset")
	wd.wantText("[role=status]", "a link to choose a new password")

	// 8. The reset link leads to the form, which sets the new password.
	wd.navigate(linkIn(t, waitMail(t, smtp, newEmail, "Reset your password"), app+"/auth/reset/"))
	wd.waitFor("the reset form", func() bool { return strings.Contains(wd.url(), resetPage+"/") })
	wd.wantText("h1", "Choose a new password")
	wd.screenshot(shots, "17-reset-password.png", "reset-password.png")
	wd.typeInto("New password", reset)
	wd.typeInto("Repeat the new password", reset)
	submit()
	wd.waitPath("/login")
	wd.wantText("[role=status]", "Your password has been reset.")

	// 9. The old password no longer works; the new one does.
	wd.typeInto("Email", newEmail)
	wd.typeInto("Password", changed)
	submit()
	wd.waitFor("the error", func() bool { return wd.exists("[role=alert]") })
	wd.wantText("[role=alert]", "Invalid email or password.")
	wd.typeInto("Email", newEmail)
	wd.typeInto("Password", reset)
	submit()
	wd.waitPath("/account")
	wd.wantText("#email", newEmail)
}

// waitMail waits for a message to the address with the subject and
// returns it.
func waitMail(t *testing.T, smtp *smtptest.Server, to, subject string) smtptest.Received {
	t.Helper()
	for deadline := time.Now().Add(smtptest.WaitTimeout); ; time.Sleep(20 * time.Millisecond) {
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == to && m.Subject == subject {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message %q to %s among %d", subject, to, len(smtp.Messages()))
		}
	}
}

// linkIn is the link starting with prefix in the message's text, which
// its HTML body has too.
func linkIn(t *testing.T, msg smtptest.Received, prefix string) string {
	t.Helper()
	link := smtptest.LinkIn(t, msg.Text, prefix)
	if !strings.Contains(msg.HTML, link) {
		t.Errorf("the HTML body of %q lacks the link %s", msg.Subject, link)
	}
	return link
}
