package flask

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/authkit/auth"
)

// parseClaims reads the uniquifier, the expiry in Unix seconds (0 for
// none) and fs_paa, the Unix time of the user's authentication (0 if the
// token has none), from the payload of a Flask-Security token of any of
// the shapes the package documentation describes.
func parseClaims(payload []byte) (uniq string, exp, paa int64, err error) {
	bad := func(what string) (string, int64, int64, error) {
		return "", 0, 0, fmt.Errorf("%w: Flask-Security token %s", auth.ErrTokenPayload, what)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return bad("is not JSON")
	}
	switch t := v.(type) {
	case []any:
		var u any
		switch len(t) {
		case 1: // 4.0 to 5.3: [uniquifier]
			u = t[0]
		case 3: // 3.x: [id, password fingerprint, uniquifier]
			u = t[2]
		default:
			return bad(fmt.Sprintf("is a list of %d elements, not 1 or 3", len(t)))
		}
		s, ok := u.(string)
		if !ok || s == "" {
			return bad("has no uniquifier")
		}
		return s, 0, 0, nil
	case map[string]any: // 5.4 and later
		if ver, _ := t["ver"].(string); ver != "5" {
			return bad("has an unknown version")
		}
		s, ok := t["uid"].(string)
		if !ok || s == "" {
			return bad("has no uid")
		}
		switch e := t["exp"].(type) {
		case nil:
		case json.Number:
			f, err := e.Float64()
			if err != nil {
				return bad("has a bad exp")
			}
			if f > 0 {
				exp = int64(min(f, 1<<62)) // a fraction ends the second early
			}
		default:
			return bad("has a bad exp")
		}
		switch a := t["fs_paa"].(type) {
		case nil:
		case json.Number:
			f, err := a.Float64()
			if err != nil || f < 0 {
				return bad("has a bad fs_paa")
			}
			paa = int64(min(f, 1<<62))
		default:
			return bad("has a bad fs_paa")
		}
		return s, exp, paa, nil
	}
	return bad("is neither a list nor an object")
}
