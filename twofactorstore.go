package auth

import (
	"context"
	"time"
)

// TwoFactor is a user's authenticator-app second factor as a store keeps
// it. The Manager encrypts the secret before it reaches the store.
type TwoFactor struct {
	// UserID is the owner's ID; a user has at most one.
	UserID string
	// Secret is the TOTP key, encrypted and authenticated by the Manager
	// (never the key itself).
	Secret []byte
	// LastCounter is the greatest TOTP counter (package
	// github.com/authkit/auth/totp) a code was accepted for: a code is
	// accepted once.
	LastCounter uint64
	// Enabled is false while setup waits for the first code, true once the
	// user proved the app has the key.
	Enabled bool
	// CreatedAt is when setup began; EnabledAt when the first code came
	// (zero before).
	CreatedAt, EnabledAt time.Time
}

// TwoFactorStore is implemented by stores that keep second factors:
// authenticator-app secrets and recovery codes. A store without it serves
// passwords alone, as before. Implementations must be safe for concurrent
// use, also across processes sharing one database.
type TwoFactorStore interface {
	// TwoFactor returns the user's second factor, or an error wrapping
	// [ErrTokenNotFound] if the user has none. It is the caller's.
	TwoFactor(ctx context.Context, userID string) (*TwoFactor, error)
	// SetTwoFactor stores tf as the user's second factor, replacing any
	// other; a user the store does not hold gives an error wrapping
	// [ErrUserNotFound].
	SetTwoFactor(ctx context.Context, tf *TwoFactor) error
	// UseTOTPCounter records that a code of counter was accepted: it sets
	// LastCounter to counter and reports true if counter is greater than
	// LastCounter, and otherwise changes nothing and reports false,
	// atomically, across processes too, so that of two requests racing
	// with one code exactly one is accepted. A user without a second
	// factor gives an error wrapping [ErrTokenNotFound].
	UseTOTPCounter(ctx context.Context, userID string, counter uint64) (bool, error)
	// DeleteTwoFactor removes the user's second factor and recovery
	// codes; a user without them is no error.
	DeleteTwoFactor(ctx context.Context, userID string) error
	// SetRecoveryCodes replaces the user's recovery codes with hashes
	// (the Manager's keyed hashes, never the codes).
	SetRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// UseRecoveryCode removes the recovery code whose hash is hash and
	// reports true if the user held it, atomically: of two requests racing
	// with one code exactly one gets true.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error)
	// RecoveryCodesLeft returns how many recovery codes the user holds.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
}
