package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/authkit/auth"
)

// The account page's "Personal access tokens" section: the long-lived,
// scoped tokens a user makes for a script (TokenConfig.Scopes, here
// demoScopes; on with the native store). As the Devices section does
// (pages_sessions.go), the page asks the account handler itself, in
// process and as the user's own request: GET /auth/tokens lists the tokens
// (never a secret) and the scopes the user may grant, POST /auth/tokens
// makes one, DELETE /auth/tokens/{id} revokes one. The forms post to the
// page handlers below, behind m.Require(auth.Session) and its CSRF check.

// personalToken is one token as GET /tokens lists it.
type personalToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // nil: never used
	ExpiresAt  *time.Time `json:"expires_at"`   // nil: never expires
}

// lifetime is a choice of the create form's lifetime select.
type lifetime struct {
	Value, Text string
	Seconds     int64
}

// lifetimes are the lifetimes the create form offers; the library allows
// at most a year (TokenConfig.PersonalMaxAge's default).
var lifetimes = []lifetime{
	{"7d", "7 days", 7 * 24 * 3600},
	{"30d", "30 days", 30 * 24 * 3600},
	{"1y", "1 year", 365 * 24 * 3600},
}

// defaultLifetime is the lifetime selected at first, the library's default.
const defaultLifetime = "30d"

// lifetimeOf returns the lifetime whose form value is v.
func lifetimeOf(v string) (lifetime, bool) {
	for _, l := range lifetimes {
		if l.Value == v {
			return l, true
		}
	}
	return lifetime{}, false
}

// tokenForm is the create form as the page shows it: empty at first, or
// as the user filled it with the library's texts of why it was refused.
type tokenForm struct {
	Name     string
	Scopes   []string // the scopes checked
	Lifetime string   // the lifetime selected
	Errors   []string // the library's texts, in order
	Fields   map[string]bool
}

// Checked reports whether the form has scope checked.
func (f tokenForm) Checked(scope string) bool { return slices.Contains(f.Scopes, scope) }

// tokens is what the account page shows of the user's personal access
// tokens.
type tokens struct {
	On        bool // personal access tokens are on: the section is shown
	Tokens    []personalToken
	Available []string // the scopes the user may grant
	Error     bool     // the tokens could not be read
	Form      tokenForm
	Lifetimes []lifetime
}

// userTokens lists the personal access tokens of the user of r, a request
// behind m.Require(auth.Session), through account (m.AccountHandler, not
// stripped of a prefix), with form as the create form. Without personal
// access tokens the handler serves no /tokens (404, or 501 without a
// Mailer), and the section is off.
func userTokens(account http.Handler, r *http.Request, form tokenForm) tokens {
	if form.Lifetime == "" {
		form.Lifetime = defaultLifetime
	}
	rec := inProcess(account, r, http.MethodGet, "/tokens", "", nil)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusNotImplemented:
		return tokens{}
	default:
		return tokens{On: true, Error: true}
	}
	var v struct {
		Response struct {
			Tokens    []personalToken `json:"tokens"`
			Available []string        `json:"available_scopes"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		return tokens{On: true, Error: true}
	}
	return tokens{On: true, Tokens: v.Response.Tokens, Available: v.Response.Available, Form: form, Lifetimes: lifetimes}
}

// maxTokenForm bounds the body of the create form: its CSRF token, a name
// of at most 100 characters, the scopes and the lifetime.
const maxTokenForm = 8 << 10

// createdToken is the answer to POST /tokens: the token and, this once,
// its secret.
type createdToken struct {
	personalToken
	Token string `json:"token"`
}

// createToken handles the create form, POST /account/tokens/new, behind
// m.Require(auth.Session) (which checks the form's CSRF token and origin)
// and browserForbidden. It makes the token through POST /auth/tokens
// in-process, with a JSON body built from the form, and answers the page
// that shows the secret, once: it is in no URL, no log and no cache
// (Cache-Control: no-store, as on every page). A refused form comes back
// as the account page with the library's texts (400); a login too old for
// a new token (401 reauth_required) sends the browser to the login form,
// to enter the password again.
func createToken(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
		if err := r.ParseForm(); err != nil {
			seeOther(w, r, "/account?error=invalid")
			return
		}
		form := tokenForm{Name: r.PostForm.Get("name"), Scopes: r.PostForm["scopes"], Lifetime: r.PostForm.Get("expires_in")}
		life, ok := lifetimeOf(form.Lifetime)
		if !ok {
			form.Errors, form.Fields = []string{"Choose one of the lifetimes offered."}, map[string]bool{"expires_in": true}
			renderAccount(w, r, m, account, http.StatusBadRequest, form)
			return
		}
		body, err := json.Marshal(struct {
			Name      string   `json:"name"`
			Scopes    []string `json:"scopes"`
			ExpiresIn int64    `json:"expires_in"`
		}{form.Name, append([]string{}, form.Scopes...), life.Seconds})
		if err != nil {
			seeOther(w, r, "/account?error=invalid")
			return
		}
		rec := inProcess(account, r, http.MethodPost, "/tokens", m.CSRFToken(r), body)
		var v struct {
			Response struct {
				createdToken
				Errors         []string            `json:"errors"`
				FieldErrors    map[string][]string `json:"field_errors"`
				ReauthRequired bool                `json:"reauth_required"`
			} `json:"response"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &v) // an answer that does not decode is handled by its status
		switch {
		case rec.Code == http.StatusOK && v.Response.Token != "":
			render(w, "token-created.html", v.Response.createdToken)
		case rec.Code == http.StatusBadRequest && len(v.Response.Errors) > 0:
			form.Errors, form.Fields = v.Response.Errors, map[string]bool{}
			for f := range v.Response.FieldErrors {
				form.Fields[f] = true
			}
			renderAccount(w, r, m, account, http.StatusBadRequest, form)
		case rec.Code == http.StatusUnauthorized && v.Response.ReauthRequired:
			seeOther(w, r, "/login?"+url.Values{"reauth": {"1"}, "next": {"/account"}}.Encode())
		case rec.Code == http.StatusTooManyRequests:
			seeOther(w, r, "/account?error=throttled")
		default:
			seeOther(w, r, "/account?error=unavailable")
		}
	})
}

// maxRevokeForm bounds the body of the form that revokes a token: its
// CSRF token and a token ID.
const maxRevokeForm = 4 << 10

// revokeToken handles the section's Revoke buttons, POST
// /account/tokens/revoke with the form's token ID, behind
// m.Require(auth.Session) and browserForbidden, as endSession does for the
// Devices section: it revokes the token through DELETE /auth/tokens/{id}
// in-process, which refuses an ID that is not one of the user's, and sends
// the browser back to the account page with the outcome.
func revokeToken(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRevokeForm)
		back := "/account?error=no-token"
		if id := r.PostFormValue("token_id"); pathID(id) {
			rec := inProcess(account, r, http.MethodDelete, "/tokens/"+id, m.CSRFToken(r), nil)
			switch rec.Code {
			case http.StatusOK:
				back = "/account?status=token-revoked"
			case http.StatusNotFound:
			default:
				back = "/account?error=unavailable"
			}
		}
		seeOther(w, r, back)
	})
}

// seeOther redirects the browser to the page with 303, uncached.
func seeOther(w http.ResponseWriter, r *http.Request, page string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, page, http.StatusSeeOther)
}
