package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// credentials are the email and password of a login request.
type credentials struct {
	Email    string
	Password string
}

// errBodyTooLarge: the request body exceeds Config.MaxBodyBytes.
var errBodyTooLarge = &requestError{status: http.StatusRequestEntityTooLarge, msg: message{id: msgTooLarge}}

// loginRequest is a login request as LoginHandler reads it: the
// credentials and what a browser session needs.
type loginRequest struct {
	credentials
	remember bool   // "remember": true, or a form's remember=on|true|1
	form     bool   // sent as an url-encoded form
	next     string // a form's "next" field
}

// readLogin reads a login request: a JSON object or an url-encoded form of
// at most max bytes, with its remember-me choice and, from a form, its next
// field.
func readLogin(w http.ResponseWriter, r *http.Request, max int64) (loginRequest, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return loginRequest{}, errLoginType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return loginRequest{}, errBodyTooLarge
		}
		return loginRequest{}, badRequest(msgBodyUnreadable)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseLoginJSON(body)
	case mt == "application/x-www-form-urlencoded":
		return parseLoginForm(body)
	}
	return loginRequest{}, errLoginType
}

// errLoginType: a login in another content type.
var errLoginType = &requestError{status: http.StatusUnsupportedMediaType, msg: message{id: msgLoginUnsupportedType}}

// parseLoginJSON reads a login request body: a JSON object whose "email"
// and "password" members are non-empty strings, with an optional
// "remember" member that must be true, false or null. Other members are
// ignored. It rejects anything else — another JSON type, a member given
// twice, invalid UTF-8, trailing data — with an error whose text is safe
// to show the client.
func parseLoginJSON(body []byte) (loginRequest, error) {
	if !utf8.Valid(body) {
		return loginRequest{}, badRequest(msgBodyNotUTF8)
	}
	var req loginRequest
	c := &req.credentials
	err := jsonMembers(body, msgLoginBodyNotObject, func(key string, raw json.RawMessage) error {
		var dst *string
		switch key {
		case "email":
			dst = &c.Email
		case "password":
			dst = &c.Password
		case "remember":
			if err := json.Unmarshal(raw, &req.remember); err != nil {
				return badRequest(msgRememberNotBool)
			}
			return nil
		default:
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return badRequest(msgNotString, key)
		}
		return nil
	})
	if err != nil {
		return loginRequest{}, err
	}
	return req, c.check()
}

// parseLoginForm reads an url-encoded form with single email and password
// fields and the "remember" and "next" fields. Even when it fails, the result says it was a form and carries
// next if the form could be parsed, so a browser can be sent back.
func parseLoginForm(body []byte) (loginRequest, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return loginRequest{form: true}, badRequest(msgFormInvalid)
	}
	req := loginRequest{form: true, next: form.Get("next")}
	switch strings.ToLower(form.Get("remember")) {
	case "on", "true", "1":
		req.remember = true
	}
	if len(form["email"]) > 1 || len(form["password"]) > 1 {
		return req, badRequest(msgLoginFieldRepeated)
	}
	req.credentials = credentials{Email: form.Get("email"), Password: form.Get("password")}
	if !utf8.ValidString(req.Email) || !utf8.ValidString(req.Password) {
		req.credentials = credentials{}
		return req, badRequest(msgFormNotUTF8)
	}
	return req, req.check()
}

func (c credentials) check() error {
	if c.Email == "" || c.Password == "" {
		return badRequest(msgCredentialsMissing)
	}
	if strings.ContainsRune(c.Email, 0) || strings.ContainsRune(c.Password, 0) {
		return badRequest(msgCredentialsNUL)
	}
	return nil
}

// safeKey shortens and sanitizes a client-supplied member name for an error message.
func safeKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		if b.Len() >= 32 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
