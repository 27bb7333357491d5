package passhash

import (
	"errors"
	"testing"
)

// FuzzCheckPassword checks hashes and passwords: never a panic, only the
// documented errors, and a hash that accepts a password refuses that
// password changed. Inputs that would demand much work (within the bounds
// the parsers enforce) are skipped so that fuzzing stays fast. Seeds:
// testdata/fuzz/FuzzCheckPassword.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$pbkdf2-sha512$1$pDQmBEAIQaiVMkaI0dq7tw$wKg2ZV7bt4pXSIq4v5b7BI0jRSbJ/YyydqJsDsqFx5BlCvVcnNvh6ul0Q28I96JAmsAlh2FPFLUsLyA2E3iF7g", "test123")
	f.Add("$6$rounds=1000$LtF0oZdsZeIyfDbY$ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0", "test123")
	f.Add("$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO", "test123")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ", "test123")
	hashers := []Hasher{{}, {Scheme: Argon2id}, {Scheme: SHA512Crypt, Rounds: 1000}}
	f.Fuzz(func(t *testing.T, hash, password string) {
		if len(hash) > 1024 || len(password) > 256 || costlyHash(hash) {
			t.Skip()
		}
		err := Verify(hash, password)
		if err != nil && err != ErrMismatch && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Verify = %v", err)
		}
		if err == nil {
			if err := Verify(hash, password+"\x01"); err != ErrMismatch {
				t.Fatalf("hash accepts the password and the password changed: %v", err)
			}
		}
		for _, h := range hashers {
			needs, herr := h.Verify(hash, password)
			if (herr == nil) != (err == nil) || (herr != nil && needs) {
				t.Fatalf("Hasher.Verify = %v, %v; Verify = %v", needs, herr, err)
			}
			if err != nil && err != ErrMismatch && !h.NeedsRehash(hash) {
				t.Fatal("NeedsRehash = false for a hash that cannot be checked")
			}
		}
	})
}
