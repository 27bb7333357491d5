package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// errMalformedBasic: an Authorization Basic header that RFC 7617 cannot parse.
var errMalformedBasic = errors.New("auth: malformed Basic credentials")

// maxCredentialBytes bounds a token or Basic credential read from a header.
const maxCredentialBytes = 8 << 10

// authorization splits the Authorization header into its scheme and the
// rest. The scheme is compared case-insensitively (RFC 9110 §11.1).
func authorization(r *http.Request, scheme string) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimLeft(h[len(scheme)+1:], " "), true
}

// parseBasic decodes the credentials of an "Authorization: Basic" header
// value (the part after "Basic "), as RFC 7617 defines them: base64 of
// user-id ":" password, in UTF-8. The user-id cannot contain a colon; the
// password may. It rejects invalid base64, a missing colon, control
// characters in the user-id and invalid UTF-8.
func parseBasic(credentials string) (user, password string, err error) {
	if len(credentials) > maxCredentialBytes {
		return "", "", errMalformedBasic
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(credentials))
	if err != nil {
		return "", "", errMalformedBasic
	}
	s := string(raw)
	user, password, ok := strings.Cut(s, ":")
	if !ok || !utf8.ValidString(s) || hasControl(user) || strings.ContainsRune(password, 0) {
		return "", "", errMalformedBasic
	}
	return user, password, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// basicCredentials returns the request's Basic credentials: ok=false if
// there is no Basic Authorization header, err if it is malformed.
func basicCredentials(r *http.Request) (user, password string, ok bool, err error) {
	v, ok := authorization(r, "Basic")
	if !ok {
		return "", "", false, nil
	}
	user, password, err = parseBasic(v)
	return user, password, true, err
}
