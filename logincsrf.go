package auth

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
)

// Login CSRF: a cross-site form that logs the visitor in to the attacker's
// account. A login form post whose Origin (or, without one, Referer) names
// another host is refused. One with neither header — an old browser, a
// privacy extension, a non-browser client — must carry a login CSRF token:
// the login page gets one from [Manager.CSRFToken], which, for a browser
// without a session, masks a random secret kept in a login CSRF cookie
// (signed and encrypted like the session cookie, so it cannot be forged or
// swapped for another cookie). A token from the page of another browser
// does not match this browser's cookie. JSON logins cannot be sent
// cross-origin without CORS, so they are left alone.

// loginCSRFCookieName names the cookie of the login CSRF secret.
const loginCSRFCookieName = "auth_login_csrf"

// loginCSRFMaxAge is how long a login CSRF secret stays valid after the
// last page that showed it; the cookie is re-issued once it is older than
// half of it.
const loginCSRFMaxAge = 12 * time.Hour

// loginCSRFState is the content of the login CSRF cookie.
type loginCSRFState struct {
	CSRF   []byte `json:"c"` // csrfSecretBytes long
	Issued int64  `json:"i"` // Unix time the cookie was set
}

// loginSecret returns the login CSRF secret of r's cookie and when the
// cookie was set, if it decodes and has not expired at now.
func (s *sessions) loginSecret(r *http.Request, now time.Time) ([]byte, time.Time, bool) {
	c, err := r.Cookie(loginCSRFCookieName)
	if err != nil || c.Value == "" {
		return nil, time.Time{}, false
	}
	var st loginCSRFState
	if securecookie.DecodeMulti(loginCSRFCookieName, c.Value, &st, s.codecs...) != nil || len(st.CSRF) != csrfSecretBytes {
		return nil, time.Time{}, false
	}
	issued := time.Unix(st.Issued, 0)
	if issued.After(now.Add(clockSkew)) || now.Sub(issued) > loginCSRFMaxAge {
		return nil, time.Time{}, false
	}
	return st.CSRF, issued, true
}

// setLoginSecret sets the login CSRF cookie to secret, issued at now.
func (s *sessions) setLoginSecret(w http.ResponseWriter, secret []byte, now time.Time) error {
	value, err := securecookie.EncodeMulti(loginCSRFCookieName, loginCSRFState{CSRF: secret, Issued: now.Unix()}, s.codecs[0])
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(loginCSRFCookieName, value, int(loginCSRFMaxAge/time.Second)))
	return nil
}

// loginCSRFKey is the context key of a request's *loginCSRFSlot.
type loginCSRFKey struct{}

// loginCSRFSlot is what [Manager.Optional] leaves in the context of an
// anonymous request, so that [Manager.CSRFToken] can set the login CSRF
// cookie on its response: the response writer, and the secret once set.
type loginCSRFSlot struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	secret []byte
}

// withLoginCSRFSlot returns r with a loginCSRFSlot for w in its context.
func withLoginCSRFSlot(w http.ResponseWriter, r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), loginCSRFKey{}, &loginCSRFSlot{w: w}))
}

// loginCSRFToken returns a login CSRF token for a request without a
// session: one for the secret of its login CSRF cookie, which is re-issued
// when older than half its life, or for a new secret, set in a new
// cookie. Without a loginCSRFSlot in its context (outside
// Manager.Optional) no cookie can be set; it then returns "" unless the
// request carries a valid cookie.
func (m *Manager) loginCSRFToken(r *http.Request, now time.Time) string {
	secret, issued, ok := m.sessions.loginSecret(r, now)
	slot, _ := r.Context().Value(loginCSRFKey{}).(*loginCSRFSlot)
	if slot == nil {
		if !ok {
			return ""
		}
		return maskCSRF(secret)
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.secret == nil {
		if ok && now.Sub(issued) < loginCSRFMaxAge/2 {
			return maskCSRF(secret)
		}
		if !ok {
			secret = newCSRFSecret()
		}
		if err := m.sessions.setLoginSecret(slot.w, secret, now); err != nil {
			m.log.ErrorContext(r.Context(), "auth: cannot encode login CSRF cookie", "error", err.Error())
			return ""
		}
		slot.secret = secret
	}
	return maskCSRF(slot.secret)
}

// loginCSRF checks a login request against login CSRF: a form post
// (url-encoded or multipart) whose Origin, or without one Referer, names
// another host is refused (errCrossOrigin); an url-encoded one with
// neither must carry a token that [Manager.CSRFToken] gave this browser — for its login CSRF
// cookie, or for its session — in the CSRFHeader or the form's CSRFField
// (errCSRFToken). JSON logins pass.
func (m *Manager) loginCSRF(r *http.Request) error {
	err := m.checkLoginCSRF(r)
	if err != nil {
		m.audit(r.Context(), EventCSRFRejected, slog.String("reason", csrfRejection(err)),
			slog.String("ip", m.proxies.clientAddr(r)), slog.String("path", r.URL.Path))
	}
	return err
}

func (m *Manager) checkLoginCSRF(r *http.Request) error {
	if !formBody(r) {
		return nil
	}
	source := r.Header.Get("Origin")
	if source == "" {
		source = r.Header.Get("Referer")
	}
	if source != "" {
		if !sameOrigin(r, source) {
			return errCrossOrigin
		}
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil // a multipart login is refused with 415 by readLogin
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		token = r.Header.Get(xsrfHeader)
	}
	if token == "" {
		var err error
		if token, err = formToken(r, m.maxBody); err != nil {
			return err
		}
	}
	if token == "" {
		return errCSRFToken
	}
	now := m.now()
	if secret, _, ok := m.sessions.loginSecret(r, now); ok && csrfMatches(token, secret) {
		return nil
	}
	if c, err := r.Cookie(m.sessions.name); err == nil {
		if st, ok := m.sessions.decodeSession(c.Value, now); ok && csrfMatches(token, st.CSRF) {
			return nil
		}
	}
	if c, err := r.Cookie(m.sessions.rememberName); err == nil {
		if st, ok := m.sessions.decodeRemember(c.Value, now); ok && csrfMatches(token, st.CSRF) {
			return nil
		}
	}
	return errCSRFToken
}
