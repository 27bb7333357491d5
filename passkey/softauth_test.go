package passkey_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// authenticator is a software WebAuthn authenticator with one P-256
// credential, making what a browser's navigator.credentials returns
// (PublicKeyCredential.toJSON()) for the tests: "none" attestation, the
// flags, the counter and the signature as the specification lays them
// out, and knobs to break each of them.
type authenticator struct {
	key     *ecdsa.PrivateKey
	id      []byte // credential ID
	handle  []byte // the user handle given at creation
	count   uint32 // the signature counter; 0 stays 0 unless step > 0
	step    uint32 // added to count at each use
	uv      bool   // verifies the user
	backup  bool   // backup eligible and backed up (a synced passkey)
	rk      bool   // reports credProps rk
	origin  string // the page's origin the browser puts in clientDataJSON
	rpID    string // the relying party ID it hashes, as the browser checks
	badSign bool   // signs something else
	// transports are what the browser reports at creation; default
	// "internal".
	transports []string
}

func newAuthenticator(t testing.TB, origin, rpID string) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &authenticator{key: key, id: id, step: 1, uv: true, rk: true, origin: origin, rpID: rpID}
}

var b64 = base64.RawURLEncoding

// options are the members of credential options the authenticator reads.
type options struct {
	Challenge string `json:"challenge"`
	User      struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (a *authenticator) clientData(t testing.TB, typ string, rawOptions json.RawMessage) []byte {
	t.Helper()
	var o options
	if err := json.Unmarshal(rawOptions, &o); err != nil {
		t.Fatalf("options: %v: %s", err, rawOptions)
	}
	cd, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.Challenge, "origin": a.origin, "crossOrigin": false})
	return cd
}

// authData is the authenticator data: the RP ID hash, the flags, the
// counter, and attested credential data when attested.
func (a *authenticator) authData(t testing.TB, attested bool) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(a.rpID))
	flags := byte(0x01) // UP
	if a.uv {
		flags |= 0x04
	}
	if a.backup {
		flags |= 0x08 | 0x10
	}
	if attested {
		flags |= 0x40
	}
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	if !attested {
		return out
	}
	out = append(out, make([]byte, 16)...) // AAGUID: zero, private
	out = binary.BigEndian.AppendUint16(out, uint16(len(a.id)))
	out = append(out, a.id...)
	pub, err := a.key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	x, y := pub[1:33], pub[33:]
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, cose...)
}

// create answers navigator.credentials.create with the options.
func (a *authenticator) create(t testing.TB, rawOptions json.RawMessage) string {
	t.Helper()
	var o options
	_ = json.Unmarshal(rawOptions, &o)
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		t.Fatalf("user.id: %v", err)
	}
	a.handle = handle
	cd := a.clientData(t, "webauthn.create", rawOptions)
	transports := a.transports
	if transports == nil {
		transports = []string{"internal"}
	}
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(t, true)})
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att),
			"transports": transports,
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": a.rk}},
	})
	return string(cred)
}

// get answers navigator.credentials.get with the options.
func (a *authenticator) get(t testing.TB, rawOptions json.RawMessage) string {
	t.Helper()
	a.count += a.step
	cd := a.clientData(t, "webauthn.get", rawOptions)
	ad := a.authData(t, false)
	h := sha256.Sum256(cd)
	msg := append(append([]byte(nil), ad...), h[:]...)
	if a.badSign {
		msg[0] ^= 1
	}
	digest := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{
		"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
		"signature": b64.EncodeToString(sig),
	}
	if a.rk {
		resp["userHandle"] = b64.EncodeToString(a.handle)
	}
	cred, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "response": resp, "clientExtensionResults": map[string]any{},
	})
	return string(cred)
}
