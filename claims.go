package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authkit/auth/itsdangerous"
)

// A Manager's token payload is the JSON array ["<user id>","<uniquifier>"]:
// the user authenticated when the token was issued. A token issued later
// than that, by a refresh, adds the Unix time of the authentication:
// ["<user id>","<uniquifier>",<seconds>]. These functions write and read
// exactly those shapes without reflection; anything else (including
// escapes, which the Manager never writes for plain IDs) goes through
// encoding/json.

// maxAuthTimeDigits bounds the digits of the authentication time: Unix
// seconds keep 10 digits until the year 2286.
const maxAuthTimeDigits = 12

// signClaims returns the token of the payload [id, uniq], or [id, uniq,
// authAt] when authAt is positive, built on the stack: issuing allocates
// only the token.
func signClaims(s *itsdangerous.Serializer, id, uniq string, authAt int64) string {
	var buf [256]byte
	return s.Sign(appendClaims(buf[:0], id, uniq, authAt))
}

// appendClaims appends the JSON array [id, uniq], or [id, uniq, authAt]
// when authAt is positive, to dst.
func appendClaims(dst []byte, id, uniq string, authAt int64) []byte {
	dst = append(dst, '[')
	dst = appendJSONString(dst, id)
	dst = append(dst, ',')
	dst = appendJSONString(dst, uniq)
	if authAt > 0 {
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, authAt, 10)
	}
	return append(dst, ']')
}

// appendJSONString appends s as a JSON string, escaping as Python's
// json.dumps(ensure_ascii=False) does: quotes, backslashes and control
// characters; other characters are written as UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	if plainJSONText(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}

// parseClaims decodes a verified payload segment into the user ID, the
// uniquifier and the authentication time (zero if the payload has none).
// The uniquifier is returned as a slice of scratch (or of a new buffer if
// scratch is too small), to be compared and dropped; the ID is a new
// string.
func parseClaims(s *itsdangerous.Serializer, seg string, scratch []byte) (string, []byte, int64, error) {
	payload, err := s.AppendPayload(scratch[:0], seg)
	if err != nil {
		return "", nil, 0, tokenError(err)
	}
	if id, uniq, at, ok := parsePlainClaims(payload); ok {
		return string(id), uniq, at, nil
	}
	// The slow path copies the payload, so that scratch (usually on the
	// caller's stack) does not escape through encoding/json.
	bad := fmt.Errorf("%w: not an [id, uniquifier] pair", ErrTokenPayload)
	var claims []json.RawMessage
	if !utf8.Valid(payload) || json.Unmarshal(bytes.Clone(payload), &claims) != nil || len(claims) < 2 || len(claims) > 3 {
		return "", nil, 0, bad
	}
	var id, uniq string
	var at int64
	if json.Unmarshal(claims[0], &id) != nil || json.Unmarshal(claims[1], &uniq) != nil {
		return "", nil, 0, bad
	}
	if len(claims) == 3 && (json.Unmarshal(claims[2], &at) != nil || at <= 0) {
		return "", nil, 0, bad
	}
	return id, []byte(uniq), at, nil
}

// parsePlainClaims reads ["a","b"] or ["a","b",n] where neither string
// holds a backslash or a control character and n is a positive decimal
// integer without sign or leading zero. Anything else reports ok=false.
func parsePlainClaims(p []byte) (a, b []byte, at int64, ok bool) {
	n := len(p)
	if n < 2 || p[n-1] != ']' {
		return nil, nil, 0, false
	}
	pair := p[:n-1] // ["a","b", with ,n after it when there is a time
	if c := p[n-2]; c >= '0' && c <= '9' {
		j := n - 2 // the first digit
		for j > 0 && p[j-1] >= '0' && p[j-1] <= '9' {
			j--
		}
		digits := p[j : n-1]
		if j < 1 || p[j-1] != ',' || digits[0] == '0' || len(digits) > maxAuthTimeDigits {
			return nil, nil, 0, false
		}
		for _, c := range digits {
			at = at*10 + int64(c-'0')
		}
		pair = p[:j-1]
	}
	if a, b, ok = plainPair(pair); !ok {
		return nil, nil, 0, false
	}
	return a, b, at, true
}

// plainPair reads ["a","b (a pair without its closing bracket) where
// neither string holds a backslash or a control character.
func plainPair(p []byte) (a, b []byte, ok bool) {
	if len(p) < 6 || p[0] != '[' || p[1] != '"' || p[len(p)-1] != '"' {
		return nil, nil, false
	}
	inner := p[2 : len(p)-1] // a","b
	i := bytes.Index(inner, []byte(`","`))
	if i < 0 {
		return nil, nil, false
	}
	a, b = inner[:i], inner[i+3:]
	if !plainJSONString(a) || !plainJSONString(b) || len(a) == 0 || len(b) == 0 {
		return nil, nil, false
	}
	return a, b, true
}

// plainJSONString reports whether s can stand between quotes in JSON as it
// is: valid UTF-8 with no quote, backslash or control character.
// An ASCII string (every string a Manager writes) takes one pass.
func plainJSONString(s []byte) bool {
	var high byte
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
		high |= c
	}
	return high < utf8.RuneSelf || utf8.Valid(s)
}

// plainJSONText is plainJSONString for a string.
func plainJSONText(s string) bool {
	var high byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
		high |= c
	}
	return high < utf8.RuneSelf || utf8.ValidString(s)
}

// errBadSignature is preallocated: rejecting a forged token should cost
// no more than checking a good one. VerifyToken tells it apart from other
// errors to try a Flask-Security token instead.
var errBadSignature = &wrapError{msg: "auth: invalid token: signature does not match", parent: ErrInvalidToken}

// tokenError translates an error of the itsdangerous package into this
// package's sentinels: a bad signature into errBadSignature, a bad payload
// into ErrTokenPayload, an expired token into ErrExpiredToken, one stamped
// in the future into futureTokenError (both ErrExpiredToken and
// ErrInvalidToken), anything else into ErrInvalidToken.
func tokenError(err error) error {
	switch {
	case err == nil:
		return nil
	case err == itsdangerous.ErrBadSignature:
		return errBadSignature
	case errors.Is(err, itsdangerous.ErrBadPayload):
		return &translatedError{sentinel: ErrTokenPayload, from: itsdangerous.ErrBadPayload, err: err}
	case errors.Is(err, itsdangerous.ErrExpired) && errors.Is(err, itsdangerous.ErrInvalid):
		return futureTokenError{}
	case errors.Is(err, itsdangerous.ErrExpired):
		return &translatedError{sentinel: ErrExpiredToken, from: itsdangerous.ErrExpired, err: err}
	}
	return &translatedError{sentinel: ErrInvalidToken, from: itsdangerous.ErrInvalid, err: err}
}

// translatedError is an itsdangerous error, err, that matches this
// package's sentinel in place of the itsdangerous sentinel it wrapped,
// from. Its text is the sentinel's with err's detail.
type translatedError struct{ sentinel, from, err error }

func (e *translatedError) Error() string {
	if detail, ok := strings.CutPrefix(e.err.Error(), e.from.Error()); ok {
		return e.sentinel.Error() + detail
	}
	return e.sentinel.Error() + ": " + e.err.Error()
}

func (e *translatedError) Unwrap() []error { return []error{e.sentinel, e.err} }
