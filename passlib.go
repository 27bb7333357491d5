package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- passlib pbkdf2_sha1 hashes must still be verified to be upgraded on login
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Password hashes in the forms Python's passlib writes, which is what
// Flask-Security stores: "$pbkdf2-sha512$…" and its SHA-256 and SHA-1
// siblings here, SHA-crypt ("$6$…", "$5$…") in shacrypt.go. bcrypt and
// argon2id hashes are read by password.go; passlib writes them in the
// standard forms.

// The passlib names of the schemes this package reads, as used in
// Flask-Security's SECURITY_PASSWORD_HASH and SECURITY_PASSWORD_SINGLE_HASH.
const (
	passlibBcrypt       = "bcrypt"
	passlibArgon2       = "argon2"
	passlibPBKDF2SHA512 = "pbkdf2_sha512" // #nosec G101 -- a hash scheme name, not a credential
	passlibPBKDF2SHA256 = "pbkdf2_sha256" // #nosec G101 -- a hash scheme name, not a credential
	passlibPBKDF2SHA1   = "pbkdf2_sha1"   // #nosec G101 -- a hash scheme name, not a credential
	passlibSHA512Crypt  = "sha512_crypt"
	passlibSHA256Crypt  = "sha256_crypt"
)

// Bounds on what a stored hash may demand, so that a hostile or corrupt
// hash cannot tie up a CPU: about ten seconds of work at most.
const (
	maxPBKDF2Rounds    = 10_000_000
	maxPBKDF2SaltBytes = 1024 // passlib's own limit
)

// pbkdf2Scheme is one of passlib's "$pbkdf2…$rounds$salt$checksum" hashes.
type pbkdf2Scheme struct {
	name          string // passlib name
	ident         string // prefix, with both dollars
	newHash       func() hash.Hash
	size          int // checksum bytes
	defaultRounds int // passlib 1.7.4's default
}

var pbkdf2Schemes = [...]pbkdf2Scheme{
	{name: passlibPBKDF2SHA512, ident: "$pbkdf2-sha512$", newHash: sha512.New, size: 64, defaultRounds: 25000},
	{name: passlibPBKDF2SHA256, ident: "$pbkdf2-sha256$", newHash: sha256.New, size: 32, defaultRounds: 29000},
	{name: passlibPBKDF2SHA1, ident: "$pbkdf2$", newHash: sha1.New, size: 20, defaultRounds: 131000},
}

func pbkdf2SchemeNamed(name string) (pbkdf2Scheme, bool) {
	for _, s := range pbkdf2Schemes {
		if s.name == name {
			return s, true
		}
	}
	return pbkdf2Scheme{}, false
}

// passlibScheme returns the passlib name of the scheme of encoded, as
// passlib's CryptContext.identify would, or "" for a hash this package
// does not read.
func passlibScheme(encoded string) string {
	switch {
	case isBcrypt(encoded):
		return passlibBcrypt
	case strings.HasPrefix(encoded, "$argon2id$"):
		return passlibArgon2
	case strings.HasPrefix(encoded, sha512Crypt.ident):
		return passlibSHA512Crypt
	case strings.HasPrefix(encoded, sha256Crypt.ident):
		return passlibSHA256Crypt
	}
	for _, s := range pbkdf2Schemes {
		if strings.HasPrefix(encoded, s.ident) {
			return s.name
		}
	}
	return ""
}

// checkPasslib checks password against a pbkdf2 or SHA-crypt hash, and
// reports any other hash as unsupported.
func checkPasslib(encoded, password string) error {
	name := passlibScheme(encoded)
	if s, ok := pbkdf2SchemeNamed(name); ok {
		rounds, salt, sum, err := parsePBKDF2(s, encoded)
		if err != nil {
			return err
		}
		got, err := pbkdf2.Key(s.newHash, password, salt, rounds, s.size)
		if err != nil || subtle.ConstantTimeCompare(got, sum) != 1 {
			return ErrPasswordMismatch
		}
		return nil
	}
	if s, ok := shaCryptSchemeNamed(name); ok {
		return s.check(encoded, password)
	}
	return fmt.Errorf("%w: scheme %q", ErrUnsupportedHash, hashScheme(encoded))
}

// malformedHash is the error for a hash of a known scheme that cannot be
// parsed. It names the scheme and what is wrong, never the hash itself.
func malformedHash(encoded, what string) error {
	return fmt.Errorf("%w: scheme %q: malformed hash (%s)", ErrUnsupportedHash, hashScheme(encoded), what)
}

// parsePBKDF2 parses "$pbkdf2-sha512$<rounds>$<salt>$<checksum>".
func parsePBKDF2(s pbkdf2Scheme, encoded string) (rounds int, salt, sum []byte, err error) {
	parts := strings.Split(strings.TrimPrefix(encoded, s.ident), "$")
	if len(parts) != 3 {
		return 0, nil, nil, malformedHash(encoded, "want rounds$salt$checksum")
	}
	if rounds, err = parseRounds(parts[0], 1, maxPBKDF2Rounds); err != nil {
		return 0, nil, nil, malformedHash(encoded, err.Error())
	}
	if salt, err = ab64Decode(parts[1]); err != nil || len(salt) > maxPBKDF2SaltBytes {
		return 0, nil, nil, malformedHash(encoded, "salt")
	}
	if sum, err = ab64Decode(parts[2]); err != nil || len(sum) != s.size {
		return 0, nil, nil, malformedHash(encoded, "checksum")
	}
	return rounds, salt, sum, nil
}

// hashPBKDF2 writes password as passlib does: a 16-byte salt and the
// scheme's full-size checksum.
func hashPBKDF2(s pbkdf2Scheme, password string, rounds int) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum, err := pbkdf2.Key(s.newHash, password, salt, rounds, s.size)
	if err != nil {
		return "", fmt.Errorf("auth: pbkdf2: %w", err)
	}
	return s.ident + strconv.Itoa(rounds) + "$" + ab64Encode(salt) + "$" + ab64Encode(sum), nil
}

// parseRounds parses a decimal rounds count in [lo, hi] as passlib
// writes it: digits only, no sign, no leading zero.
func parseRounds(s string, lo, hi int) (int, error) {
	if s == "" || len(s) > 10 || (s[0] == '0' && s != "0") {
		return 0, fmt.Errorf("rounds")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("rounds")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("rounds out of range %d..%d", lo, hi)
	}
	return n, nil
}

// ab64Decode decodes passlib's "adapted base64": the standard alphabet
// with '.' for '+', without padding.
func ab64Decode(s string) ([]byte, error) {
	for _, c := range []byte(s) {
		if !isHash64Char(c) {
			return nil, fmt.Errorf("character outside ./0-9A-Za-z")
		}
	}
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

// ab64Encode is the inverse of ab64Decode.
func ab64Encode(b []byte) string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
}

// isHash64Char reports whether c is in the alphabet "./0-9A-Za-z" of
// crypt(3) and passlib's encodings.
func isHash64Char(c byte) bool {
	return c == '.' || c == '/' || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}
