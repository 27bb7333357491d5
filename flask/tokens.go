package flask

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
)

// Tokens verifies, and mints, the auth tokens of a Flask-Security
// application. It is an [auth.TokenVerifier] and an [auth.TokenIssuer]:
// give it to auth.TokenConfig.Verifiers to accept the application's
// tokens, and also as auth.TokenConfig.Issuer to make the Manager issue
// tokens the application accepts. It is safe for concurrent use.
type Tokens struct {
	ser    *itsdangerous.Serializer // SHA-1, django-concat, the remember salt
	lookup auth.UniquifierLookup
	maxAge time.Duration // 0: no limit
	now    func() time.Time
}

// NewTokens returns the Tokens of the application whose settings c holds,
// finding users in store. c.SecretKey is required.
func NewTokens(c Config, store auth.UniquifierLookup) (*Tokens, error) {
	switch {
	case len(c.SecretKey) == 0:
		return nil, errors.New("flask: Config.SecretKey (SECRET_KEY) is required for tokens")
	case store == nil:
		return nil, errors.New("flask: tokens need a store that implements auth.UniquifierLookup")
	case c.TokenMaxAge < 0 || c.TokenMaxAge%time.Second != 0:
		return nil, fmt.Errorf("flask: Config.TokenMaxAge %v is not a positive number of seconds", c.TokenMaxAge)
	}
	t := &Tokens{lookup: store, maxAge: c.TokenMaxAge, now: c.Now}
	if t.now == nil {
		t.now = time.Now
	}
	salt := c.RememberSalt
	if salt == "" {
		salt = "remember-salt"
	}
	var err error
	t.ser, err = itsdangerous.New(c.SecretKey, itsdangerous.Config{
		Salt:          salt,
		Digest:        itsdangerous.SHA1,
		KeyDerivation: itsdangerous.DjangoConcat,
		OldKeys:       c.SecretKeyFallbacks,
		MaxAge:        c.TokenMaxAge,
		Now:           func() time.Time { return t.now() },
	})
	if err != nil {
		return nil, fmt.Errorf("flask: %w", err)
	}
	return t, nil
}

// expiredError is a token past its exp or max age. It matches
// auth.ErrInvalidToken as well as auth.ErrExpiredToken, so that every
// refused Flask token gets the same answer.
type expiredError struct{ detail string }

func (e expiredError) Error() string { return "flask: token expired: " + e.detail }
func (e expiredError) Is(target error) bool {
	return target == auth.ErrExpiredToken || target == auth.ErrInvalidToken
}

// VerifyToken implements [auth.TokenVerifier]: it returns the user a
// Flask-Security token names. Its errors match [auth.ErrInvalidToken]
// (with [auth.ErrTokenPayload] for a payload of no known shape, and
// [auth.ErrUserNotFound] when no user holds the uniquifier), or
// [auth.ErrStoreUnavailable] when the store fails.
func (t *Tokens) VerifyToken(ctx context.Context, token string) (*auth.User, error) {
	u, _, err := t.VerifyTokenAuth(ctx, token)
	return u, err
}

// VerifyTokenAuth is [Tokens.VerifyToken] that also returns when the user
// authenticated for the token, which [auth.Manager.RequireFresh] asks for:
// the token's fs_paa (Flask-Security 5.4 and later), or else the time it
// was issued, since Flask-Security 5.1.2 issues tokens at login.
func (t *Tokens) VerifyTokenAuth(ctx context.Context, token string) (*auth.User, time.Time, error) {
	payload, issued, err := t.ser.DecodeJSON(token)
	switch {
	case err == nil:
	case errors.Is(err, itsdangerous.ErrExpired):
		return nil, time.Time{}, expiredError{"older than the Flask token max age"}
	case errors.Is(err, itsdangerous.ErrBadPayload):
		return nil, time.Time{}, fmt.Errorf("%w: %w", auth.ErrTokenPayload, err)
	default:
		return nil, time.Time{}, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	}
	uniq, exp, paa, err := parseClaims(payload)
	if err != nil {
		return nil, time.Time{}, err
	}
	if exp > 0 && t.now().Unix() >= exp {
		return nil, time.Time{}, expiredError{"past its exp"}
	}
	u, err := t.lookup.UserByUniquifier(ctx, uniq)
	if err != nil {
		if errors.Is(err, auth.ErrUserNotFound) {
			return nil, time.Time{}, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
		}
		return nil, time.Time{}, fmt.Errorf("%w: %w", auth.ErrStoreUnavailable, err)
	}
	// The store matched; compare again in case its comparison is looser
	// (a case-insensitive collation, say).
	if subtle.ConstantTimeCompare([]byte(u.Uniquifier), []byte(uniq)) != 1 {
		return nil, time.Time{}, fmt.Errorf("%w: %w", auth.ErrInvalidToken, auth.ErrUserNotFound)
	}
	at := issued
	if paa > 0 && paa <= issued.Unix() {
		at = time.Unix(paa, 0)
	}
	return u, at, nil
}

// IssueToken implements [auth.TokenIssuer]: it mints the token
// Flask-Security 5.1.2's get_auth_token writes for u, ["<uniquifier>"],
// compressed as itsdangerous does when that is shorter.
func (t *Tokens) IssueToken(u *auth.User) (string, error) {
	if u == nil || u.Uniquifier == "" {
		return "", errors.New("flask: cannot issue a token for a user without uniquifier")
	}
	tok, err := t.ser.Encode([]string{u.Uniquifier})
	if err != nil {
		return "", fmt.Errorf("flask: cannot issue a token: %w", err)
	}
	return tok, nil
}

// TokenMaxAge implements [auth.TokenIssuer]: Config.TokenMaxAge, zero for
// no limit.
func (t *Tokens) TokenMaxAge() time.Duration { return t.maxAge }
