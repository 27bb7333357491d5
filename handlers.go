package auth

import (
	"errors"
	"log/slog"
	"net/http"
)

// loginUser is the "user" member of a successful login response.
type loginUser struct {
	ID      string `json:"id"`
	Token   string `json:"authentication_token"`
	Refresh string `json:"refresh_token,omitempty"` // with RefreshConfig
}

// LoginHandler returns the handler of POST /login. It reads "email" and
// "password" from a JSON object or an url-encoded form and answers
//
//	200 {"meta":{"code":200},"response":{"user":{"id":"…","authentication_token":"…"}}}
//
// An unknown email, a wrong password and an inactive account all get the
// same 400 {"meta":{"code":400},"response":{"errors":["Invalid email or password."],
// "error_codes":["GENERIC_AUTHN_FAILED"]}}.
// A malformed body gets 400, an oversized one 413, another content type
// 415, another method 405. The login is recorded in the trackable fields.
//
// A form post from a browser (Accept preferring text/html) starts a
// session instead: the answer sets the session cookie (and the remember-me
// cookie if the form's "remember" field is "on", "true" or "1") and
// redirects 303 to the form's or the URL's "next" if it is a same-origin
// path, else to Config.Session.LoginRedirect. Rejected credentials or a malformed
// form redirect 303 back to Config.Session.LoginPage with error=1 and the next
// field, so the page can show the error and the browser does not repost
// on reload.
//
// A form post whose Origin (or Referer) names another host gets 403, which
// stops cross-site "login CSRF"; so does one with neither header unless it
// carries a login CSRF token from [Manager.CSRFToken] in its CSRFField (or
// the CSRFHeader) that matches the browser's login CSRF cookie or session.
//
// Every successful login gets a new device token in the DeviceTokenHeader
// response header, and as a cookie too when it gets session cookies; a
// later login to the same account that sends it back (header or cookie)
// is exempt from the lock-out of the address and of the account (see
// [ThrottleConfig]).
//
// A JSON login with "remember": true (or a non-browser form post with
// remember) gets the session and remember-me cookies too, and the
// session's CSRF token in the X-CSRF-Token response header, beside the
// usual JSON answer. Other JSON logins get no cookies: token clients do
// not need them.
func (m *Manager) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			return
		}
		if err := m.loginCSRF(r); err != nil {
			m.fail(w, r, statusOf(err), err)
			return
		}
		c, err := readLogin(w, r, m.maxBody)
		if err != nil {
			if m.browserLoginFailed(w, r, c, err) {
				return
			}
			m.fail(w, r, statusOf(err), err)
			return
		}
		u, err := m.login(r.Context(), c.Email, c.Password, m.proxies.clientAddr(r), deviceToken(r))
		if errors.Is(err, ErrTwoFactorRequired) && u != nil {
			// The password checked out; the code comes next, at
			// /tf-validate (a browser's, through the login page).
			m.answerTwoFactorRequired(w, r, u, c)
			return
		}
		if err != nil {
			if m.browserLoginFailed(w, r, c, err) {
				return
			}
			m.fail(w, r, statusOf(err), err)
			return
		}
		tok, err := m.IssueToken(u)
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			return
		}
		if m.startSession(w, r, u, c) {
			return
		}
		answer := loginUser{ID: u.ID, Token: tok}
		if m.refresh != nil {
			refresh, err := m.startRefresh(r.Context(), u, m.proxies.clientAddr(r), r.UserAgent())
			if err != nil {
				m.fail(w, r, http.StatusServiceUnavailable, err)
				return
			}
			answer = m.refreshAnswer(w, answer, refresh)
		}
		noStore(w)
		m.writeOK(w, r, struct {
			User loginUser `json:"user"`
		}{answer})
	})
}

// answerLogin answers, in JSON, a login of u completed elsewhere than at
// LoginHandler (a second factor's code): the token, a device token, and a
// refresh token when they are on.
func (m *Manager) answerLogin(w http.ResponseWriter, r *http.Request, u *User) {
	tok, err := m.IssueToken(u)
	if err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	answer := loginUser{ID: u.ID, Token: tok}
	if m.refresh != nil {
		refresh, err := m.startRefresh(r.Context(), u, m.proxies.clientAddr(r), r.UserAgent())
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		answer = m.refreshAnswer(w, answer, refresh)
	}
	m.issueDevice(w, u.Email, false)
	noStore(w)
	m.writeOK(w, r, struct {
		User loginUser `json:"user"`
	}{answer})
}

// TokenHandler returns the handler of Flask-HTTPAuth's token endpoint (POST
// /api/tokens/): given HTTP Basic email and password it answers
//
//	200 {"token":"…","expiration":<seconds>}
//
// where expiration is Config.Token.MaxAge in seconds (0 if tokens never
// expire). A token is not accepted as credentials here: minting needs the
// password. Bad credentials get 401 with a Basic challenge. A successful
// login gets a device token in the DeviceTokenHeader response header, to
// send back in that header with later logins (see [ThrottleConfig]).
func (m *Manager) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			return
		}
		email, password, ok, err := basicCredentials(r)
		if !ok || err != nil || password == "" {
			m.refuse(w, r, Basic, ErrNoCredentials)
			return
		}
		u, err := m.login(r.Context(), email, password, m.proxies.clientAddr(r), deviceToken(r))
		if err != nil {
			m.refuse(w, r, Basic, err)
			return
		}
		tok, err := m.IssueToken(u)
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			return
		}
		m.issueDevice(w, email, false)
		noStore(w)
		m.writeJSON(w, http.StatusOK, struct {
			Token      string `json:"token"`
			Expiration int64  `json:"expiration"`
		}{tok, int64(m.tokenMaxAge().Seconds())})
	})
}

// LogoutHandler returns the handler of POST /logout. The request must carry
// a valid token or browser session (or come through Require with a user in
// its context); the handler rotates the user's uniquifier, so every token
// and session of the user stops working, and answers 200
// {"meta":{"code":200},"response":{}}. Without a valid token or session it
// answers 401; if the store cannot be written, 501. A session logout must
// pass the CSRF check (403 otherwise). The answer deletes the session and
// remember-me cookies the request carries, and a browser (Accept
// preferring text/html) is redirected 303 to Config.Session.LoginPage instead,
// also when it had no session.
func (m *Manager) LogoutHandler() http.Handler {
	logoutAuth := m.pipeline(Token, Session)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			return
		}
		u, ok := FromContext(r.Context())
		if !ok {
			var err error
			if u, _, err = logoutAuth.authenticate(w, r); err != nil {
				m.refuse(w, r, logoutAuth.set, err)
				return
			}
		}
		m.sessions.clearCookies(w, r)
		if m.refresh != nil && m.refresh.cookie && hasCookie(r, refreshCookie) {
			http.SetCookie(w, m.refreshCookie("", -1))
		}
		if err := m.RevokeTokens(r.Context(), u.ID); err != nil {
			switch {
			case errors.Is(err, ErrReadOnlyStore):
				m.fail(w, r, http.StatusNotImplemented, err)
			case errors.Is(err, ErrUserNotFound):
				m.fail(w, r, http.StatusUnauthorized, ErrInvalidToken)
			default:
				m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			}
			return
		}
		m.audit(r.Context(), EventLogout, slog.String("user_id", u.ID), slog.String("ip", m.proxies.clientAddr(r)))
		if m.sessions.loggedOut(w, r) {
			return
		}
		m.writeOK(w, r, struct{}{})
	})
}

// allowPost reports whether r is a POST, setting Allow if not.
func allowPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	return false
}

// noStore marks a response that carries a token as not cacheable.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
