package flask

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/authkit/auth"
)

// passlib's TOTP key encryption: PBKDF2-HMAC-SHA256 of an application
// secret and a random salt gives an AES-256 key and a CTR IV.
const (
	totpSaltBytes = 12
	totpCost      = 14 // log2 of the PBKDF2 rounds, passlib's encrypt_cost
	totpMaxCost   = 24 // the most a stored key may ask for
)

// totpTag is what passlib allows as a secret's tag.
var totpTag = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// b32 is passlib's base32: upper case, no padding on output.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpSecrets implements auth.TOTPSecrets in Flask-Security's format.
type totpSecrets struct {
	secrets map[string][]byte
	tag     string // the default: seals new keys
}

// NewTOTPSecrets returns the TwoFactorConfig.Secrets of a Manager that
// shares authenticator-app setups with the Flask-Security application:
// the keys are kept as Flask-Security 5.1.2 keeps them in tf_totp_secret,
// passlib's TOTP JSON with the key encrypted under SECURITY_TOTP_SECRETS
// (Config.TOTPSecrets): AES-256-CTR with a key and IV from 2^14 rounds of
// PBKDF2-HMAC-SHA256 of the secret and a 12-byte random salt, under the
// tag passlib picks (the greatest number, if all tags are numbers, or
// else the greatest tag). Keys encrypted under any tag open, and so do
// passlib's unencrypted keys; a key whose TOTP is not SHA-1, 6 digits and
// 30 seconds is refused. The format does not bind a key to its user, and
// CTR has no integrity check: unlike the Manager's default, a key moved to
// another user's row opens.
func NewTOTPSecrets(c Config) (auth.TOTPSecrets, error) {
	if len(c.TOTPSecrets) == 0 {
		return nil, errors.New("flask: NewTOTPSecrets needs Config.TOTPSecrets (SECURITY_TOTP_SECRETS)")
	}
	s := &totpSecrets{secrets: map[string][]byte{}}
	numeric := true
	for tag, secret := range c.TOTPSecrets {
		if !totpTag.MatchString(tag) {
			return nil, fmt.Errorf("flask: the tag %q of SECURITY_TOTP_SECRETS has characters passlib refuses", tag)
		}
		if secret == "" {
			return nil, fmt.Errorf("flask: the secret of tag %q of SECURITY_TOTP_SECRETS is empty", tag)
		}
		s.secrets[tag] = []byte(secret)
		if _, err := strconv.Atoi(tag); err != nil {
			numeric = false
		}
	}
	for tag := range s.secrets {
		switch {
		case s.tag == "":
			s.tag = tag
		case numeric:
			a, _ := strconv.Atoi(tag)
			b, _ := strconv.Atoi(s.tag)
			if a > b {
				s.tag = tag
			}
		case tag > s.tag:
			s.tag = tag
		}
	}
	return s, nil
}

// encKey is passlib's encrypted key; its members in sorted order, as
// passlib's to_json writes them.
type encKey struct {
	Cost int    `json:"c"`
	Key  string `json:"k"`
	Salt string `json:"s"`
	Tag  string `json:"t"`
	V    int    `json:"v"`
}

// totpJSON is passlib's TOTP.to_json, in sorted order.
type totpJSON struct {
	Alg    string  `json:"alg,omitempty"`
	Digits int     `json:"digits,omitempty"`
	EncKey *encKey `json:"enckey,omitempty"`
	Key    string  `json:"key,omitempty"`
	Period int     `json:"period,omitempty"`
	Type   string  `json:"type"`
	V      int     `json:"v"`
}

// cipherKey encrypts or decrypts value as passlib's _cipher_aes_key does.
func cipherKey(value, secret, salt []byte, cost int) ([]byte, error) {
	keyIV, err := pbkdf2.Key(sha256.New, string(secret), salt, 1<<cost, 48)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(keyIV[:32])
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(value))
	cipher.NewCTR(block, keyIV[32:]).XORKeyStream(out, value)
	return out, nil
}

// SealTOTPKey implements [auth.TOTPSecrets]: passlib's JSON with the key
// encrypted under the default tag.
func (s *totpSecrets) SealTOTPKey(_ string, key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, errors.New("flask: no TOTP key to seal")
	}
	salt := make([]byte, totpSaltBytes)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	ckey, err := cipherKey(key, s.secrets[s.tag], salt, totpCost)
	if err != nil {
		return nil, err
	}
	return json.Marshal(totpJSON{
		EncKey: &encKey{Cost: totpCost, Key: b32.EncodeToString(ckey), Salt: b32.EncodeToString(salt), Tag: s.tag, V: 1},
		Type:   "totp", V: 1,
	})
}

// decodeB32 reads base32 as passlib's b32decode does: padding optional,
// either case, 8 read as B and 0 as O.
func decodeB32(s string) ([]byte, error) {
	s = strings.NewReplacer("8", "B", "0", "O").Replace(strings.ToUpper(strings.TrimRight(s, "=")))
	return b32.DecodeString(s)
}

// OpenTOTPKey implements [auth.TOTPSecrets].
func (s *totpSecrets) OpenTOTPKey(_ string, sealed []byte) ([]byte, error) {
	var t totpJSON
	if err := json.Unmarshal(sealed, &t); err != nil {
		return nil, errors.New("flask: tf_totp_secret is not passlib's TOTP JSON")
	}
	switch {
	case t.V != 1 || (t.Type != "" && t.Type != "totp"):
		return nil, fmt.Errorf("flask: tf_totp_secret is of version %d, type %q: not passlib's TOTP 1", t.V, t.Type)
	case (t.Alg != "" && t.Alg != "sha1") || (t.Digits != 0 && t.Digits != 6) || (t.Period != 0 && t.Period != 30):
		return nil, fmt.Errorf("flask: tf_totp_secret is a TOTP of %s, %d digits, %d s: only SHA-1, 6 digits, 30 s are read",
			t.Alg, t.Digits, t.Period)
	case t.EncKey == nil && t.Key == "":
		return nil, errors.New("flask: tf_totp_secret holds no key")
	case t.EncKey == nil:
		return decodeB32(t.Key)
	}
	e := t.EncKey
	secret, ok := s.secrets[e.Tag]
	switch {
	case e.V != 1:
		return nil, fmt.Errorf("flask: tf_totp_secret's key is encrypted in version %d, not 1", e.V)
	case !ok:
		return nil, fmt.Errorf("flask: tf_totp_secret's key is encrypted under tag %q, which SECURITY_TOTP_SECRETS lacks", e.Tag)
	case e.Cost < 0 || e.Cost > totpMaxCost:
		return nil, fmt.Errorf("flask: tf_totp_secret's key asks for 2^%d PBKDF2 rounds", e.Cost)
	}
	ckey, err := decodeB32(e.Key)
	if err != nil || len(ckey) == 0 {
		return nil, errors.New("flask: tf_totp_secret's encrypted key is not base32")
	}
	salt, err := decodeB32(e.Salt)
	if err != nil {
		return nil, errors.New("flask: tf_totp_secret's salt is not base32")
	}
	return cipherKey(ckey, secret, salt, e.Cost)
}
