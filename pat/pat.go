package pat

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
)

// DefaultPrefix is the prefix of the tokens package auth issues unless
// configured otherwise.
const DefaultPrefix = "akpat_"

// The lengths of a token's parts after the prefix.
const (
	RandomLen   = 30
	ChecksumLen = 6
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors of [Check] and [New].
var (
	// ErrMalformed: the string is not a token of the prefix: wrong length,
	// another prefix, or a character outside base62.
	ErrMalformed = errors.New("pat: not a personal access token")
	// ErrChecksum: the string has a token's shape but its checksum does
	// not match, as for a mistyped or made-up token.
	ErrChecksum = errors.New("pat: personal access token checksum does not match")
	// ErrPrefix: the prefix is not 2 to 16 lowercase letters, digits and
	// underscores ending with an underscore.
	ErrPrefix = errors.New("pat: bad prefix")
)

// ValidPrefix reports whether prefix can start tokens: 2 to 16 bytes of
// lowercase ASCII letters, digits and underscores, ending with an
// underscore, so that the token's end is unambiguous.
func ValidPrefix(prefix string) bool {
	if len(prefix) < 2 || len(prefix) > 16 || prefix[len(prefix)-1] != '_' {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// New returns a new random token with the given prefix.
func New(prefix string) (string, error) {
	if !ValidPrefix(prefix) {
		return "", fmt.Errorf("%w %q", ErrPrefix, prefix)
	}
	buf := make([]byte, len(prefix), len(prefix)+RandomLen+ChecksumLen)
	copy(buf, prefix)
	var random [64]byte
	for len(buf) < len(prefix)+RandomLen {
		_, _ = rand.Read(random[:]) // crypto/rand.Read never fails
		for _, b := range random {
			// 248 is the largest multiple of 62 below 256: rejecting the
			// bytes above it keeps every character equally likely.
			if b < 248 && len(buf) < len(prefix)+RandomLen {
				buf = append(buf, alphabet[b%62])
			}
		}
	}
	return string(appendChecksum(buf, crc32.ChecksumIEEE(buf))), nil
}

// Check reports whether token is a well-formed token with the given
// prefix and a matching checksum: nil, or an error matching
// [ErrMalformed] or [ErrChecksum]. It says nothing about whether any
// server issued the token.
func Check(prefix, token string) error {
	if len(token) != len(prefix)+RandomLen+ChecksumLen || token[:len(prefix)] != prefix || !ValidPrefix(prefix) {
		return ErrMalformed
	}
	body := token[len(prefix):]
	for i := 0; i < len(body); i++ {
		if !isBase62(body[i]) {
			return ErrMalformed
		}
	}
	var want [ChecksumLen]byte
	appendChecksum(want[:0], crcString(token[:len(token)-ChecksumLen]))
	if string(want[:]) != token[len(token)-ChecksumLen:] {
		return ErrChecksum
	}
	return nil
}

// Hash returns the SHA-256 of token, the form a server stores and looks
// tokens up by.
func Hash(token string) [sha256.Size]byte {
	var buf [64]byte // on the stack: a token's bytes without an allocation
	if len(token) <= len(buf) {
		n := copy(buf[:], token)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(token))
}

// crcString is crc32.ChecksumIEEE of s, without converting s to a byte
// slice (which would allocate: the crc32 package's fast paths take it
// through a function value).
func crcString(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8 // #nosec G115 -- the low byte, as the CRC update takes it
	}
	return ^crc
}

// appendChecksum appends sum in base62, most significant digit first,
// padded with zeros to ChecksumLen digits (62^6 > 2^32).
func appendChecksum(dst []byte, sum uint32) []byte {
	var digits [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		digits[i] = alphabet[sum%62]
		sum /= 62
	}
	return append(dst, digits[:]...)
}

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
