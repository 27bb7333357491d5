package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// Passkeys is a WebAuthn relying party: it makes the options of a
// browser's navigator.credentials calls and verifies what the
// authenticator answers. Package github.com/authkit/auth/passkey implements
// it with github.com/go-webauthn/webauthn, whose dependencies stay out of
// this package. Set as [Config.Passkeys], over a store that implements
// [PasskeyStore], it turns on passkeys in [Manager.AccountHandler], in
// Flask-Security's JSON shapes:
//
//   - GET /wan-register lists the user's passkeys, POST /wan-register
//     {"name","usage"} begins a registration (with a fresh login), POST
//     /wan-register/{state} {"credential"} completes it, and POST
//     /wan-delete {"name"} removes one.
//   - POST /wan-signin begins a sign-in and POST /wan-signin/{state}
//     {"credential"} completes it, answered as a login is: with a passkey
//     of usage "first" alone (passwordless, discoverable, user verified),
//     or with the tf_state_token of a password login as its second factor.
//   - POST /wan-verify and POST /wan-verify/{state} {"credential"}
//     re-authenticate a logged-in user with any of the user's passkeys,
//     answered as POST /verify is: a fresh login (see
//     [Manager.RequireFresh]).
//
// A user with a passkey of usage "secondary" needs it (or another second
// factor) after the password, as with [TwoFactorConfig].
//
// The Manager keeps each ceremony's state in a signed token that lasts
// TwoFactorConfig.StateMaxAge, so no cookie is needed; the options and the
// credential are JSON in the WebAuthn specification's JSON forms
// (PublicKeyCredential.parseCreationOptionsFromJSON and
// parseRequestOptionsFromJSON read the options, and the credential's
// toJSON() is what the routes take). Implementations must be safe for
// concurrent use.
type Passkeys interface {
	// BeginRegistration returns the options of navigator.credentials.create
	// (PublicKeyCredentialCreationOptionsJSON) for the user whose WebAuthn
	// user handle is handle and whose name is name, excluding the
	// credentials in exclude, and the state FinishRegistration needs. A
	// passwordless passkey is asked to be discoverable and to verify the
	// user.
	BeginRegistration(handle []byte, name string, exclude []Passkey, passwordless bool) (options, state []byte, err error)
	// FinishRegistration verifies credential, the JSON of the browser's
	// PublicKeyCredential, against state and returns the new passkey, with
	// ID, PublicKey, SignCount, Transports, AAGUID, the flags and
	// Discoverable set; the Manager sets the rest.
	FinishRegistration(handle, state, credential []byte) (*Passkey, error)
	// BeginSignIn returns the options of navigator.credentials.get
	// (PublicKeyCredentialRequestOptionsJSON) for the credentials in
	// allow, or for any discoverable credential if allow is empty, asking
	// the authenticator to verify the user if verify, and the state
	// FinishSignIn needs.
	BeginSignIn(allow []Passkey, verify bool) (options, state []byte, err error)
	// FinishSignIn verifies credential, the JSON of the browser's
	// PublicKeyCredential, against state. owner returns all the passkeys
	// of the owner of the credential whose ID and user handle (nil when
	// the browser sent none) it is given. FinishSignIn returns the passkey
	// used with its new SignCount and BackupState, and whether the
	// authenticator verified the user; a count that did not grow (a cloned
	// authenticator) is an error.
	FinishSignIn(state, credential []byte, owner func(id, userHandle []byte) ([]Passkey, error)) (used *Passkey, userVerified bool, err error)
}

// Limits and texts of passkeys.
const (
	passkeyUsageFirst     = "first"
	passkeyUsageSecondary = "secondary"
	methodWebAuthn        = "webauthn"
	maxPasskeysPerUser    = 20
	maxPasskeyName        = 64
	// passkeyMaxHandle is the most bytes of a WebAuthn user handle.
	passkeyMaxHandle = 64
	// maxPasskeyState bounds a passkey state token read from a request.
	maxPasskeyState = 16 << 10
)

// passkeys holds the resolved Config.Passkeys.
type passkeys struct {
	rp       Passkeys
	store    PasskeyStore
	register *itsdangerous.Serializer // state tokens of registrations
	signin   *itsdangerous.Serializer // state tokens of sign-ins
	verify   *itsdangerous.Serializer // state tokens of re-authentications
}

// newPasskeys resolves Config.Passkeys; it returns nil when it is unset.
func newPasskeys(m *Manager, store UserStore, key []byte, oldKeys [][]byte, rp Passkeys, maxAge time.Duration) (*passkeys, error) {
	if rp == nil {
		return nil, nil
	}
	ps, ok := store.(PasskeyStore)
	if !ok {
		return nil, errors.New("auth: Config.Passkeys needs a store that implements PasskeyStore")
	}
	p := &passkeys{rp: rp, store: ps}
	for _, s := range []struct {
		dst  **itsdangerous.Serializer
		salt string
	}{{&p.register, "authkit-wan-register"}, {&p.signin, "authkit-wan-signin"}, {&p.verify, "authkit-wan-verify"}} {
		var err error
		*s.dst, err = itsdangerous.New(key, itsdangerous.Config{
			Salt: s.salt, Digest: itsdangerous.SHA256, OldKeys: oldKeys, MaxAge: maxAge,
			Now: func() time.Time { return m.now() },
		})
		if err != nil {
			return nil, fmt.Errorf("auth: passkey state tokens: %w", err)
		}
	}
	return p, nil
}

// passkeyState is the payload of a passkey state token: the relying
// party's state, when the ceremony began, and for a registration or a
// second factor the user (with the uniquifier it had: a logout voids it).
type passkeyState struct {
	UserID    string `json:"u,omitempty"`
	Uniq      string `json:"q,omitempty"`
	Name      string `json:"n,omitempty"`
	Usage     string `json:"g,omitempty"`
	Handle    []byte `json:"h,omitempty"`
	State     []byte `json:"w"`
	BegunAt   int64  `json:"t"` // Unix microseconds
	Secondary bool   `json:"s,omitempty"`
	Remember  bool   `json:"r,omitempty"`
}

func encodePasskeyState(s *itsdangerous.Serializer, c passkeyState) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return s.EncodeJSON(payload)
}

// decodePasskeyState reads a state token of s.
func decodePasskeyState(s *itsdangerous.Serializer, tok string) (passkeyState, error) {
	var c passkeyState
	if tok == "" || len(tok) > maxPasskeyState {
		return c, errSecondFactorState
	}
	payload, _, err := s.DecodeJSON(tok)
	if err != nil || json.Unmarshal(payload, &c) != nil || len(c.State) == 0 || c.BegunAt <= 0 {
		return passkeyState{}, errSecondFactorState
	}
	return c, nil
}

// userHandle returns the WebAuthn user handle of a new passkey of the
// user who holds existing: the one the store keeps, the existing
// passkeys', or for a first passkey a new one, 64 hex digits of 32 random
// bytes (text, as Flask-Security's handles are, so that its column holds
// it).
func (m *Manager) userHandle(ctx context.Context, userID string, existing []Passkey) ([]byte, error) {
	h, err := m.passkeys.store.PasskeyUserHandle(ctx, userID)
	switch {
	case err != nil:
		return nil, storeError(err)
	case len(h) > passkeyMaxHandle:
		return nil, fmt.Errorf("%w: a stored WebAuthn user handle of %d bytes", ErrStoreUnavailable, len(h))
	case len(h) > 0:
		return h, nil
	}
	for _, p := range existing {
		if len(p.UserHandle) > 0 {
			return p.UserHandle, nil
		}
	}
	b := make([]byte, passkeyMaxHandle/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return []byte(hex.EncodeToString(b)), nil
}

// hasSecondaryPasskey reports whether the user holds a passkey that is a
// second factor; false when passkeys are off.
func (m *Manager) hasSecondaryPasskey(ctx context.Context, userID string) (bool, error) {
	if m.passkeys == nil {
		return false, nil
	}
	list, err := m.passkeys.store.Passkeys(ctx, userID)
	if err != nil {
		return false, storeError(err)
	}
	for _, p := range list {
		if p.Usage == passkeyUsageSecondary {
			return true, nil
		}
	}
	return false, nil
}
