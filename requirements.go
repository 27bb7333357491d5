package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RequireScopes returns middleware that lets a request through only if its
// credential allows every one of scopes, answering 403 with an RFC 6750
// challenge (error="insufficient_scope", scope="…") otherwise, or 401 if no
// user authenticated the request. Put it inside [Manager.Require].
//
// A personal access token allows the scopes it was made with that its
// owner's roles still allow; any other credential (a login token, a
// session, Basic) allows every scope its user's roles allow (see
// TokenConfig.Scopes). A scope that TokenConfig.Scopes does not declare is
// allowed to no one: a route that asks for one refuses every request, and
// the Manager logs an error when the middleware is made.
func (m *Manager) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	var undeclared []string
	for _, s := range scopes {
		if m.personal == nil || !m.declared(s) {
			undeclared = append(undeclared, s)
		}
	}
	if len(undeclared) > 0 {
		m.log.Error("auth: RequireScopes names scopes that TokenConfig.Scopes does not declare; the route refuses every request", "scopes", undeclared)
	}
	return m.requireUser(func(u *User, g grant) error {
		if len(undeclared) > 0 {
			return fmt.Errorf("%w: undeclared scopes %q", ErrInsufficientScope, undeclared)
		}
		for _, s := range scopes {
			if !m.personal.allows(u, s) || g.via == PersonalAccess && !slices.Contains(g.personal.Scopes, s) {
				return &scopeError{need: scopes}
			}
		}
		return nil
	})
}

// declared reports whether TokenConfig.Scopes declares scope.
func (m *Manager) declared(scope string) bool {
	_, ok := m.personal.scopes[scope]
	return ok
}

// scopeError is a refusal for want of a scope: it names the scopes the
// route needs, for the challenge.
type scopeError struct{ need []string }

func (e *scopeError) Error() string {
	return fmt.Sprintf("auth: insufficient scope: the route needs %q", e.need)
}
func (e *scopeError) Unwrap() error { return ErrInsufficientScope }

// scopeChallenge sets the WWW-Authenticate header of a 403 for want of
// scope (RFC 6750 §3.1), naming the scopes the route needs, if known.
func (m *Manager) scopeChallenge(w http.ResponseWriter, need []string) {
	v := "Bearer realm=" + strconv.Quote(m.realm) + `, error="insufficient_scope"`
	if len(need) > 0 {
		v += ", scope=" + strconv.Quote(strings.Join(need, " "))
	}
	w.Header().Set("WWW-Authenticate", v)
}

// RequireFresh returns middleware that lets a request through only if its
// user entered the password within the given time for the credential the
// request carries: the login that issued a token (or began the device
// session it was refreshed from, or the session cookie's login), or a later
// POST /verify of [Manager.AccountHandler]. A request with HTTP Basic
// credentials is always fresh; a personal access token never is, nor a
// user put in the context by [NewContext]. A within of zero or less makes
// no request fresh. Put it inside [Manager.Require].
//
// A request that is not fresh gets 401 with Flask-Security's
// {"response":{"errors":[…],"error_codes":["REAUTHENTICATION_REQUIRED"],
// "reauth_required":true}} and an RFC 9470
// challenge (error="insufficient_user_authentication", max_age=within in
// seconds); a browser authenticated by its session cookie is redirected
// 303 to the login page with reauth=1 and next=the page (for GET and
// HEAD) instead. Tokens of TokenConfig.Verifiers are fresh by the time
// their verifier tells (see [TokenVerifier]): for Flask-Security's, fs_paa
// or else the time the token was issued.
func (m *Manager) RequireFresh(within time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, g, ok := grantFrom(r.Context())
			switch {
			case !ok:
				m.refuse(w, r, Token, ErrNoCredentials)
			case m.fresh(g, within):
				next.ServeHTTP(w, r)
			default:
				m.reauth(w, r, u, g, within)
			}
		})
	}
}

// fresh reports whether the credential of grant g was authenticated by a
// password within the given time.
func (m *Manager) fresh(g grant, within time.Duration) bool {
	switch {
	case g.via == Basic:
		return true
	case within <= 0 || g.authAt <= 0 || g.via == PersonalAccess:
		return false
	}
	return m.now().Sub(time.Unix(g.authAt, 0)) <= within
}

// reauth answers a request whose credential is not fresh enough.
func (m *Manager) reauth(w http.ResponseWriter, r *http.Request, u *User, g grant, within time.Duration) {
	if g.via == Session && prefersHTML(r) {
		w.Header().Add("Vary", "Accept")
		next := ""
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next = r.URL.RequestURI()
		}
		seeOther(w, withQuery(m.sessions.loginPageURL(next, false), url.Values{"reauth": {"1"}}))
		return
	}
	v := "Bearer realm=" + strconv.Quote(m.realm) + `, error="insufficient_user_authentication"`
	if within > 0 {
		v += ", max_age=" + strconv.FormatInt(int64(within/time.Second), 10)
	}
	w.Header().Set("WWW-Authenticate", v)
	m.fail(w, r, http.StatusUnauthorized, fmt.Errorf("%w: user %s last authenticated at %d", ErrReauthRequired, u.ID, g.authAt))
}
