package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

// DefaultFlaskRememberSalt is Flask-Security's SECURITY_REMEMBER_SALT
// default, the salt of its auth tokens, used when
// FlaskConfig.RememberSalt is empty.
const DefaultFlaskRememberSalt = "remember-salt"

// FlaskConfig lets a [Manager] share users with a Flask-Security(-Too)
// application during a migration: it accepts the app's auth tokens and
// password hashes and can write hashes (and mint tokens) the app accepts.
// Each field mirrors one of the app's settings; copy them from its config.
//
// # Tokens
//
// When SecretKey is set, [Manager.VerifyToken] also accepts the app's
// tokens: itsdangerous tokens signed with HMAC-SHA1 under a key derived
// (django-concat) from SecretKey, or a fallback, and RememberSalt. Their
// payload names the user by uniquifier only, so the store must implement
// [UniquifierLookup]; the user must be active. Three payload shapes are
// read:
//
//   - ["<uniquifier>"], what Flask-Security 4.0 to 5.3 write;
//   - [<id>, <password fingerprint>, "<uniquifier>"], what 3.x wrote when
//     the model had fs_uniquifier: the uniquifier is element 2 and the
//     others are ignored, as Flask-Security 5.1.2 does. Two-element 3.x
//     tokens ([id, fingerprint]) are refused, as 5.1.2 refuses them; so
//     are lists of any other length (5.1.2 would read element 2 of a
//     longer list, though no version writes one);
//   - {"ver":"5","uid":"<uniquifier>","fs_paa":…,"exp":…}, what 5.4 and
//     later write (5.1.2 refuses these): a positive exp, in Unix seconds,
//     ends the token's validity; other keys are ignored.
//
// A token that fails any check gives an error matching [ErrInvalidToken]
// (and also [ErrExpiredToken] when it is too old), so clients see the same
// 401 as for any bad token.
//
// # Passwords
//
// When PasswordSalt is set (or PasswordSingleHash), password checks apply
// Flask-Security's pre-hash: the password is replaced with
// base64(HMAC-SHA512(PasswordSalt, password)), standard base 64 with
// padding, before the stored hash is checked, unless the hash's passlib
// scheme is exempt (PasswordSingleHash, PasswordSingleHashSchemes). The
// hashes passlib writes for pbkdf2_sha512, pbkdf2_sha256, pbkdf2_sha1,
// sha512_crypt, sha256_crypt, bcrypt and argon2 (argon2id) are read with or
// without this setting. Flask-Security NFKD-normalizes passwords in its
// forms; this package does not, so normalize before calling
// [Manager.Login] if users may type such characters.
type FlaskConfig struct {
	// SecretKey is the app's SECRET_KEY. Set it to accept the app's
	// tokens. It is used as it is, whatever its length.
	SecretKey []byte
	// SecretKeyFallbacks are earlier SECRET_KEYs whose tokens still
	// verify (Flask's SECRET_KEY_FALLBACKS), newest first.
	SecretKeyFallbacks [][]byte
	// RememberSalt is SECURITY_REMEMBER_SALT. Default
	// DefaultFlaskRememberSalt.
	RememberSalt string
	// TokenMaxAge is SECURITY_TOKEN_MAX_AGE, in whole seconds. Zero means
	// the app's default: no age limit (and no check of timestamps in the
	// future).
	TokenMaxAge time.Duration
	// MintTokens makes [Manager.IssueToken] write the tokens
	// Flask-Security 5.1.2 writes, ["<uniquifier>"] signed with SecretKey
	// and RememberSalt, instead of the Manager's own, so that the app
	// accepts the Manager's tokens too; [Manager.TokenMaxAge] then reports
	// TokenMaxAge. Needs SecretKey.
	MintTokens bool

	// PasswordSalt is SECURITY_PASSWORD_SALT, the key of the pre-hash.
	// Required for the password settings below unless PasswordSingleHash.
	PasswordSalt string
	// PasswordSingleHash is SECURITY_PASSWORD_SINGLE_HASH = True: no
	// password is pre-hashed.
	PasswordSingleHash bool
	// PasswordSingleHashSchemes is SECURITY_PASSWORD_SINGLE_HASH given
	// as a set: the passlib scheme names ("sha512_crypt", "bcrypt", …)
	// whose hashes are made and checked without the pre-hash. Nil means
	// the app's default (its django_* schemes and plaintext, none of which
	// this package reads), which is also what False amounts to: every
	// hash is pre-hashed.
	PasswordSingleHashSchemes []string
	// WritePasswordScheme is SECURITY_PASSWORD_HASH: the passlib scheme
	// of the hashes the Manager writes (new passwords, and rehashes on
	// login of hashes in any other scheme), in the form passlib writes,
	// pre-hashed as the app would. One of "bcrypt" ("$2b$", at
	// Config.BcryptCost), "argon2" (argon2id with Config.Argon2),
	// "pbkdf2_sha512" (25000 rounds), "pbkdf2_sha256" (29000 rounds),
	// "sha512_crypt" (656000 rounds) or "sha256_crypt" (535000 rounds):
	// passlib's defaults. Empty means Config.PasswordScheme, still
	// pre-hashed, which the app verifies as well.
	WritePasswordScheme string
}

// The passlib names Flask-Security uses in SECURITY_PASSWORD_HASH and
// SECURITY_PASSWORD_SINGLE_HASH for the schemes passhash reads. They are
// passhash's names, except that passlib calls argon2id "argon2".
const (
	passlibBcrypt       = string(passhash.Bcrypt)
	passlibArgon2       = "argon2"
	passlibPBKDF2SHA512 = string(passhash.PBKDF2SHA512)
	passlibPBKDF2SHA256 = string(passhash.PBKDF2SHA256)
	passlibSHA512Crypt  = string(passhash.SHA512Crypt)
	passlibSHA256Crypt  = string(passhash.SHA256Crypt)
)

// flaskWriteSchemes are the values FlaskConfig.WritePasswordScheme takes.
var flaskWriteSchemes = []string{
	passlibBcrypt, passlibArgon2, passlibPBKDF2SHA512, passlibPBKDF2SHA256, passlibSHA512Crypt, passlibSHA256Crypt,
}

// passlibScheme returns the passlib name of the scheme of encoded, as
// passlib's CryptContext.identify would, or "" for a hash passhash does
// not read.
func passlibScheme(encoded string) string {
	s := passhash.Identify(encoded)
	if s == passhash.Argon2id {
		return passlibArgon2
	}
	return string(s)
}

// passhashScheme is the passhash scheme of a passlib name.
func passhashScheme(passlib string) passhash.Scheme {
	if passlib == passlibArgon2 {
		return passhash.Argon2id
	}
	return passhash.Scheme(passlib)
}

// flaskPasswords holds Flask-Security's password rules.
type flaskPasswords struct {
	salt      []byte          // SECURITY_PASSWORD_SALT
	singleAll bool            // SECURITY_PASSWORD_SINGLE_HASH = True
	single    map[string]bool // passlib schemes exempt from the pre-hash
	write     string          // passlib scheme written; "" for the hasher's own
	rounds    int             // rounds of pbkdf2 and SHA-crypt hashes written; 0 for passlib's defaults
}

// setupFlask validates cfg.Flask and wires it into m. It runs in New after
// the hasher is made and before anything is hashed.
func (m *Manager) setupFlask(store UserStore, key []byte, cfg Config) error {
	fc := cfg.Flask
	if fc == nil {
		return nil
	}
	tokens := len(fc.SecretKey) > 0
	passwords := fc.PasswordSalt != "" || fc.PasswordSingleHash
	switch {
	case !tokens && (fc.MintTokens || len(fc.SecretKeyFallbacks) > 0 || fc.TokenMaxAge != 0 || fc.RememberSalt != ""):
		return errors.New("auth: FlaskConfig token settings need SecretKey")
	case !passwords && (fc.WritePasswordScheme != "" || len(fc.PasswordSingleHashSchemes) > 0):
		return errors.New("auth: FlaskConfig password settings need PasswordSalt (SECURITY_PASSWORD_SALT) or PasswordSingleHash")
	case !tokens && !passwords:
		return errors.New("auth: FlaskConfig sets neither SecretKey nor PasswordSalt")
	}
	if passwords {
		f := &flaskPasswords{
			salt:      []byte(fc.PasswordSalt),
			singleAll: fc.PasswordSingleHash,
			single:    map[string]bool{},
			write:     fc.WritePasswordScheme,
		}
		for _, s := range fc.PasswordSingleHashSchemes {
			if s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				return fmt.Errorf("auth: FlaskConfig.PasswordSingleHashSchemes: %q is not a passlib scheme name (like sha512_crypt)", s)
			}
			f.single[s] = true
		}
		if f.write != "" && !slices.Contains(flaskWriteSchemes, f.write) {
			return fmt.Errorf("auth: FlaskConfig.WritePasswordScheme %q is not one of %s", f.write, strings.Join(flaskWriteSchemes, ", "))
		}
		m.hasher.flask = f
	}
	if !tokens {
		return nil
	}
	lookup, ok := store.(UniquifierLookup)
	if !ok {
		return errors.New("auth: Flask-Security tokens need a store that implements UniquifierLookup")
	}
	if fc.TokenMaxAge < 0 || (fc.TokenMaxAge > 0 && fc.TokenMaxAge%time.Second != 0) {
		return fmt.Errorf("auth: FlaskConfig.TokenMaxAge %v is not a positive number of seconds", fc.TokenMaxAge)
	}
	salt := stringOr(fc.RememberSalt, DefaultFlaskRememberSalt)
	if (cfg.TokenDigest == itsdangerous.SHA1 && (cfg.TokenKeyDerivation == "" || cfg.TokenKeyDerivation == itsdangerous.DjangoConcat) &&
		stringOr(cfg.TokenSalt, DefaultTokenSalt) == salt) && sharesKey(append([][]byte{key}, cfg.OldKeys...), append([][]byte{fc.SecretKey}, fc.SecretKeyFallbacks...)) {
		return errors.New("auth: the Manager's token key, salt and digest equal the Flask app's, so its tokens could not be told apart; change Config.TokenSalt")
	}
	ser, err := itsdangerous.New(bytesClone(fc.SecretKey), itsdangerous.Config{
		Salt:          salt,
		Digest:        itsdangerous.SHA1,
		KeyDerivation: itsdangerous.DjangoConcat,
		OldKeys:       cloneKeys(fc.SecretKeyFallbacks),
		MaxAge:        fc.TokenMaxAge,
		Now:           func() time.Time { return m.now() },
	})
	if err != nil {
		return err
	}
	m.flask = &flaskTokens{ser: ser, lookup: lookup, mint: fc.MintTokens, maxAge: fc.TokenMaxAge}
	return nil
}

func sharesKey(a, b [][]byte) bool {
	for _, x := range a {
		for _, y := range b {
			if bytes.Equal(x, y) {
				return true
			}
		}
	}
	return false
}

// prehashes reports whether passwords for the passlib scheme are
// pre-hashed, as Flask-Security's use_double_hash decides.
func (f *flaskPasswords) prehashes(scheme string) bool {
	return !f.singleAll && !f.single[scheme]
}

// prehash is Flask-Security's get_hmac.
func (f *flaskPasswords) prehash(password string) string {
	mac := hmac.New(sha512.New, f.salt)
	mac.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// prepare returns the string the scheme of encoded is to be checked
// with: the password, or its pre-hash, cut to the 72 bytes bcrypt reads
// (the cut loses nothing: the pre-hash covers the whole password).
func (f *flaskPasswords) prepare(encoded, password string) string {
	scheme := passlibScheme(encoded)
	if scheme == "" || !f.prehashes(scheme) {
		return password
	}
	p := f.prehash(password)
	if scheme == passlibBcrypt {
		p = p[:bcryptMaxBytes]
	}
	return p
}

// writeScheme is the passlib name of the scheme h writes.
func (h hasher) writeScheme() string {
	switch {
	case h.flask != nil && h.flask.write != "":
		return h.flask.write
	case h.ph.Scheme == passhash.Argon2id:
		return passlibArgon2
	}
	return passlibBcrypt
}

// flaskWriter is the passhash.Hasher that writes h's Flask hashes: the
// write scheme, with the Config's bcrypt and argon2id parameters and the
// rounds (0: passlib's defaults) for pbkdf2 and SHA-crypt.
func (h hasher) flaskWriter() passhash.Hasher {
	w := h.ph
	w.Scheme = passhashScheme(h.writeScheme())
	w.Rounds = h.flask.rounds
	return w
}

// flaskHash writes password as Flask-Security would: pre-hashed unless
// exempt, in the write scheme.
func (h hasher) flaskHash(password string) (string, error) {
	f := h.flask
	scheme := h.writeScheme()
	pre := f.prehashes(scheme)
	if pre {
		password = f.prehash(password)
		if scheme == passlibBcrypt {
			// The cut loses nothing: the pre-hash covers the whole password.
			password = password[:bcryptMaxBytes]
		}
	}
	enc, err := h.flaskWriter().Hash(password)
	if err != nil {
		return "", err
	}
	if f.write == passlibBcrypt {
		// passlib writes 2b; the algorithms agree below 256 bytes.
		enc = "$2b$" + strings.TrimPrefix(enc, "$2a$")
	}
	return enc, nil
}
