package main

import (
	"encoding/json"
	"net/http"

	"github.com/authkit/auth"
)

// items is the payload of the demo API routes.
var items = map[string]any{"items": map[string]string{"Key1": "Value1", "Key2": "value2"}}

// routes returns the application's handler. m declares demoScopes, as
// serverConfig does, or the scoped routes refuse every request.
func routes(m *auth.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /login", keepEmail(m.LoginHandler()))
	mux.Handle("POST /logout", browserLogout(m.LogoutHandler())) // a token, or the session and its CSRF token
	account := m.AccountHandler()
	mux.Handle("GET /login", m.Optional(auth.Session)(loginPage(m, servesPasskeys(account)))) // Optional lets CSRFToken set the login CSRF cookie
	mux.Handle("GET /account", m.Require(auth.Session)(accountPage(m, account)))
	// The account page's buttons and forms: the Devices section's (end a
	// session) and the tokens' (pages_tokens.go). A refused post goes back
	// to the account page.
	toAccount := func(*http.Request) string { return "/account" }
	mux.Handle("POST /account/sessions/end", browserForbidden(m.Require(auth.Session)(endSession(m, account)), toAccount))
	mux.Handle("POST /account/tokens/new", browserForbidden(m.Require(auth.Session)(createToken(m, account)), toAccount))
	mux.Handle("POST /account/tokens/revoke", browserForbidden(m.Require(auth.Session)(revokeToken(m, account)), toAccount))
	// The two-factor section's (pages_twofactor.go).
	mux.Handle("POST /account/2fa/setup", browserForbidden(m.Require(auth.Session)(startTwoFactor(m, account)), toAccount))
	mux.Handle("POST /account/2fa/confirm", browserForbidden(m.Require(auth.Session)(confirmTwoFactor(m, account)), toAccount))
	mux.Handle("POST /account/2fa/recovery-codes", browserForbidden(m.Require(auth.Session)(recoveryCodes(m, account)), toAccount))
	mux.Handle("POST /account/2fa/disable", browserForbidden(m.Require(auth.Session)(disableTwoFactor(m, account)), toAccount))
	// The passkeys section's Delete buttons (pages_passkeys.go); its script
	// adds passkeys through /auth/wan-register, and the login page's signs
	// in through /auth/wan-signin.
	mux.Handle("POST /account/passkeys/delete", browserForbidden(m.Require(auth.Session)(deletePasskey(m, account)), toAccount))

	// The account lifecycle: the library's handler, and the pages whose
	// forms post to it and where its redirects lead (pages_account.go).
	mux.Handle(accountPath+"/", browserForbidden(http.StripPrefix(accountPath, account),
		func(r *http.Request) string { return formPage(r.URL.Path) }))
	anonymous := m.Optional(auth.Session) // for the login CSRF token of the forms
	session := m.Require(auth.Session)
	mux.Handle("GET /register", anonymous(registerPage(m)))
	mux.Handle("GET /check-mail/{what}", anonymous(checkMailPage(m)))
	mux.Handle("GET "+confirmedPage, resultPage("Email confirmation", confirmResults))
	mux.Handle("GET /forgot-password", anonymous(forgotPage(m)))
	mux.Handle("GET "+resetPage, resetLanding())
	mux.Handle("GET "+resetPage+"/{token}", anonymous(resetForm(m)))
	mux.Handle("GET /change-password", session(changePasswordPage(m)))
	mux.Handle("GET /change-email", session(changeEmailPage(m)))
	mux.Handle("GET "+emailChangePage, resultPage("Email change", emailChangeResults))
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles))
	mux.Handle("POST /api/v1/tokens/", confirmedTokens(m))

	mux.Handle("GET /protected", m.RequireToken(http.HandlerFunc(protected)))
	mux.Handle("GET /dummy-api/{$}", m.RequireToken(jsonHandler(items)))
	mux.Handle("GET /basic-api/{$}", m.RequireBasic(jsonHandler(items)))
	// The scoped routes also take personal access tokens (a script's, made
	// on the account page), with the scope each asks. /admin/ checks the
	// role first: a user without it gets the 403 it always got, and an
	// admin's token without admin:read the insufficient_scope challenge.
	mux.Handle("GET /api/v1/posts/{$}", m.Require(auth.Basic, auth.BasicToken, auth.PersonalAccess)(
		m.RequireConfirmed(m.RequireScopes("posts:read")(http.HandlerFunc(posts)))))
	mux.Handle("GET /admin/{$}", m.Require(auth.Token, auth.PersonalAccess)(
		m.RequireRoles("admin")(m.RequireScopes("admin:read")(http.HandlerFunc(admin)))))
	mux.Handle("GET /public/{$}", jsonHandler(items))
	mux.Handle("GET /openapi.yaml", openAPIDocument())
	if wrapRoutes != nil {
		return wrapRoutes(mux)
	}
	return mux
}

// confirmedTokens is m.TokenHandler behind the confirmed check: the
// tutorial guards the whole /api/v1/ blueprint with it, the token endpoint
// included, so an unconfirmed account gets 403 "Unconfirmed account" and
// no token. Require checks the Basic password first (bad credentials get
// the Basic challenge), then TokenHandler checks it again, records the
// login and mints the token. A request without a password goes straight
// to TokenHandler, which refuses it as before: minting needs the password,
// and a token as the username is not a failed password check.
func confirmedTokens(m *auth.Manager) http.Handler {
	tokens := m.TokenHandler()
	guarded := m.Require(auth.Basic)(m.RequireConfirmed(tokens))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, password, ok := r.BasicAuth(); !ok || password == "" {
			tokens.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

func protected(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	writeJSON(w, map[string]string{"message": "Hello " + u.Email, "id": u.ID})
}

func posts(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	writeJSON(w, map[string]any{"posts": []map[string]string{
		{"id": "1", "title": "Hello", "author": u.Email},
	}})
}

func admin(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	writeJSON(w, map[string]string{"message": "Welcome, administrator " + u.Email})
}

func jsonHandler(v any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, v) })
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client left
}
