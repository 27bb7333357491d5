package passhash

import (
	"fmt"
	"strings"
)

// Scheme names a password hash scheme by its passlib name.
type Scheme string

// The schemes. [Hasher] writes any of them and every one is verified,
// whatever a Hasher's Scheme.
const (
	// Bcrypt is bcrypt, "$2a$<cost>$…" as golang.org/x/crypto/bcrypt
	// writes it ("$2b$" and "$2y$" are read too). It reads only the first
	// 72 bytes of a password: longer passwords are refused by
	// [Hasher.Hash] with [ErrTooLong] and never verify.
	Bcrypt Scheme = "bcrypt"
	// Argon2id is argon2id in the PHC string form
	// "$argon2id$v=19$m=…,t=…,p=…$salt$hash" (unpadded standard base 64),
	// the form passlib and the reference implementation use.
	Argon2id Scheme = "argon2id"
	// PBKDF2SHA512 is passlib's pbkdf2_sha512,
	// "$pbkdf2-sha512$<rounds>$<salt>$<checksum>".
	PBKDF2SHA512 Scheme = "pbkdf2_sha512"
	// PBKDF2SHA256 is passlib's pbkdf2_sha256,
	// "$pbkdf2-sha256$<rounds>$<salt>$<checksum>".
	PBKDF2SHA256 Scheme = "pbkdf2_sha256"
	// PBKDF2SHA1 is passlib's pbkdf2_sha1, "$pbkdf2$<rounds>$<salt>$<checksum>".
	// It is read so that old hashes can be upgraded; prefer another
	// scheme for new ones.
	PBKDF2SHA1 Scheme = "pbkdf2_sha1"
	// SHA512Crypt is SHA-crypt with SHA-512, "$6$[rounds=<n>$]<salt>$<checksum>",
	// as glibc's crypt(3) and passlib's sha512_crypt write it.
	SHA512Crypt Scheme = "sha512_crypt"
	// SHA256Crypt is SHA-crypt with SHA-256, "$5$[rounds=<n>$]<salt>$<checksum>",
	// as glibc's crypt(3) and passlib's sha256_crypt write it.
	SHA256Crypt Scheme = "sha256_crypt"
)

// Identify returns the scheme of encoded, or "" if it is not a hash this
// package reads, as passlib's identify does. It looks at the prefix only:
// a hash it identifies may still be malformed.
func Identify(encoded string) Scheme {
	switch {
	case isBcrypt(encoded):
		return Bcrypt
	case strings.HasPrefix(encoded, argon2idIdent):
		return Argon2id
	case strings.HasPrefix(encoded, sha512Crypt.ident):
		return SHA512Crypt
	case strings.HasPrefix(encoded, sha256Crypt.ident):
		return SHA256Crypt
	}
	for _, s := range pbkdf2Schemes {
		if strings.HasPrefix(encoded, s.ident) {
			return s.scheme
		}
	}
	return ""
}

// Hasher writes new hashes in Scheme and verifies hashes of every scheme.
// Its zero value writes argon2id with the defaults of [Argon2Params].
type Hasher struct {
	// Scheme is the scheme of the hashes Hash writes. Default Argon2id.
	Scheme Scheme
	// BcryptCost is the bcrypt cost, 4 to 31. Default 12.
	BcryptCost int
	// Argon2 holds the argon2id parameters; zero fields take the
	// defaults given in [Argon2Params].
	Argon2 Argon2Params
	// Rounds is the rounds count of pbkdf2 and SHA-crypt hashes (1 to
	// 10,000,000 for pbkdf2, 1000 to 10,000,000 for SHA-crypt); bcrypt and
	// argon2id ignore it. Default (0) passlib 1.7.4's default for the
	// scheme: pbkdf2_sha512 25000, pbkdf2_sha256 29000, pbkdf2_sha1
	// 131000, sha512_crypt 656000, sha256_crypt 535000.
	Rounds int
}

// defaultBcryptCost is the bcrypt cost when Hasher.BcryptCost is zero.
const defaultBcryptCost = 12

func (h Hasher) scheme() Scheme {
	if h.Scheme == "" {
		return Argon2id
	}
	return h.Scheme
}

func (h Hasher) bcryptCost() int {
	if h.BcryptCost == 0 {
		return defaultBcryptCost
	}
	return h.BcryptCost
}

// rounds is the rounds count written for a pbkdf2 or SHA-crypt scheme.
func (h Hasher) rounds(def int) int {
	if h.Rounds == 0 {
		return def
	}
	return h.Rounds
}

// Validate reports whether h can write hashes: an error for an unknown
// scheme, a bcrypt cost out of range, an argon2id salt under 8 bytes or key
// under 16, or a rounds count out of the scheme's range.
func (h Hasher) Validate() error {
	s := h.scheme()
	if h.Rounds < 0 {
		return fmt.Errorf("passhash: negative rounds %d", h.Rounds)
	}
	switch s {
	case Bcrypt, Argon2id:
	default:
		if p, ok := pbkdf2SchemeOf(s); ok {
			if r := h.rounds(p.defaultRounds); r < 1 || r > maxPBKDF2Rounds {
				return fmt.Errorf("passhash: %s rounds %d outside 1..%d", s, r, maxPBKDF2Rounds)
			}
		} else if c, ok := shaCryptSchemeOf(s); ok {
			if r := h.rounds(c.defaultRounds); r < minSHACryptRounds || r > maxSHACryptRounds {
				return fmt.Errorf("passhash: %s rounds %d outside %d..%d", s, r, minSHACryptRounds, maxSHACryptRounds)
			}
		} else {
			return fmt.Errorf("passhash: unknown scheme %q", string(s))
		}
	}
	if c := h.bcryptCost(); c < bcryptMinCost || c > bcryptMaxCost {
		return fmt.Errorf("passhash: bcrypt cost %d outside %d..%d", c, bcryptMinCost, bcryptMaxCost)
	}
	if p := h.Argon2.withDefaults(); p.SaltLen < 8 || p.KeyLen < 16 {
		return fmt.Errorf("passhash: argon2id salt must be at least 8 bytes and key at least 16")
	}
	return nil
}

// Hash returns a new self-describing hash of password in h.Scheme, with a
// fresh random salt. It returns [ErrTooLong] for a bcrypt password over 72
// bytes, and an error if h is not valid (see [Hasher.Validate]).
func (h Hasher) Hash(password string) (string, error) {
	if err := h.Validate(); err != nil {
		return "", err
	}
	s := h.scheme()
	switch s {
	case Bcrypt:
		return hashBcrypt(password, h.bcryptCost())
	case Argon2id:
		return hashArgon2id(password, h.Argon2.withDefaults())
	}
	if p, ok := pbkdf2SchemeOf(s); ok {
		return p.hash(password, h.rounds(p.defaultRounds))
	}
	c, _ := shaCryptSchemeOf(s)
	return c.hash(password, h.rounds(c.defaultRounds))
}

// Verify checks password against encoded, a hash of any scheme: err is nil
// if it matches, [ErrMismatch] if not, or [ErrUnsupported] for a hash this
// package does not read. When err is nil, needsRehash reports whether the
// hash should be replaced by h.Hash(password), as [Hasher.NeedsRehash].
func (h Hasher) Verify(encoded, password string) (needsRehash bool, err error) {
	if err := Verify(encoded, password); err != nil {
		return false, err
	}
	return h.NeedsRehash(encoded), nil
}

// NeedsRehash reports whether encoded is in another scheme than h.Scheme,
// or has weaker parameters than h writes: a lower bcrypt cost, fewer
// argon2id passes, less memory, fewer threads, a shorter salt or key, or
// fewer rounds. A hash that cannot be parsed needs a rehash.
func (h Hasher) NeedsRehash(encoded string) bool {
	s := Identify(encoded)
	if s != h.scheme() {
		return true
	}
	switch s {
	case Bcrypt:
		cost, err := bcryptCost(encoded)
		return err != nil || cost < h.bcryptCost()
	case Argon2id:
		want := h.Argon2.withDefaults()
		p, salt, key, err := parseArgon2id(encoded)
		return err != nil ||
			p.Time < want.Time || p.MemoryKiB < want.MemoryKiB || p.Threads < want.Threads ||
			len(salt) < int(want.SaltLen) || len(key) < int(want.KeyLen)
	}
	if p, ok := pbkdf2SchemeOf(s); ok {
		rounds, _, _, err := p.parse(encoded)
		return err != nil || rounds < h.rounds(p.defaultRounds)
	}
	c, _ := shaCryptSchemeOf(s)
	rounds, _, _, err := c.parse(encoded)
	return err != nil || rounds < h.rounds(c.defaultRounds)
}

// Verify reports whether password matches encoded, a hash of any scheme
// this package reads, with no policy on its parameters: nil if it does,
// [ErrMismatch] if not, [ErrUnsupported] (naming the scheme) if the hash is
// in an unknown scheme, malformed, or beyond the package's bounds. The
// comparison is in constant time.
func Verify(encoded, password string) error {
	switch s := Identify(encoded); s {
	case Bcrypt:
		return verifyBcrypt(encoded, password)
	case Argon2id:
		return verifyArgon2id(encoded, password)
	case "":
		return fmt.Errorf("%w: scheme %q", ErrUnsupported, hashScheme(encoded))
	default:
		if p, ok := pbkdf2SchemeOf(s); ok {
			return p.verify(encoded, password)
		}
		c, _ := shaCryptSchemeOf(s)
		return c.verify(encoded, password)
	}
}

// hashScheme names the scheme of an encoded hash for error messages,
// without revealing any of the hash itself: the text between the first two
// dollars, at most 32 bytes of it.
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

// malformed is the error for a hash of a known scheme that cannot be
// parsed. It names the scheme and what is wrong, never the hash itself.
func malformed(encoded, what string) error {
	return fmt.Errorf("%w: scheme %q: malformed hash (%s)", ErrUnsupported, hashScheme(encoded), what)
}
