package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// TokenVerifier verifies tokens of a format other than a Manager's own,
// such as a Flask-Security application's (package
// github.com/authkit/auth/flask). See [TokenConfig].Verifiers.
type TokenVerifier interface {
	// VerifyToken returns the user token belongs to. A token it refuses
	// gives an error matching ErrInvalidToken (or ErrExpiredToken, or
	// ErrUserNotFound as well when it names no user); a store failure one
	// matching ErrStoreUnavailable. The Manager refuses the token of an
	// inactive user itself.
	//
	// A verifier may also have the method
	//
	//	VerifyTokenAuth(ctx context.Context, token string) (*User, time.Time, error)
	//
	// which verifies as VerifyToken does and also returns when the user
	// last entered the password for the token, for [Manager.RequireFresh]
	// (package flask's does). Tokens of a verifier without it are never
	// fresh.
	VerifyToken(ctx context.Context, token string) (*User, error)
}

// authTimeVerifier is a TokenVerifier that knows when its tokens' users
// authenticated (see TokenVerifier).
type authTimeVerifier interface {
	VerifyTokenAuth(ctx context.Context, token string) (*User, time.Time, error)
}

// TokenIssuer makes the tokens a Manager issues when they must be of a
// format other than its own. See [TokenConfig].Issuer.
type TokenIssuer interface {
	// IssueToken returns a new token for u.
	IssueToken(u *User) (string, error)
	// TokenMaxAge is how long its tokens stay valid; zero means they never
	// expire.
	TokenMaxAge() time.Duration
}

// tokenFaults are the errors of a token whose user refuses it.
var tokenFaults = userFaults{unknown: errUnknownTokenUser, revoked: errRevokedToken, inactive: errInactiveTokenUser}

// tokenSources are the places a request's token is read, in order.
type tokenSources struct {
	header                      string // in canonical form, to index http.Header directly
	query                       string
	noHeader, noBearer, noQuery bool
}

// find returns the token a request carries, looking in the header, then
// "Authorization: Bearer", then the query parameter; the first place that
// has one wins. inQuery tells that it was the query.
func (s *tokenSources) find(r *http.Request) (token string, inQuery, ok bool) {
	if !s.noHeader {
		if v := r.Header[s.header]; len(v) > 0 && v[0] != "" { // r.Header.Get without canonicalizing per request
			return v[0], false, true
		}
	}
	if !s.noBearer {
		if t, ok := authorization(r, "Bearer"); ok && t != "" {
			return t, false, true
		}
	}
	if !s.noQuery && r.URL.RawQuery != "" {
		if t := r.URL.Query().Get(s.query); t != "" {
			return t, true, true
		}
	}
	return "", false, false
}

// setupTokens validates and copies the token settings.
func (m *Manager) setupTokens(key []byte, c TokenConfig) error {
	m.sources = tokenSources{
		header:   http.CanonicalHeaderKey(stringOr(c.Header, "Authentication-Token")),
		query:    stringOr(c.QueryParam, "auth_token"),
		noHeader: c.DisableHeader, noBearer: c.DisableBearer, noQuery: c.DisableQuery,
	}
	if c.DisableHeader && c.DisableBearer && c.DisableQuery {
		return errors.New("auth: every token source is disabled")
	}
	for i, v := range c.Verifiers {
		if v == nil {
			return fmt.Errorf("auth: TokenConfig.Verifiers[%d] is nil", i)
		}
	}
	m.verifiers = append([]TokenVerifier(nil), c.Verifiers...)
	m.issuer = c.Issuer
	m.maxAge = c.MaxAge
	if m.maxAge == 0 {
		m.maxAge = defaultTokenMaxAge
	}
	sc := itsdangerous.Config{
		Salt:          stringOr(c.Salt, "authkit-token"),
		Digest:        itsdangerous.Digest(stringOr(string(c.Digest), string(itsdangerous.SHA256))),
		KeyDerivation: c.KeyDerivation,
		OldKeys:       c.OldKeys,
		Now:           func() time.Time { return m.now() },
	}
	if m.maxAge > 0 {
		sc.MaxAge = m.maxAge
	}
	var err error
	if m.tokens, err = itsdangerous.New(key, sc); err != nil {
		return fmt.Errorf("auth: token settings: %w", err)
	}
	return nil
}

// tokenMaxAge returns how long the tokens [Manager.IssueToken] makes stay
// valid; zero means they never expire.
func (m *Manager) tokenMaxAge() time.Duration {
	if m.issuer != nil {
		return m.issuer.TokenMaxAge()
	}
	return max(m.maxAge, 0)
}

// IssueToken returns a new token for u, carrying its ID and uniquifier, or
// the token of TokenConfig.Issuer when one is set. The token counts as a
// fresh authentication when issued (see [Manager.RequireFresh]): issue one
// only when the user has just proved who they are.
func (m *Manager) IssueToken(u *User) (string, error) {
	if m.issuer != nil {
		return m.issuer.IssueToken(u)
	}
	return m.issueOwnToken(u, 0)
}

// issueOwnToken returns a token of the Manager's own format for u, whatever
// TokenConfig.Issuer, that records authAt (Unix seconds) as the time of the
// user's authentication, or its issue time when authAt is zero.
func (m *Manager) issueOwnToken(u *User, authAt int64) (string, error) {
	if u == nil || u.ID == "" || u.Uniquifier == "" {
		return "", errors.New("auth: cannot issue a token for a user without ID or uniquifier")
	}
	return signClaims(m.tokens, u.ID, u.Uniquifier, authAt), nil
}

// VerifyToken checks token and returns the active user it belongs to. The
// error wraps [ErrInvalidToken] (bad signature, unknown or inactive user,
// rotated uniquifier), [ErrExpiredToken], or [ErrStoreUnavailable]. A token
// whose signature the Manager's keys do not verify, or whose payload is not
// the Manager's, is offered to each of TokenConfig.Verifiers. Personal
// access tokens are not verified here: see [PersonalToken].
func (m *Manager) VerifyToken(ctx context.Context, token string) (*User, error) {
	u, _, err := m.verifyToken(ctx, token)
	return u, err
}

// verifyToken is VerifyToken that also returns when the user last
// authenticated for the token, in Unix seconds (zero if unknown).
func (m *Manager) verifyToken(ctx context.Context, token string) (*User, int64, error) {
	seg, issued, err := m.tokens.Unsign(token)
	if err == nil {
		var scratch [256]byte
		var id string
		var uniq []byte
		var at int64
		if id, uniq, at, err = parseClaims(m.tokens, seg, scratch[:0]); err == nil {
			if at == 0 || at > issued.Unix() {
				at = issued.Unix()
			}
			u, err := m.currentUser(ctx, id, uniq, tokenFaults)
			return u, at, err
		}
	} else {
		err = tokenError(err)
	}
	if len(m.verifiers) > 0 && (err == errBadSignature || errors.Is(err, ErrTokenPayload)) {
		return m.verifyOther(ctx, token)
	}
	return nil, 0, err
}

// verifyOther offers a token to each of the other formats' verifiers and
// returns the first active user one of them accepts, with the time of the
// user's authentication if the verifier tells it. It returns the last
// refusal, or a store failure at once.
func (m *Manager) verifyOther(ctx context.Context, token string) (*User, int64, error) {
	var err error
	for _, v := range m.verifiers {
		var u *User
		var at time.Time
		if av, ok := v.(authTimeVerifier); ok {
			u, at, err = av.VerifyTokenAuth(ctx, token)
		} else {
			u, err = v.VerifyToken(ctx, token)
		}
		switch {
		case err == nil && u == nil:
			err = errUnknownTokenUser
		case err == nil && !u.Active:
			return nil, 0, errInactiveTokenUser
		case err == nil && at.IsZero():
			return u, 0, nil
		case err == nil:
			return u, max(at.Unix(), 1), nil
		case errors.Is(err, ErrStoreUnavailable):
			return nil, 0, err
		}
	}
	return nil, 0, err
}
