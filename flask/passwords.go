package flask

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/authkit/auth/passhash"
)

// The passlib names Flask-Security uses in SECURITY_PASSWORD_HASH and
// SECURITY_PASSWORD_SINGLE_HASH for the schemes passhash reads. They are
// passhash's names, except that passlib calls argon2id "argon2".
const (
	passlibBcrypt       = string(passhash.Bcrypt)
	passlibArgon2       = "argon2"
	passlibPBKDF2SHA512 = string(passhash.PBKDF2SHA512)
	passlibPBKDF2SHA256 = string(passhash.PBKDF2SHA256)
	passlibSHA512Crypt  = string(passhash.SHA512Crypt)
	passlibSHA256Crypt  = string(passhash.SHA256Crypt)
)

// writeSchemes are the values Config.PasswordHash takes.
var writeSchemes = []string{
	passlibBcrypt, passlibArgon2, passlibPBKDF2SHA512, passlibPBKDF2SHA256, passlibSHA512Crypt, passlibSHA256Crypt,
}

// bcryptMaxBytes is the number of password bytes bcrypt reads.
const bcryptMaxBytes = 72

// passlibScheme returns the passlib name of the scheme of encoded, as
// passlib's CryptContext.identify would, or "" for a hash passhash does
// not read.
func passlibScheme(encoded string) string {
	s := passhash.Identify(encoded)
	if s == passhash.Argon2id {
		return passlibArgon2
	}
	return string(s)
}

// passhashScheme is the passhash scheme of a passlib name.
func passhashScheme(passlib string) passhash.Scheme {
	if passlib == passlibArgon2 {
		return passhash.Argon2id
	}
	return passhash.Scheme(passlib)
}

// Hasher makes and checks password hashes by a Flask-Security
// application's rules. It is an [auth.PasswordHasher]: give it to
// auth.PasswordConfig.Hasher. It is safe for concurrent use.
type Hasher struct {
	salt      []byte              // SECURITY_PASSWORD_SALT
	singleAll bool                // SECURITY_PASSWORD_SINGLE_HASH = True
	single    map[string]bool     // passlib schemes exempt from the pre-hash
	normalize func(string) string // SECURITY_PASSWORD_NORMALIZE_FORM; nil: none
	write     string              // passlib scheme written
	explicit  bool                // Config.PasswordHash was given
	writer    passhash.Hasher     // writes the write scheme; Rounds 0 for passlib's defaults
}

// NewHasher returns the Hasher of the application whose settings c holds.
// c.PasswordSalt is required unless c.PasswordSingleHash is set.
func NewHasher(c Config) (*Hasher, error) {
	if c.PasswordSalt == "" && !c.PasswordSingleHash {
		return nil, errors.New("flask: Config.PasswordSalt (SECURITY_PASSWORD_SALT) is required unless PasswordSingleHash is set")
	}
	h := &Hasher{
		salt:      []byte(c.PasswordSalt),
		singleAll: c.PasswordSingleHash,
		single:    map[string]bool{},
		write:     c.PasswordHash,
		explicit:  c.PasswordHash != "",
	}
	if h.write == "" {
		h.write = passlibBcrypt
	}
	for _, s := range c.PasswordSingleHashSchemes {
		if s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, fmt.Errorf("flask: Config.PasswordSingleHashSchemes: %q is not a passlib scheme name (like sha512_crypt)", s)
		}
		h.single[s] = true
	}
	var err error
	if h.normalize, err = normalizer(c.PasswordNormalizeForm); err != nil {
		return nil, err
	}
	if !slices.Contains(writeSchemes, h.write) {
		return nil, fmt.Errorf("flask: Config.PasswordHash %q is not one of %s", h.write, strings.Join(writeSchemes, ", "))
	}
	h.writer = passhash.Hasher{Scheme: passhashScheme(h.write), BcryptCost: c.BcryptCost, Argon2: flaskArgon2(c.Argon2)}
	if err := h.writer.Validate(); err != nil {
		return nil, fmt.Errorf("flask: %w", err)
	}
	return h, nil
}

// flaskArgon2Defaults are the parameters of the argon2 hashes Flask-Security 5.1.2
// writes by default: t=10 (its SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS'
// argon2__rounds), and passlib 1.7.4's other defaults, which it takes
// from argon2-cffi 21.1: m=102400 KiB, p=8, 16-byte salt and 16-byte key.
// passlib rehashes an argon2 hash whose memory or key length differs from
// its own, so these must match for the application to keep the hashes
// the Manager writes.
var flaskArgon2Defaults = passhash.Argon2Params{Time: 10, MemoryKiB: 102400, Threads: 8, SaltLen: 16, KeyLen: 16}

// flaskArgon2 fills the zero fields of p with flaskArgon2Defaults's.
func flaskArgon2(p passhash.Argon2Params) passhash.Argon2Params {
	d := flaskArgon2Defaults
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// prehashes reports whether passwords for the passlib scheme are
// pre-hashed, as Flask-Security's use_double_hash decides.
func (h *Hasher) prehashes(scheme string) bool {
	return !h.singleAll && !h.single[scheme]
}

// prehash is Flask-Security's get_hmac.
func (h *Hasher) prehash(password string) string {
	mac := hmac.New(sha512.New, h.salt)
	mac.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// normalizer returns the normalization Config.PasswordNormalizeForm names,
// nil for "none".
func normalizer(form string) (func(string) string, error) {
	switch form {
	case "", "NFKD":
		return norm.NFKD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFC":
		return norm.NFC.String, nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("flask: Config.PasswordNormalizeForm %q is not one of NFKD, NFKC, NFD, NFC, none", form)
}

// prepare returns the string a hash of the passlib scheme is made or
// checked with: the password, normalized, or its pre-hash, cut to the 72
// bytes bcrypt reads (the cut loses nothing: the pre-hash covers the whole
// password).
func (h *Hasher) prepare(scheme, password string) string {
	if h.normalize != nil {
		password = h.normalize(password)
	}
	if scheme == "" || !h.prehashes(scheme) {
		return password
	}
	p := h.prehash(password)
	if scheme == passlibBcrypt {
		p = p[:bcryptMaxBytes]
	}
	return p
}

// Hash implements [auth.PasswordHasher]: it writes password as the
// application would, pre-hashed unless exempt, in the form passlib writes
// for Config.PasswordHash.
func (h *Hasher) Hash(password string) (string, error) {
	enc, err := h.writer.Hash(h.prepare(h.write, password))
	if err != nil {
		return "", err
	}
	if h.write == passlibBcrypt {
		// passlib writes 2b; the algorithms agree below 256 bytes.
		enc = "$2b$" + strings.TrimPrefix(enc, "$2a$")
	}
	return enc, nil
}

// Verify implements [auth.PasswordHasher]: it checks password against a
// hash of any scheme passhash reads, pre-hashed unless the scheme is
// exempt, and reports a hash in another scheme than Config.PasswordHash,
// or weaker than what it writes, as needing a rehash.
func (h *Hasher) Verify(encoded, password string) (needsRehash bool, err error) {
	if err := passhash.Verify(encoded, h.prepare(passlibScheme(encoded), password)); err != nil {
		return false, err
	}
	return h.needsRehash(encoded), nil
}

// needsRehash reports whether a hash that verified should be rewritten.
// Flask-Security 5.1.2's CryptContext, with its default
// SECURITY_DEPRECATED_PASSWORD_SCHEMES ["auto"], rewrites on login every
// hash not in SECURITY_PASSWORD_HASH's scheme, and none in it (passlib sets
// no minimum rounds). So: a hash in the scheme written is rewritten only
// if weaker than what the Hasher writes; a hash in another scheme is
// rewritten only when Config.PasswordHash was given. Without it the Hasher
// cannot know the application's scheme: rewriting the application's own
// hashes into bcrypt would have the application rewrite them back on its
// next login, and so on at every login.
func (h *Hasher) needsRehash(encoded string) bool {
	if passlibScheme(encoded) != h.write && !h.explicit {
		return false
	}
	return h.writer.NeedsRehash(encoded)
}
