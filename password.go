package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// PasswordScheme names the hash the Manager writes for new passwords. Any
// supported scheme is verified, whatever the configured one.
type PasswordScheme string

// The password schemes.
const (
	// Bcrypt hashes with bcrypt ("$2a$…"). It reads only the first 72 bytes
	// of a password, so the Manager refuses to hash longer ones rather than
	// truncate them silently, and never accepts a longer password for a
	// bcrypt hash it could only compare in part.
	Bcrypt PasswordScheme = "bcrypt"
	// Argon2id hashes with argon2id in the PHC string form
	// "$argon2id$v=19$m=…,t=…,p=…$salt$hash" (unpadded standard base64),
	// the form passlib and the reference implementation use. It has no
	// length limit below Config.MaxPasswordBytes.
	Argon2id PasswordScheme = "argon2id"
)

// DefaultBcryptCost is the bcrypt cost used when Config.BcryptCost is zero.
const DefaultBcryptCost = 12

// bcryptMaxBytes is the number of password bytes bcrypt reads.
const bcryptMaxBytes = 72

// Argon2Params are the argon2id parameters. Zero fields take the defaults
// given on each field, which follow RFC 9106's second recommendation
// scaled to two threads.
type Argon2Params struct {
	Time      uint32 // passes; default 3
	MemoryKiB uint32 // default 64 MiB (65536)
	Threads   uint8  // default 2
	KeyLen    uint32 // default 32
	SaltLen   uint32 // default 16
}

func (p Argon2Params) withDefaults() Argon2Params {
	if p.Time == 0 {
		p.Time = 3
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 64 << 10
	}
	if p.Threads == 0 {
		p.Threads = 2
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	return p
}

// hasher makes and checks password hashes.
type hasher struct {
	scheme     PasswordScheme
	bcryptCost int
	argon      Argon2Params
	flask      *flaskPasswords // Flask-Security's pre-hash and write scheme; nil if not configured
}

func newHasher(scheme PasswordScheme, bcryptCost int, argon Argon2Params) (hasher, error) {
	h := hasher{scheme: scheme, bcryptCost: bcryptCost, argon: argon.withDefaults()}
	if h.scheme == "" {
		h.scheme = Bcrypt
	}
	if h.bcryptCost == 0 {
		h.bcryptCost = DefaultBcryptCost
	}
	switch {
	case h.scheme != Bcrypt && h.scheme != Argon2id:
		return h, fmt.Errorf("auth: unknown password scheme %q (want bcrypt or argon2id)", string(h.scheme))
	case h.bcryptCost < bcrypt.MinCost || h.bcryptCost > bcrypt.MaxCost:
		return h, fmt.Errorf("auth: bcrypt cost %d outside %d..%d", h.bcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	case h.argon.SaltLen < 8 || h.argon.KeyLen < 16:
		return h, errors.New("auth: argon2id salt must be at least 8 bytes and key at least 16")
	}
	return h, nil
}

// hash returns a new self-describing hash of password.
func (h hasher) hash(password string) (string, error) {
	if h.flask != nil {
		return h.flaskHash(password)
	}
	switch h.scheme {
	case Argon2id:
		return h.hashArgon2id(password)
	default:
		if len(password) > bcryptMaxBytes {
			return "", fmt.Errorf("%w: bcrypt reads at most %d bytes", ErrPasswordTooLong, bcryptMaxBytes)
		}
		b, err := bcrypt.GenerateFromPassword([]byte(password), h.bcryptCost)
		if err != nil {
			return "", fmt.Errorf("auth: bcrypt: %w", err)
		}
		return string(b), nil
	}
}

func (h hasher) hashArgon2id(password string) (string, error) {
	p := h.argon
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// check reports whether password matches encoded: nil if it does,
// ErrPasswordMismatch if not, ErrUnsupportedHash (naming the scheme) if
// the hash is in a form this package does not read.
func (h hasher) check(encoded, password string) error {
	if h.flask != nil {
		password = h.flask.prepare(encoded, password)
	}
	switch {
	case isBcrypt(encoded):
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		if err == nil && len(password) > bcryptMaxBytes {
			// Only a prefix was compared; no hash this package made can
			// have come from so long a password.
			err = ErrPasswordMismatch
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, ErrPasswordMismatch):
			return ErrPasswordMismatch
		}
		return fmt.Errorf("%w: malformed bcrypt hash: %v", ErrUnsupportedHash, err)
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := parseArgon2id(encoded)
		if err != nil {
			return err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key))) // #nosec G115 -- len(key) is bounded by the parsed hash, far below 2^32
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return ErrPasswordMismatch
		}
		return nil
	}
	return checkPasslib(encoded, password)
}

// needsRehash reports whether encoded is in another scheme than the
// configured one, or weaker than the configured parameters.
func (h hasher) needsRehash(encoded string) bool {
	if h.flask != nil && h.flask.write != "" {
		return h.flaskNeedsRehash(encoded)
	}
	switch {
	case isBcrypt(encoded):
		cost, err := bcrypt.Cost([]byte(encoded))
		return h.scheme != Bcrypt || err != nil || cost < h.bcryptCost
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := parseArgon2id(encoded)
		return h.scheme != Argon2id || err != nil ||
			p.Time < h.argon.Time || p.MemoryKiB < h.argon.MemoryKiB || p.Threads < h.argon.Threads ||
			len(salt) < int(h.argon.SaltLen) || len(key) < int(h.argon.KeyLen)
	}
	return true
}

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$")
}

// hashScheme names the scheme of an encoded hash for error messages,
// without revealing any of the hash itself.
func hashScheme(encoded string) string {
	if !strings.HasPrefix(encoded, "$") {
		if encoded == "" {
			return "empty"
		}
		return "unknown (no $ prefix)"
	}
	name, _, _ := strings.Cut(encoded[1:], "$")
	if len(name) > 32 {
		name = name[:32]
	}
	return name
}

// parseArgon2id parses "$argon2id$v=19$m=65536,t=3,p=2$salt$key".
func parseArgon2id(encoded string) (Argon2Params, []byte, []byte, error) {
	bad := func(what string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: malformed argon2id hash (%s)", ErrUnsupportedHash, what)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return bad("want 6 $-separated fields")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version")
	}
	var p Argon2Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + k)
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad("parallelism")
			}
			p.Threads = uint8(n)
		default:
			return bad("parameter " + k)
		}
	}
	// Bound the work a stored hash can demand: 4 GiB, 100 passes.
	if p.Time == 0 || p.Time > 100 || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 4<<20 {
		return bad("parameters out of range")
	}
	dec := base64.RawStdEncoding
	salt, err := dec.DecodeString(strings.TrimRight(parts[4], "="))
	if err != nil || len(salt) == 0 {
		return bad("salt")
	}
	key, err := dec.DecodeString(strings.TrimRight(parts[5], "="))
	if err != nil || len(key) < 4 {
		return bad("hash")
	}
	return p, salt, key, nil
}
