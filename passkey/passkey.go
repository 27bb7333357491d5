// Package passkey is a WebAuthn relying party for package
// github.com/authkit/auth: set a [RelyingParty] as auth.Config.Passkeys to
// turn on passkeys and security keys, for signing in without a password
// and as second factors. It verifies the browsers' credentials with
// github.com/go-webauthn/webauthn, whose dependencies stay in this
// package: the root package imports none of them.
//
// The Manager serves the routes (POST /wan-register, /wan-signin and the
// others of [auth.Passkeys]), keeps each ceremony's state in a signed token
// and the credentials in its store; this package makes the options and
// checks the answers: the challenge, the origin, the relying party ID, the
// signature with the stored public key, user presence and verification,
// the backup flags and the signature counter.
package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authkit/auth"
)

// Config configures a [RelyingParty].
type Config struct {
	// RPID is the relying party ID: the site's domain, such as
	// "example.com" (or "localhost"), to which passkeys are bound; it
	// cannot be an IP address. A passkey made for one RPID never signs
	// in at another. Required.
	RPID string
	// RPName is the site's name, which browsers show. Default RPID.
	RPName string
	// Origins are the origins of the pages that call the browser's WebAuthn
	// API, such as "https://example.com"; each must be RPID or one of its
	// subdomains. At least one is required.
	Origins []string
	// Timeout is how long the browser gives the user to answer, and how
	// long the relying party accepts the answer. Default 5 minutes, the
	// default of auth.TwoFactorConfig.StateMaxAge, which bounds it too.
	Timeout time.Duration
}

// defaultTimeout is Config.Timeout's default.
const defaultTimeout = 5 * time.Minute

// knownTransports are the transports of the WebAuthn specification
// (AuthenticatorTransport); FinishRegistration keeps these alone of what a
// browser reports, so that a store keeps short, known words.
var knownTransports = map[protocol.AuthenticatorTransport]bool{
	protocol.USB: true, protocol.NFC: true, protocol.BLE: true, protocol.SmartCard: true,
	protocol.Hybrid: true, protocol.Internal: true,
}

// maxCredentialID is the longest credential ID the WebAuthn specification
// allows.
const maxCredentialID = 1023

// RelyingParty implements [auth.Passkeys]. It is safe for concurrent use.
type RelyingParty struct {
	wa *webauthn.WebAuthn
}

var _ auth.Passkeys = (*RelyingParty)(nil)

// New returns a RelyingParty for c.
func New(c Config) (*RelyingParty, error) {
	if c.RPID == "" {
		return nil, errors.New("passkey: Config.RPID is required")
	}
	if len(c.Origins) == 0 {
		return nil, errors.New("passkey: Config.Origins needs the origin of the site's pages")
	}
	if c.RPName == "" {
		c.RPName = c.RPID
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: c.Timeout, TimeoutUVD: c.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  c.RPID,
		RPDisplayName:         c.RPName,
		RPOrigins:             c.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &RelyingParty{wa: wa}, nil
}

// user is a WebAuthn user: a user handle, a name and the passkeys held.
type user struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential converts a stored passkey to go-webauthn's credential record.
func credential(p *auth.Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID:        p.ID,
		PublicKey: p.PublicKey,
		Flags: webauthn.CredentialFlags{
			UserPresent: true, UserVerified: p.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

// owner returns the WebAuthn user holding passkeys, all of one user.
func owner(passkeys []auth.Passkey) *user {
	u := &user{}
	for i := range passkeys {
		if u.handle == nil {
			u.handle = passkeys[i].UserHandle
		}
		u.creds = append(u.creds, credential(&passkeys[i]))
	}
	return u
}

// BeginRegistration implements [auth.Passkeys]: no attestation is asked
// for (a passkey's make is not checked), the credProps extension tells
// whether the credential is discoverable, and a passwordless passkey must
// be discoverable and verify the user.
func (rp *RelyingParty) BeginRegistration(handle []byte, name string, exclude []auth.Passkey, passwordless bool) (options, state []byte, err error) {
	sel := protocol.AuthenticatorSelection{
		ResidentKey:      protocol.ResidentKeyRequirementDiscouraged,
		UserVerification: protocol.VerificationPreferred,
	}
	if passwordless {
		sel.ResidentKey, sel.UserVerification = protocol.ResidentKeyRequirementRequired, protocol.VerificationRequired
		sel.RequireResidentKey = protocol.ResidentKeyRequired()
	}
	u := owner(exclude)
	u.handle, u.name = handle, name
	creation, session, err := rp.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(sel),
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return encode(creation.Response, session)
}

// encode marshals the options and the session of a ceremony.
func encode(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: options: %w", err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: session: %w", err)
	}
	return o, s, nil
}

// decodeSession reads a ceremony's state.
func decodeSession(state []byte) (webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := json.Unmarshal(state, &s); err != nil || s.Challenge == "" {
		return s, errors.New("passkey: not a ceremony's state")
	}
	return s, nil
}

// FinishRegistration implements [auth.Passkeys].
func (rp *RelyingParty) FinishRegistration(handle, state, cred []byte) (*auth.Passkey, error) {
	session, err := decodeSession(state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(cred)
	if err != nil {
		return nil, fmt.Errorf("passkey: registration: %w", describe(err))
	}
	c, err := rp.wa.CreateCredential(&user{handle: handle}, session, parsed)
	if err != nil {
		return nil, fmt.Errorf("passkey: registration: %w", describe(err))
	}
	if len(c.ID) == 0 || len(c.ID) > maxCredentialID {
		return nil, fmt.Errorf("passkey: registration: a credential ID of %d bytes", len(c.ID))
	}
	p := &auth.Passkey{
		ID: c.ID, PublicKey: c.PublicKey, SignCount: c.Authenticator.SignCount, AAGUID: c.Authenticator.AAGUID,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState, UserVerified: c.Flags.UserVerified,
		Discoverable: c.Extensions.RK != nil && *c.Extensions.RK,
	}
	for _, t := range c.Transport {
		if knownTransports[t] && !slices.Contains(p.Transports, string(t)) {
			p.Transports = append(p.Transports, string(t))
		}
	}
	return p, nil
}

// BeginSignIn implements [auth.Passkeys].
func (rp *RelyingParty) BeginSignIn(allow []auth.Passkey, verify bool) (options, state []byte, err error) {
	uv := protocol.VerificationPreferred
	if verify {
		uv = protocol.VerificationRequired
	}
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
	)
	if len(allow) == 0 {
		assertion, session, err = rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(uv))
	} else {
		assertion, session, err = rp.wa.BeginLogin(owner(allow), webauthn.WithUserVerification(uv))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin sign-in: %w", err)
	}
	return encode(assertion.Response, session)
}

// FinishSignIn implements [auth.Passkeys].
func (rp *RelyingParty) FinishSignIn(state, cred []byte, ownerOf func(id, userHandle []byte) ([]auth.Passkey, error)) (*auth.Passkey, bool, error) {
	session, err := decodeSession(state)
	if err != nil {
		return nil, false, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(cred)
	if err != nil {
		return nil, false, fmt.Errorf("passkey: sign-in: %w", describe(err))
	}
	if len(parsed.RawID) == 0 || len(parsed.RawID) > maxCredentialID {
		return nil, false, errors.New("passkey: sign-in: no credential ID")
	}
	owned, err := ownerOf(parsed.RawID, parsed.Response.UserHandle)
	if err != nil {
		return nil, false, fmt.Errorf("passkey: sign-in: %w", err)
	}
	if len(owned) == 0 {
		return nil, false, errors.New("passkey: sign-in: an unknown credential")
	}
	u := owner(owned)
	for i := range owned { // the handle the authenticator holds
		if bytes.Equal(owned[i].ID, parsed.RawID) && len(session.UserID) == 0 {
			u.handle = owned[i].UserHandle
		}
	}
	if len(session.UserID) > 0 { // the handle the ceremony began with
		u.handle = session.UserID
	}
	var c *webauthn.Credential
	if len(session.UserID) == 0 {
		c, err = rp.wa.ValidateDiscoverableLogin(func([]byte, []byte) (webauthn.User, error) { return u, nil }, session, parsed)
	} else {
		c, err = rp.wa.ValidateLogin(u, session, parsed)
	}
	if err != nil {
		return nil, false, fmt.Errorf("passkey: sign-in: %w", describe(err))
	}
	if c.Authenticator.CloneWarning {
		return nil, false, fmt.Errorf("passkey: sign-in: the signature counter went from %d to %d or less: a cloned authenticator?",
			c.Authenticator.SignCount, parsed.Response.AuthenticatorData.Counter)
	}
	for i := range owned {
		if bytes.Equal(owned[i].ID, c.ID) {
			used := owned[i]
			used.SignCount, used.BackupState = c.Authenticator.SignCount, c.Flags.BackupState
			return &used, parsed.Response.AuthenticatorData.Flags.HasUserVerified(), nil
		}
	}
	return nil, false, errors.New("passkey: sign-in: the verified credential is not the owner's")
}

// describe adds go-webauthn's details to its error, for the server's log.
func describe(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return fmt.Errorf("%w: %s", err, pe.Details)
	}
	return err
}
