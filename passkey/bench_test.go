package passkey_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passkey"
)

// BenchmarkFinishSignIn measures the relying party's check of one
// assertion: parsing the credential JSON, the challenge, origin and RP ID,
// and the P-256 signature.
func BenchmarkFinishSignIn(b *testing.B) {
	rp, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}})
	if err != nil {
		b.Fatal(err)
	}
	a := newAuthenticator(b, origin, rpID)
	a.step = 0 // the counter stays 0, so that one assertion checks again and again
	handle := []byte("0123456789abcdef0123456789abcdef")
	options, state, err := rp.BeginRegistration(handle, "alice@example.com", nil, true)
	if err != nil {
		b.Fatal(err)
	}
	p, err := rp.FinishRegistration(handle, state, []byte(a.create(b, json.RawMessage(options))))
	if err != nil {
		b.Fatal(err)
	}
	p.UserID, p.UserHandle, p.Usage, p.Name = "alice", handle, "first", "laptop"
	owned := []auth.Passkey{*p}
	options, state, err = rp.BeginSignIn(nil, true)
	if err != nil {
		b.Fatal(err)
	}
	cred := []byte(a.get(b, options))
	owner := func([]byte, []byte) ([]auth.Passkey, error) { return owned, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := rp.FinishSignIn(state, cred, owner); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordlessSignIn measures a whole passwordless sign-in at the
// Manager over a MemoryStore: POST /wan-signin, the authenticator's
// answer (a P-256 signature, outside the timer), POST /wan-signin/{state}
// and the login token.
func BenchmarkPasswordlessSignIn(b *testing.B) {
	f := newFixture(b, nil)
	a := newAuthenticator(b, origin, rpID)
	f.mustRegister(b, f.token(b, "alice@example.com"), a, "laptop", "first")
	b.ReportAllocs()
	for b.Loop() {
		o, state := f.beginSignIn(b, "")
		b.StopTimer()
		cred := a.get(b, o)
		b.StartTimer()
		code, _ := post(b, f.account, "/wan-signin/"+state, "", map[string]string{"credential": cred})
		if code != http.StatusOK {
			b.Fatalf("sign-in: %d", code)
		}
	}
}

// BenchmarkPasswordLogin is the baseline of BenchmarkPasswordlessSignIn:
// a JSON password login at the same Manager, with the default password
// hashing (argon2id, OWASP's parameters), as a production service has it.
func BenchmarkPasswordLogin(b *testing.B) {
	f := newFixture(b, func(c *auth.Config) { c.Password = auth.PasswordConfig{} })
	b.ReportAllocs()
	for b.Loop() {
		if code, _ := f.passwordLogin(b, "alice@example.com"); code != http.StatusOK {
			b.Fatalf("login: %d", code)
		}
	}
}
