package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- HOTP's default MAC (RFC 4226), which every authenticator app assumes; HMAC-SHA-1 is not broken
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of the codes.
type Algorithm string

// The algorithms of RFC 6238. Authenticator apps widely support only SHA1.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Config describes codes. The zero value means SHA1, 6 digits, a 30 s
// period and a skew of one period.
type Config struct {
	// Algorithm is the HMAC hash. Default SHA1.
	Algorithm Algorithm
	// Digits is the length of a code, 6 to 8. Default 6.
	Digits int
	// Period is how long a code lasts, a whole number of seconds. Default
	// 30 s.
	Period time.Duration
	// Skew is how many periods before and after the current one
	// Validate also accepts, for clocks that differ. Default 1; negative:
	// none.
	Skew int
}

// Errors of the package.
var (
	// ErrConfig: a Config field is out of range.
	ErrConfig = errors.New("totp: bad config")
	// ErrKey: a base32 key does not decode, or is shorter than 16 bytes.
	ErrKey = errors.New("totp: bad key")
)

// MinKeyBytes is the shortest key DecodeKey accepts: 128 bits, RFC 4226's
// minimum.
const MinKeyBytes = 16

// resolved returns c with its defaults, or ErrConfig.
func (c Config) resolved() (Config, error) {
	if c.Algorithm == "" {
		c.Algorithm = SHA1
	}
	if c.Digits == 0 {
		c.Digits = 6
	}
	if c.Period == 0 {
		c.Period = 30 * time.Second
	}
	if c.Skew == 0 {
		c.Skew = 1
	}
	if c.Skew < 0 {
		c.Skew = 0
	}
	switch {
	case c.Algorithm != SHA1 && c.Algorithm != SHA256 && c.Algorithm != SHA512:
		return c, fmt.Errorf("%w: algorithm %q", ErrConfig, c.Algorithm)
	case c.Digits < 6 || c.Digits > 8:
		return c, fmt.Errorf("%w: %d digits, want 6 to 8", ErrConfig, c.Digits)
	case c.Period < time.Second || c.Period%time.Second != 0:
		return c, fmt.Errorf("%w: period %v, want whole seconds", ErrConfig, c.Period)
	case c.Skew > 10:
		return c, fmt.Errorf("%w: skew %d, want at most 10", ErrConfig, c.Skew)
	}
	return c, nil
}

func (a Algorithm) new() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}

// NewKey returns 20 random bytes, a key of RFC 4226's recommended length.
func NewKey() []byte {
	k := make([]byte, 20)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeKey writes key as authenticator apps read it: base32, upper case,
// without padding.
func EncodeKey(key []byte) string { return b32.EncodeToString(key) }

// DecodeKey reads a base32 key as people and apps write it: case, spaces,
// hyphens and padding do not matter. It refuses one shorter than
// MinKeyBytes with ErrKey.
func DecodeKey(s string) ([]byte, error) {
	if len(s) > 1024 {
		return nil, fmt.Errorf("%w: %d characters", ErrKey, len(s))
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '=':
			return -1
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
	key, err := b32.DecodeString(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: not base32", ErrKey)
	case len(key) < MinKeyBytes:
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrKey, len(key), MinKeyBytes)
	}
	return key, nil
}

// HOTP returns the code of counter under key (RFC 4226 §5.3), with the
// config's algorithm and digits.
func (c Config) HOTP(key []byte, counter uint64) (string, error) {
	c, err := c.resolved()
	if err != nil {
		return "", err
	}
	return c.hotp(key, counter), nil
}

func (c Config) hotp(key []byte, counter uint64) string {
	m := hmac.New(c.Algorithm.new(), key)
	var msg [8]byte
	for i := 7; i >= 0; i-- {
		msg[i] = byte(counter)
		counter >>= 8
	}
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := uint32(sum[off]&0x7f)<<24 | uint32(sum[off+1])<<16 | uint32(sum[off+2])<<8 | uint32(sum[off+3])
	mod := uint32(1)
	for range c.Digits {
		mod *= 10
	}
	code := strconv.FormatUint(uint64(bin%mod), 10)
	return strings.Repeat("0", c.Digits-len(code)) + code
}

// Counter returns the TOTP counter of t: the number of periods since the
// Unix epoch (RFC 6238 §4.2). It is zero before the epoch.
func (c Config) Counter(t time.Time) (uint64, error) {
	c, err := c.resolved()
	if err != nil {
		return 0, err
	}
	return c.counter(t), nil
}

func (c Config) counter(t time.Time) uint64 {
	u := t.Unix()
	if u < 0 {
		return 0
	}
	return uint64(u) / uint64(c.Period/time.Second) // #nosec G115 -- u >= 0
}

// Code returns the TOTP code of key at t.
func (c Config) Code(key []byte, t time.Time) (string, error) {
	c, err := c.resolved()
	if err != nil {
		return "", err
	}
	return c.hotp(key, c.counter(t)), nil
}

// Validate reports whether code is the code of key at t, or of up to Skew
// periods before or after it, and returns the counter of the period it
// matched. Every candidate is compared, in constant time. A code that is
// not Digits decimal digits (spaces are ignored, as people type
// "123 456") matches nothing.
//
// A code must work once: the caller keeps the greatest counter it has
// accepted for the key and refuses a match whose counter is not greater.
func (c Config) Validate(key []byte, code string, t time.Time) (counter uint64, ok bool, err error) {
	c, err = c.resolved()
	if err != nil {
		return 0, false, err
	}
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != c.Digits {
		return 0, false, nil
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false, nil
		}
	}
	now := c.counter(t)
	for d := -c.Skew; d <= c.Skew; d++ {
		if d < 0 && now < uint64(-d) {
			continue
		}
		n := now + uint64(int64(d)) // #nosec G115 -- wraps as intended for d < 0, checked above
		if subtle.ConstantTimeCompare([]byte(c.hotp(key, n)), []byte(code)) == 1 && !ok {
			counter, ok = n, true
		}
	}
	return counter, ok, nil
}

// URI returns the otpauth:// URI of key for an authenticator app, which
// shows issuer and account (Google's Key Uri Format): otpauth://totp/
// Issuer:account?secret=…&issuer=Issuer, with algorithm, digits and
// period when they are not the defaults.
func (c Config) URI(issuer, account string, key []byte) (string, error) {
	c, err := c.resolved()
	if err != nil {
		return "", err
	}
	label := url.PathEscape(account)
	if issuer != "" {
		label = url.PathEscape(issuer) + ":" + label
	}
	q := url.Values{"secret": {EncodeKey(key)}}
	if issuer != "" {
		q.Set("issuer", issuer)
	}
	if c.Algorithm != SHA1 {
		q.Set("algorithm", string(c.Algorithm))
	}
	if c.Digits != 6 {
		q.Set("digits", strconv.Itoa(c.Digits))
	}
	if c.Period != 30*time.Second {
		q.Set("period", strconv.Itoa(int(c.Period/time.Second)))
	}
	return "otpauth://totp/" + label + "?" + q.Encode(), nil
}
