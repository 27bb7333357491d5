package passkey_test

import (
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passkey"
)

// FuzzFinishSignIn feeds FinishSignIn arbitrary credentials, as a client
// sends them to POST /wan-signin/{state}: it must never panic, and it must
// never accept one, since no input can sign this ceremony's fresh
// challenge with the stored key. The corpus holds a software
// authenticator's real assertions (for another challenge) and broken
// variants.
func FuzzFinishSignIn(f *testing.F) {
	rp, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}})
	if err != nil {
		f.Fatal(err)
	}
	stored := []auth.Passkey{{ID: []byte("credential"), UserID: "alice", UserHandle: []byte("handle"), Usage: "first",
		PublicKey: []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01}}}
	_, state, err := rp.BeginSignIn(nil, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"Y3JlZGVudGlhbA","rawId":"Y3JlZGVudGlhbA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":"aGFuZGxl"}}`))
	f.Fuzz(func(t *testing.T, cred []byte) {
		used, _, err := rp.FinishSignIn(state, cred, func(id, handle []byte) ([]auth.Passkey, error) { return stored, nil })
		if err == nil || used != nil {
			t.Fatalf("accepted %q: %v", cred, used)
		}
	})
}

// FuzzFinishRegistration feeds FinishRegistration arbitrary credentials,
// as a client sends them to POST /wan-register/{state}: it must never
// panic, and no input can answer this ceremony's fresh challenge.
func FuzzFinishRegistration(f *testing.F) {
	rp, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}})
	if err != nil {
		f.Fatal(err)
	}
	handle := []byte("handle")
	_, state, err := rp.BeginRegistration(handle, "alice@example.com", nil, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"Y3JlZGVudGlhbA","rawId":"Y3JlZGVudGlhbA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Fuzz(func(t *testing.T, cred []byte) {
		p, err := rp.FinishRegistration(handle, state, cred)
		if err == nil || p != nil {
			t.Fatalf("accepted %q: %v", cred, p)
		}
	})
}
