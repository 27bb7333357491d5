package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A Manager's token payload is the JSON array ["<user id>","<uniquifier>"].
// These functions write and read exactly that shape without reflection;
// anything else (including escapes, which the Manager never writes for
// plain IDs) goes through encoding/json.

// appendClaims appends the JSON array [id, uniq] to dst.
func appendClaims(dst []byte, id, uniq string) []byte {
	dst = append(dst, '[')
	dst = appendJSONString(dst, id)
	dst = append(dst, ',')
	dst = appendJSONString(dst, uniq)
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

// parseClaims decodes a verified payload segment into the user ID and the
// uniquifier. The uniquifier is returned as a slice of scratch (or of a new
// buffer if scratch is too small), to be compared and dropped; the ID is a
// new string.
func (s *Serializer) parseClaims(seg string, scratch []byte) (string, []byte, error) {
	var payload []byte
	if strings.HasPrefix(seg, ".") || b64.DecodedLen(len(seg)) > cap(scratch) {
		p, err := s.decodePayload(seg)
		if err != nil {
			return "", nil, err
		}
		payload = p
	} else {
		n, err := b64.Decode(scratch[:cap(scratch)], []byte(seg))
		if err != nil {
			return "", nil, fmt.Errorf("%w: bad base64", ErrTokenPayload)
		}
		payload = scratch[:n]
	}
	if id, uniq, ok := parsePlainPair(payload); ok {
		return string(id), uniq, nil
	}
	// The slow path copies the payload, so that scratch (usually on the
	// caller's stack) does not escape through encoding/json.
	var pair []string
	if !utf8.Valid(payload) || json.Unmarshal(bytes.Clone(payload), &pair) != nil || len(pair) != 2 {
		return "", nil, fmt.Errorf("%w: not a [id, uniquifier] pair", ErrTokenPayload)
	}
	return pair[0], []byte(pair[1]), nil
}

// parsePlainPair reads ["a","b"] where neither string holds a backslash or
// a control character. Anything else reports ok=false.
func parsePlainPair(p []byte) (a, b []byte, ok bool) {
	if len(p) < 7 || p[0] != '[' || p[1] != '"' || p[len(p)-1] != ']' || p[len(p)-2] != '"' {
		return nil, nil, false
	}
	inner := p[2 : len(p)-2] // a","b
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
func plainJSONString(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}

// plainJSONText is plainJSONString for a string.
func plainJSONText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// InspectToken decodes a token's payload and timestamp WITHOUT verifying
// its signature or age, for debugging tools. Never trust what it returns.
func InspectToken(token string) (payload []byte, issued time.Time, err error) {
	s := &Serializer{maxPayload: DefaultMaxPayloadBytes}
	if len(token) > DefaultMaxTokenBytes {
		return nil, time.Time{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, DefaultMaxTokenBytes)
	}
	parts := strings.Split(strings.TrimPrefix(token, "."), ".")
	if len(parts) != 3 {
		return nil, time.Time{}, fmt.Errorf("%w: want payload.timestamp.signature", ErrInvalidToken)
	}
	unix, ok := decodeTimestamp(parts[1])
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: malformed timestamp", ErrInvalidToken)
	}
	seg := parts[0]
	if strings.HasPrefix(token, ".") {
		seg = "." + seg
	}
	payload, err = s.decodePayload(seg)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return nil, time.Time{}, fmt.Errorf("%w: not valid JSON", ErrTokenPayload)
	}
	return payload, time.Unix(unix, 0), nil
}
