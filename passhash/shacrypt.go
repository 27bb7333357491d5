package passhash

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt, the "$6$" (SHA-512) and "$5$" (SHA-256) hashes of glibc's
// crypt(3) and passlib's sha512_crypt and sha256_crypt, implemented from
// Ulrich Drepper's public specification "Unix crypt using SHA-256 and
// SHA-512":
//
//	$6$[rounds=<n>$]<salt>$<checksum>
//
// with a salt of up to 16 characters, rounds 5000 when not given, and the
// checksum in crypt's base-64 alphabet with a scheme-specific byte order.

// Bounds of a stored SHA-crypt hash: the specification's minimum, and a
// maximum far below its 999,999,999 that bounds the work a hash can demand.
const (
	minSHACryptRounds     = 1000
	maxSHACryptRounds     = 10_000_000
	defaultSHACryptRounds = 5000 // when the hash gives none
	maxSHACryptSalt       = 16
)

// shaCryptScheme is one of the two SHA-crypt variants.
type shaCryptScheme struct {
	scheme        Scheme
	ident         string // "$6$" or "$5$"
	newHash       func() hash.Hash
	order         []byte // digest bytes in the order they are encoded, three at a time
	defaultRounds int    // what passlib 1.7.4 writes
}

var (
	sha512Crypt = shaCryptScheme{
		scheme: SHA512Crypt, ident: "$6$", newHash: sha512.New, defaultRounds: 656000,
		order: []byte{
			0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48,
			28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13,
			56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41,
			63, // last group: one byte, two characters
		},
	}
	sha256Crypt = shaCryptScheme{
		scheme: SHA256Crypt, ident: "$5$", newHash: sha256.New, defaultRounds: 535000,
		order: []byte{
			0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
			15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
			31, 30, // last group: two bytes, three characters
		},
	}
)

func shaCryptSchemeOf(s Scheme) (shaCryptScheme, bool) {
	switch s {
	case SHA512Crypt:
		return sha512Crypt, true
	case SHA256Crypt:
		return sha256Crypt, true
	}
	return shaCryptScheme{}, false
}

// checksumLen is the length of the encoded checksum: 86 or 43.
func (s shaCryptScheme) checksumLen() int {
	n := s.newHash().Size()
	return (n*8 + 5) / 6
}

// parse splits a hash into rounds, salt and encoded checksum.
func (s shaCryptScheme) parse(encoded string) (rounds int, salt, sum string, err error) {
	rest := strings.TrimPrefix(encoded, s.ident)
	rounds = defaultSHACryptRounds
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		n, after, found := strings.Cut(r, "$")
		if !found {
			return 0, "", "", malformed(encoded, "rounds")
		}
		if rounds, err = parseRounds(n, minSHACryptRounds, maxSHACryptRounds); err != nil {
			return 0, "", "", malformed(encoded, err.Error())
		}
		rest = after
	}
	salt, sum, found := strings.Cut(rest, "$")
	if !found || len(salt) > maxSHACryptSalt || !allHash64(salt) {
		return 0, "", "", malformed(encoded, "salt")
	}
	if len(sum) != s.checksumLen() || !allHash64(sum) {
		return 0, "", "", malformed(encoded, "checksum")
	}
	return rounds, salt, sum, nil
}

// verify compares password with a SHA-crypt hash in constant time.
func (s shaCryptScheme) verify(encoded, password string) error {
	rounds, salt, sum, err := s.parse(encoded)
	if err != nil {
		return err
	}
	if strings.IndexByte(password, 0) >= 0 {
		// crypt(3) stops at a NUL and passlib refuses one: no stored
		// hash can be of such a password.
		return ErrMismatch
	}
	got := s.encode(s.sum([]byte(password), []byte(salt), rounds))
	if subtle.ConstantTimeCompare(got, []byte(sum)) != 1 {
		return ErrMismatch
	}
	return nil
}

// hash writes password with a fresh 16-character salt, as passlib does;
// rounds 5000 is left implicit.
func (s shaCryptScheme) hash(password string, rounds int) (string, error) {
	if strings.IndexByte(password, 0) >= 0 {
		return "", fmt.Errorf("passhash: %s cannot hash a password holding a NUL byte", s.scheme)
	}
	var raw [maxSHACryptSalt]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	salt := make([]byte, maxSHACryptSalt)
	for i, b := range raw {
		salt[i] = hash64Alphabet[b&63]
	}
	var b strings.Builder
	b.WriteString(s.ident)
	if rounds != defaultSHACryptRounds {
		b.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	b.Write(salt)
	b.WriteByte('$')
	b.Write(s.encode(s.sum([]byte(password), salt, rounds)))
	return b.String(), nil
}

// sum computes the raw SHA-crypt digest, following the numbered steps of
// the specification.
func (s shaCryptScheme) sum(pw, salt []byte, rounds int) []byte {
	h := s.newHash()
	size := h.Size()

	// Digest B = H(password, salt, password).
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)

	// Digest A = H(password, salt, B repeated to the password's length,
	// then for each bit of the length from the lowest: B if 1, password if 0).
	h.Reset()
	h.Write(pw)
	h.Write(salt)
	for n := len(pw); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)

	// Sequence P: H(password repeated len(password) times), repeated to
	// the password's length.
	h.Reset()
	for range len(pw) {
		h.Write(pw)
	}
	dp := h.Sum(nil)
	p := make([]byte, len(pw))
	for i := range p {
		p[i] = dp[i%size]
	}

	// Sequence S: H(salt repeated 16+A[0] times), cut to the salt's length.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	sq := h.Sum(nil)[:len(salt)]

	// The rounds.
	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sq)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}
	return c
}

// encode writes the digest in crypt's base 64: three bytes at a time in
// the scheme's order, each group as a little-endian 24-bit number, six
// bits per character; the short last group gives fewer characters.
func (s shaCryptScheme) encode(d []byte) []byte {
	out := make([]byte, 0, s.checksumLen())
	emit := func(w uint32, n int) {
		for range n {
			out = append(out, hash64Alphabet[w&63])
			w >>= 6
		}
	}
	full := len(s.order) / 3 * 3
	for i := 0; i < full; i += 3 {
		emit(uint32(d[s.order[i]])<<16|uint32(d[s.order[i+1]])<<8|uint32(d[s.order[i+2]]), 4)
	}
	switch tail := s.order[full:]; len(tail) {
	case 1:
		emit(uint32(d[tail[0]]), 2)
	case 2:
		emit(uint32(d[tail[0]])<<8|uint32(d[tail[1]]), 3)
	}
	return out
}
