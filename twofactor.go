package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/totp"
)

// TwoFactorConfig configures a second factor for logins: codes of an
// authenticator app (TOTP, RFC 6238, package
// github.com/authkit/auth/totp), off until Enabled; the store must
// implement [TwoFactorStore].
//
// A user turns it on through [Manager.AccountHandler]'s POST /tf-setup and
// POST /tf-setup/{state}. A login of such a user then answers
// {"tf_required":true,"tf_state_token":…} instead of a token, and POST
// /tf-validate with a code and that state token completes it, all in JSON
// and without cookies. A browser's form login is sent instead to
// SessionConfig.LoginPage with tf=1, the state token in an HttpOnly cookie,
// for a form that posts "code" (and "next") to /tf-validate or
// /mf-recovery, which then begin the session as a login does. HTTP Basic
// credentials (the Basic scheme, TokenHandler) are refused for such users:
// a password alone does not log them in.
type TwoFactorConfig struct {
	// Enabled turns second factors on.
	Enabled bool
	// Issuer names the service in authenticator apps. Default Config.Realm.
	Issuer string
	// StateMaxAge is how long a state token of a login or of a setup
	// stays valid. Default 5 min.
	StateMaxAge time.Duration
	// QRCode, if set, renders the otpauth:// URI of a setup as a PNG
	// image, which POST /tf-setup answers as a data: URI for an <img>.
	// Default none: the answer carries the URI and the key only.
	QRCode func(uri string) (png []byte, err error)
	// Secrets seals the apps' keys for the store and opens them. Default:
	// AES-256-GCM under a key derived from the signing key, with the
	// user's ID as associated data (what older keys of
	// TokenConfig.OldKeys sealed still opens). Package
	// github.com/authkit/auth/flask's NewTOTPSecrets keeps them as
	// Flask-Security does, in tf_totp_secret.
	Secrets TOTPSecrets
}

// TOTPSecrets seals the keys of authenticator apps before they reach a
// [TwoFactorStore], and opens what it sealed; see
// TwoFactorConfig.Secrets. Implementations must be safe for concurrent
// use.
type TOTPSecrets interface {
	// SealTOTPKey returns key, the raw TOTP key of the user whose ID is
	// userID, in the form the store keeps.
	SealTOTPKey(userID string, key []byte) ([]byte, error)
	// OpenTOTPKey returns the raw key that sealed holds, or an error if
	// it is not the user's or does not open.
	OpenTOTPKey(userID string, sealed []byte) ([]byte, error)
}

// Defaults and limits of second factors.
const (
	defaultTFStateMaxAge = 5 * time.Minute
	methodAuthenticator  = "authenticator"
	// tfCookie carries a browser's login state token from the login form
	// to the code form.
	tfCookie = "auth_tf"
)

// errSecondFactorState is a state token that is not one.
var errSecondFactorState = fmt.Errorf("%w: not a valid second-factor state token", ErrInvalidToken)

// twoFactor holds the resolved TwoFactorConfig; the Manager's field is nil
// when second factors are off.
type twoFactor struct {
	maxAge time.Duration // of state tokens
	store  TwoFactorStore
	issuer string
	qr     func(string) ([]byte, error)
	aeads  []cipher.AEAD // the first seals secrets; all open them
	// secrets is TwoFactorConfig.Secrets; nil: the aeads seal and open.
	secrets TOTPSecrets
	login   *itsdangerous.Serializer // state tokens of logins waiting for a code
	setup   *itsdangerous.Serializer // state tokens of setups waiting for a code
	otp     totp.Config              // SHA1, 6 digits, 30 s, ±1 period
	// recoveryKeys are the HMAC keys of recovery codes' hashes: the first
	// makes them, all check them.
	recoveryKeys [][]byte
}

// newTwoFactor validates and copies c; it returns nil when it is off.
//
// With passkeys on (Config.Passkeys) and c not Enabled, it holds the state
// tokens of logins alone, for passkeys that are second factors: its store
// is nil, and authenticator apps and recovery codes are off.
func newTwoFactor(m *Manager, store UserStore, key []byte, oldKeys [][]byte, c TwoFactorConfig, withPasskeys bool) (*twoFactor, error) {
	if !c.Enabled {
		if c.Issuer != "" || c.QRCode != nil || c.Secrets != nil || (c.StateMaxAge != 0 && !withPasskeys) {
			return nil, errors.New("auth: TwoFactorConfig without Enabled: set Enabled to turn second factors on")
		}
		if !withPasskeys {
			return nil, nil
		}
	}
	tf := &twoFactor{issuer: stringOr(c.Issuer, m.realm), qr: c.QRCode, secrets: c.Secrets}
	if c.Enabled {
		ts, ok := store.(TwoFactorStore)
		if !ok {
			return nil, errors.New("auth: TwoFactorConfig.Enabled needs a store that implements TwoFactorStore")
		}
		if m.updater == nil {
			return nil, errors.New("auth: TwoFactorConfig.Enabled needs a store that implements UserUpdater")
		}
		tf.store = ts
	}
	for _, k := range append([][]byte{key}, oldKeys...) {
		block, err := aes.NewCipher(deriveSessionKey(k, "authkit two-factor secret v1"))
		if err != nil {
			return nil, fmt.Errorf("auth: two-factor secret key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("auth: two-factor secret key: %w", err)
		}
		tf.aeads = append(tf.aeads, aead)
		tf.recoveryKeys = append(tf.recoveryKeys, deriveSessionKey(k, "authkit recovery code v1"))
	}
	maxAge := durationOr(c.StateMaxAge, defaultTFStateMaxAge)
	tf.maxAge = maxAge
	var err error
	for _, s := range []struct {
		dst  **itsdangerous.Serializer
		salt string
	}{{&tf.login, "authkit-tf-login"}, {&tf.setup, "authkit-tf-setup"}} {
		*s.dst, err = itsdangerous.New(key, itsdangerous.Config{
			Salt: s.salt, Digest: itsdangerous.SHA256, OldKeys: oldKeys, MaxAge: maxAge,
			Now: func() time.Time { return m.now() },
		})
		if err != nil {
			return nil, fmt.Errorf("auth: two-factor state tokens: %w", err)
		}
	}
	return tf, nil
}

// sealSecret encrypts a TOTP key for the store, bound to the user's ID,
// with TwoFactorConfig.Secrets or the aeads.
func (tf *twoFactor) sealSecret(userID string, key []byte) ([]byte, error) {
	if tf.secrets != nil {
		sealed, err := tf.secrets.SealTOTPKey(userID, key)
		if err != nil {
			return nil, fmt.Errorf("auth: cannot seal a two-factor secret: %w", err)
		}
		return sealed, nil
	}
	aead := tf.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(key)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return aead.Seal(nonce, nonce, key, []byte(userID)), nil
}

// openSecret decrypts a sealed TOTP key of the user, with
// TwoFactorConfig.Secrets, or the signing key or an old one.
func (tf *twoFactor) openSecret(userID string, sealed []byte) ([]byte, error) {
	if tf.secrets != nil {
		key, err := tf.secrets.OpenTOTPKey(userID, sealed)
		if err != nil {
			return nil, fmt.Errorf("auth: a stored two-factor secret does not open: %w", err)
		}
		return key, nil
	}
	for _, aead := range tf.aeads {
		n := aead.NonceSize()
		if len(sealed) < n+aead.Overhead() {
			break
		}
		if key, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(userID)); err == nil {
			return key, nil
		}
	}
	return nil, errors.New("auth: a stored two-factor secret does not decrypt with the signing key or an old one")
}

// stateClaims is the payload of a state token: the user, the uniquifier it
// had (a logout or a new password voids the token), and for a setup the
// sealed key being set up.
type stateClaims struct {
	UserID   string `json:"u"`
	Uniq     string `json:"q"`
	Sealed   []byte `json:"k,omitempty"`
	Remember bool   `json:"r,omitempty"` // a browser's login asked to be remembered
}

func encodeState(s *itsdangerous.Serializer, c stateClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return s.EncodeJSON(payload)
}

// decodeState reads a state token of s, or reports errSecondFactorState.
func decodeState(s *itsdangerous.Serializer, tok string) (stateClaims, error) {
	var c stateClaims
	if tok == "" || len(tok) > 2048 {
		return c, errSecondFactorState
	}
	payload, _, err := s.DecodeJSON(tok)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.UserID == "" || c.Uniq == "" {
		if errors.Is(err, itsdangerous.ErrExpired) {
			return stateClaims{}, fmt.Errorf("%w: second-factor state token expired", ErrExpiredToken)
		}
		return stateClaims{}, errSecondFactorState
	}
	return c, nil
}

// enabledFor returns the user's second factor if it is on, nil if the user
// has none (or second factors are off), or a store failure.
func (m *Manager) enabledFor(ctx context.Context, u *User) (*TwoFactor, error) {
	if m.tf == nil || m.tf.store == nil {
		return nil, nil
	}
	f, err := m.tf.store.TwoFactor(ctx, u.ID)
	switch {
	case errors.Is(err, ErrTokenNotFound):
		return nil, nil
	case err != nil:
		return nil, storeError(err)
	case !f.Enabled:
		return nil, nil
	}
	return f, nil
}

// secondFactorGate reports ErrTwoFactorRequired for a user whose password
// checked out but who has a second factor on, or a store failure.
func (m *Manager) secondFactorGate(ctx context.Context, u *User) error {
	methods, err := m.secondFactors(ctx, u)
	switch {
	case err != nil:
		return err
	case len(methods) > 0:
		return fmt.Errorf("%w: user %s", ErrTwoFactorRequired, u.ID)
	}
	return nil
}

// secondFactors returns the user's second factors: "authenticator" for an
// authenticator app, "webauthn" for passkeys that are second factors; none
// when the password alone logs the user in.
func (m *Manager) secondFactors(ctx context.Context, u *User) ([]string, error) {
	var methods []string
	f, err := m.enabledFor(ctx, u)
	if err != nil {
		return nil, err
	}
	if f != nil {
		methods = append(methods, methodAuthenticator)
	}
	wan, err := m.hasSecondaryPasskey(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if wan {
		methods = append(methods, methodWebAuthn)
	}
	return methods, nil
}

// checkCode checks a code of the user's authenticator app against the
// sealed key, throttled per user as passwords are per account, and for a
// factor in the store records its counter so that the code works once. It
// reports whether the code was accepted; a throttled attempt or a store
// failure is an error.
func (m *Manager) checkCode(ctx context.Context, userID string, sealed []byte, code string, stored bool) (counter uint64, ok bool, err error) {
	now := m.now()
	var key string
	if t := m.throttle; t != nil {
		key = "tf:" + t.hash("tf", userID)
		if err := t.reserve(ctx, key, now, t.ip); err != nil {
			return 0, false, err
		}
	}
	secret, err := m.tf.openSecret(userID, sealed)
	if err != nil {
		return 0, false, storeError(err)
	}
	counter, ok, err = m.tf.otp.Validate(secret, code, now)
	if err != nil {
		return 0, false, storeError(err)
	}
	if ok && stored {
		if ok, err = m.tf.store.UseTOTPCounter(ctx, userID, counter); err != nil {
			return 0, false, storeError(err)
		}
	}
	if ok && key != "" {
		if err := m.throttle.store.Reset(ctx, key); err != nil {
			m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
		}
	}
	if !ok {
		m.audit(ctx, EventTwoFactorFailed, slog.String("user_id", userID))
	}
	return counter, ok, nil
}

// qrDataURI renders uri as a PNG data: URI with the configured QRCode, or
// "" without one (or when it fails, which is logged).
func (m *Manager) qrDataURI(ctx context.Context, uri string) string {
	if m.tf.qr == nil {
		return ""
	}
	png, err := m.tf.qr(uri)
	if err != nil {
		m.log.ErrorContext(ctx, "auth: cannot render the QR code of a two-factor setup", "error", err.Error())
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
