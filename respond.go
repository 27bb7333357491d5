package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Texts sent to clients. They say what to fix and never carry internal
// error text.
const (
	msgUnauthenticated = "You are not authenticated. Please supply the correct credentials."
	msgBadCredentials  = "Invalid email or password."
	msgForbidden       = "You do not have permission to view this resource."
	msgUnconfirmed     = "Unconfirmed account"
	msgUnavailable     = "The service is temporarily unavailable. Please retry."
	msgMethod          = "Method not allowed."
	msgTooLarge        = "Request body too large."
	msgNotImplemented  = "Not supported by this server."
	msgThrottled       = "Too many failed attempts. Retry later."
	msgScope           = "This credential does not allow this request."
	msgReauth          = "You must re-authenticate to access this endpoint"
)

// requestError is a client mistake with a message safe to send back.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string        { return "auth: bad request: " + e.msg }
func (e *requestError) Is(target error) bool { return target == ErrBadRequest }

func badRequest(msg string) error { return &requestError{status: http.StatusBadRequest, msg: msg} }

// envelope is Flask-Security's JSON response shape.
type envelope struct {
	Meta     meta `json:"meta"`
	Response any  `json:"response"`
}

type meta struct {
	Code int `json:"code"`
}

type errorList struct {
	Errors []string `json:"errors"`
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only the package's own types reach here
		status, body = http.StatusInternalServerError, []byte(`{"meta":{"code":500},"response":{"errors":["Internal error."]}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // a failed write means the client left
}

// writeOK writes a 200 Flask-Security envelope around response. As
// Flask-Security's JSON replies do, the response object carries
// "csrf_token" for a request that has a browser session, or whose answer
// began one: a cookie-session SPA reads it there (and sends it back in the
// X-CSRF-Token or X-XSRF-Token header).
func (m *Manager) writeOK(w http.ResponseWriter, r *http.Request, response any) {
	if tok := m.replyCSRFToken(w, r); tok != "" {
		if body, err := json.Marshal(response); err == nil && len(body) >= 2 && body[0] == '{' {
			member, _ := json.Marshal(tok)
			withToken := make([]byte, 0, len(body)+len(member)+16)
			withToken = append(withToken, `{"csrf_token":`...)
			withToken = append(withToken, member...)
			if len(body) > 2 {
				withToken = append(withToken, ',')
			}
			withToken = append(withToken, body[1:]...)
			response = json.RawMessage(withToken)
		}
	}
	writeJSON(w, http.StatusOK, envelope{Meta: meta{Code: http.StatusOK}, Response: response})
}

// replyCSRFToken returns the CSRF token a JSON reply to r carries: that of
// the session the answer began (in its CSRFHeader), or of the session
// cookie r came with, or "" without a session.
func (m *Manager) replyCSRFToken(w http.ResponseWriter, r *http.Request) string {
	if tok := w.Header().Get(CSRFHeader); tok != "" {
		return tok
	}
	if !hasCookie(r, m.sessions.name) && !hasCookie(r, m.sessions.rememberName) {
		return ""
	}
	for _, c := range w.Header().Values("Set-Cookie") {
		if strings.HasPrefix(c, m.sessions.name+"=;") || strings.HasPrefix(c, m.sessions.name+"=\"\";") {
			return "" // the answer ends the session
		}
	}
	return m.sessionCSRFToken(r, m.now())
}

// fail answers a request with an error status, through Config.ErrorHandler
// if one is set. Challenge headers must already be set.
func (m *Manager) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusServiceUnavailable {
		if errors.Is(err, ErrOverloaded) {
			m.passwords.overload.refuse(r.Context(), m.log, m.now())
		} else {
			m.log.ErrorContext(r.Context(), "auth: user store failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		}
		w.Header().Set("Retry-After", "1")
	}
	var throttled *ThrottledError
	if errors.As(err, &throttled) {
		w.Header().Set("Retry-After", throttled.retryAfterHeader())
	}
	if m.onError != nil {
		m.onError(w, r, status, err)
		return
	}
	if errors.Is(err, ErrReauthRequired) {
		// Flask-Security's answer, which front ends look for.
		writeJSON(w, status, envelope{Meta: meta{Code: status}, Response: struct {
			Errors         []string `json:"errors"`
			ReauthRequired bool     `json:"reauth_required"`
		}{[]string{msgReauth}, true}})
		return
	}
	writeJSON(w, status, envelope{Meta: meta{Code: status}, Response: errorList{Errors: []string{publicMessage(status, err)}}})
}

// publicMessage is the text a client sees for an error.
func publicMessage(status int, err error) string {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return re.msg
	case errors.Is(err, ErrInvalidCredentials):
		return msgBadCredentials
	case errors.Is(err, ErrThrottled):
		return msgThrottled
	case errors.Is(err, errCrossOrigin):
		return msgCrossOrigin
	case errors.Is(err, ErrCSRF):
		return msgCSRF
	case errors.Is(err, ErrUnconfirmed):
		return msgUnconfirmed
	case errors.Is(err, ErrReauthRequired):
		return msgReauth
	case errors.Is(err, ErrTwoFactorRequired):
		return msgTwoFactorOnly
	case errors.Is(err, ErrInsufficientScope):
		return msgScope
	case errors.Is(err, ErrForbidden):
		return msgForbidden
	}
	switch status {
	case http.StatusUnauthorized:
		return msgUnauthenticated
	case http.StatusMethodNotAllowed:
		return msgMethod
	case http.StatusRequestEntityTooLarge:
		return msgTooLarge
	case http.StatusNotImplemented:
		return msgNotImplemented
	case http.StatusServiceUnavailable:
		return msgUnavailable
	}
	return http.StatusText(status)
}

// statusOf maps an authentication error to its HTTP status.
func statusOf(err error) int {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return re.status
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrOverloaded):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrUnconfirmed), errors.Is(err, ErrCSRF):
		return http.StatusForbidden
	case errors.Is(err, ErrInvalidCredentials):
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}
