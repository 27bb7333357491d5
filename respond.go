package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// requestError is a client mistake, answered with a message of the
// catalogue that says what to fix.
type requestError struct {
	status int
	msg    message
}

func (e *requestError) Error() string        { return "auth: bad request: " + e.msg.defaultText() }
func (e *requestError) Is(target error) bool { return target == ErrBadRequest }

// badRequest is a 400 answered with the message id, whose text's verbs
// args fill.
func badRequest(id msgID, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: message{id: id, args: args}}
}

// envelope is Flask-Security's JSON response shape.
type envelope struct {
	Meta     meta `json:"meta"`
	Response any  `json:"response"`
}

type meta struct {
	Code int `json:"code"`
}

// writeJSON writes v as the JSON body of a response with the given status.
func (m *Manager) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only the package's own types reach here
		m.writeErrors(w, http.StatusInternalServerError, errorReply{msgs: []message{{id: msgInternal}}})
		return
	}
	writeBody(w, status, append(body, '\n'))
}

// writeBody writes body, JSON that ends with a newline, with status.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left
}

// errorReply is the response object of an error: Flask-Security's
// "errors" and, for a form, "field_errors", each with its codes beside it.
type errorReply struct {
	lead   string    // JSON members before "errors" (`"status":"invalid"`), or ""
	msgs   []message // the messages of "errors", before those of fields
	fields fieldErrors
	order  []string // the fields whose messages come first in "errors"; the others follow by name
	tail   string   // JSON members after the messages (`"reauth_required":true`), or ""
}

// writeErrors answers status with e in Flask-Security's envelope:
//
//	{"meta":{"code":400},"response":{"errors":["Password not provided."],
//	"error_codes":["PASSWORD_NOT_PROVIDED"],
//	"field_errors":{"password":["Password not provided."]},
//	"field_error_codes":{"password":["PASSWORD_NOT_PROVIDED"]}}}
//
// "errors" and "field_errors" are Flask-Security's, the texts of
// Config.Messages; "error_codes" and "field_error_codes" hold the stable
// codes of the same messages, in the same order. The body is written
// here rather than by encoding/json, so that a refusal costs one buffer.
func (m *Manager) writeErrors(w http.ResponseWriter, status int, e errorReply) {
	var names []string
	if len(e.fields) > 0 {
		names = make([]string, 0, len(e.fields))
		for name := range e.fields {
			names = append(names, name)
		}
		slices.Sort(names) // as encoding/json orders a map
	}
	order := e.order
	for _, name := range names {
		if !slices.Contains(e.order, name) {
			order = append(order[:len(order):len(order)], name)
		}
	}
	size := 64 + len(e.lead) + len(e.tail) + 128*len(names) // the fields' messages twice, as a guess
	for _, x := range e.msgs {
		size += len(m.msgs.quoted[x.id]) + len(x.code()) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, `{"meta":{"code":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `},"response":{`...)
	if e.lead != "" {
		b = append(b, e.lead...)
		b = append(b, ',')
	}
	b = append(b, `"errors":[`...)
	b = m.appendMessages(b, false, e.msgs, e.fields, order)
	b = append(b, `],"error_codes":[`...)
	b = m.appendMessages(b, true, e.msgs, e.fields, order)
	b = append(b, ']')
	if len(names) > 0 {
		b = append(b, `,"field_errors":{`...)
		b = m.appendFields(b, false, e.fields, names)
		b = append(b, `},"field_error_codes":{`...)
		b = m.appendFields(b, true, e.fields, names)
		b = append(b, '}')
	}
	if e.tail != "" {
		b = append(b, ',')
		b = append(b, e.tail...)
	}
	b = append(b, "}}\n"...)
	writeBody(w, status, b)
}

// appendMessages appends, comma-separated, the texts (or the codes) of
// msgs and then of the fields named in order.
func (m *Manager) appendMessages(b []byte, codes bool, msgs []message, fields fieldErrors, order []string) []byte {
	n := len(b)
	for _, x := range msgs {
		b = m.appendMessage(b, codes, x, n)
	}
	for _, name := range order {
		for _, x := range fields[name] {
			b = m.appendMessage(b, codes, x, n)
		}
	}
	return b
}

// appendFields appends the members of a JSON object of the fields named,
// each with the texts (or codes) of its messages.
func (m *Manager) appendFields(b []byte, codes bool, fields fieldErrors, names []string) []byte {
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ":["...)
		b = m.appendMessages(b, codes, fields[name], nil, nil)
		b = append(b, ']')
	}
	return b
}

// appendMessage appends x's text (or its code), after a comma unless b is
// still start bytes long.
func (m *Manager) appendMessage(b []byte, codes bool, x message, start int) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	if codes {
		return appendCode(b, x)
	}
	return m.msgs.appendQuoted(b, x)
}

// appendCode appends x's code as a JSON string: codes are upper-case
// ASCII letters, digits and underscores (TestMessageCatalogue).
func appendCode(b []byte, x message) []byte {
	b = append(b, '"')
	b = append(b, x.code()...)
	return append(b, '"')
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
	m.writeJSON(w, http.StatusOK, envelope{Meta: meta{Code: http.StatusOK}, Response: response})
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
	msgs := [1]message{publicMessage(status, err)}
	e := errorReply{msgs: msgs[:]}
	if errors.Is(err, ErrReauthRequired) {
		e.tail = `"reauth_required":true` // Flask-Security's answer, which front ends look for
	}
	m.writeErrors(w, status, e)
}

// publicMessage is the message a client gets for an error.
func publicMessage(status int, err error) message {
	var re *requestError
	var id msgID
	switch {
	case errors.As(err, &re):
		return re.msg
	case errors.Is(err, ErrInvalidCredentials):
		id = msgBadCredentials
	case errors.Is(err, ErrThrottled):
		id = msgThrottled
	case errors.Is(err, errCrossOrigin):
		id = msgCrossOrigin
	case errors.Is(err, ErrCSRF):
		id = msgCSRF
	case errors.Is(err, ErrUnconfirmed):
		id = msgUnconfirmed
	case errors.Is(err, ErrReauthRequired):
		id = msgReauth
	case errors.Is(err, ErrTwoFactorRequired):
		id = msgTwoFactorOnly
	case errors.Is(err, ErrInsufficientScope):
		id = msgScope
	case errors.Is(err, ErrForbidden):
		id = msgForbidden
	default:
		id = statusMessage(status)
	}
	return message{id: id}
}

// statusMessage is the message of an error status that no more telling
// error explains.
func statusMessage(status int) msgID {
	switch status {
	case http.StatusUnauthorized:
		return msgUnauthenticated
	case http.StatusForbidden:
		return msgForbidden
	case http.StatusNotFound:
		return msgNotFound
	case http.StatusMethodNotAllowed:
		return msgMethod
	case http.StatusRequestEntityTooLarge:
		return msgTooLarge
	case http.StatusNotImplemented:
		return msgNotImplemented
	case http.StatusServiceUnavailable:
		return msgUnavailable
	}
	if status >= 500 {
		return msgInternal
	}
	return msgBadRequest
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
