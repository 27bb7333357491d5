package main

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/accept"
)

// The browser pages: a login form and an account page behind the session.
// The library handles POST /login and POST /logout for them.

//go:embed templates/*.html static/*.css static/*.js
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "templates/*.html"))

// staticFiles serves the style sheet and the passkey pages' script.
var staticFiles = filesOnly(must(fs.Sub(assets, "static")))

// filesOnly serves the files of fsys and 404 for anything else, directories
// included: no listings.
func filesOnly(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if info, err := fs.Stat(fsys, name); name == "" || err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// pageHeaders sets the headers of every HTML page: no caching of
// per-user pages, and a Content-Security-Policy that allows images only
// as data: URIs (a two-factor setup's QR code), forms that post only to
// this site, and no script, but on the pages of scriptedPages: there
// scripts of this site's files (static/passkey.js; never inline ones) and
// their requests to this site.
func pageHeaders(w http.ResponseWriter, page string) {
	csp := "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	if scriptedPages[page] {
		csp += "; script-src 'self'; connect-src 'self'"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// scriptedPages are the pages whose passkey buttons need static/passkey.js
// (pages_passkeys.go).
var scriptedPages = map[string]bool{"login.html": true, "account.html": true}

// loginPage answers GET /login, behind m.Optional(auth.Session). A client
// that prefers application/json to text/html gets Flask-Security's JSON,
// with the CSRF token of its session, or without one a login CSRF token
// (and its cookie); any other (a browser, curl's */*, no Accept) gets the
// form, which carries the same token and posts to m.LoginHandler through
// keepEmail. After a
// failed attempt the handler redirects back here with ?error=1, and the
// form shows the error and the email typed. With ?reauth=1, where the
// library sends a browser whose login is too old for what it asked (a new
// personal access token), the form asks for the password again, the
// email filled in if the session still holds. With ?tf=1, where the
// library sends a browser whose password checked out for a user with a
// second factor (its state token in an HttpOnly cookie), the page asks
// for the app's code instead, posted to /auth/tf-validate, or with
// recovery=1 for a recovery code, posted to /auth/mf-recovery; a refused
// code comes back with error=code. tf_methods, which the library adds,
// names the user's second factors: with "webauthn" (and passkeys on) the
// step offers the user's passkey, and without "authenticator" no code
// form. With passkeys on, the password form has a "Sign in with a
// passkey" button too (pages_passkeys.go); a passkey refused comes back
// with error=credential.
func loginPage(m *auth.Manager, passkeys bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if accept.Quality(r, "application", "json") > accept.Quality(r, "text", "html") {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, map[string]any{
				"meta": map[string]int{"code": http.StatusOK},
				"response": map[string]any{
					"csrf_token":          m.CSRFToken(r),
					"identity_attributes": []string{"email"},
				},
			})
			return
		}
		q := r.URL.Query()
		failed, passkeyError := q.Get("error") != "", ""
		if text, ok := loginPasskeyErrors[q.Get("error")]; ok {
			failed, passkeyError = false, text
		}
		email := ""
		if c, err := r.Cookie(emailCookie); err == nil {
			if failed {
				email = decodeEmail(c.Value)
			}
			http.SetCookie(w, &http.Cookie{Name: emailCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		}
		reauth := q.Get("reauth") == "1"
		if u, ok := auth.FromContext(r.Context()); ok && reauth && email == "" {
			email = u.Email
		}
		// The second step (tf=1): the code form, or with recovery=1 the
		// recovery code's. A state token that no longer works (error=
		// invalid) asks for the password again.
		tf, codeError := q.Get("tf") == "1", ""
		if tf {
			codeError, failed, passkeyError = loginCodeErrors[q.Get("error")], false, ""
			if q.Get("error") != "" && codeError == "" {
				codeError = loginCodeErrors["code"]
			}
			tf = q.Get("error") != "invalid"
		}
		methods := secondFactors(q.Get("tf_methods"))
		app, key := slices.Contains(methods, methodApp), passkeys && slices.Contains(methods, methodPasskey)
		if !app && !key { // passkeys only, but off since: nothing to ask
			app = true
		}
		tfMethods := ""
		if q.Get("tf_methods") != "" {
			tfMethods = strings.Join(methods, ",")
		}
		render(w, "login.html", struct {
			Error        bool
			Email        string
			Next         string // checked by the login handler before it is followed
			CSRFToken    string // the login CSRF token, for browsers that send neither Origin nor Referer
			Info         string // after a password reset (status=reset)
			Reauth       bool   // the login is too old for what the browser asked
			TF           bool   // the password checked out: ask for the second factor
			Recovery     bool   // with TF: a recovery code instead of the app's
			CodeError    string // with tf=1: why the code was refused
			Passkeys     bool   // passkeys are on: offer to sign in with one
			PasskeyError string // why a passkey sign-in was refused
			TFApp        bool   // with TF: the user has an authenticator app
			TFPasskey    bool   // with TF: the user has a passkey
			TFMethods    string // with TF: tf_methods, for the links between the forms
		}{failed, email, q.Get("next"), m.CSRFToken(r), loginStatuses[q.Get("status")], reauth, tf, tf && app && q.Get("recovery") == "1", codeError,
			passkeys, passkeyError, app, key, tfMethods})
	})
}

// loginStatuses are the login page's texts of the status the account
// handler redirects to it with.
var loginStatuses = map[string]string{
	"reset": "Your password has been reset. Log in with the new one.",
}

// emailCookie carries the email of a failed form login to the login page
// that the library redirects to, so the form keeps it. A cookie, not the
// redirect's query, keeps the email out of URLs: server and proxy logs,
// the browser's history, Referer headers. It lives for a few minutes,
// only on /login, and the page deletes it. The password is never kept.
const emailCookie = "login_email"

// maxEmail is the longest email kept for the form.
const maxEmail = 320

func decodeEmail(v string) string {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > maxEmail || !utf8.Valid(b) {
		return ""
	}
	return string(b)
}

// keepEmail wraps m.LoginHandler for browsers' form posts: when the
// library redirects a failed login back to the login page, the answer
// also sets emailCookie. It peeks at the form without consuming it; the
// library still reads (and bounds) the whole body.
func keepEmail(login http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if !accept.PrefersHTML(r) || ct != "application/x-www-form-urlencoded" {
			login.ServeHTTP(w, r)
			return
		}
		const peek = 16 << 10
		head, err := io.ReadAll(io.LimitReader(r.Body, peek+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		email := ""
		if err == nil && len(head) <= peek {
			if form, err := url.ParseQuery(string(head)); err == nil {
				email = form.Get("email")
			}
		}
		if email == "" || len(email) > maxEmail {
			login.ServeHTTP(w, r)
			return
		}
		login.ServeHTTP(&failedLoginWriter{ResponseWriter: w, email: email}, r)
	})
}

// failedLoginWriter sets emailCookie on a redirect to the login page with
// error set.
type failedLoginWriter struct {
	http.ResponseWriter
	email string
}

func (fw *failedLoginWriter) WriteHeader(code int) {
	if code == http.StatusSeeOther {
		if u, err := url.Parse(fw.Header().Get("Location")); err == nil && u.Path == "/login" && u.Query().Get("error") != "" {
			http.SetCookie(fw.ResponseWriter, &http.Cookie{
				Name: emailCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(fw.email)),
				Path: "/login", MaxAge: 300, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
			})
		}
	}
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *failedLoginWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

// csrfErrors are the account page's texts for the error codes that
// browserLogout puts in its redirect.
var csrfErrors = map[string]string{
	"csrf":   "CSRF token missing or invalid. Reload the page and try again.",
	"origin": "CSRF check failed: the request comes from another origin.",
}

// browserLogout wraps m.LogoutHandler so that a browser whose logout fails
// the CSRF check (the library's 403) is redirected 303 to the account
// page, which says what went wrong, instead of seeing the library's JSON.
// Other clients, and every other answer, are the library's.
func browserLogout(logout http.Handler) http.Handler {
	return browserForbidden(logout, func(*http.Request) string { return "/account" })
}

// csrfCode is the error code of the library's 403 answer whose body is
// body: "origin" when the request came from another origin, else "csrf".
func csrfCode(body []byte) string {
	var v struct {
		Response struct {
			Errors []string `json:"errors"`
		} `json:"response"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Response.Errors) == 1 && v.Response.Errors[0] == csrfErrors["origin"] {
		return "origin"
	}
	return "csrf"
}

// forbiddenWriter holds back a 403 answer, keeping its body.
type forbiddenWriter struct {
	http.ResponseWriter
	caught bool
	body   bytes.Buffer
}

func (fw *forbiddenWriter) WriteHeader(code int) {
	if code == http.StatusForbidden {
		fw.caught = true
		return
	}
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *forbiddenWriter) Write(b []byte) (int, error) {
	if fw.caught {
		return fw.body.Write(b)
	}
	return fw.ResponseWriter.Write(b)
}

func (fw *forbiddenWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

// accountStatuses are the account page's texts of the status the
// account handler redirects to it with.
var accountStatuses = map[string]string{
	"changed":         "Your password has been changed. Your other sessions and tokens have ended.",
	"session-ended":   "The session has ended: that device can no longer refresh its token. The access token it holds works until it expires, within the hour.",
	"token-revoked":   "The token has been revoked: it no longer works.",
	"2fa-on":          "Two-factor authentication is on: logins now ask for a code of your app. Make recovery codes in case you lose it.",
	"2fa-off":         "Two-factor authentication is off: your password alone logs you in.",
	"passkey-added":   "The passkey has been added.",
	"passkey-deleted": "The passkey has been deleted: it no longer signs in.",
}

// accountErrors are the account page's texts of the error codes in its
// query: a refused post (csrf, origin) and the Devices section's.
var accountErrors = map[string]string{
	"csrf":        csrfErrors["csrf"],
	"origin":      csrfErrors["origin"],
	"no-session":  "That session had ended already.",
	"no-token":    "That token had been revoked already.",
	"2fa-state":   "That two-factor setup has expired or is not valid. Start it again.",
	"no-passkey":  "That passkey had been deleted already.",
	"invalid":     commonErrors["invalid"],
	"throttled":   commonErrors["throttled"],
	"unavailable": commonErrors["unavailable"],
}

// accountPage shows the logged-in user, links to the account forms, a
// logout button, the user's device sessions (pages_sessions.go), personal
// access tokens (pages_tokens.go), second factor (pages_twofactor.go)
// and passkeys (pages_passkeys.go), the error of a refused post
// (?error=csrf or origin, or a section's) and the outcome of a password
// change, an ended session or a revoked token (?status=…). It runs behind
// m.Require(auth.Session), so the user is in the context; account is
// m.AccountHandler, which lists the sessions and the tokens.
func accountPage(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderAccount(w, r, m, account, http.StatusOK, tokenForm{})
	})
}

// renderAccount answers the account page with status, the tokens'
// create form as form.
func renderAccount(w http.ResponseWriter, r *http.Request, m *auth.Manager, account http.Handler, status int, form tokenForm) {
	u, _ := auth.FromContext(r.Context())
	q := r.URL.Query()
	renderStatus(w, status, "account.html", struct {
		User      *auth.User
		CSRFToken string
		Error     string
		Info      string
		Devices   devices
		Tokens    tokens
		TwoFactor twoFactorSection
		Passkeys  passkeySection
	}{u, m.CSRFToken(r), accountErrors[q.Get("error")], accountStatuses[q.Get("status")], userDevices(account, r), userTokens(account, r, form), userTwoFactor(account, r),
		userPasskeys(account, r)})
}

// render executes the named page into a buffer and sends it, or a 500 if
// the template fails.
func render(w http.ResponseWriter, name string, data any) {
	renderStatus(w, http.StatusOK, name, data)
}

// renderStatus is render with the status given.
func renderStatus(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	pageHeaders(w, name)
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // #nosec G104 -- the client went away; nothing to do
}
