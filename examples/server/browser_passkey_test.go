package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestBrowserPasskey drives a real Chromium through the passkey pages of
// the server of -schema native, with a virtual authenticator of
// ChromeDriver's WebAuthn extension commands (W3C WebAuthn §11: a
// platform authenticator that keeps discoverable credentials and verifies
// its user, consenting to every request). The server runs with -base-url
// http://localhost:PORT, since WebAuthn takes no IP address as relying
// party ID. A user logs in with the password and adds a passkey that signs
// in alone, logs out and signs in with it, no password, while the
// authenticator's signature counter grows and the page shows it; deletes
// it, which then no longer signs in; adds one as a second factor, which a
// password login then asks for. Screenshots go to the artifact directory.
func TestBrowserPasskey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium, driver := browserBinaries(t)
	shots := artifactDir(t)
	t.Logf("screenshots in %s", shots)
	app := startPasskeyApp(t)
	wd := newWebDriver(t, driver, chromium)
	authenticator := wd.addVirtualAuthenticator()
	button := func(text string) { wd.click(wd.find("xpath", "//button[normalize-space()='"+text+"']")) }
	logIn := func() {
		wd.navigate(app + "/login?next=%2Faccount")
		wd.waitPath("/login")
		wd.typeInto("Email", "test@example.com")
		wd.typeInto("Password", "test123")
		button("Log in")
	}
	logOut := func() {
		button("Log out")
		wd.waitPath("/login")
	}
	addPasskey := func(name, usage string) {
		wd.waitFor("the script to show the passkey form", func() bool { return wd.displayed("#new-passkey") })
		if wd.displayed("#passkey-note") {
			t.Error("the note for browsers without passkeys shows")
		}
		wd.typeInto("Passkey name", name)
		wd.click(wd.find("xpath", "//label[normalize-space()='"+usage+"']/input"))
		button("Add a passkey")
		wd.waitFor("the added passkey", func() bool { return strings.Contains(wd.url(), "status=passkey-added") })
		wd.waitPath("/account")
		wd.wantText("[role=status]", "The passkey has been added.")
	}

	// 1. Log in with the password; the account has no passkey yet. Add
	// one that signs in alone.
	logIn()
	wd.waitPath("/account")
	wd.wantText("#passkeys", "You have no passkey.")
	addPasskey("laptop", "Signs in alone, without the password")
	wd.wantText("#passkeys .passkey-name", "laptop")
	wd.wantText("#passkeys .passkey-usage", "Signs in alone")
	wd.wantText("#passkeys .passkey-last-use", "never")
	creds := wd.virtualCredentials(authenticator)
	if len(creds) != 1 || !creds[0].IsResident || creds[0].RPID != "localhost" {
		t.Fatalf("the authenticator holds %+v, want one discoverable credential for localhost", creds)
	}
	registered := creds[0].SignCount
	wd.wantText("#passkeys .passkey-sign-count", strconv.FormatUint(uint64(registered), 10))
	wd.execute(`document.getElementById("passkeys").scrollIntoView()`)
	wd.screenshot(shots, "41-passkey-added.png", "")

	// 2. Log out; the login page's passkey button signs in, no password.
	logOut()
	wd.waitFor("the script to show the passkey button", func() bool { return wd.displayed("#passkey-signin") })
	wd.screenshot(shots, "42-passkey-login.png", "")
	button("Sign in with a passkey")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")
	creds = wd.virtualCredentials(authenticator)
	if len(creds) != 1 || creds[0].SignCount <= registered {
		t.Fatalf("after the sign-in the authenticator holds %+v, want its counter past %d", creds, registered)
	}
	wd.wantText("#passkeys .passkey-sign-count", strconv.FormatUint(uint64(creds[0].SignCount), 10))
	wd.wantText("#passkeys .passkey-last-use", "UTC")
	wd.execute(`document.getElementById("passkeys").scrollIntoView()`)
	wd.screenshot(shots, "43-passkey-signed-in.png", "")

	// 3. Delete it: the authenticator still holds the credential, which no
	// longer signs in.
	button("Delete")
	wd.waitFor("the deleted passkey", func() bool { return strings.Contains(wd.url(), "status=passkey-deleted") })
	wd.wantText("[role=status]", "The passkey has been deleted")
	wd.wantText("#passkeys", "You have no passkey.")
	logOut()
	wd.waitFor("the script to show the passkey button", func() bool { return wd.displayed("#passkey-signin") })
	button("Sign in with a passkey")
	wd.waitFor("the refusal", func() bool { return strings.Contains(wd.url(), "error=credential") })
	wd.wantText("[role=alert]", "That passkey could not be verified.")
	if wd.cookie("auth_session") != nil {
		t.Error("a deleted passkey began a session")
	}
	wd.screenshot(shots, "44-passkey-deleted-refused.png", "")
	wd.removeVirtualCredential(authenticator, creds[0].CredentialID)

	// 4. Add a passkey as a second factor: a password login then asks for
	// it (and no code, the user having no authenticator app), and it
	// completes the login.
	logIn()
	wd.waitPath("/account")
	addPasskey("security key", "Second factor, after the password")
	wd.wantText("#passkeys .passkey-name", "security key")
	wd.wantText("#passkeys .passkey-usage", "Second factor")
	creds = wd.virtualCredentials(authenticator)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %+v, want the second factor alone", creds)
	}
	registered = creds[0].SignCount
	logOut()
	logIn()
	wd.waitFor("the second step", func() bool { return strings.Contains(wd.url(), "tf=1") })
	if !strings.Contains(wd.url(), "tf_methods=webauthn") {
		t.Errorf("the second step's URL %s does not name the passkey", wd.url())
	}
	wd.wantText("h1", "Two-factor authentication")
	wd.waitFor("the script to show the passkey button", func() bool { return wd.displayed("#passkey-second") })
	if wd.exists("#code") {
		t.Error("the second step asks for an app's code the user has none of")
	}
	wd.screenshot(shots, "45-passkey-second-factor.png", "")
	button("Use your passkey")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")
	creds = wd.virtualCredentials(authenticator)
	if len(creds) != 1 || creds[0].SignCount <= registered {
		t.Fatalf("after the second factor the authenticator holds %+v, want its counter past %d", creds, registered)
	}
	wd.wantText("#passkeys .passkey-sign-count", strconv.FormatUint(uint64(creds[0].SignCount), 10))
	if wd.cookie("auth_tf") != nil {
		t.Error("the password step's cookie outlived the login")
	}
	wd.execute(`document.getElementById("passkeys").scrollIntoView()`)
	wd.screenshot(shots, "46-passkey-second-factor-done.png", "")
}

// startPasskeyApp runs the example server as main does, with a fresh
// SQLite database, on a free port of 127.0.0.1 that its -base-url names
// as http://localhost:PORT, and returns that URL: passkeys need a domain
// name, and localhost is a secure context for WebAuthn.
func startPasskeyApp(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	site := fmt.Sprintf("http://localhost:%d", port)
	// startServer's -addr 127.0.0.1:0 comes first; this one wins.
	_, logs := startServer(t, map[string]string{"AUTH_SECRET": "browser test secret, 32 bytes...", "AUTH_BCRYPT_COST": "4"},
		"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-base-url", site, "-db", t.TempDir()+"/auth.db")
	if !strings.Contains(logs.String(), "passkeys are on") {
		t.Fatalf("the server at %s has passkeys off:\n%s", site, logs)
	}
	return site
}

// virtualCredential is a credential of a virtual authenticator, as
// WebDriver's Get Credentials lists it.
type virtualCredential struct {
	CredentialID string `json:"credentialId"` // base64url
	IsResident   bool   `json:"isResidentCredential"`
	RPID         string `json:"rpId"`
	SignCount    uint32 `json:"signCount"`
}

// addVirtualAuthenticator adds to the session a virtual platform
// authenticator (CTAP2, internal) that keeps discoverable credentials,
// verifies its user and consents to every request, and returns its ID.
func (wd *webDriver) addVirtualAuthenticator() string {
	wd.t.Helper()
	var id string
	wd.do(http.MethodPost, "/webauthn/authenticator", map[string]any{
		"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
		"hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true,
	}, &id)
	if id == "" {
		wd.t.Fatal("no authenticator ID")
	}
	wd.t.Cleanup(func() { wd.call(http.MethodDelete, wd.session+"/webauthn/authenticator/"+id, nil, nil) })
	return id
}

// virtualCredentials lists the credentials of the virtual authenticator.
func (wd *webDriver) virtualCredentials(authenticator string) []virtualCredential {
	wd.t.Helper()
	var creds []virtualCredential
	wd.do(http.MethodGet, "/webauthn/authenticator/"+authenticator+"/credentials", nil, &creds)
	return creds
}

// removeVirtualCredential removes a credential from the virtual
// authenticator.
func (wd *webDriver) removeVirtualCredential(authenticator, id string) {
	wd.t.Helper()
	wd.do(http.MethodDelete, "/webauthn/authenticator/"+authenticator+"/credentials/"+id, nil, nil)
}

// displayed reports whether the first element matching css is shown.
func (wd *webDriver) displayed(css string) bool {
	id, err := wd.findElement("css selector", css)
	if err != nil {
		return false
	}
	var shown bool
	return wd.call(http.MethodGet, wd.session+"/element/"+id+"/displayed", nil, &shown) == nil && shown
}
