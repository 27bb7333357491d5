package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// Browser sessions live in a cookie that gorilla/securecookie signs
// (HMAC-SHA256) and encrypts (AES-CTR). The cookie names the user and its
// uniquifier, so rotating the uniquifier ([Manager.RevokeTokens],
// [Manager.SetPassword], logout) ends every session of the user as it
// revokes every token. Nothing is kept on the server.

// clockSkew is how far in the future a cookie's timestamps may lie, for
// servers whose clocks disagree a little.
const clockSkew = time.Minute

// errBadSession: the request has a session or remember-me cookie, but it
// does not decode, has timed out, or names a user who no longer accepts it.
// To clients it is the same as having no credentials.
var errBadSession = &wrapError{msg: "auth: invalid or expired session", parent: ErrNoCredentials}

// The reasons a decoded cookie's user refuses it; each matches
// errBadSession and names a reason for the audit log.
var (
	errSessionUnknownUser = &wrapError{msg: "auth: invalid session: unknown user", parent: errBadSession}
	errSessionRevoked     = &wrapError{msg: "auth: invalid session: revoked", parent: errBadSession}
	errSessionInactive    = &wrapError{msg: "auth: invalid session: inactive user", parent: errBadSession}
)

// sessions holds a Manager's session settings.
type sessions struct {
	codecs        []securecookie.Codec // the first encodes, all decode
	name          string
	rememberName  string
	path          string
	domain        string
	insecure      bool
	sameSite      http.SameSite
	idle          time.Duration // <= 0: no idle timeout
	maxAge        time.Duration // <= 0: no absolute limit
	rememberAge   time.Duration // <= 0: remember-me disabled
	loginPage     string
	loginRedirect string
}

// The defaults of [SessionConfig].
const (
	defaultSessionCookieName  = "auth_session"
	defaultRememberCookieName = "auth_remember"
	defaultSessionIdleTimeout = 2 * time.Hour
	defaultSessionMaxAge      = 24 * time.Hour
	defaultRememberMaxAge     = 30 * 24 * time.Hour
)

// newSessions validates and copies the session settings. Without
// SessionConfig.Keys the cookie keys are derived from key and then from
// each of oldKeys, so rotating the signing key rotates them too.
func newSessions(key []byte, oldKeys [][]byte, c SessionConfig) (sessions, error) {
	s := sessions{
		name:          stringOr(c.CookieName, defaultSessionCookieName),
		rememberName:  stringOr(c.RememberCookieName, defaultRememberCookieName),
		path:          stringOr(c.CookiePath, "/"),
		domain:        c.CookieDomain,
		insecure:      c.Insecure,
		sameSite:      c.SameSite,
		idle:          sessionDurationOr(c.IdleTimeout, defaultSessionIdleTimeout),
		maxAge:        sessionDurationOr(c.MaxAge, defaultSessionMaxAge),
		rememberAge:   sessionDurationOr(c.RememberMaxAge, defaultRememberMaxAge),
		loginPage:     stringOr(c.LoginPage, "/login"),
		loginRedirect: stringOr(c.LoginRedirect, "/"),
	}
	for _, name := range []string{s.name, s.rememberName} {
		if !validCookieName(name) {
			return sessions{}, fmt.Errorf("auth: invalid cookie name %q", name)
		}
		if name == deviceCookieName || name == loginCSRFCookieName {
			return sessions{}, fmt.Errorf("auth: cookie name %q is the device or login CSRF cookie's", name)
		}
	}
	if s.name == s.rememberName {
		return sessions{}, errors.New("auth: the session and remember-me cookies need different names")
	}
	switch s.sameSite {
	case 0:
		s.sameSite = http.SameSiteLaxMode
	case http.SameSiteNoneMode:
		if s.insecure {
			return sessions{}, errors.New("auth: browsers refuse SameSite=None cookies without Secure; unset SessionConfig.Insecure")
		}
	}
	pairs := cloneKeys(c.Keys)
	if len(pairs) == 0 {
		for _, k := range append([][]byte{key}, oldKeys...) {
			pairs = append(pairs, deriveSessionKey(k, "authkit session cookie hash key v1"), deriveSessionKey(k, "authkit session cookie block key v1"))
		}
	}
	if len(pairs)%2 != 0 {
		return sessions{}, errors.New("auth: SessionConfig.Keys must hold pairs of hash and block keys")
	}
	for i := 0; i < len(pairs); i += 2 {
		if len(pairs[i]) < 32 {
			return sessions{}, fmt.Errorf("auth: session hash key %d is shorter than 32 bytes", i/2)
		}
		if n := len(pairs[i+1]); n != 16 && n != 24 && n != 32 {
			return sessions{}, fmt.Errorf("auth: session block key %d must be 16, 24 or 32 bytes, not %d", i/2, n)
		}
	}
	s.codecs = securecookie.CodecsFromPairs(pairs...)
	for _, c := range s.codecs {
		// The Manager checks the ages itself, with its own clock.
		c.(*securecookie.SecureCookie).MaxAge(0).SetSerializer(securecookie.JSONEncoder{})
	}
	return s, nil
}

// validCookieName reports whether name is an RFC 6265 cookie name: an RFC
// 9110 token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// deriveSessionKey returns a 32-byte key for one purpose: HMAC-SHA256(key, label).
func deriveSessionKey(key []byte, label string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	return h.Sum(nil)
}

func sessionDurationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// sessionState is the content of the session and remember-me cookies.
type sessionState struct {
	UserID string `json:"u"`
	Uniq   string `json:"q"`
	Issued int64  `json:"i"`           // Unix time of the login
	Seen   int64  `json:"s,omitempty"` // Unix time the cookie was last re-issued; session cookie only
	CSRF   []byte `json:"c"`           // the CSRF secret, csrfSecretBytes long
	Auth   int64  `json:"a,omitempty"` // Unix time of the last password check, if not the login (0)
}

// authAt is when the user last entered the password for the session.
func (st sessionState) authAt() int64 {
	if st.Auth > 0 {
		return st.Auth
	}
	return st.Issued
}

// decodeCookie returns the state a cookie named name carries, if it
// decodes, names a user and was not made in the future.
func (s *sessions) decodeCookie(name, value string, now time.Time) (sessionState, bool) {
	var st sessionState
	if value == "" || securecookie.DecodeMulti(name, value, &st, s.codecs...) != nil {
		return sessionState{}, false
	}
	future := now.Add(clockSkew).Unix()
	if st.UserID == "" || st.Uniq == "" || len(st.CSRF) != csrfSecretBytes || st.Issued > future || st.Seen > future || st.Auth > future {
		return sessionState{}, false
	}
	return st, true
}

// reauthenticated renews the session cookie r carries, if it is good, as
// authenticated by a password at now (see RequireFresh).
func (s *sessions) reauthenticated(w http.ResponseWriter, r *http.Request, now time.Time) error {
	c, err := r.Cookie(s.name)
	if err != nil {
		return nil
	}
	st, ok := s.decodeSession(c.Value, now)
	if !ok {
		return nil
	}
	st.Auth, st.Seen = now.Unix(), now.Unix()
	return s.setCookie(w, s.name, st, 0)
}

// decodeSession returns the state of a session cookie that has not timed out.
func (s *sessions) decodeSession(value string, now time.Time) (sessionState, bool) {
	st, ok := s.decodeCookie(s.name, value, now)
	switch {
	case !ok, st.Seen < st.Issued,
		s.maxAge > 0 && now.Sub(time.Unix(st.Issued, 0)) > s.maxAge,
		s.idle > 0 && now.Sub(time.Unix(st.Seen, 0)) > s.idle:
		return sessionState{}, false
	}
	return st, true
}

// decodeRemember returns the state of a remember-me cookie that has not
// expired.
func (s *sessions) decodeRemember(value string, now time.Time) (sessionState, bool) {
	if s.rememberAge <= 0 {
		return sessionState{}, false
	}
	st, ok := s.decodeCookie(s.rememberName, value, now)
	if !ok || now.Sub(time.Unix(st.Issued, 0)) > s.rememberAge {
		return sessionState{}, false
	}
	return st, true
}

// sessionFaults are the errors of a cookie whose user refuses it.
var sessionFaults = userFaults{unknown: errSessionUnknownUser, revoked: errSessionRevoked, inactive: errSessionInactive}

// sessionOwner returns the active user a cookie's state names, if its
// uniquifier is still the user's.
func (m *Manager) sessionOwner(ctx context.Context, st sessionState) (*User, error) {
	return m.currentUser(ctx, st.UserID, []byte(st.Uniq), sessionFaults)
}

// sessionUser authenticates r by its session cookie or, failing that, its
// remember-me cookie, which then starts a new session. It re-issues a
// session cookie whose last-seen time is older than an eighth of the idle
// timeout, and clears cookies that no longer authenticate. The error is
// ErrNoCredentials without cookies, errBadSession with unusable ones.
func (m *Manager) sessionUser(w http.ResponseWriter, r *http.Request) (*User, sessionState, error) {
	s := &m.sessions
	now := m.now()
	var failure error = ErrNoCredentials
	clearSession := false
	if c, err := r.Cookie(s.name); err == nil {
		err = errBadSession
		if st, ok := s.decodeSession(c.Value, now); ok {
			var u *User
			u, err = m.sessionOwner(r.Context(), st)
			if err == nil {
				if s.idle > 0 && now.Sub(time.Unix(st.Seen, 0)) >= s.idle/8 {
					st.Seen = now.Unix()
					if err := s.setCookie(w, s.name, st, 0); err != nil {
						m.log.ErrorContext(r.Context(), "auth: cannot refresh session cookie", "error", err.Error())
					}
				}
				return u, st, nil
			}
			if errors.Is(err, ErrStoreUnavailable) {
				return nil, sessionState{}, err
			}
		}
		m.sessionRejected(r, "session", err)
		failure, clearSession = errBadSession, true
	}
	if c, err := r.Cookie(s.rememberName); err == nil && s.rememberAge > 0 {
		err = errBadSession
		if st, ok := s.decodeRemember(c.Value, now); ok {
			var u *User
			u, err = m.sessionOwner(r.Context(), st)
			if err == nil {
				// The new session was not started by a password: it keeps
				// the remembered login's authentication time.
				st.Auth = st.authAt()
				st.Issued, st.Seen = now.Unix(), now.Unix()
				if err := s.setCookie(w, s.name, st, 0); err != nil {
					m.log.ErrorContext(r.Context(), "auth: cannot restore session cookie", "error", err.Error())
				}
				return u, st, nil
			}
			if errors.Is(err, ErrStoreUnavailable) {
				return nil, sessionState{}, err
			}
		}
		m.sessionRejected(r, "remember", err)
		failure = errBadSession
		s.clearCookie(w, s.rememberName)
	}
	if clearSession {
		s.clearCookie(w, s.name)
	}
	return nil, sessionState{}, failure
}

// setCookie encodes st into the cookie name. A zero maxAge makes a cookie
// that lasts until the browser closes; the server enforces the timeouts
// either way.
func (s *sessions) setCookie(w http.ResponseWriter, name string, st sessionState, maxAge time.Duration) error {
	value, err := securecookie.EncodeMulti(name, st, s.codecs[0])
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(name, value, int(maxAge/time.Second)))
	return nil
}

// clearCookie tells the browser to delete the cookie name (Max-Age=0).
func (s *sessions) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, s.cookie(name, "", -1))
}

func (s *sessions) cookie(name, value string, maxAge int) *http.Cookie {
	// #nosec G124 -- always HttpOnly and SameSite; Secure unless Config.Session.Insecure.
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     s.path,
		Domain:   s.domain,
		MaxAge:   maxAge,
		Secure:   !s.insecure,
		HttpOnly: true,
		SameSite: s.sameSite,
	}
}

// clearSessionCookies deletes the session and remember-me cookies r carries.
func (s *sessions) clearCookies(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{s.name, s.rememberName} {
		if hasCookie(r, name) {
			s.clearCookie(w, name)
		}
	}
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// startSession sets the cookies of a successful login when the request
// calls for them: a browser's form post always gets a session cookie, any
// login that asks to be remembered a session and a remember-me cookie;
// either gets its device token as a cookie too, after them, and every
// login in the DeviceTokenHeader. A
// browser's form post is then redirected, and startSession reports that
// it answered the request; another client gets the session's CSRF token in
// the CSRFHeader response header, beside the usual JSON answer. If the
// cookie cannot be encoded it answers 500.
func (m *Manager) startSession(w http.ResponseWriter, r *http.Request, u *User, req loginRequest) (answered bool) {
	browser := req.form && prefersHTML(r)
	if !browser && !req.remember {
		m.issueDevice(w, req.Email, false)
		return false
	}
	s := &m.sessions
	now := m.now().Unix()
	st := sessionState{UserID: u.ID, Uniq: u.Uniquifier, Issued: now, Seen: now, CSRF: newCSRFSecret()}
	err := s.setCookie(w, s.name, st, 0)
	switch {
	case err != nil:
	case req.remember && s.rememberAge > 0:
		remember := st
		remember.Seen = 0
		err = s.setCookie(w, s.rememberName, remember, s.rememberAge)
	case hasCookie(r, s.rememberName):
		s.clearCookie(w, s.rememberName) // an earlier login's
	}
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, fmt.Errorf("auth: cannot encode session cookie: %w", err))
		return true
	}
	m.issueDevice(w, req.Email, true)
	noStore(w)
	if browser {
		seeOther(w, m.sessions.afterLogin(r, req.next))
		return true
	}
	w.Header().Set(CSRFHeader, maskCSRF(st.CSRF))
	return false
}

// browserLoginFailed sends a browser whose login form was rejected back to the
// login page with error=1 (and its next), reporting whether it did. Other
// clients get the JSON error.
func (m *Manager) browserLoginFailed(w http.ResponseWriter, r *http.Request, req loginRequest, err error) bool {
	if !req.form || !prefersHTML(r) || statusOf(err) != http.StatusBadRequest {
		return false
	}
	next := req.next
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	seeOther(w, m.sessions.loginPageURL(next, true))
	return true
}

// loggedOut finishes a logout for a browser by sending it to the login
// page, reporting whether it did.
func (s *sessions) loggedOut(w http.ResponseWriter, r *http.Request) bool {
	if !prefersHTML(r) {
		return false
	}
	noStore(w)
	seeOther(w, s.loginPage)
	return true
}
