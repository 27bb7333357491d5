package itsdangerous

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Inspect decodes a token's JSON payload and issue time WITHOUT verifying
// its signature or age, for debugging tools; it needs no key. Never trust
// what it returns. It applies the default limits of [Config]; a malformed
// token gives [ErrInvalid], a payload that is not base64, zlib or JSON
// [ErrBadPayload].
func Inspect(token string) (payload []byte, issued time.Time, err error) {
	if len(token) > defaultMaxTokenBytes {
		return nil, time.Time{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, defaultMaxTokenBytes)
	}
	parts := strings.Split(strings.TrimPrefix(token, "."), ".")
	if len(parts) != 3 {
		return nil, time.Time{}, fmt.Errorf("%w: want payload.timestamp.signature", ErrInvalid)
	}
	unix, ok := decodeTimestamp(parts[1])
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: malformed timestamp", ErrInvalid)
	}
	seg := parts[0]
	if strings.HasPrefix(token, ".") {
		seg = "." + seg
	}
	s := &Serializer{maxPayload: defaultMaxPayloadBytes}
	payload, err = s.AppendPayload(nil, seg)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return nil, time.Time{}, fmt.Errorf("%w: not valid JSON", ErrBadPayload)
	}
	return payload, time.Unix(unix, 0), nil
}
