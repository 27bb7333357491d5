package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// accountRequest is the body of an account request: the string fields it
// names, from a JSON object or an url-encoded form.
type accountRequest struct {
	fields map[string]string
	form   bool   // sent as an url-encoded form
	next   string // a form's "next" field, where a browser goes afterwards
}

func (q accountRequest) get(name string) string { return q.fields[name] }

// readAccountRequest reads a body of at most max bytes holding the given
// string fields: a JSON object whose members of those names are strings
// (or null), or an url-encoded form with each at most once. Other members
// and fields are ignored; the form's "next" is kept.
func readAccountRequest(w http.ResponseWriter, r *http.Request, max int64, names ...string) (accountRequest, error) {
	body, isJSON, err := readAccountBody(w, r, max)
	if err != nil {
		return accountRequest{form: !isJSON && body != nil}, err
	}
	if isJSON {
		return parseAccountJSON(body, names)
	}
	return parseAccountForm(body, names)
}

// readAccountBody reads a body of at most max bytes of valid UTF-8, sent
// as JSON (isJSON) or as an url-encoded form. On an error, body is non-nil
// when the content type was known.
func readAccountBody(w http.ResponseWriter, r *http.Request, max int64) (body []byte, isJSON bool, err error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, false, &requestError{status: http.StatusUnsupportedMediaType, msg: message{id: msgUnsupportedType}}
	}
	isJSON = mt == "application/json" || strings.HasSuffix(mt, "+json")
	if !isJSON && mt != "application/x-www-form-urlencoded" {
		return nil, false, &requestError{status: http.StatusUnsupportedMediaType, msg: message{id: msgUnsupportedType}}
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, isJSON, errBodyTooLarge
		}
		return nil, isJSON, badRequest(msgBodyUnreadable)
	}
	if !utf8.Valid(body) {
		return []byte{}, isJSON, badRequest(msgBodyNotUTF8)
	}
	return body, isJSON, nil
}

func parseAccountJSON(body []byte, names []string) (accountRequest, error) {
	q := accountRequest{fields: map[string]string{}}
	err := jsonMembers(body, msgBodyNotObject, func(key string, raw json.RawMessage) error {
		if !contains(names, key) {
			return nil
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return badRequest(msgNotString, key)
		}
		if v != nil {
			q.fields[key] = *v
		}
		return nil
	})
	if err != nil {
		return accountRequest{}, err
	}
	return q, q.check()
}

// jsonMembers calls visit with each member of the JSON object body, in
// order. Anything but one object — another JSON type (answered with
// shape), a member given twice, trailing data — is a client error, as is
// an error visit returns.
func jsonMembers(body []byte, shape msgID, visit func(key string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return badRequest(shape)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return badRequest(msgBodyInvalidJSON)
		}
		key, _ := tok.(string)
		if seen[key] {
			return badRequest(msgMemberRepeated, safeKey(key))
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return badRequest(msgBodyInvalidJSON)
		}
		if err := visit(key, raw); err != nil {
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return badRequest(msgBodyInvalidJSON)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest(msgBodyTrailing)
	}
	return nil
}

func parseAccountForm(body []byte, names []string) (accountRequest, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return accountRequest{form: true}, badRequest(msgFormInvalid)
	}
	q := accountRequest{fields: map[string]string{}, form: true, next: form.Get("next")}
	for _, name := range names {
		if len(form[name]) > 1 {
			return q, badRequest(msgFieldRepeated, name)
		}
		if v := form.Get(name); v != "" {
			q.fields[name] = v
		}
	}
	return q, q.check()
}

func (q accountRequest) check() error {
	for _, v := range q.fields {
		if strings.ContainsRune(v, 0) {
			return badRequest(msgFieldsNUL)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fieldErrors are the problems of a request's fields, by field name, as
// Flask-Security answers them (see Manager.writeErrors).
type fieldErrors map[string][]message

// add records the message id, its verbs filled by args, for field.
func (f fieldErrors) add(field string, id msgID, args ...any) {
	f[field] = append(f[field], message{id: id, args: args})
}
