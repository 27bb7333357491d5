package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// The purposes of mailed links, as LinkCodec names them.
const (
	purposeConfirm     = "confirm"
	purposeReset       = "reset"
	purposeChangeEmail = "change-email"
)

// linkSkew is how far in the future a link's timestamp may be, for clocks
// of several servers that differ a little.
const linkSkew = time.Minute

// nativeLinks is the Manager's own LinkCodec: an itsdangerous token per
// purpose, under a salt of its own, whose payload is the user's ID, a
// binding and, for an email change, the new address:
//
//	["<id>", "<binding>"]              confirm, reset
//	["<id>", "<binding>", "<email>"]   change-email
//
// The binding is a keyed hash of the state the link was made for (the
// folded email, or the password hash; for an email change both addresses),
// so that a link dies once that state changes: a reset link once the
// password is set, a confirmation link once the address changes.
type nativeLinks struct {
	store   UserStore
	codecs  map[string]*itsdangerous.Serializer
	bindKey []byte
	now     func() time.Time
}

func newNativeLinks(store UserStore, key []byte, oldKeys [][]byte, now func() time.Time) (*nativeLinks, error) {
	l := &nativeLinks{store: store, codecs: map[string]*itsdangerous.Serializer{}, now: now}
	for _, p := range []string{purposeConfirm, purposeReset, purposeChangeEmail} {
		s, err := itsdangerous.New(key, itsdangerous.Config{
			Salt: "authkit-" + p, Digest: itsdangerous.SHA256, OldKeys: oldKeys, Now: now,
		})
		if err != nil {
			return nil, fmt.Errorf("auth: link tokens: %w", err)
		}
		l.codecs[p] = s
	}
	l.bindKey = deriveSessionKey(key, "link-binding")
	return l, nil
}

// binding is the keyed hash that ties a link to the state it was made for.
func (l *nativeLinks) binding(purpose string, u *User, email string) string {
	h := hmac.New(sha256.New, l.bindKey)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(u.ID))
	h.Write([]byte{0})
	switch purpose {
	case purposeReset:
		h.Write([]byte(u.PasswordHash))
	default:
		h.Write([]byte(foldEmail(u.Email)))
		h.Write([]byte{0})
		h.Write([]byte(email))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// MakeLinkToken implements [LinkCodec].
func (l *nativeLinks) MakeLinkToken(_ context.Context, purpose string, u *User, email string) (string, error) {
	s, ok := l.codecs[purpose]
	if !ok {
		return "", fmt.Errorf("auth: unknown link purpose %q", purpose)
	}
	payload := []string{u.ID, l.binding(purpose, u, email)}
	if purpose == purposeChangeEmail {
		payload = append(payload, email)
	}
	return s.Encode(payload)
}

// ReadLinkToken implements [LinkCodec].
func (l *nativeLinks) ReadLinkToken(ctx context.Context, purpose, token string, maxAge time.Duration) (*User, string, error) {
	s, ok := l.codecs[purpose]
	if !ok {
		return nil, "", fmt.Errorf("auth: unknown link purpose %q", purpose)
	}
	var payload []string
	issued, err := s.Decode(token, &payload)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	want := 2
	if purpose == purposeChangeEmail {
		want = 3
	}
	if len(payload) != want || payload[0] == "" {
		return nil, "", ErrTokenPayload
	}
	email := ""
	if want == 3 {
		email = payload[2]
	}
	u, err := l.store.UserByID(ctx, payload[0])
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	case err != nil:
		return nil, "", storeError(err)
	}
	if !hmac.Equal([]byte(payload[1]), []byte(l.binding(purpose, u, email))) {
		return nil, "", fmt.Errorf("%w: the link was made for an earlier state of the account", ErrInvalidToken)
	}
	if now := l.now(); issued.After(now.Add(linkSkew)) {
		return nil, "", fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	} else if maxAge > 0 && now.Sub(issued) > maxAge {
		return u, email, ErrExpiredToken
	}
	return u, email, nil
}
