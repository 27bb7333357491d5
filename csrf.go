package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CSRF protection of session-authenticated requests. Each session has a
// random secret, kept in its encrypted cookie. A page gets a token from
// [Manager.CSRFToken]: the secret XORed with a fresh one-time pad, pad and
// result in base64url, so no two pages show the same bytes (which defeats
// compression side channels such as BREACH). An unsafe request must send a
// token that unmasks to the secret, and its Origin (or, without one, its
// Referer) must name the host the request was sent to.

// Where a session-authenticated request with an unsafe method carries its
// CSRF token.
const (
	// CSRFHeader is the request header that carries the CSRF token, for
	// scripts. X-XSRF-Token, Flask-Security's default SECURITY_CSRF_HEADER
	// (and Angular's), is read too when CSRFHeader is absent.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the form field that carries the CSRF token, for HTML
	// forms (application/x-www-form-urlencoded or multipart/form-data).
	CSRFField = "csrf_token"
)

// xsrfHeader is the other name of CSRFHeader that requests may use.
const xsrfHeader = "X-XSRF-Token"

// csrfSecretBytes is the length of a session's CSRF secret.
const csrfSecretBytes = 32

// The reasons a CSRF check fails; both match ErrCSRF.
var (
	errCSRFToken   = &wrapError{msg: "auth: CSRF token missing or invalid", parent: ErrCSRF}
	errCrossOrigin = &wrapError{msg: "auth: CSRF check failed: cross-origin request", parent: ErrCSRF}
)

// newCSRFSecret returns a fresh random CSRF secret.
func newCSRFSecret() []byte {
	b := make([]byte, csrfSecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return b
}

// maskCSRF returns pad || pad XOR secret in unpadded base64url, with a
// fresh random pad.
func maskCSRF(secret []byte) string {
	buf := make([]byte, 2*len(secret))
	pad, masked := buf[:len(secret)], buf[len(secret):]
	_, _ = rand.Read(pad)
	subtle.XORBytes(masked, pad, secret)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// csrfMatches reports whether token, unmasked, equals secret. It compares
// in constant time.
func csrfMatches(token string, secret []byte) bool {
	if len(secret) != csrfSecretBytes || len(token) != base64.RawURLEncoding.EncodedLen(2*csrfSecretBytes) {
		return false
	}
	buf, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(buf) != 2*csrfSecretBytes {
		return false
	}
	pad, masked := buf[:csrfSecretBytes], buf[csrfSecretBytes:]
	subtle.XORBytes(masked, masked, pad)
	return subtle.ConstantTimeCompare(masked, secret) == 1
}

// CSRFToken returns a fresh CSRF token for the browser session of r, to
// put in a form's CSRFField or send in the CSRFHeader of a later unsafe
// request. Every call returns a different token; all of them stay valid
// for the whole session, including sessions restored from the remember-me
// cookie. It does not consult the store.
//
// Without a session (no session cookie that decodes and has not timed
// out), it returns a login CSRF token instead, for the login page's form:
// a form login that sends neither Origin nor Referer must carry one (see
// [Manager.LoginHandler]). It is bound to a login CSRF cookie, which
// CSRFToken sets on the response when the request came through
// [Manager.Optional] with [Session] (call it before writing the response),
// so the login page is mounted as m.Optional(auth.Session)(page). The
// cookie lasts 12 hours, and a page shown after 6 renews it with the same
// secret, so a token stays valid at least 6 hours after its page. Outside
// Optional, CSRFToken returns "" unless the request already carries the
// cookie.
func (m *Manager) CSRFToken(r *http.Request) string {
	now := m.now()
	if tok := m.sessionCSRFToken(r, now); tok != "" {
		return tok
	}
	return m.loginCSRFToken(r, now)
}

// sessionCSRFToken returns a CSRF token of the session that r's session
// cookie, or else its remember-me cookie, holds; "" without either.
func (m *Manager) sessionCSRFToken(r *http.Request, now time.Time) string {
	if c, err := r.Cookie(m.sessions.name); err == nil {
		if st, ok := m.sessions.decodeSession(c.Value, now); ok {
			return maskCSRF(st.CSRF)
		}
	}
	if c, err := r.Cookie(m.sessions.rememberName); err == nil {
		if st, ok := m.sessions.decodeRemember(c.Value, now); ok {
			return maskCSRF(st.CSRF)
		}
	}
	return ""
}

// safeMethod reports whether method is safe in the sense of RFC 9110
// §9.2.1, so needs no CSRF check.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// checkCSRF checks a session-authenticated request against the session's
// CSRF secret: requests with unsafe methods must come from the same origin
// and carry a valid token, in the CSRFHeader (or xsrfHeader) or in a form
// body's CSRFField,
// which formToken reads within maxBody bytes.
func checkCSRF(r *http.Request, secret []byte, maxBody int64) error {
	if safeMethod(r.Method) {
		return nil
	}
	if err := checkOrigin(r); err != nil {
		return err
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		token = r.Header.Get(xsrfHeader)
	}
	if token == "" && formBody(r) {
		var err error
		if token, err = formToken(r, maxBody); err != nil {
			return err
		}
	}
	if !csrfMatches(token, secret) {
		return errCSRFToken
	}
	return nil
}

// maxCSRFField bounds the CSRF field's value as formToken reads it; a valid
// token is 86 bytes.
const maxCSRFField = 256

// formToken returns the CSRFField of r's form body, reading at most max
// bytes of it and putting what it read back in front of the rest, so that
// the handler still reads the whole body, and nothing is parsed, buffered
// beyond max or written to disk before the check. The field must come
// within the first max bytes (forms put their hidden fields first; larger
// fields and uploads may follow it); if it does not and the body is
// longer, the error is errBodyTooLarge. A body without the field gives "".
func formToken(r *http.Request, max int64) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil
	}
	var read bytes.Buffer
	src := io.TeeReader(&io.LimitedReader{R: r.Body, N: max + 1}, &read)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var token string
	if mt == "multipart/form-data" {
		token = multipartField(src, params["boundary"], CSRFField)
	} else {
		body, _ := io.ReadAll(src)
		token = urlencodedField(body, int64(len(body)) > max, CSRFField)
	}
	tooLarge := int64(read.Len()) > max
	r.Body = readCloser{io.MultiReader(&read, r.Body), r.Body}
	if token == "" && tooLarge {
		return "", errBodyTooLarge
	}
	return token, nil
}

// urlencodedField returns the value of the first field of an url-encoded
// body named name; truncated means body is only the start of the body, so
// its last pair may be cut short and is not used. A malformed pair is
// skipped.
func urlencodedField(body []byte, truncated bool, name string) string {
	for len(body) > 0 {
		pair, rest, found := bytes.Cut(body, []byte("&"))
		if !found && truncated {
			return ""
		}
		body = rest
		k, v, _ := bytes.Cut(pair, []byte("="))
		if key, err := url.QueryUnescape(string(k)); err != nil || key != name {
			continue
		}
		if value, err := url.QueryUnescape(string(v)); err == nil {
			return value
		}
	}
	return ""
}

// multipartField returns the value of the first part of a multipart body
// named name, reading parts until it finds one; "" if there is none.
func multipartField(body io.Reader, boundary, name string) string {
	if boundary == "" {
		return ""
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if p.FormName() == name {
			v, _ := io.ReadAll(io.LimitReader(p, maxCSRFField))
			return string(v)
		}
	}
}

// readCloser is a request body whose reads and close go to different
// places.
type readCloser struct {
	io.Reader
	io.Closer
}

// formBody reports whether r's body is an HTML form.
func formBody(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// checkOrigin returns errCrossOrigin if r's Origin header, or without one
// its Referer header, names another host than the one r was sent to.
// Without either it passes: browsers send Origin with every cross-origin
// POST, so only same-origin requests and non-browser clients lack both.
// The scheme is checked only when r came over TLS to this server: behind
// a TLS-terminating proxy r.TLS is nil.
func checkOrigin(r *http.Request) error {
	source := r.Header.Get("Origin")
	if source == "" {
		source = r.Header.Get("Referer")
	}
	if source != "" && !sameOrigin(r, source) {
		return errCrossOrigin
	}
	return nil
}

// sameOrigin reports whether the URL raw (an Origin or Referer value)
// names the host r was sent to. "null" and non-HTTP origins never match.
func sameOrigin(r *http.Request, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	if r.TLS != nil && u.Scheme != "https" {
		return false
	}
	return strings.EqualFold(withoutDefaultPort(u.Host, u.Scheme), withoutDefaultPort(r.Host, u.Scheme))
}

// withoutDefaultPort removes scheme's default port from host.
func withoutDefaultPort(host, scheme string) string {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}
