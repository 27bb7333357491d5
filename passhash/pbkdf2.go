package passhash

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- passlib pbkdf2_sha1 hashes must still be verified to be upgraded
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Bounds on what a stored pbkdf2 hash may demand, so that a hostile or
// corrupt hash cannot tie up a CPU: about ten seconds of work at most.
const (
	maxPBKDF2Rounds    = 10_000_000
	maxPBKDF2SaltBytes = 1024 // passlib's own limit
	pbkdf2SaltBytes    = 16   // what passlib writes
)

// pbkdf2Scheme is one of passlib's "$pbkdf2…$rounds$salt$checksum" hashes.
type pbkdf2Scheme struct {
	scheme        Scheme
	ident         string // prefix, with both dollars
	newHash       func() hash.Hash
	size          int // checksum bytes
	defaultRounds int // passlib 1.7.4's default
}

var pbkdf2Schemes = [...]pbkdf2Scheme{
	{scheme: PBKDF2SHA512, ident: "$pbkdf2-sha512$", newHash: sha512.New, size: 64, defaultRounds: 25000},
	{scheme: PBKDF2SHA256, ident: "$pbkdf2-sha256$", newHash: sha256.New, size: 32, defaultRounds: 29000},
	{scheme: PBKDF2SHA1, ident: "$pbkdf2$", newHash: sha1.New, size: 20, defaultRounds: 131000},
}

func pbkdf2SchemeOf(s Scheme) (pbkdf2Scheme, bool) {
	for _, p := range pbkdf2Schemes {
		if p.scheme == s {
			return p, true
		}
	}
	return pbkdf2Scheme{}, false
}

// parse parses "$pbkdf2-sha512$<rounds>$<salt>$<checksum>".
func (s pbkdf2Scheme) parse(encoded string) (rounds int, salt, sum []byte, err error) {
	parts := strings.Split(strings.TrimPrefix(encoded, s.ident), "$")
	if len(parts) != 3 {
		return 0, nil, nil, malformed(encoded, "want rounds$salt$checksum")
	}
	if rounds, err = parseRounds(parts[0], 1, maxPBKDF2Rounds); err != nil {
		return 0, nil, nil, malformed(encoded, err.Error())
	}
	if salt, err = ab64Decode(parts[1]); err != nil || len(salt) > maxPBKDF2SaltBytes {
		return 0, nil, nil, malformed(encoded, "salt")
	}
	if sum, err = ab64Decode(parts[2]); err != nil || len(sum) != s.size {
		return 0, nil, nil, malformed(encoded, "checksum")
	}
	return rounds, salt, sum, nil
}

// verify compares password with a pbkdf2 hash in constant time.
func (s pbkdf2Scheme) verify(encoded, password string) error {
	rounds, salt, sum, err := s.parse(encoded)
	if err != nil {
		return err
	}
	got, err := pbkdf2.Key(s.newHash, password, salt, rounds, s.size)
	if err != nil || subtle.ConstantTimeCompare(got, sum) != 1 {
		return ErrMismatch
	}
	return nil
}

// hash writes password as passlib does: a 16-byte salt and the scheme's
// full-size checksum, both in adapted base 64.
func (s pbkdf2Scheme) hash(password string, rounds int) (string, error) {
	salt := make([]byte, pbkdf2SaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum, err := pbkdf2.Key(s.newHash, password, salt, rounds, s.size)
	if err != nil {
		return "", fmt.Errorf("passhash: %s: %w", s.scheme, err)
	}
	return s.ident + strconv.Itoa(rounds) + "$" + ab64Encode(salt) + "$" + ab64Encode(sum), nil
}
