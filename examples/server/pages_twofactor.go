package main

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"rsc.io/qr"

	"github.com/authkit/auth"
	"github.com/authkit/auth/totp"
)

// The account page's "Two-factor authentication" section: codes of an
// authenticator app as a second factor for logins (on with the native
// store; a Flask-Security database keeps none). As the token section does
// (pages_tokens.go), the page asks the account handler itself, in process
// and as the user's own request: GET /auth/mf-recovery-codes tells whether
// the factor is on (200, with the recovery codes left) or off (400), POST
// /auth/tf-setup starts a setup or turns the factor off, POST
// /auth/tf-setup/{state} turns it on with the app's first code, and POST
// /auth/mf-recovery-codes makes ten recovery codes. The login page asks
// for the code after the password (loginPage, tf=1).

// exampleIssuer names the example in authenticator apps.
const exampleIssuer = "authkit example"

// nativeTwoFactor is the second-factor configuration of -schema native:
// on, with QR codes of the setup's otpauth:// URI.
func nativeTwoFactor() auth.TwoFactorConfig {
	return auth.TwoFactorConfig{Enabled: true, Issuer: exampleIssuer, QRCode: qrPNG}
}

// qrPNG renders text as a QR code, a PNG image of 4 pixels a module.
func qrPNG(text string) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	c.Scale = 4
	return c.PNG(), nil
}

// twoFactorSection is what the account page shows of the user's second
// factor.
type twoFactorSection struct {
	On      bool // second factors are on: the section is shown
	Enabled bool // the user's factor is on
	Left    int  // recovery codes left, when Enabled
	Error   bool // the factor could not be read
}

// userTwoFactor reads whether the user of r, a request behind
// m.Require(auth.Session), has a second factor on, through account
// (m.AccountHandler, not stripped of a prefix). Without second factors
// the handler serves no /mf-recovery-codes (404, or 501 without a Mailer),
// and the section is off. Counting needs a login, not a fresh one: the
// section shows the state on any login, and its buttons, which change it,
// send a stale one to the login form.
func userTwoFactor(account http.Handler, r *http.Request) twoFactorSection {
	rec := inProcess(account, r, http.MethodGet, "/mf-recovery-codes", "", nil)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusBadRequest:
		return twoFactorSection{On: true}
	case http.StatusNotFound, http.StatusNotImplemented:
		return twoFactorSection{}
	default:
		return twoFactorSection{On: true, Error: true}
	}
	var v struct {
		Response struct {
			Left int `json:"recovery_codes_left"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		return twoFactorSection{On: true, Error: true}
	}
	return twoFactorSection{On: true, Enabled: true, Left: v.Response.Left}
}

// accountReply is the account handler's JSON envelope, with the members
// the two-factor pages read.
type accountReply struct {
	Response struct {
		Key            string              `json:"tf_authr_key"`
		QRCode         string              `json:"tf_authr_qrcode"`
		StateToken     string              `json:"tf_state_token"`
		Codes          []string            `json:"recovery_codes"`
		Errors         []string            `json:"errors"`
		FieldErrors    map[string][]string `json:"field_errors"`
		ReauthRequired bool                `json:"reauth_required"`
	} `json:"response"`
}

// callAccount serves a JSON request to account in-process as the user's
// own, with the session's CSRF token, and decodes the answer.
func callAccount(m *auth.Manager, account http.Handler, r *http.Request, path string, body any) (int, accountReply) {
	var v accountReply
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body) // maps of strings always marshal
	}
	rec := inProcess(account, r, http.MethodPost, path, m.CSRFToken(r), b)
	_ = json.Unmarshal(rec.Body.Bytes(), &v) // an answer that does not decode is handled by its status
	return rec.Code, v
}

// setupPage is the page that shows a new key: its QR code (a data: URI),
// the key for typing, and the form for the app's first code.
type setupPage struct {
	QRCode    template.URL // checked by pngDataURI
	Key       string
	State     string
	CSRFToken string
	Error     string
}

// maxTwoFactorForm bounds the bodies of the section's forms: a CSRF
// token, a state token (under 2 kB), a key and a code.
const maxTwoFactorForm = 8 << 10

// reauthPage is where a login too old for the section's changes goes.
var reauthPage = "/login?" + url.Values{"reauth": {"1"}, "next": {"/account"}}.Encode()

// afterAccountCall sends the browser on after a refused in-process call: to
// the login form for a stale login, else back to the account page with
// the problem.
func afterAccountCall(w http.ResponseWriter, r *http.Request, code int, v accountReply) {
	switch {
	case code == http.StatusUnauthorized && v.Response.ReauthRequired:
		seeOther(w, r, reauthPage)
	case code == http.StatusTooManyRequests:
		seeOther(w, r, "/account?error=throttled")
	case code == http.StatusBadRequest:
		seeOther(w, r, "/account?error=2fa-state")
	default:
		seeOther(w, r, "/account?error=unavailable")
	}
}

// startTwoFactor handles the section's "Set up" button, POST
// /account/2fa/setup, behind m.Require(auth.Session) and browserForbidden:
// POST /auth/tf-setup {"setup":"authenticator"} in-process makes a key,
// which the page that answers shows, this once (no-store, as every page),
// with the form for the first code. Nothing is stored until that code.
func startTwoFactor(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxTwoFactorForm)
		code, v := callAccount(m, account, r, "/tf-setup", map[string]string{"setup": "authenticator"})
		if code != http.StatusOK || v.Response.StateToken == "" {
			afterAccountCall(w, r, code, v)
			return
		}
		render(w, "two-factor-setup.html", setupPage{QRCode: pngDataURI(v.Response.QRCode), Key: v.Response.Key, State: v.Response.StateToken, CSRFToken: m.CSRFToken(r)})
	})
}

// confirmTwoFactor handles the setup page's code form, POST
// /account/2fa/confirm: POST /auth/tf-setup/{state} in-process turns the
// factor on if the code is the app's. A wrong code shows the setup page
// again (400), its QR code made anew from the key the form carries back
// (for display only: the state token holds the key that counts).
func confirmTwoFactor(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxTwoFactorForm)
		if err := r.ParseForm(); err != nil {
			seeOther(w, r, "/account?error=invalid")
			return
		}
		state := r.PostForm.Get("state")
		if !stateToken(state) {
			seeOther(w, r, "/account?error=2fa-state")
			return
		}
		code, v := callAccount(m, account, r, "/tf-setup/"+state, map[string]string{"code": r.PostForm.Get("code")})
		switch {
		case code == http.StatusOK:
			seeOther(w, r, "/account?status=2fa-on")
		case code == http.StatusBadRequest && len(v.Response.FieldErrors["code"]) > 0:
			p := setupPage{State: state, CSRFToken: m.CSRFToken(r), Error: "That code does not match the key. Enter the code the app shows now."}
			if key, err := totp.DecodeKey(r.PostForm.Get("key")); err == nil {
				u, _ := auth.FromContext(r.Context())
				p.Key = totp.EncodeKey(key)
				if uri, err := (totp.Config{}).URI(exampleIssuer, u.Email, key); err == nil {
					p.QRCode = pngDataURI(qrDataURI(uri))
				}
			}
			renderStatus(w, http.StatusBadRequest, "two-factor-setup.html", p)
		default:
			afterAccountCall(w, r, code, v)
		}
	})
}

// qrDataURI is the QR code of uri as a data: URI, or "" if it cannot be
// made.
func qrDataURI(uri string) string {
	png, err := qrPNG(uri)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// recoveryCodes handles the section's "Make recovery codes" button, POST
// /account/2fa/recovery-codes: POST /auth/mf-recovery-codes in-process
// makes ten, which replace any before, and the page that answers shows
// them this once.
func recoveryCodes(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxTwoFactorForm)
		code, v := callAccount(m, account, r, "/mf-recovery-codes", nil)
		if code != http.StatusOK || len(v.Response.Codes) == 0 {
			afterAccountCall(w, r, code, v)
			return
		}
		render(w, "recovery-codes.html", v.Response.Codes)
	})
}

// disableTwoFactor handles the section's "Turn off" button, POST
// /account/2fa/disable: POST /auth/tf-setup {"setup":"disable"}
// in-process removes the factor and its recovery codes.
func disableTwoFactor(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxTwoFactorForm)
		code, v := callAccount(m, account, r, "/tf-setup", map[string]string{"setup": "disable"})
		if code != http.StatusOK {
			afterAccountCall(w, r, code, v)
			return
		}
		seeOther(w, r, "/account?status=2fa-off")
	})
}

// loginCodeErrors are the login page's texts of the errors the second
// step's forms come back with (tf=1).
var loginCodeErrors = map[string]string{ // #nosec G101 -- texts for the user, no credentials
	"code":        "That code is not valid. Try again.",
	"credential":  "That passkey could not be verified. Try again.",
	"invalid":     "This sign-in has expired or is not valid. Log in again.",
	"throttled":   commonErrors["throttled"],
	"unavailable": commonErrors["unavailable"],
}

// stateToken reports whether s could be a state token, safe as a path
// segment: at most 2 kB of the URL-safe base64 alphabet and dots.
func stateToken(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// pngDataURI returns s, a data: URI of a PNG image, as a URL the
// templates put in an <img> as it is (html/template refuses data: URIs
// otherwise), or "" if s is not one.
func pngDataURI(s string) template.URL {
	const prefix = "data:image/png;base64,"
	b64, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return ""
	}
	if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
		return ""
	}
	return template.URL(s) // #nosec G203 -- a data: URI of base64 alone, checked above
}
