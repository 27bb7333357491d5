package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passkey"
)

// Passkeys (WebAuthn), on with the native store (a Flask-Security database
// keeps none) when the site has a domain name: the account page's
// "Passkeys" section lists the user's passkeys, adds one and deletes one;
// the login page signs in with a passkey alone, or with one after the
// password as a second factor (tf=1). The browser's WebAuthn calls need a
// script, static/passkey.js (the pages' CSP allows scripts of this origin,
// nothing inline): it speaks the account handler's JSON under /auth/
// itself, as any script of the site may, with the session cookie and, for
// the user's own changes, the session's CSRF token in the X-CSRF-Token
// header. Listing and deleting need no script: the page asks GET
// /auth/wan-register in-process, as the other sections do, and its Delete
// buttons post forms to deletePasskey.

// nativePasskeys is the relying party of -schema native for the site at
// base (the -base-url origin, or the address listened on): its host is the
// relying party ID, to which the passkeys are bound, and base the one
// origin whose pages may use them. WebAuthn takes no IP address as an ID,
// so on a site addressed by one (the default http://127.0.0.1:8080)
// passkeys are off, and the log says which -base-url turns them on:
// http://localhost and the port, localhost being a secure context for
// WebAuthn, as it is for the Secure session cookie. It returns nil when
// they are off.
func nativePasskeys(base string, logger *slog.Logger) (auth.Passkeys, error) {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: the site's origin %q has no host", base)
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil {
		hint := "run with -base-url set to the site's https:// origin, and open that"
		if ip.IsLoopback() {
			local := "http://localhost"
			if p := u.Port(); p != "" {
				local += ":" + p
			}
			hint = "run with -base-url " + local + " and open " + local
		}
		logger.Info("passkeys are off: the site's host is an IP address, which WebAuthn takes as no relying party ID; "+hint, "base_url", base)
		return nil, nil
	}
	origin := webOrigin(u.Scheme, host, u.Port())
	rp, err := passkey.New(passkey.Config{RPID: host, RPName: exampleIssuer, Origins: []string{origin}})
	if err != nil {
		return nil, err
	}
	logger.Info("passkeys are on", "rp_id", host, "origin", origin)
	return rp, nil
}

// webOrigin is the origin browsers report for a page at scheme://host:port:
// without the scheme's default port.
func webOrigin(scheme, host, port string) string {
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// servesPasskeys reports whether account, m.AccountHandler, serves the
// passkey routes: GET /wan-register asks a client without a login to log
// in (401) when passkeys are on, and is no route (404, or 501 without a
// Mailer) when they are off. routes asks once, for the login page.
func servesPasskeys(account http.Handler) bool {
	req := httptest.NewRequest(http.MethodGet, "/wan-register", nil)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	account.ServeHTTP(rec, req)
	return rec.Code == http.StatusUnauthorized
}

// userPasskey is one passkey as GET /wan-register lists it.
type userPasskey struct {
	Name      string    `json:"name"`
	Usage     string    `json:"usage"` // "first" or "secondary"
	CreatedAt time.Time `json:"created_at"`
	LastUse   *string   `json:"lastuse"` // RFC 3339; nil: never used
	SignCount uint32    `json:"sign_count"`
}

// UsageText is how the page names the passkey's usage.
func (p userPasskey) UsageText() string {
	if p.Usage == "first" {
		return "Signs in alone"
	}
	return "Second factor"
}

// LastUsed is when the passkey last signed in, or nil.
func (p userPasskey) LastUsed() *time.Time {
	if p.LastUse == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, *p.LastUse)
	if err != nil {
		return nil
	}
	return &t
}

// passkeySection is what the account page shows of the user's passkeys.
type passkeySection struct {
	On       bool // passkeys are on: the section is shown
	Passkeys []userPasskey
	Error    bool // the passkeys could not be read
}

// userPasskeys lists the passkeys of the user of r, a request behind
// m.Require(auth.Session), through account (m.AccountHandler, not
// stripped of a prefix). Without passkeys the handler serves no
// /wan-register (404, or 501 without a Mailer), and the section is off.
func userPasskeys(account http.Handler, r *http.Request) passkeySection {
	rec := inProcess(account, r, http.MethodGet, "/wan-register", "", nil)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusNotImplemented:
		return passkeySection{}
	default:
		return passkeySection{On: true, Error: true}
	}
	var v struct {
		Response struct {
			Passkeys []userPasskey `json:"registered_credentials"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		return passkeySection{On: true, Error: true}
	}
	return passkeySection{On: true, Passkeys: v.Response.Passkeys}
}

// maxPasskeyForm bounds the body of the form that deletes a passkey: its
// CSRF token and a name of at most 64 characters.
const maxPasskeyForm = 4 << 10

// deletePasskey handles the section's Delete buttons, POST
// /account/passkeys/delete with the passkey's name, behind
// m.Require(auth.Session) and browserForbidden: POST /auth/wan-delete
// {"name"} in-process deletes the user's passkey of that name. Deleting
// wants a fresh login, as adding one does: a stale one is sent to the
// login form (reauth=1).
func deletePasskey(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxPasskeyForm)
		if err := r.ParseForm(); err != nil {
			seeOther(w, r, "/account?error=invalid")
			return
		}
		name := r.PostForm.Get("name")
		if name == "" {
			seeOther(w, r, "/account?error=no-passkey")
			return
		}
		code, v := callAccount(m, account, r, "/wan-delete", map[string]string{"name": name})
		switch {
		case code == http.StatusOK:
			seeOther(w, r, "/account?status=passkey-deleted")
		case code == http.StatusBadRequest && len(v.Response.FieldErrors["name"]) > 0:
			seeOther(w, r, "/account?error=no-passkey")
		case code == http.StatusUnauthorized && v.Response.ReauthRequired:
			seeOther(w, r, reauthPage)
		case code == http.StatusTooManyRequests:
			seeOther(w, r, "/account?error=throttled")
		default:
			seeOther(w, r, "/account?error=unavailable")
		}
	})
}

// Second factors as tf_methods names them.
const (
	methodApp     = "authenticator"
	methodPasskey = "webauthn"
)

// secondFactors reads the login page's tf_methods, the comma-separated
// second factors of the user whose password checked out, as the login
// handler lists them; unknown names are dropped. Without it (a link of
// before), the app's code is asked for.
func secondFactors(v string) []string {
	var methods []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); (f == methodApp || f == methodPasskey) && !slices.Contains(methods, f) {
			methods = append(methods, f)
		}
	}
	if len(methods) == 0 {
		methods = []string{methodApp}
	}
	return methods
}

// loginPasskeyErrors are the login page's texts of the errors a passkey
// sign-in comes back with: the account handler sends the form back to
// the page it came from with error=credential (the passkey did not
// verify, or signed in once already), invalid (the ceremony expired),
// throttled or unavailable.
var loginPasskeyErrors = map[string]string{ // #nosec G101 -- texts for the user, no credentials
	"credential":  "That passkey could not be verified. Try again, or log in with your password.",
	"invalid":     "This passkey sign-in has expired or is not valid. Try again.",
	"throttled":   commonErrors["throttled"],
	"unavailable": commonErrors["unavailable"],
}
