package auth

import (
	"fmt"

	"github.com/authkit/auth/passhash"
)

// bcryptMaxBytes is the number of password bytes bcrypt reads.
const bcryptMaxBytes = 72

// hasher makes and checks password hashes: passhash's formats, with
// Flask-Security's rules on top when configured.
type hasher struct {
	ph    passhash.Hasher // the Manager's own scheme and parameters
	flask *flaskPasswords // Flask-Security's pre-hash and write scheme; nil if not configured
}

// newHasher checks the Config's password settings. The Manager writes only
// bcrypt or argon2id hashes of its own; passhash reads every scheme.
func newHasher(scheme passhash.Scheme, bcryptCost int, argon passhash.Argon2Params) (hasher, error) {
	if scheme == "" {
		scheme = passhash.Bcrypt
	}
	if scheme != passhash.Bcrypt && scheme != passhash.Argon2id {
		return hasher{}, fmt.Errorf("auth: unknown password scheme %q (want bcrypt or argon2id)", string(scheme))
	}
	h := hasher{ph: passhash.Hasher{Scheme: scheme, BcryptCost: bcryptCost, Argon2: argon}}
	if err := h.ph.Validate(); err != nil {
		return h, fmt.Errorf("auth: %w", err)
	}
	return h, nil
}

// hash returns a new self-describing hash of password.
func (h hasher) hash(password string) (string, error) {
	if h.flask != nil {
		return h.flaskHash(password)
	}
	return h.ph.Hash(password)
}

// check reports whether password matches encoded: nil if it does,
// ErrPasswordMismatch if not, ErrUnsupportedHash (naming the scheme) if
// the hash is in a form this package does not read.
func (h hasher) check(encoded, password string) error {
	if h.flask != nil {
		password = h.flask.prepare(encoded, password)
	}
	return passhash.Verify(encoded, password)
}

// needsRehash reports whether encoded is in another scheme than the
// configured one, or weaker than the configured parameters.
func (h hasher) needsRehash(encoded string) bool {
	if h.flask != nil && h.flask.write != "" {
		return h.flaskWriter().NeedsRehash(encoded)
	}
	return h.ph.NeedsRehash(encoded)
}
