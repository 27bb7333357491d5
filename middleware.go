package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Scheme is a way of authenticating a request, for [Manager.Require] and
// [Manager.Optional].
type Scheme uint8

// The schemes. Whatever order they are given in, Require tries them in
// the order Token, Session, BasicToken, Basic, and the first that
// authenticates wins; so a request with a token header is never held to
// the CSRF check of a session.
const (
	// Token reads a token from the Authentication-Token header (or
	// Config.Token.Header), then "Authorization: Bearer", then the
	// auth_token query parameter (or Config.Token.QueryParam), each unless
	// disabled in Config.
	Token Scheme = 1 << iota
	// BasicToken reads a token from HTTP Basic credentials whose username
	// is the token and whose password is empty (Flask-HTTPAuth's pattern).
	BasicToken
	// Basic reads an email and password from HTTP Basic credentials (RFC
	// 7617). Every request then costs one password hash.
	Basic
	// Session reads the browser session cookie that [Manager.LoginHandler]
	// sets (Config.Session.CookieName), or, when it has expired, starts a
	// new session from the remember-me cookie. A request it authenticates
	// with an unsafe method (POST, PUT, PATCH, DELETE, …) must pass the
	// CSRF check, or gets 403; see [Manager.CSRFToken]. When a browser
	// (Accept preferring text/html) fails a Require that includes Session,
	// it is redirected 303 to Config.Session.LoginPage instead of getting a 401.
	Session
	// PersonalAccess reads a personal access token (see TokenConfig.Scopes)
	// from the places Token reads, but the query parameter. A route whose
	// schemes leave it out refuses such a token with 403 and
	// error="insufficient_scope"; a route that accepts it should say what
	// the token must allow with [Manager.RequireScopes].
	PersonalAccess
)

// RequireToken is middleware that lets a request through only with a
// valid token (see [Token]), answering 401 otherwise.
func (m *Manager) RequireToken(next http.Handler) http.Handler { return m.Require(Token)(next) }

// RequireBasic is middleware that lets a request through only with a valid
// email and password in HTTP Basic credentials, answering 401 with a Basic
// challenge otherwise.
func (m *Manager) RequireBasic(next http.Handler) http.Handler { return m.Require(Basic)(next) }

// Require returns middleware that lets a request through if one of the
// schemes authenticates it, and puts the user in its context (see
// [FromContext]). Otherwise it answers 401 with a WWW-Authenticate
// challenge for each scheme, 503 if the store failed, or 429 if password
// checks are throttled. With [Session] among the schemes, a browser gets a
// 303 to the login page (with next=the path and query, for GET and HEAD)
// instead of the 401, and a failed CSRF check gets 403. With no schemes it
// requires a [Token].
func (m *Manager) Require(schemes ...Scheme) func(http.Handler) http.Handler {
	p := m.pipeline(schemes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, g, err := p.authenticate(w, r)
			if err != nil {
				m.refuse(w, r, p.set, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(withGrant(r.Context(), u, g)))
		})
	}
}

// Optional returns middleware that authenticates the request like
// [Manager.Require] when it carries credentials and puts the user in its
// context, but never rejects it: without valid credentials the request goes
// on anonymously, as does a session-authenticated request that fails the
// CSRF check. With [Session] among the schemes, an anonymous GET or HEAD
// can get a login CSRF token from [Manager.CSRFToken], which then sets its
// cookie: mount the login page this way.
func (m *Manager) Optional(schemes ...Scheme) func(http.Handler) http.Handler {
	p := m.pipeline(schemes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, g, err := p.authenticate(w, r)
			if err != nil {
				if errors.Is(err, ErrStoreUnavailable) {
					m.log.ErrorContext(r.Context(), "auth: user store failed", "path", r.URL.Path, "error", err.Error())
				}
				if p.set&Session != 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					r = withLoginCSRFSlot(w, r)
				}
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(withGrant(r.Context(), u, g)))
		})
	}
}

// RequireRoles returns middleware that lets a request through only if its
// user holds every one of roles, answering 403 otherwise (401 if no user
// authenticated the request). Put it inside Require.
func (m *Manager) RequireRoles(roles ...string) func(http.Handler) http.Handler {
	return m.requireUser(func(u *User, _ grant) error {
		for _, role := range roles {
			if !u.HasRole(role) {
				return fmt.Errorf("%w: missing role %q", ErrForbidden, role)
			}
		}
		return nil
	})
}

// RequireAnyRole returns middleware that lets a request through only if its
// user holds at least one of roles, answering 403 otherwise.
func (m *Manager) RequireAnyRole(roles ...string) func(http.Handler) http.Handler {
	return m.requireUser(func(u *User, _ grant) error {
		for _, role := range roles {
			if u.HasRole(role) {
				return nil
			}
		}
		return fmt.Errorf("%w: none of roles %q", ErrForbidden, roles)
	})
}

// RequireConfirmed is middleware that lets a request through only if its
// user has confirmed the account, answering 403 "Unconfirmed account"
// otherwise. Put it inside Require.
func (m *Manager) RequireConfirmed(next http.Handler) http.Handler {
	return m.requireUser(func(u *User, _ grant) error {
		if !u.Confirmed {
			return ErrUnconfirmed
		}
		return nil
	})(next)
}

func (m *Manager) requireUser(allow func(*User, grant) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, g, ok := grantFrom(r.Context())
			if !ok {
				// Mounted without Require in front: every 401 still
				// names a scheme (RFC 9110 §15.5.2); the token is the default.
				m.refuse(w, r, Token, ErrNoCredentials)
				return
			}
			if err := allow(u, g); err != nil {
				if se, ok := err.(*scopeError); ok {
					m.scopeChallenge(w, se.need)
				} else if errors.Is(err, ErrInsufficientScope) {
					m.scopeChallenge(w, nil)
				}
				m.fail(w, r, http.StatusForbidden, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// challenge sets the WWW-Authenticate headers of a 401 for the schemes in
// set: RFC 6750 Bearer (with error="invalid_token" when a token was
// rejected) and RFC 7617 Basic.
func (m *Manager) challenge(w http.ResponseWriter, set Scheme, err error) {
	realm := strconv.Quote(m.realm)
	if set&(Token|PersonalAccess) != 0 {
		v := "Bearer realm=" + realm
		if errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrExpiredToken) {
			v += `, error="invalid_token"`
		}
		w.Header().Add("WWW-Authenticate", v)
	}
	if set&(Basic|BasicToken) != 0 {
		w.Header().Add("WWW-Authenticate", "Basic realm="+realm+`, charset="UTF-8"`)
	}
}
