package flask

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/passhash"
)

// passlibFixture is an entry of ../testdata/password_hashes.json or
// ../testdata/flask/password_hashes.json.
type passlibFixture struct {
	Name           string   `json:"name"`
	Scheme         string   `json:"scheme"`
	Password       string   `json:"password"`
	Hash           string   `json:"hash"`
	WrongPasswords []string `json:"wrong_passwords"`
	AlsoVerifies   []string `json:"also_verifies"`
	// The shared file's Flask-Security entries.
	PasswordSalt string `json:"security_password_salt"`
	SingleHash   *bool  `json:"single_hash"`
	HMACPrehash  string `json:"hmac_prehash"`
	// The entries made by testdata/flask/gen_password_hashes.py.
	Flask *struct {
		PasswordSalt string          `json:"password_salt"`
		SingleHash   json.RawMessage `json:"single_hash"` // true, false or a list
		Prehashed    bool            `json:"prehashed"`
	} `json:"flask"`
}

func loadPasslibFixtures(t testing.TB, path string) []passlibFixture {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries []passlibFixture `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(f.Entries) < 10 {
		t.Fatalf("%s: only %d entries", path, len(f.Entries))
	}
	return f.Entries
}

// flaskConfig returns the Config the entry was made with, or nil for an
// entry made without Flask-Security.
//
// The fixtures' hashes were made by flask_security.utils.hash_password of
// the password as given, which does not normalize it (the app's forms
// normalize before they call it), so they are checked without
// normalization; TestFlaskNormalizesPasswords covers the forms' path.
func (e passlibFixture) flaskConfig(t testing.TB) *Config {
	t.Helper()
	switch {
	case e.Flask != nil:
		fc := &Config{PasswordSalt: e.Flask.PasswordSalt, PasswordNormalizeForm: "none"}
		var all bool
		if err := json.Unmarshal(e.Flask.SingleHash, &all); err == nil {
			fc.PasswordSingleHash = all
		} else if err := json.Unmarshal(e.Flask.SingleHash, &fc.PasswordSingleHashSchemes); err != nil {
			t.Fatalf("single_hash %s: %v", e.Flask.SingleHash, err)
		}
		return fc
	case e.PasswordSalt != "":
		return &Config{PasswordSalt: e.PasswordSalt, PasswordSingleHash: e.SingleHash != nil && *e.SingleHash, PasswordNormalizeForm: "none"}
	}
	return nil
}

// costlyHash reports whether checking hash would take more than a few
// milliseconds (under the race detector, much more): the hash is at least
// as strong as one of the cheap bounds below.
func costlyHash(hash string) bool {
	s := passhash.Identify(hash)
	if s == "" {
		return false
	}
	atLeast := func(h passhash.Hasher) bool { h.Scheme = s; return !h.NeedsRehash(hash) }
	tiny := passhash.Argon2Params{Time: 1, MemoryKiB: 1, Threads: 1, KeyLen: 1, SaltLen: 1}
	switch s {
	case passhash.Bcrypt:
		return atLeast(passhash.Hasher{BcryptCost: 6})
	case passhash.Argon2id:
		t, m := tiny, tiny
		t.Time, m.MemoryKiB = 3, 16<<10+1
		return atLeast(passhash.Hasher{Argon2: t}) || atLeast(passhash.Hasher{Argon2: m})
	case passhash.SHA512Crypt, passhash.SHA256Crypt:
		return atLeast(passhash.Hasher{Rounds: 5001})
	}
	return atLeast(passhash.Hasher{Rounds: 2001})
}

// costlyFixtures picks, of the costly entries (see costlyHash), the first
// of each scheme: only those are checked, and not in -short mode; the
// cheap entries have the same formats.
func costlyFixtures(entries []passlibFixture) map[string]bool {
	picked, seen := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		if costlyHash(e.Hash) && !seen[e.Scheme] {
			seen[e.Scheme], picked[e.Name] = true, true
		}
	}
	return picked
}

// cheapArgon2 are argon2 parameters fast enough for tests.
var cheapArgon2 = passhash.Argon2Params{Time: 1, MemoryKiB: 8192, Threads: 1, KeyLen: 16}

// newTestHasher returns the Hasher of fc, at bcrypt cost 4 unless fc sets
// one, and with rounds, if not 0, instead of passlib's defaults for pbkdf2
// and SHA-crypt, which are slow.
func newTestHasher(t testing.TB, fc Config, rounds int) *Hasher {
	t.Helper()
	if fc.BcryptCost == 0 {
		fc.BcryptCost = 4
	}
	h, err := NewHasher(fc)
	if err != nil {
		t.Fatal(err)
	}
	h.writer.Rounds = rounds
	return h
}

// newHasherManager returns a Manager over store (a new MemoryStore if nil)
// whose passwords h makes and checks, or, with h nil, the Manager's own
// hasher at bcrypt cost 4.
func newHasherManager(t testing.TB, store auth.UserStore, h *Hasher) *auth.Manager {
	t.Helper()
	if store == nil {
		store = auth.NewMemoryStore()
	}
	pc := auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}
	if h != nil {
		pc = auth.PasswordConfig{Hasher: h}
	}
	m, err := auth.New(store, []byte("passlib test key, 32 bytes long."), auth.Config{Password: pc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newPasslibManager returns a Manager with the Flask-Security rules of fc,
// or none for nil.
func newPasslibManager(t testing.TB, fc *Config) *auth.Manager {
	t.Helper()
	if fc == nil {
		return newHasherManager(t, nil, nil)
	}
	return newHasherManager(t, nil, newTestHasher(t, *fc, 0))
}

// TestPasslibHashes checks every hash made through Flask-Security in both
// fixture files: it verifies with its password (pre-hashed where the entry
// says Flask-Security did) and refuses every wrong one; a pre-hashed entry
// does not verify without the pre-hash. The entries made by passlib and
// crypt(3) alone are the formats' and are checked by package passhash.
// Of the costly entries only one per scheme is checked, and not in -short
// mode.
func TestPasslibHashes(t *testing.T) {
	t.Parallel()
	entries := append(loadPasslibFixtures(t, "../testdata/password_hashes.json"),
		loadPasslibFixtures(t, "../testdata/flask/password_hashes.json")...)
	costly := costlyFixtures(entries)
	n := 0
	for _, e := range entries {
		fc := e.flaskConfig(t)
		if fc == nil {
			continue // passhash's TestReferenceHashes
		}
		n++
		t.Run(e.Name, func(t *testing.T) {
			switch {
			case costlyHash(e.Hash) && !costly[e.Name]:
				t.Skip("costly hash; one per scheme is checked")
			case costlyHash(e.Hash) && testing.Short():
				t.Skip("costly hash in -short mode")
			}
			m := newPasslibManager(t, fc)
			switch {
			case len(e.Password) > bcryptMaxBytes && e.Scheme == "bcrypt":
				// passlib truncates silently; this package refuses a
				// password it could compare only in part (see
				// passhash.Bcrypt).
				if err := m.CheckPassword(e.Hash, e.Password); err != auth.ErrPasswordMismatch {
					t.Errorf("CheckPassword(%d-byte password) = %v, want ErrPasswordMismatch", len(e.Password), err)
				}
			default:
				if err := m.CheckPassword(e.Hash, e.Password); err != nil {
					t.Fatalf("CheckPassword(password) = %v", err)
				}
			}
			for _, p := range e.AlsoVerifies {
				if err := m.CheckPassword(e.Hash, p); err != nil {
					t.Errorf("CheckPassword(%q) = %v", p, err)
				}
			}
			wrong := e.WrongPasswords
			if costlyHash(e.Hash) {
				wrong = wrong[:min(len(wrong), 1)]
			}
			for _, p := range wrong {
				if err := m.CheckPassword(e.Hash, p); err != auth.ErrPasswordMismatch {
					t.Errorf("CheckPassword(%q) = %v, want ErrPasswordMismatch", p, err)
				}
			}
			if fc.PasswordSalt != "" && !fc.PasswordSingleHash && (e.Flask == nil || e.Flask.Prehashed) {
				plain := newPasslibManager(t, nil)
				if err := plain.CheckPassword(e.Hash, e.Password); err != auth.ErrPasswordMismatch {
					t.Errorf("without the pre-hash: CheckPassword = %v, want ErrPasswordMismatch", err)
				}
				other := newPasslibManager(t, &Config{PasswordSalt: fc.PasswordSalt + "x"})
				if err := other.CheckPassword(e.Hash, e.Password); err != auth.ErrPasswordMismatch {
					t.Errorf("with another PasswordSalt: CheckPassword = %v, want ErrPasswordMismatch", err)
				}
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d Flask-Security entries", n)
	}
}

// TestFlaskPrehash checks the pre-hash against the values the shared
// fixture file records.
func TestFlaskPrehash(t *testing.T) {
	n := 0
	for _, e := range loadPasslibFixtures(t, "../testdata/password_hashes.json") {
		if e.PasswordSalt == "" {
			continue
		}
		h := newTestHasher(t, Config{PasswordSalt: e.PasswordSalt}, 0)
		if got := h.prehash(e.Password); got != e.HMACPrehash {
			t.Errorf("%s: prehash = %q, want %q", e.Name, got, e.HMACPrehash)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no Flask-Security entries")
	}
}

// TestFlaskSingleHashRules checks which schemes are pre-hashed, as
// Flask-Security 5.1.2's use_double_hash decides, and that bcrypt's
// pre-hash is cut to the 72 bytes bcrypt reads.
func TestFlaskSingleHashRules(t *testing.T) {
	hashes := map[string]string{
		"bcrypt":        "$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO",
		"argon2":        "$argon2id$v=19$m=8192,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ",
		"pbkdf2_sha512": "$pbkdf2-sha512$1000$LaU0Zqy1llIqhXDuPQeAEA$x",
		"pbkdf2_sha256": "$pbkdf2-sha256$1000$LaU0Zqy1llIqhXDuPQeAEA$x",
		"pbkdf2_sha1":   "$pbkdf2$1000$LaU0Zqy1llIqhXDuPQeAEA$x",
		"sha512_crypt":  "$6$salt$x",
		"sha256_crypt":  "$5$salt$x",
		"":              "$1$salt$x",
	}
	tests := []struct {
		name       string
		all        bool
		schemes    []string
		unprefixed []string // schemes not pre-hashed
	}{
		{name: "default", unprefixed: []string{""}},
		{name: "true", all: true, unprefixed: []string{"", "bcrypt", "argon2", "pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2_sha1", "sha512_crypt", "sha256_crypt"}},
		{name: "set", schemes: []string{"sha512_crypt", "bcrypt", "django_argon2"}, unprefixed: []string{"", "bcrypt", "sha512_crypt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHasher(t, Config{PasswordSalt: "salt", PasswordSingleHash: tt.all, PasswordSingleHashSchemes: tt.schemes}, 0)
			for scheme, hash := range hashes {
				if got := passlibScheme(hash); got != scheme {
					t.Errorf("passlibScheme(%q) = %q, want %q", hash, got, scheme)
				}
				p := h.prepare(passlibScheme(hash), "pw")
				pre := p != "pw"
				want := !slices.Contains(tt.unprefixed, scheme)
				if pre != want {
					t.Errorf("%s: pre-hashed = %v, want %v", scheme, pre, want)
				}
				if scheme != "" && h.prehashes(scheme) != want {
					t.Errorf("%s: prehashes = %v, want %v", scheme, !want, want)
				}
				switch {
				case !pre:
				case scheme == "bcrypt" && p != h.prehash("pw")[:bcryptMaxBytes]:
					t.Errorf("bcrypt: prepared %q, want the pre-hash cut to %d bytes", p, bcryptMaxBytes)
				case scheme != "bcrypt" && p != h.prehash("pw"):
					t.Errorf("%s: prepared %q, want the whole pre-hash", scheme, p)
				}
			}
		})
	}
}

// TestFlaskCheckMalformed checks that with the Flask-Security pre-hash
// configured, damaged and unknown hashes still give ErrUnsupportedHash
// naming the scheme, and would need a rehash. passhash's TestVerifyMalformed
// checks the formats themselves.
func TestFlaskCheckMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, hash, want string // want: in the error text
	}{
		{name: "pbkdf2 no checksum", hash: "$pbkdf2-sha512$25000$8R5DaK01xngPwfif03oPQQ", want: `"pbkdf2-sha512"`},
		{name: "pbkdf2 rounds over bound", hash: "$pbkdf2-sha512$10000001$8R5DaK01xngPwfif03oPQQ$x", want: `"pbkdf2-sha512"`},
		{name: "sha512-crypt huge rounds", hash: "$6$rounds=999999999$LtF0oZdsZeIyfDbY$x", want: `"6"`},
		{name: "argon2id memory over 4 GiB", hash: "$argon2id$v=19$m=4194305,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", want: "malformed argon2id hash"},
		{name: "bcrypt truncated", hash: "$2b$04$iL/dfw7LN8UBrZWfE68F2u", want: "malformed bcrypt hash"},
		{name: "argon2i", hash: "$argon2i$v=19$m=8192,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ", want: `"argon2i"`},
		{name: "plaintext", hash: "test123", want: `"unknown (no $ prefix)"`},
		{name: "empty", hash: "", want: `"empty"`},
	}
	fcs := []*Config{nil, {PasswordSalt: "salt"}, {PasswordSalt: "salt", PasswordHash: "pbkdf2_sha512"}}
	var managers []*auth.Manager
	var hashers []*Hasher
	for _, fc := range fcs {
		var h *Hasher
		if fc != nil {
			h = newTestHasher(t, *fc, 0)
		}
		managers = append(managers, newHasherManager(t, nil, h))
		hashers = append(hashers, h)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, m := range managers {
				err := m.CheckPassword(tt.hash, "test123")
				if !errors.Is(err, auth.ErrUnsupportedHash) {
					t.Fatalf("CheckPassword = %v, want ErrUnsupportedHash", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not name the scheme: want %s", err, tt.want)
				}
				h := hashers[i]
				if h == nil {
					continue
				}
				if rehash, err := h.Verify(tt.hash, "test123"); rehash || !errors.Is(err, auth.ErrUnsupportedHash) {
					t.Errorf("Hasher.Verify = %v, %v; want false, ErrUnsupportedHash", rehash, err)
				}
				if !h.writer.NeedsRehash(tt.hash) {
					t.Error("NeedsRehash = false for a hash that cannot be checked")
				}
			}
		})
	}
}

// TestFlaskWritePasswordScheme checks the hashes written for each
// Config.PasswordHash: their form, that they verify and refuse wrong
// passwords, and which hashes need a rehash.
func TestFlaskWritePasswordScheme(t *testing.T) {
	t.Parallel()
	const salt = "something_super_secret_change_in_production"
	other := map[string]string{ // a hash in each scheme, of another password
		"bcrypt":        "$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO",
		"pbkdf2_sha512": "$pbkdf2-sha512$25000$8R5DaK01xngPwfif03oPQQ$aHtHXiQhhkOXNt9V1auwwVpSlo.ipk.MObwFjLqaPFlFRlrhU5SqBmJeuiWwBfI89in87Ex352CCiJ.mWiYgNw",
		"pbkdf2_sha256": "$pbkdf2-sha256$29000$L0UohfAeg3Du3du7956ztg$ZYwS3aDoo51MBTY64SgkVQ9bbInD2t5U3ab/2XNfDBA",
		"sha512_crypt":  "$6$rounds=656000$e3qF7RhZ90Cq.IwN$26YWpku4tBRDP.Pep6nqclmffeOa.BcuyJPKVEhF3VVHRyuNjBWjSQrbOhAMJ22z65pA/MaXvKK.Pn9Hxg3b50",
		"argon2":        "$argon2id$v=19$m=8192,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ",
	}
	weaker := map[string]string{
		"bcrypt":        "$2b$04$iL/dfw7LN8UBrZWfE68F2uwxyq.z0T7gJTgZkNe7BD05/5w9YyaYO",
		"pbkdf2_sha512": "$pbkdf2-sha512$1000$LaU0Zqy1llIqhXDuPQeAEA$9JRy9X5/VXv9nrOsCCtEV3RljEXCh1CfTTEdIeC4UKBiP2DdNGKkVts98oI2kOEFT5ueSa6810PCoHOVUBf6Tg",
		"sha512_crypt":  "$6$rounds=1000$LtF0oZdsZeIyfDbY$ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0",
		"argon2":        "$argon2id$v=19$m=4096,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ",
	}
	tests := []struct {
		write, prefix string
		scheme        passhash.Scheme // that of the hashes written
		bcryptCost    int
		rounds        int // written instead of passlib's default, which is slow
	}{
		{write: "pbkdf2_sha512", prefix: "$pbkdf2-sha512$25000$", scheme: passhash.PBKDF2SHA512, bcryptCost: 4},
		{write: "pbkdf2_sha256", prefix: "$pbkdf2-sha256$29000$", scheme: passhash.PBKDF2SHA256, bcryptCost: 4},
		{write: "bcrypt", prefix: "$2b$05$", scheme: passhash.Bcrypt, bcryptCost: 5},
		{write: "argon2", prefix: "$argon2id$v=19$m=8192,t=1,p=1$", scheme: passhash.Argon2id, bcryptCost: 4},
		{write: "sha512_crypt", prefix: "$6$rounds=5001$", scheme: passhash.SHA512Crypt, bcryptCost: 4, rounds: 5001},
		{write: "sha256_crypt", prefix: "$5$rounds=5001$", scheme: passhash.SHA256Crypt, bcryptCost: 4, rounds: 5001},
		{write: "", prefix: "$2b$04$", scheme: passhash.Bcrypt, bcryptCost: 4}, // Flask-Security's default, bcrypt
	}
	for _, tt := range tests {
		t.Run("write="+tt.write, func(t *testing.T) {
			h, err := NewHasher(Config{PasswordSalt: salt, PasswordHash: tt.write, BcryptCost: tt.bcryptCost, Argon2: cheapArgon2})
			if err != nil {
				t.Fatal(err)
			}
			// passlib's default rounds (Rounds 0), which passhash's
			// TestDefaultRounds checks; then cheaper ones for speed.
			if w := h.writer; w.Scheme != tt.scheme || w.Rounds != 0 || w.BcryptCost != tt.bcryptCost {
				t.Fatalf("writer %+v, want scheme %s with passlib's default rounds and cost %d", w, tt.scheme, tt.bcryptCost)
			}
			h.writer.Rounds = tt.rounds
			m := newHasherManager(t, nil, h)
			passwords := []string{"test123", "pässwörd-🔑", strings.Repeat("long password ", 20)} // the last over bcrypt's 72 bytes: fine once pre-hashed
			for _, pw := range passwords {
				enc, err := m.HashPassword(pw)
				if err != nil {
					t.Fatalf("HashPassword(%q): %v", pw, err)
				}
				if !strings.HasPrefix(enc, tt.prefix) {
					t.Fatalf("hash %q lacks prefix %q", enc, tt.prefix)
				}
				if err := m.CheckPassword(enc, pw); err != nil {
					t.Errorf("CheckPassword(own hash) = %v", err)
				}
				if err := m.CheckPassword(enc, pw+"x"); err != auth.ErrPasswordMismatch {
					t.Errorf("CheckPassword(wrong) = %v", err)
				}
				if rehash, err := h.Verify(enc, pw); err != nil || rehash {
					t.Errorf("Verify(own hash %q) = %v, %v; want no rehash", enc, rehash, err)
				}
			}
			write := stringOr(tt.write, "bcrypt")
			for scheme, enc := range other {
				if scheme != write && !h.writer.NeedsRehash(enc) {
					t.Errorf("NeedsRehash(%s hash) = false", scheme)
				}
			}
			if enc, ok := weaker[write]; ok && !h.writer.NeedsRehash(enc) && (write != "bcrypt" || tt.bcryptCost > 4) {
				t.Errorf("NeedsRehash(weaker %s hash) = false", write)
			}
		})
	}
}

func stringOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestFlaskPbkdf2Form(t *testing.T) {
	m := newPasslibManager(t, &Config{PasswordSalt: "s", PasswordHash: "pbkdf2_sha512"})
	h, err := m.HashPassword("test123")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 5 || parts[1] != "pbkdf2-sha512" || parts[2] != "25000" || len(parts[3]) != 22 || len(parts[4]) != 86 {
		t.Fatalf("hash %q is not $pbkdf2-sha512$25000$<22-char salt>$<86-char checksum>", h)
	}
	if strings.ContainsAny(h, "+=") {
		t.Errorf("hash %q is not in passlib's adapted base 64", h)
	}
}

// TestLoginRehashesToFlaskScheme logs in users whose hashes are in other
// schemes and checks that the stored hash becomes one in the write scheme
// that still verifies; without a write scheme, hashes in other schemes are
// kept.
func TestLoginRehashesToFlaskScheme(t *testing.T) {
	t.Parallel()
	const salt = "something_super_secret_change_in_production"
	for _, tt := range []struct {
		name, write, stored, wantPrefix string
	}{
		{name: "bcrypt to pbkdf2_sha512", write: "pbkdf2_sha512", stored: "$2b$04$gFD4KzhQ9BDCF5gnljiqg.SMpsGU216qsHDlOwmDKc6MLyc1mMjAu", wantPrefix: "$pbkdf2-sha512$25000$"},
		{name: "weak pbkdf2 to default rounds", write: "pbkdf2_sha512", stored: "", wantPrefix: "$pbkdf2-sha512$25000$"},
		// Without a write scheme the application's scheme is unknown: its
		// pbkdf2 hash is kept, not rewritten to bcrypt for it to rewrite back.
		{name: "pbkdf2 kept without a write scheme", write: "", stored: "$pbkdf2-sha512$25000$OYdQak1J6R3j/N87J0QI4Q$opP619.EW5C6GnIiBCKt.d5gLvuQ25WEXxQGa9zvwSFK9jUaTfDvz0CzQ20qPl8f4RRAaBqmwiy1qUkPIALjuQ", wantPrefix: "$pbkdf2-sha512$25000$OYdQak1J6R3j/N87J0QI4Q$opP619.EW5C6GnIiBCKt.d5gLvuQ25WEXxQGa9zvwSFK9jUaTfDvz0CzQ20qPl8f4RRAaBqmwiy1qUkPIALjuQ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := auth.NewMemoryStore()
			h := newTestHasher(t, Config{PasswordSalt: salt, PasswordHash: tt.write}, 0)
			m := newHasherManager(t, store, h)
			stored := tt.stored
			if stored == "" {
				// A Flask-style pre-hashed pbkdf2 hash at 1000 rounds.
				w := passhash.Hasher{Scheme: passhash.PBKDF2SHA512, Rounds: 1000}
				var err error
				if stored, err = w.Hash(h.prehash("test123")); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.CheckPassword(stored, "test123"); err != nil {
				t.Fatalf("the stored hash does not verify before login: %v", err)
			}
			u := &auth.User{ID: "1", Email: "flask@example.com", PasswordHash: stored, Active: true, Uniquifier: auth.NewUniquifier()}
			if err := store.CreateUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Login(context.Background(), "flask@example.com", "test123", "192.0.2.1"); err != nil {
				t.Fatalf("Login: %v", err)
			}
			got, _ := store.UserByID(context.Background(), "1")
			if !strings.HasPrefix(got.PasswordHash, tt.wantPrefix) {
				t.Fatalf("stored hash %q, want prefix %q", got.PasswordHash, tt.wantPrefix)
			}
			if err := m.CheckPassword(got.PasswordHash, "test123"); err != nil {
				t.Errorf("rehashed hash does not verify: %v", err)
			}
			if _, err := m.Login(context.Background(), "flask@example.com", "test123", "192.0.2.1"); err != nil {
				t.Errorf("second Login: %v", err)
			}
			again, _ := store.UserByID(context.Background(), "1")
			if again.PasswordHash != got.PasswordHash {
				t.Errorf("second Login rehashed %q again, to %q", got.PasswordHash, again.PasswordHash)
			}
		})
	}
}

// pythonWithFlaskSecurity returns a Python that has what the Flask
// interoperability scripts need.
func pythonWithFlaskSecurity(t *testing.T) string {
	return testpython.Find(t, "python3-flask-security python3-flask-sqlalchemy python3-passlib python3-argon2",
		"flask_security", "flask_sqlalchemy", "passlib", "argon2")
}

// runFlaskScript runs one of the scripts in ../testdata/flask with stdin
// and decodes its JSON output into out.
func runFlaskScript(t *testing.T, py string, stdin any, out any, script string, args ...string) {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-B", script}, args...)...)
	cmd.Dir = filepath.Join("..", "testdata", "flask")
	if stdin != nil {
		in, err := json.Marshal(stdin)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = strings.NewReader(string(in))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s printed %q: %v", script, raw, err)
	}
}

// flaskHashCase is a hash for verify_hash.py to check, and what
// Flask-Security should answer.
type flaskHashCase struct {
	Hash     string `json:"hash"`
	Password string `json:"password"`
	want     bool   // verifies
	wantPre  bool   // pre-hashed
}

// flaskHashGroup is a group of cases checked under one setting.
type flaskHashGroup struct {
	Salt       string          `json:"password_salt"`
	SingleHash any             `json:"single_hash"`
	Cases      []flaskHashCase `json:"cases"`
	name       string
}

// TestFlaskSecurityVerifiesWrittenHashes has the real Flask-Security and
// passlib verify hashes the Manager wrote in every write scheme, with and
// without the pre-hash, and hashes it wrote when rehashing on login.
func TestFlaskSecurityVerifiesWrittenHashes(t *testing.T) {
	t.Parallel()
	py := pythonWithFlaskSecurity(t)
	const salt = "something_super_secret_change_in_production"
	settings := []struct {
		name string
		fc   Config
		py   any // SECURITY_PASSWORD_SINGLE_HASH as Flask-Security takes it
	}{
		{name: "default", fc: Config{PasswordSalt: salt}, py: nil},
		{name: "single hash false", fc: Config{PasswordSalt: salt}, py: false},
		{name: "single hash true", fc: Config{PasswordSalt: salt, PasswordSingleHash: true}, py: true},
		{name: "single hash list", fc: Config{PasswordSalt: salt, PasswordSingleHashSchemes: []string{"sha512_crypt", "bcrypt"}}, py: []string{"sha512_crypt", "bcrypt"}},
	}
	writes := []string{"pbkdf2_sha512", "pbkdf2_sha256", "bcrypt", "argon2", "sha512_crypt", "sha256_crypt", ""}
	passwords := []string{"test123", "pässwörd-🔑", strings.Repeat("long password ", 20)}
	var groups []flaskHashGroup
	for _, s := range settings {
		g := flaskHashGroup{Salt: salt, SingleHash: s.py, name: s.name}
		for _, w := range writes {
			fc := s.fc
			fc.PasswordHash = w
			fc.Argon2 = cheapArgon2
			// passlib's default rounds are checked in TestFlaskWritePasswordScheme.
			h := newTestHasher(t, fc, 5000)
			m := newHasherManager(t, nil, h)
			for _, pw := range passwords {
				if len(pw) > bcryptMaxBytes && h.write != passlibBcrypt {
					continue // long passwords matter to bcrypt only; they slow SHA-crypt down
				}
				enc, err := m.HashPassword(pw)
				if errors.Is(err, auth.ErrPasswordTooLong) && !h.prehashes(passlibBcrypt) {
					continue // an unhashed bcrypt password over 72 bytes is refused
				}
				if err != nil {
					t.Fatalf("%s, write %q: HashPassword: %v", s.name, w, err)
				}
				pre := h.prehashes(passlibScheme(enc))
				g.Cases = append(g.Cases,
					flaskHashCase{Hash: enc, Password: pw, want: true, wantPre: pre},
					flaskHashCase{Hash: enc, Password: pw + "x", want: false, wantPre: pre})
			}
		}
		groups = append(groups, g)
	}
	// Hashes the Manager wrote on login, replacing a Flask hash.
	rehash := flaskHashGroup{Salt: salt, name: "rehash on login"}
	for _, w := range []string{"pbkdf2_sha512", "bcrypt"} {
		store := auth.NewMemoryStore()
		m := newHasherManager(t, store, newTestHasher(t, Config{PasswordSalt: salt, PasswordHash: w}, 0))
		u := &auth.User{ID: "1", Email: "f@example.com", Active: true, Uniquifier: auth.NewUniquifier(),
			PasswordHash: "$2b$04$gFD4KzhQ9BDCF5gnljiqg.SMpsGU216qsHDlOwmDKc6MLyc1mMjAu"} // Flask-Security's, of test123
		if w == "bcrypt" {
			u.PasswordHash = "$pbkdf2-sha512$25000$OYdQak1J6R3j/N87J0QI4Q$opP619.EW5C6GnIiBCKt.d5gLvuQ25WEXxQGa9zvwSFK9jUaTfDvz0CzQ20qPl8f4RRAaBqmwiy1qUkPIALjuQ"
		}
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		got, err := m.Login(context.Background(), u.Email, "test123", "")
		if err != nil {
			t.Fatalf("write %q: Login: %v", w, err)
		}
		if got.PasswordHash == u.PasswordHash {
			t.Fatalf("write %q: Login kept the hash", w)
		}
		rehash.Cases = append(rehash.Cases,
			flaskHashCase{Hash: got.PasswordHash, Password: "test123", want: true, wantPre: true},
			flaskHashCase{Hash: got.PasswordHash, Password: "test124", want: false, wantPre: true})
	}
	groups = append(groups, rehash)

	var res struct {
		Groups [][]struct {
			OK         bool   `json:"ok"`
			Scheme     string `json:"scheme"`
			DoubleHash bool   `json:"double_hash"`
		} `json:"groups"`
	}
	runFlaskScript(t, py, groups, &res, "verify_hash.py")
	if len(res.Groups) != len(groups) {
		t.Fatalf("%d result groups for %d groups", len(res.Groups), len(groups))
	}
	for i, g := range groups {
		if len(res.Groups[i]) != len(g.Cases) {
			t.Fatalf("%s: %d results for %d cases", g.name, len(res.Groups[i]), len(g.Cases))
		}
		for j, r := range res.Groups[i] {
			c := g.Cases[j]
			if r.OK != c.want {
				t.Errorf("%s: Flask-Security verify_password(%q, %s) = %v, want %v", g.name, c.Password, c.Hash, r.OK, c.want)
			}
			if r.DoubleHash != c.wantPre {
				t.Errorf("%s: %s: Flask-Security pre-hashes: %v, the Manager: %v", g.name, c.Hash, r.DoubleHash, c.wantPre)
			}
			if r.Scheme != passlibScheme(c.Hash) {
				t.Errorf("%s: %s: passlib identifies %q, the Manager %q", g.name, c.Hash, r.Scheme, passlibScheme(c.Hash))
			}
		}
	}
}

// BenchmarkFlaskCheckPassword measures checking a right password with the
// Flask-Security pre-hash against a pbkdf2_sha512 hash at passlib's
// default rounds; passhash's BenchmarkCheckPassword measures the formats.
func BenchmarkFlaskCheckPassword(b *testing.B) {
	m := newPasslibManager(b, &Config{PasswordSalt: "something_super_secret_change_in_production", PasswordHash: "pbkdf2_sha512"})
	h, err := m.HashPassword("test123")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.CheckPassword(h, "test123"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFlaskCheckPassword checks hashes and passwords with the
// Flask-Security pre-hash: never a panic, only the documented errors, and a
// hash that accepts a password refuses that password changed. passhash's
// FuzzCheckPassword fuzzes the formats without it. Inputs that would demand
// much work are skipped so that fuzzing stays fast.
func FuzzFlaskCheckPassword(f *testing.F) {
	f.Add("$pbkdf2-sha512$25000$OYdQak1J6R3j/N87J0QI4Q$opP619.EW5C6GnIiBCKt.d5gLvuQ25WEXxQGa9zvwSFK9jUaTfDvz0CzQ20qPl8f4RRAaBqmwiy1qUkPIALjuQ", "test123")
	f.Add("$2b$04$gFD4KzhQ9BDCF5gnljiqg.SMpsGU216qsHDlOwmDKc6MLyc1mMjAu", "test123")
	f.Add("$6$rounds=1000$LtF0oZdsZeIyfDbY$ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0", "test123")
	hashers := []*Hasher{
		newTestHasher(f, Config{PasswordSalt: "something_super_secret_change_in_production"}, 0),
		newTestHasher(f, Config{PasswordSalt: "something_super_secret_change_in_production", PasswordSingleHashSchemes: []string{"sha512_crypt"}, PasswordHash: "pbkdf2_sha512"}, 0),
	}
	var managers []*auth.Manager
	for _, h := range hashers {
		managers = append(managers, newHasherManager(f, nil, h))
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		if len(hash) > 1024 || len(password) > 256 || costlyHash(hash) {
			t.Skip()
		}
		for i, m := range managers {
			err := m.CheckPassword(hash, password)
			if err != nil && err != auth.ErrPasswordMismatch && !errors.Is(err, auth.ErrUnsupportedHash) {
				t.Fatalf("CheckPassword = %v", err)
			}
			if err == nil {
				if err := m.CheckPassword(hash, password+"\x01"); err != auth.ErrPasswordMismatch {
					t.Fatalf("hash accepts the password and the password changed: %v", err)
				}
			}
			if _, herr := hashers[i].Verify(hash, password); (herr == nil) != (err == nil) {
				t.Fatalf("Hasher.Verify = %v, CheckPassword = %v", herr, err)
			}
			_ = hashers[i].writer.NeedsRehash(hash)
		}
	})
}

// TestHasherMatchesFlaskDefaults checks that the Hasher writes the hashes
// Flask-Security 5.1.2 writes with its default settings, and keeps the ones
// it writes: neither side rewrites the other's fresh hash on login.
func TestHasherMatchesFlaskDefaults(t *testing.T) {
	t.Parallel()
	const salt = "salt"
	// Written by Flask-Security 5.1.2 (passlib 1.7.4, argon2-cffi 21.1)
	// with SECURITY_PASSWORD_HASH = "argon2" and its default options.
	const flaskArgon2Hash = "$argon2id$v=19$m=102400,t=10,p=8$iDFG6B2D0FprDeG8lzIGwA$qm0M/IzOzpu0sinJA5A1vg"
	const flaskBcryptHash = "$2b$12$gFD4KzhQ9BDCF5gnljiqg.SMpsGU216qsHDlOwmDKc6MLyc1mMjAu"
	const flaskPBKDF2Hash = "$pbkdf2-sha512$25000$OYdQak1J6R3j/N87J0QI4Q$opP619.EW5C6GnIiBCKt.d5gLvuQ25WEXxQGa9zvwSFK9jUaTfDvz0CzQ20qPl8f4RRAaBqmwiy1qUkPIALjuQ"
	for _, tt := range []struct {
		write, hash string
		rehash      bool
	}{
		{write: "argon2", hash: flaskArgon2Hash},
		{write: "bcrypt", hash: flaskBcryptHash},
		{write: "", hash: flaskBcryptHash},
		{write: "", hash: flaskPBKDF2Hash}, // the application may write pbkdf2
		{write: "", hash: flaskArgon2Hash}, // or argon2
		{write: "bcrypt", hash: flaskPBKDF2Hash, rehash: true},
		{write: "pbkdf2_sha512", hash: flaskBcryptHash, rehash: true},
	} {
		h, err := NewHasher(Config{PasswordSalt: salt, PasswordHash: tt.write})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.needsRehash(tt.hash); got != tt.rehash {
			t.Errorf("write %q: needsRehash(%.30s…) = %v, want %v", tt.write, tt.hash, got, tt.rehash)
		}
	}
	h, err := NewHasher(Config{PasswordSalt: salt, PasswordHash: "argon2"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=102400,t=10,p=8$"; !strings.HasPrefix(enc, want) || len(enc) != len(flaskArgon2Hash) {
		t.Errorf("argon2 hash %q, want %q…, as long as %q", enc, want, flaskArgon2Hash)
	}
	if h.needsRehash(enc) {
		t.Errorf("needsRehash(own hash %q) = true", enc)
	}
}
