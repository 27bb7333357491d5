package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// flaskTokens verifies, and on request mints, Flask-Security auth tokens.
// See [FlaskConfig].
type flaskTokens struct {
	ser    *itsdangerous.Serializer // SHA-1, django-concat, the remember salt; the Manager's clock
	lookup UniquifierLookup
	mint   bool
	maxAge time.Duration // 0: no limit
}

// flaskExpiredError is a Flask token past its exp or max age. It matches
// ErrInvalidToken as well as ErrExpiredToken, so that every refused Flask
// token gets the same answer.
type flaskExpiredError struct{ detail string }

func (e flaskExpiredError) Error() string { return "auth: token expired: " + e.detail }
func (e flaskExpiredError) Is(target error) bool {
	return target == ErrExpiredToken || target == ErrInvalidToken
}

// verifyFlaskToken authenticates a Flask-Security token. The Manager calls
// it for tokens whose signature its own keys do not verify.
func (m *Manager) verifyFlaskToken(ctx context.Context, token string) (*User, error) {
	f := m.flask
	payload, _, err := f.ser.DecodeJSON(token)
	if err != nil {
		err = tokenError(err)
		if errors.Is(err, ErrExpiredToken) && !errors.Is(err, ErrInvalidToken) {
			return nil, flaskExpiredError{"older than the Flask token max age"}
		}
		return nil, err
	}
	uniq, exp, err := parseFlaskClaims(payload)
	if err != nil {
		return nil, err
	}
	if exp > 0 && m.now().Unix() >= exp {
		return nil, flaskExpiredError{"past its exp"}
	}
	u, err := f.lookup.UserByUniquifier(ctx, uniq)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return nil, errUnknownTokenUser
		}
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	// The store matched; compare again in case its comparison is looser
	// (a case-insensitive collation, say).
	if subtle.ConstantTimeCompare([]byte(u.Uniquifier), []byte(uniq)) != 1 {
		return nil, errUnknownTokenUser
	}
	if !u.Active {
		return nil, errInactiveTokenUser
	}
	return u, nil
}

// parseFlaskClaims reads the uniquifier, and the expiry in Unix seconds (0
// for none), from the payload of a Flask-Security token of any of the
// shapes FlaskConfig describes.
func parseFlaskClaims(payload []byte) (uniq string, exp int64, err error) {
	bad := func(what string) (string, int64, error) {
		return "", 0, fmt.Errorf("%w: Flask-Security token %s", ErrTokenPayload, what)
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
		return s, 0, nil
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
		return s, exp, nil
	}
	return bad("is neither a list nor an object")
}

// issue mints the token Flask-Security 5.1.2's get_auth_token writes for
// u, stamped with the Manager's clock and compressed as itsdangerous does.
func (f *flaskTokens) issue(u *User) (string, error) {
	if u == nil || u.Uniquifier == "" {
		return "", errors.New("auth: cannot issue a token for a user without uniquifier")
	}
	payload := append(appendJSONString([]byte{'['}, u.Uniquifier), ']')
	tok, err := f.ser.EncodeJSON(payload)
	if err != nil {
		return "", fmt.Errorf("auth: cannot issue a Flask-Security token: %w", err)
	}
	return tok, nil
}
