package flask

import (
	"crypto/md5" // #nosec G501 -- passlib's hex_md5, which SECURITY_HASHING_SCHEMES lists by default; see dataHasher
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/authkit/auth/passhash"
)

// passlibHexMD5 is passlib's hex_md5: the MD5 digest in hexadecimal.
const passlibHexMD5 = "hex_md5"

// hashingSchemes are the values Config.HashingSchemes takes: the passlib
// schemes of SECURITY_HASHING_SCHEMES that are read and written here.
// (bcrypt is not: passlib truncates the data it hashes to 72 bytes,
// which passhash refuses to do, and a password hash is longer.)
var hashingSchemes = []string{
	passlibSHA256Crypt, passlibSHA512Crypt, passlibPBKDF2SHA512, passlibPBKDF2SHA256, string(passhash.PBKDF2SHA1), passlibHexMD5,
}

// defaultHashingSchemes is Flask-Security's SECURITY_HASHING_SCHEMES.
var defaultHashingSchemes = []string{passlibSHA256Crypt, passlibHexMD5}

// dataHasher hashes, and checks hashes of, what a link token binds to
// the user's state (the email, the password hash), as Flask-Security's
// hash_data and verify_hash do with the passlib CryptContext of
// SECURITY_HASHING_SCHEMES. The hashes travel inside signed tokens: the
// signature keeps them from being forged, so even hex_md5 binds the
// state, and the email the payload reveals anyway.
type dataHasher struct {
	write  string          // passlib scheme of new hashes
	writer passhash.Hasher // writes it unless it is hex_md5; Rounds 0 for passlib's defaults
	reads  map[string]bool // passlib schemes whose hashes are checked
}

// newDataHasher returns the dataHasher of SECURITY_HASHING_SCHEMES,
// schemes, or of the default when it is empty. New hashes are in the
// first scheme other than hex_md5, which Flask-Security's
// SECURITY_DEPRECATED_HASHING_SCHEMES deprecates (passlib writes the
// first scheme not deprecated), or in hex_md5 if it is the only one.
func newDataHasher(schemes []string) (dataHasher, error) {
	if len(schemes) == 0 {
		schemes = defaultHashingSchemes
	}
	h := dataHasher{reads: map[string]bool{}}
	for _, s := range schemes {
		if !slices.Contains(hashingSchemes, s) {
			return dataHasher{}, fmt.Errorf("flask: Config.HashingSchemes: %q is not one of %s", s, strings.Join(hashingSchemes, ", "))
		}
		h.reads[s] = true
		if h.write == "" || h.write == passlibHexMD5 {
			h.write = s
		}
	}
	if h.write != passlibHexMD5 {
		h.writer = passhash.Hasher{Scheme: passhash.Scheme(h.write)}
		if err := h.writer.Validate(); err != nil {
			return dataHasher{}, fmt.Errorf("flask: %w", err)
		}
	}
	return h, nil
}

// hash returns a new hash of data, as hash_data does.
func (h dataHasher) hash(data string) (string, error) {
	if h.write == passlibHexMD5 {
		return hexMD5(data), nil
	}
	return h.writer.Hash(data)
}

// verify reports whether hashed is a hash of data in one of the schemes
// read, as verify_hash does (where a hash of no such scheme raises).
func (h dataHasher) verify(hashed, data string) bool {
	scheme := passlibScheme(hashed)
	if scheme == "" && isHexMD5(hashed) {
		scheme = passlibHexMD5
	}
	switch {
	case !h.reads[scheme]:
		return false
	case scheme == passlibHexMD5:
		return subtle.ConstantTimeCompare([]byte(strings.ToLower(hashed)), []byte(hexMD5(data))) == 1
	}
	return passhash.Verify(hashed, data) == nil
}

// hexMD5 is passlib's hex_md5 hash of data: its MD5 digest in lowercase
// hexadecimal.
func hexMD5(data string) string {
	sum := md5.Sum([]byte(data)) // #nosec G401 -- hex_md5 is a scheme of the application's; see dataHasher
	return hex.EncodeToString(sum[:])
}

// isHexMD5 reports whether s has the form of a hex_md5 hash, 32
// hexadecimal digits in either case, as passlib identifies one.
func isHexMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
