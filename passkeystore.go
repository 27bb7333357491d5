package auth

import (
	"context"
	"time"
)

// Passkey is a WebAuthn credential (a passkey or a security key) as a
// store keeps it: the credential record of the WebAuthn specification, with
// the name its owner gave it and what it may be used for. It holds a public
// key, no secret.
type Passkey struct {
	// ID is the credential ID the authenticator chose (at most 1023
	// bytes); it is unique in the store.
	ID []byte
	// UserID is the owner's ID.
	UserID string
	// UserHandle is the WebAuthn user handle of the owner (at most 64
	// bytes; those the Manager makes are 64 random hex digits, as
	// Flask-Security's are hex), which a discoverable credential returns
	// at sign-in. A user's passkeys share one, as a rule.
	UserHandle []byte
	// Name is what the owner calls it; unique among the owner's passkeys.
	Name string
	// Usage is "first" for a passkey that signs in alone (passwordless,
	// with user verification) and "secondary" for one that is a second
	// factor after the password, as in Flask-Security.
	Usage string
	// PublicKey is the credential's public key, COSE-encoded.
	PublicKey []byte
	// SignCount is the authenticator's signature counter at the last use
	// (0 for authenticators without one).
	SignCount uint32
	// Transports are how the browser reached the authenticator ("usb",
	// "internal", "hybrid", …), as hints for later ceremonies.
	Transports []string
	// AAGUID identifies the authenticator's model (16 bytes, zero when it
	// keeps it private).
	AAGUID []byte
	// BackupEligible and BackupState are the credential's backup flags:
	// whether it may be synced to other devices (a multi-device passkey),
	// and whether it is.
	BackupEligible, BackupState bool
	// UserVerified is whether the authenticator verified the user (PIN,
	// biometrics) when the credential was made.
	UserVerified bool
	// Discoverable is whether the authenticator keeps the credential so
	// that it can sign in without the user naming the account (credProps
	// rk); false also when the browser did not say.
	Discoverable bool
	// CreatedAt is when it was registered; LastUsedAt when it last signed
	// in (zero before).
	CreatedAt, LastUsedAt time.Time
}

// PasskeyStore is implemented by stores that keep WebAuthn credentials for
// [Config.Passkeys]. Implementations must be safe for concurrent use, also
// across processes sharing one database. Passkeys and Passkey return the
// caller's copies.
type PasskeyStore interface {
	// Passkeys returns the user's passkeys, oldest first; none is no
	// error.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// Passkey returns the passkey whose credential ID is id, or an error
	// wrapping [ErrTokenNotFound].
	Passkey(ctx context.Context, id []byte) (*Passkey, error)
	// AddPasskey stores a new passkey. A credential ID already stored, or
	// a name its owner already uses, gives an error wrapping
	// [ErrDuplicateID]; an owner the store does not hold, one wrapping
	// [ErrUserNotFound].
	AddPasskey(ctx context.Context, p *Passkey) error
	// UsePasskey records a sign-in with the passkey whose credential ID is
	// p.ID and owner p.UserID, begun at since: if the passkey was not used
	// at or after since, and p.SignCount is greater than the stored count
	// (or both are 0), it stores p.SignCount, p.BackupState and
	// p.LastUsedAt and reports true; otherwise it changes nothing and
	// reports false. It is atomic, across processes too, so that one
	// ceremony signs in once and a cloned authenticator's lower count is
	// refused. A passkey not stored gives an error wrapping
	// [ErrTokenNotFound].
	UsePasskey(ctx context.Context, p *Passkey, since time.Time) (bool, error)
	// DeletePasskey removes the user's passkey whose credential ID is id;
	// one the user does not hold gives an error wrapping
	// [ErrTokenNotFound].
	DeletePasskey(ctx context.Context, userID string, id []byte) error
	// PasskeyUserHandle returns the WebAuthn user handle the store keeps
	// for the user apart from the passkeys (as Flask-Security's
	// fs_webauthn_user_handle), or nil if it keeps none: the Manager then
	// gives a new passkey the handle of the user's others, or a new random
	// one. A handle the store returns must be at most 64 bytes.
	PasskeyUserHandle(ctx context.Context, userID string) ([]byte, error)
}
