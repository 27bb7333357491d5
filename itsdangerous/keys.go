package itsdangerous

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- itsdangerous and Flask-Security sign with HMAC-SHA1, which remains sound as a MAC
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"
)

// Digest names the hash function a [Serializer] uses for key derivation and
// for the HMAC: itsdangerous' Signer.digest_method.
type Digest string

// The digests itsdangerous offers.
const (
	SHA1   Digest = "sha1" // hashlib.sha1, itsdangerous' default and what Flask-Security uses
	SHA256 Digest = "sha256"
	SHA512 Digest = "sha512"
)

// KeyDerivation names how a [Serializer] turns a secret and a salt into the
// HMAC key: itsdangerous' Signer.key_derivation.
type KeyDerivation string

// The key derivations itsdangerous offers.
const (
	DjangoConcat KeyDerivation = "django-concat" // digest(salt + "signer" + secret); itsdangerous' default
	Concat       KeyDerivation = "concat"        // digest(salt + secret)
	HMAC         KeyDerivation = "hmac"          // HMAC(secret, salt)
	None         KeyDerivation = "none"          // the secret itself
)

func digestFunc(d Digest) (func() hash.Hash, error) {
	switch d {
	case SHA1, "":
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("itsdangerous: unknown digest %q (want sha1, sha256 or sha512)", string(d))
}

// deriveKey is itsdangerous' Signer.derive_key. The result never aliases
// secret.
func deriveKey(newHash func() hash.Hash, kd KeyDerivation, secret, salt []byte) ([]byte, error) {
	switch kd {
	case DjangoConcat, "":
		h := newHash()
		h.Write(salt)
		h.Write([]byte("signer"))
		h.Write(secret)
		return h.Sum(nil), nil
	case Concat:
		h := newHash()
		h.Write(salt)
		h.Write(secret)
		return h.Sum(nil), nil
	case HMAC:
		h := hmac.New(newHash, secret)
		h.Write(salt)
		return h.Sum(nil), nil
	case None:
		return bytes.Clone(secret), nil
	}
	return nil, fmt.Errorf("itsdangerous: unknown key derivation %q (want django-concat, concat, hmac or none)", string(kd))
}

// signer holds the pre-keyed HMAC states of one secret.
type signer struct {
	pool sync.Pool // of *macState
}

func newSigner(newHash func() hash.Hash, key []byte) *signer {
	sg := &signer{}
	sg.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	return sg
}

// macState is a keyed HMAC reused across tokens, with scratch space so that
// signing allocates only the token and verifying allocates nothing.
type macState struct {
	h     hash.Hash
	buf   []byte   // the signed bytes, copied so the string need not be converted
	sigIn []byte   // the encoded signature from the token, copied likewise
	sum   [64]byte // the computed MAC
	enc   [86]byte // the computed MAC, encoded as in a token (86 characters for SHA-512)
}

// mac computes the MAC of signed into st.sum and returns it.
func (st *macState) mac(signed string) []byte {
	st.buf = append(st.buf[:0], signed...)
	st.h.Reset()
	st.h.Write(st.buf)
	return st.h.Sum(st.sum[:0])
}
