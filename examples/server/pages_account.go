package main

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/accept"
)

// The account pages: register, check your mail, the outcome of a mailed
// link, forgot password, the reset form, change password and change email.
// Their forms post url-encoded straight to the account handler under
// /auth/, with a "next" page; the handler redirects the browser there on
// success with status=… in the query, and back to the page it came from
// (its Referer's path) with error=… on failure. The pages show their own
// text for each status and error code: the free text the handler also puts
// in a mailed link's redirect ("info", "error") is not shown, since anyone
// can craft a link to these pages with any text in its query.
//
// Anonymous forms carry the login CSRF token (m.CSRFToken behind
// m.Optional(auth.Session), as the login page does), which the handler
// asks of a form post that sends neither Origin nor Referer; the forms of
// a logged-in user carry the session's CSRF token.

// pageData is what every account page template sees.
type pageData struct {
	CSRFToken string
	Next      string     // the form's next
	Info      string     // the outcome named by status=
	Error     string     // the problem named by error=
	Field     string     // the field in error, if error= names one
	User      *auth.User // the logged-in user, on the pages behind the session
	Token     string     // the reset form: the link's token, path-escaped
	What      string     // check-mail: confirm, reset or change-email
	Heading   string     // result: the page's heading
	Links     []pageLink // result: where to go from there
}

type pageLink struct{ Href, Text string }

// Texts of the error codes the account handler puts in its redirects
// (error=field or problem), and of browserForbidden's (csrf, origin). Each
// page adds the texts of its fields.
var commonErrors = map[string]string{
	"throttled":   "Too many requests for now. Wait a while, then try again.",
	"unavailable": "The service is unavailable for a moment. Try again shortly.",
	"invalid":     "The form could not be read. Reload the page and try again.",
	"link":        "This link no longer works: it was used already, or the password changed since. Ask for a new one.",
	"csrf":        csrfErrors["csrf"],
	"origin":      csrfErrors["origin"],
}

const (
	emailError    = "Enter a plain email address, such as alice@example.com."
	passwordError = "Choose a password of at least 8 characters that is not known from data breaches."
	retypeError   = "The two passwords differ."
)

// fieldErrors holds each page's texts of its fields' error codes.
var fieldErrors = map[string]map[string]string{
	"register.html":   {"email": emailError, "password": passwordError, "password_confirm": retypeError},
	"check-mail.html": {"email": emailError},
	"forgot.html":     {"email": emailError},
	"reset.html":      {"password": passwordError, "password_confirm": retypeError},
	"change-password.html": { // #nosec G101 -- texts for the user, no credentials
		"password":             "The current password is wrong.",
		"new_password":         "Choose a new password of at least 8 characters, other than the current one and not known from data breaches.",
		"new_password_confirm": "The two new passwords differ.",
	},
	"change-email.html": {"email": "Enter a plain email address other than the current one, such as alice@example.com."},
}

// errorText is the text of the error code in r's query for the page, and
// the field it names; an unknown code gets a general text, never itself.
func errorText(page string, r *http.Request) (text, field string) {
	code := r.URL.Query().Get("error")
	if code == "" {
		return "", ""
	}
	if t, ok := fieldErrors[page][code]; ok {
		return t, code
	}
	if t, ok := commonErrors[code]; ok {
		return t, ""
	}
	return "Something went wrong. Try again.", ""
}

// renderForm renders one of the form pages with the CSRF token of r (the
// session's, or the login CSRF token) and the texts of its query.
func renderForm(m *auth.Manager, w http.ResponseWriter, r *http.Request, page string, d pageData, statuses map[string]string) {
	d.CSRFToken = m.CSRFToken(r)
	d.Error, d.Field = errorText(page, r)
	if d.Error == "" {
		d.Info = statuses[r.URL.Query().Get("status")]
	}
	d.User, _ = auth.FromContext(r.Context())
	render(w, page, d)
}

// registerPage is the registration form, behind m.Optional(auth.Session).
func registerPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderForm(m, w, r, "register.html", pageData{Next: "/check-mail/confirm"}, nil)
	})
}

// checkMailStatuses are the texts of the check-mail page, by what was
// mailed and the status the handler redirected with.
var checkMailStatuses = map[string]map[string]string{
	"confirm": {
		"registered": "We sent a message to the address you gave. Open the link in it to confirm your account, then log in.",
		"sent":       "If that address belongs to an account waiting for confirmation, we sent it a new link.",
	},
	"reset": {
		"sent": "If that address belongs to an account, we sent it a link to choose a new password.",
	},
	"change-email": {
		"sent": "We sent a link to the new address. Open it to complete the change; until then your address stays as it is.",
	},
}

// checkMailPage is "check your mail" after a message was asked for:
// GET /check-mail/{what}, what being confirm, reset or change-email. The
// confirm page also has a form that sends the confirmation link again.
func checkMailPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what := r.PathValue("what")
		statuses, ok := checkMailStatuses[what]
		if !ok {
			http.NotFound(w, r)
			return
		}
		renderForm(m, w, r, "check-mail.html", pageData{What: what, Next: "/check-mail/confirm"}, statuses)
	})
}

// forgotPage is the "forgot password" form, behind m.Optional(auth.Session).
func forgotPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderForm(m, w, r, "forgot.html", pageData{Next: "/check-mail/reset"}, nil)
	})
}

// resetLinkStatuses are the texts of a reset link that did not lead to
// the form.
var resetLinkStatuses = map[string]string{
	"expired": "This link has expired. We sent you a new one.",
	"invalid": "This link is not valid any more. Ask for a new one.",
}

// resetLanding is AccountConfig.ResetRedirect: a mailed reset link leads
// here, with status=valid and the link's token in the query, or with the
// reason it failed. A valid one is sent on to the form at
// /reset-password/{token}, which keeps the token in its path: after a
// field error, the account handler sends the browser back to the path of
// the page it came from, without its query.
func resetLanding() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if tok := q.Get("token"); q.Get("status") == "valid" && tok != "" {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			http.Redirect(w, r, resetPage+"/"+url.PathEscape(tok), http.StatusSeeOther)
			return
		}
		d := pageData{Error: resetLinkStatuses[q.Get("status")]}
		if d.Error == "" {
			d.Info = "Open the link we mailed you to choose a new password."
		}
		render(w, "reset.html", d)
	})
}

// resetForm is the form of a reset link, GET /reset-password/{token},
// behind m.Optional(auth.Session). It posts to /auth/reset/{token}, which
// checks the token; the next page is the login form.
func resetForm(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderForm(m, w, r, "reset.html", pageData{Token: url.PathEscape(r.PathValue("token")), Next: "/login"}, nil)
	})
}

// changePasswordPage is the password change form, behind
// m.Require(auth.Session); success leads to the account page.
func changePasswordPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderForm(m, w, r, "change-password.html", pageData{Next: "/account"}, nil)
	})
}

// changeEmailPage is the email change form, behind m.Require(auth.Session).
func changeEmailPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderForm(m, w, r, "change-email.html", pageData{Next: "/check-mail/change-email"}, nil)
	})
}

// linkResult is what a mailed link's page shows for one status.
type linkResult struct {
	info, err string
	links     []pageLink
}

var (
	toLogin   = pageLink{"/login", "Log in"}
	toAccount = pageLink{"/account", "Your account"}
	toResend  = pageLink{"/check-mail/confirm", "Send the confirmation link again"}
)

// resultPage answers the page a mailed link leads to (AccountConfig's
// ConfirmRedirect or ChangeEmailRedirect) with the text of the status in
// its query.
func resultPage(heading string, results map[string]linkResult) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := results[r.URL.Query().Get("status")]
		if !ok {
			res = linkResult{err: "Open the link we mailed you.", links: []pageLink{toLogin}}
		}
		render(w, "result.html", pageData{Heading: heading, Info: res.info, Error: res.err, Links: res.links})
	})
}

var confirmResults = map[string]linkResult{
	"confirmed":         {info: "Thank you: your email address is confirmed. You can log in now.", links: []pageLink{toLogin}},
	"already-confirmed": {info: "Your email address was confirmed already.", links: []pageLink{toLogin}},
	"expired":           {err: "This link has expired. We sent you a new one.", links: []pageLink{toResend}},
	"invalid":           {err: "This link is not valid. Ask for a new one.", links: []pageLink{toResend}},
}

var emailChangeResults = map[string]linkResult{
	"changed": {info: "Your email address has been changed. Log in with the new one from now on.", links: []pageLink{toAccount}},
	"expired": {err: "This link has expired. Ask for the change again.", links: []pageLink{{"/change-email", "Change email"}}},
	"invalid": {err: "This link is not valid: it was used already, or another account has that address.", links: []pageLink{toAccount}},
}

// formPage is the page whose form posts to the account handler's path p
// (under /auth), where browserForbidden sends a browser back; "" for a
// path no page posts to.
func formPage(p string) string {
	route, token, _ := strings.Cut(strings.TrimPrefix(p, accountPath+"/"), "/")
	switch {
	case token != "" && route == "reset" && !strings.Contains(token, "/"):
		return resetPage + "/" + url.PathEscape(token)
	case token != "":
		return ""
	}
	return map[string]string{
		"register":     "/register",
		"confirm":      "/check-mail/confirm",
		"reset":        "/forgot-password",
		"change":       "/change-password",
		"change-email": "/change-email",
	}[route]
}

// browserForbidden wraps a handler that a page's form posts to, so that a
// browser whose post fails the CSRF check (a 403) is redirected 303 to
// page(r), which says what went wrong, instead of seeing the library's
// JSON. Other clients, every other answer, and posts page gives no page
// for ("") are left alone.
func browserForbidden(h http.Handler, page func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		back := page(r)
		if !accept.PrefersHTML(r) || back == "" {
			h.ServeHTTP(w, r)
			return
		}
		fw := &forbiddenWriter{ResponseWriter: w}
		h.ServeHTTP(fw, r)
		if !fw.caught {
			return
		}
		w.Header().Del("Content-Type")
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, back+"?error="+csrfCode(fw.body.Bytes()), http.StatusSeeOther)
	})
}
