package passhash

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		h       Hasher
		wantErr string // "" for valid
	}{
		{name: "zero value"},
		{name: "argon2id", h: Hasher{Scheme: Argon2id}},
		{name: "pbkdf2 default rounds", h: Hasher{Scheme: PBKDF2SHA1}},
		{name: "sha-crypt minimum rounds", h: Hasher{Scheme: SHA256Crypt, Rounds: 1000}},
		{name: "unknown scheme", h: Hasher{Scheme: "md5_crypt"}, wantErr: `unknown scheme "md5_crypt"`},
		{name: "argon2 passlib name", h: Hasher{Scheme: "argon2"}, wantErr: `unknown scheme "argon2"`},
		{name: "bcrypt cost 3", h: Hasher{BcryptCost: 3}, wantErr: "bcrypt cost 3"},
		{name: "bcrypt cost 32", h: Hasher{BcryptCost: 32}, wantErr: "bcrypt cost 32"},
		{name: "argon2 salt 4", h: Hasher{Scheme: Argon2id, Argon2: Argon2Params{SaltLen: 4}}, wantErr: "argon2id salt"},
		{name: "argon2 key 8", h: Hasher{Scheme: Argon2id, Argon2: Argon2Params{KeyLen: 8}}, wantErr: "argon2id salt"},
		{name: "negative rounds", h: Hasher{Scheme: PBKDF2SHA512, Rounds: -1}, wantErr: "negative rounds"},
		{name: "pbkdf2 rounds over bound", h: Hasher{Scheme: PBKDF2SHA512, Rounds: maxPBKDF2Rounds + 1}, wantErr: "rounds 10000001"},
		{name: "sha-crypt rounds under minimum", h: Hasher{Scheme: SHA512Crypt, Rounds: 999}, wantErr: "rounds 999"},
		{name: "sha-crypt rounds over bound", h: Hasher{Scheme: SHA512Crypt, Rounds: maxSHACryptRounds + 1}, wantErr: "rounds 10000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "passhash: ") {
				t.Fatalf("Validate = %v, want an error with %q", err, tt.wantErr)
			}
			if _, herr := tt.h.Hash("pw"); herr == nil {
				t.Error("Hash succeeds with an invalid Hasher")
			}
		})
	}
}

// TestDefaultRounds checks that Rounds 0 means passlib 1.7.4's defaults,
// without hashing at them (the full-cost vectors of TestReferenceHashes
// check that such hashes verify).
func TestDefaultRounds(t *testing.T) {
	want := map[Scheme]int{PBKDF2SHA512: 25000, PBKDF2SHA256: 29000, PBKDF2SHA1: 131000, SHA512Crypt: 656000, SHA256Crypt: 535000}
	for s, n := range want {
		var got int
		if p, ok := pbkdf2SchemeOf(s); ok {
			got = Hasher{Scheme: s}.rounds(p.defaultRounds)
		} else if c, ok := shaCryptSchemeOf(s); ok {
			got = Hasher{Scheme: s}.rounds(c.defaultRounds)
		}
		if got != n {
			t.Errorf("%s: default rounds %d, want %d", s, got, n)
		}
		if h := (Hasher{Scheme: s, Rounds: n - 1}); !h.NeedsRehash(strings.Replace(fakeHash(s), "ROUNDS", "1000", 1)) {
			t.Errorf("%s: a 1000-round hash does not need a rehash", s)
		}
	}
	if h := (Hasher{}); h.bcryptCost() != 12 {
		t.Error("default bcrypt cost is not 12")
	}
	if h := (Hasher{}); h.scheme() != Argon2id {
		t.Errorf("default scheme %s, want argon2id", h.scheme())
	}
}

// fakeHash is a well-formed hash of scheme s with rounds "ROUNDS".
func fakeHash(s Scheme) string {
	switch s {
	case SHA512Crypt:
		return "$6$rounds=ROUNDS$LtF0oZdsZeIyfDbY$ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0"
	case SHA256Crypt:
		return "$5$rounds=ROUNDS$1J3latUGTj4hVD9Y$ZcmJd/7v3CnumfaCyE/Fz/rYLsvCHoh5EiOF7Gp4i/0"
	}
	p, _ := pbkdf2SchemeOf(s)
	return p.ident + "ROUNDS$LaU0Zqy1llIqhXDuPQeAEA$" + ab64Encode(make([]byte, p.size))
}

// TestPBKDF2Form checks the form of the pbkdf2 hashes written: passlib's
// default rounds, a 16-byte salt, the full checksum, adapted base 64.
func TestPBKDF2Form(t *testing.T) {
	for _, tt := range []struct {
		scheme      Scheme
		ident       string
		rounds      string
		checksumLen int
	}{
		{PBKDF2SHA512, "pbkdf2-sha512", "25000", 86},
		{PBKDF2SHA256, "pbkdf2-sha256", "29000", 43},
	} {
		h, err := Hasher{Scheme: tt.scheme}.Hash("test123")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(h, "$")
		if len(parts) != 5 || parts[1] != tt.ident || parts[2] != tt.rounds || len(parts[3]) != 22 || len(parts[4]) != tt.checksumLen {
			t.Fatalf("hash %q is not $%s$%s$<22-char salt>$<%d-char checksum>", h, tt.ident, tt.rounds, tt.checksumLen)
		}
		if strings.ContainsAny(h, "+=") {
			t.Errorf("hash %q is not in passlib's adapted base 64", h)
		}
	}
}

// TestSHACryptForm checks that rounds 5000 are left implicit, as passlib
// and crypt(3) write them, and other rounds are given.
func TestSHACryptForm(t *testing.T) {
	for _, tt := range []struct {
		h      Hasher
		prefix string
	}{
		{Hasher{Scheme: SHA512Crypt, Rounds: 5000}, "$6$"},
		{Hasher{Scheme: SHA256Crypt, Rounds: 1000}, "$5$rounds=1000$"},
	} {
		enc, err := tt.h.Hash("test123")
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(enc, tt.prefix)
		if !ok || strings.HasPrefix(rest, "rounds=") || len(strings.Split(rest, "$")[0]) != 16 {
			t.Errorf("hash %q: want prefix %q and a 16-character salt", enc, tt.prefix)
		}
		if _, err := tt.h.Hash("nul\x00byte"); err == nil || errors.Is(err, ErrTooLong) {
			t.Errorf("Hash(password with NUL) = %v, want an error", err)
		}
	}
}

// BenchmarkCheckPassword measures checking a right password against
// hashes in each scheme at the costs passlib uses.
func BenchmarkCheckPassword(b *testing.B) {
	for _, bb := range []struct {
		name string
		h    Hasher
	}{
		{name: "pbkdf2_sha512-25000", h: Hasher{Scheme: PBKDF2SHA512}},
		{name: "pbkdf2_sha256-29000", h: Hasher{Scheme: PBKDF2SHA256}},
		{name: "sha512_crypt-5000", h: Hasher{Scheme: SHA512Crypt, Rounds: 5000}},
		{name: "sha512_crypt-656000", h: Hasher{Scheme: SHA512Crypt}},
		{name: "sha256_crypt-535000", h: Hasher{Scheme: SHA256Crypt}},
		{name: "bcrypt-12", h: Hasher{Scheme: Bcrypt}},
		{name: "argon2-t3-64MiB", h: Hasher{Scheme: Argon2id}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			enc, err := bb.h.Hash("test123")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := Verify(enc, "test123"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
