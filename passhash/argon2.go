package passhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

const argon2idIdent = "$argon2id$"

// Bounds on what a stored argon2id hash may demand.
const (
	maxArgon2Time      = 100
	maxArgon2MemoryKiB = 4 << 20 // 4 GiB
)

// Argon2Params are the argon2id parameters. Zero fields take the defaults
// given on each field: OWASP's first recommendation for argon2id
// (m=19 MiB, t=2, p=1), the Password Storage Cheat Sheet's.
type Argon2Params struct {
	Time      uint32 // passes; default 2
	MemoryKiB uint32 // default 19 MiB (19456)
	Threads   uint8  // default 1
	KeyLen    uint32 // default 32
	SaltLen   uint32 // default 16
}

func (p Argon2Params) withDefaults() Argon2Params {
	if p.Time == 0 {
		p.Time = 2
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 19 << 10
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	return p
}

// hashArgon2id writes password in the PHC string form.
func hashArgon2id(password string, p Argon2Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// verifyArgon2id checks password with the hash's own parameters.
func verifyArgon2id(encoded, password string) error {
	p, salt, key, err := parseArgon2id(encoded)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key))) // #nosec G115 -- len(key) is bounded by the parsed hash, far below 2^32
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// parseArgon2id parses "$argon2id$v=19$m=65536,t=3,p=2$salt$key", with
// the parameters in any order and the base 64 padded or not.
func parseArgon2id(encoded string) (Argon2Params, []byte, []byte, error) {
	bad := func(what string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: malformed argon2id hash (%s)", ErrUnsupported, what)
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
	if p.Time == 0 || p.Time > maxArgon2Time || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxArgon2MemoryKiB {
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
