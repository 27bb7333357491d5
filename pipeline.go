package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// A request is authenticated one way: the middleware builds, once, the
// ordered list of authenticators its schemes call for (Token, Session,
// BasicToken and Basic, in that order), runs them in one loop, and answers
// a failure through one path, refuse, which the handlers share.

// An authenticator tries one way of authenticating a request. It returns
// an error matching ErrNoCredentials when the request carries none of the
// credentials it reads. It may set cookies on w (a refreshed or restored
// session, or the deletion of a stale one).
type authenticator func(w http.ResponseWriter, r *http.Request) (*User, grant, error)

// pipeline is the ordered authenticators of a set of schemes.
type pipeline struct {
	set   Scheme
	steps []authenticator
}

// pipeline returns the authenticators of the schemes in set, in their
// fixed order. With no scheme in set it requires a Token.
func (m *Manager) pipeline(schemes ...Scheme) pipeline {
	var set Scheme
	for _, s := range schemes {
		set |= s
	}
	if set&(Token|Session|BasicToken|Basic|PersonalAccess) == 0 {
		set = Token
	}
	p := pipeline{set: set}
	if set&(Token|PersonalAccess) != 0 {
		p.steps = append(p.steps, m.tokenStep(set))
	}
	if set&Session != 0 {
		p.steps = append(p.steps, m.sessionStep)
	}
	if set&(BasicToken|Basic) != 0 {
		p.steps = append(p.steps, m.basicStep(set))
	}
	return p
}

// authenticate runs the steps and returns the first user one of them
// authenticates. A store failure, an overloaded or throttled password
// check, a failed CSRF check and a bad request (a form body too large to
// find its CSRF token in) end the run at once. Otherwise the error is the last failure
// of a credential the request carried; a step that found no credentials
// (or an unusable session cookie, which counts as none) never replaces an
// earlier failure. With no credentials at all it is ErrNoCredentials.
func (p pipeline) authenticate(w http.ResponseWriter, r *http.Request) (*User, grant, error) {
	var failure error = ErrNoCredentials
	for _, step := range p.steps {
		u, g, err := step(w, r)
		switch {
		case err == nil:
			return u, g, nil
		case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrOverloaded), errors.Is(err, ErrThrottled), errors.Is(err, ErrCSRF), errors.Is(err, ErrBadRequest):
			return nil, grant{}, err
		case errors.Is(err, ErrNoCredentials) && failure != ErrNoCredentials:
		default:
			failure = err
		}
	}
	return nil, grant{}, failure
}

// tokenStep returns the authenticator of the token the request carries:
// a Manager's or another verifier's token with Token in set (see Token),
// a personal access token with PersonalAccess in set.
func (m *Manager) tokenStep(set Scheme) authenticator {
	return func(_ http.ResponseWriter, r *http.Request) (*User, grant, error) {
		tok, inQuery, ok := m.sources.find(r)
		if !ok {
			return nil, grant{}, ErrNoCredentials
		}
		if m.personal != nil && m.personal.looksLike(tok) {
			switch {
			case set&PersonalAccess == 0:
				return nil, grant{}, errPersonalNotAccepted
			case inQuery:
				return nil, grant{}, errPersonalInQuery
			}
			return m.verifyRequestPersonal(r, tok)
		}
		if set&Token == 0 {
			return nil, grant{}, fmt.Errorf("%w: only personal access tokens are accepted here", ErrInvalidToken)
		}
		u, at, err := m.verifyRequestToken(r, tok)
		return u, grant{via: Token, authAt: at}, err
	}
}

// sessionStep authenticates the session or remember-me cookie (see
// Session), and holds a request with an unsafe method to the CSRF check.
func (m *Manager) sessionStep(w http.ResponseWriter, r *http.Request) (*User, grant, error) {
	u, st, err := m.sessionUser(w, r)
	if err != nil {
		return nil, grant{}, err
	}
	if err := checkCSRF(r, st.CSRF, m.maxBody); err != nil {
		m.csrfRejected(r, u, err)
		return nil, grant{}, err
	}
	return u, grant{via: Session, authAt: st.authAt()}, nil
}

// basicStep returns the authenticator of HTTP Basic credentials for the
// Basic and BasicToken schemes in set: a token as the username with an
// empty password (BasicToken), or an email and password (Basic).
func (m *Manager) basicStep(set Scheme) authenticator {
	return func(_ http.ResponseWriter, r *http.Request) (*User, grant, error) {
		user, password, ok, err := basicCredentials(r)
		switch {
		case !ok:
			return nil, grant{}, ErrNoCredentials
		case err != nil:
			return nil, grant{}, fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
		case set&BasicToken != 0 && password == "":
			u, at, err := m.verifyRequestToken(r, user)
			return u, grant{via: BasicToken, authAt: at}, err
		case set&Basic != 0:
			u, _, err := m.authenticate(r.Context(), user, password, m.proxies.clientAddr(r), deviceToken(r))
			if err == nil {
				// A password alone does not log in a user with a second factor.
				err = m.secondFactorGate(r.Context(), u)
			}
			if err != nil {
				return nil, grant{}, err
			}
			// The password came with this very request.
			return u, grant{via: Basic, authAt: m.now().Unix()}, nil
		}
		return nil, grant{}, ErrNoCredentials
	}
}

// verifyRequestToken is verifyToken with an audit event for a rejection.
func (m *Manager) verifyRequestToken(r *http.Request, token string) (*User, int64, error) {
	u, at, err := m.verifyToken(r.Context(), token)
	if err != nil && !errors.Is(err, ErrStoreUnavailable) {
		m.tokenRejected(r, err)
	}
	return u, at, err
}

// tokenRejected audits the rejection of a token a request carried.
func (m *Manager) tokenRejected(r *http.Request, err error) {
	m.audit(r.Context(), EventTokenRejected, slog.String("reason", tokenRejection(err)),
		slog.String("ip", m.proxies.clientAddr(r)), slog.String("path", r.URL.Path))
}

// refuse answers a request that the schemes in set did not authenticate:
// 503 for a store failure or an overloaded hashing pool, 429 for a
// throttled password check, 403 for a failed CSRF check; with Session in
// set, a browser is redirected 303 to the login page (with next=the page,
// for GET and HEAD); anyone else gets 401 with a WWW-Authenticate
// challenge for each scheme.
func (m *Manager) refuse(w http.ResponseWriter, r *http.Request, set Scheme, err error) {
	switch {
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrOverloaded), errors.Is(err, ErrThrottled), errors.Is(err, ErrCSRF), errors.Is(err, ErrBadRequest):
		m.fail(w, r, statusOf(err), err)
		return
	case errors.Is(err, ErrInsufficientScope):
		m.scopeChallenge(w, nil)
		m.fail(w, r, http.StatusForbidden, err)
		return
	}
	if set&Session != 0 {
		w.Header().Add("Vary", "Accept")
		if prefersHTML(r) {
			next := ""
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next = r.URL.RequestURI()
			}
			seeOther(w, m.sessions.loginPageURL(next, false))
			return
		}
	}
	m.challenge(w, set, err)
	m.fail(w, r, http.StatusUnauthorized, err)
}
