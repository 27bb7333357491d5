package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/totp"
)

// TestBrowserTwoFactor drives a real Chromium through the two-factor
// pages of the server of -schema native: set up on the account page (the
// QR code shows; the key is read from the page and the codes computed from
// it), log out, log in with the password and then a code. Screenshots go
// to the artifact directory.
func TestBrowserTwoFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium, driver := browserBinaries(t)
	shots := artifactDir(t)
	app := startApp(t)
	wd := newWebDriver(t, driver, chromium)
	button := func(text string) { wd.click(wd.find("xpath", "//button[normalize-space()='"+text+"']")) }
	logIn := func() {
		wd.navigate(app + "/login?next=%2Faccount")
		wd.waitPath("/login")
		wd.typeInto("Email", "test@example.com")
		wd.typeInto("Password", "test123")
		button("Log in")
	}

	// 1. Set up: the page shows the QR code and the key; the app's code of
	// this period turns the factor on.
	logIn()
	wd.waitPath("/account")
	wd.wantText("#tf-off", "Off.")
	button("Set up two-factor authentication")
	wd.waitPath("/account/2fa/setup")
	wd.wantText("h1", "Set up two-factor authentication")
	var width float64
	img := wd.find("css selector", "#tf-qrcode")
	wd.waitFor("the QR code to load", func() bool {
		return wd.call(http.MethodGet, wd.session+"/element/"+img+"/property/naturalWidth", nil, &width) == nil && width > 100
	})
	wd.screenshot(shots, "31-two-factor-setup.png", "")
	var keyText string
	wd.do(http.MethodGet, "/element/"+wd.find("css selector", "#tf-key")+"/text", nil, &keyText)
	key, err := totp.DecodeKey(keyText)
	if err != nil {
		t.Fatalf("the key on the page, %q: %v", keyText, err)
	}
	code := func(at time.Time) string {
		c, err := totp.Config{}.Code(key, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wd.typeInto("Enter the code the app shows", code(time.Now()))
	button("Turn it on")
	wd.waitPath("/account")
	wd.wantText("[role=status]", "Two-factor authentication is on")
	wd.wantText("#tf-on", "On:")

	// 2. Log out; the password leads to the code form, which takes the
	// app's next code (the setup used this period's; the server accepts
	// one period either side, so no waiting).
	button("Log out")
	wd.waitPath("/login")
	logIn()
	wd.waitFor("the code form", func() bool { return strings.Contains(wd.url(), "tf=1") })
	wd.wantText("h1", "Two-factor authentication")
	in := wd.find("css selector", "#code")
	if ac, mode := wd.attr(in, "autocomplete"), wd.attr(in, "inputMode"); ac != "one-time-code" || mode != "numeric" {
		t.Errorf("the code field has autocomplete %q and inputmode %q", ac, mode)
	}
	wd.screenshot(shots, "32-two-factor-login.png", "")
	wd.typeInto("Enter the code from your authenticator app", code(time.Now().Add(30*time.Second)))
	button("Verify")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")
	wd.wantText("#tf-on", "On:")
}
