package flask

import (
	"time"

	"github.com/authkit/auth/passhash"
)

// Config holds the settings of the Flask-Security application. Each field
// is named after the setting it mirrors; the zero value of every field
// means the application's own default, given in its comment.
type Config struct {
	// SecretKey is SECRET_KEY, which signs the application's tokens. It is
	// used as it is, whatever its length. Required by [NewTokens] and
	// [NewLinks].
	SecretKey []byte
	// SecretKeyFallbacks are SECRET_KEY_FALLBACKS, earlier keys whose
	// tokens still verify, newest first.
	SecretKeyFallbacks [][]byte
	// TOTPSecrets is SECURITY_TOTP_SECRETS: the application secrets, by
	// tag, that encrypt the keys of its users' authenticator apps in
	// tf_totp_secret. Required by [NewTOTPSecrets].
	TOTPSecrets map[string]string
	// RememberSalt is SECURITY_REMEMBER_SALT, the salt of auth tokens.
	// Default "remember-salt".
	RememberSalt string
	// TokenMaxAge is SECURITY_TOKEN_MAX_AGE, in whole seconds. Default: no
	// age limit (and no check of timestamps in the future).
	TokenMaxAge time.Duration

	// ConfirmSalt is SECURITY_CONFIRM_SALT, the salt of email
	// confirmation links. Default "confirm-salt".
	ConfirmSalt string
	// ResetSalt is SECURITY_RESET_SALT, the salt of password reset
	// links. Default "reset-salt".
	ResetSalt string
	// ChangeEmailSalt is SECURITY_CHANGE_EMAIL_SALT, the salt of email
	// change links: a setting of the Flask-Security versions that have
	// the feature, which 5.1.2 lacks. Default "change-email-salt".
	ChangeEmailSalt string
	// HashingSchemes is SECURITY_HASHING_SCHEMES: the passlib schemes of
	// the hashes of an email or password hash that links carry, any of
	// "sha256_crypt", "sha512_crypt", "pbkdf2_sha512", "pbkdf2_sha256",
	// "pbkdf2_sha1" and "hex_md5". Hashes in every scheme listed are
	// read; new ones are written in the first listed other than hex_md5
	// (deprecated by the default SECURITY_DEPRECATED_HASHING_SCHEMES),
	// with passlib's default rounds. Default ["sha256_crypt", "hex_md5"].
	HashingSchemes []string

	// PasswordSalt is SECURITY_PASSWORD_SALT, the key of the pre-hash.
	// [NewHasher] requires it unless PasswordSingleHash is set.
	PasswordSalt string
	// PasswordSingleHash is SECURITY_PASSWORD_SINGLE_HASH = True: no
	// password is pre-hashed.
	PasswordSingleHash bool
	// PasswordSingleHashSchemes is SECURITY_PASSWORD_SINGLE_HASH given as a
	// set: the passlib scheme names ("sha512_crypt", "bcrypt", …) whose
	// hashes are made and checked without the pre-hash. Default: the
	// application's default (its django_* schemes and plaintext, none of
	// which this package reads), which is also what False amounts to:
	// every hash is pre-hashed.
	PasswordSingleHashSchemes []string
	// PasswordHash is SECURITY_PASSWORD_HASH: the passlib scheme of the
	// hashes the Manager writes (new passwords, and rehashes on login),
	// pre-hashed as the application would: "bcrypt" ("$2b$", at
	// BcryptCost), "argon2" (argon2id with Argon2), "pbkdf2_sha512" (25000
	// rounds), "pbkdf2_sha256" (29000 rounds), "sha512_crypt" (656000
	// rounds) or "sha256_crypt" (535000 rounds): passlib's defaults.
	// Default "bcrypt", as Flask-Security 5.1.2's. When it is given, a
	// hash in another scheme is rewritten on login, as the application
	// (with its default SECURITY_DEPRECATED_PASSWORD_SCHEMES) rewrites it;
	// when it is not, hashes in other schemes are left as they are, since
	// they may be what the application writes.
	PasswordHash string
	// PasswordNormalizeForm is SECURITY_PASSWORD_NORMALIZE_FORM: the
	// Unicode normalization applied to a password before it is hashed or
	// checked, as Flask-Security's login, registration and change forms
	// apply it: "NFKD" (the default, Flask-Security's), "NFKC", "NFD",
	// "NFC", or "none" for the application's None. Without it a password
	// typed with composed characters (é as one code point, as keyboards
	// send it) would not match the hash the application made of its
	// decomposed form.
	PasswordNormalizeForm string
	// BcryptCost is the cost of bcrypt hashes written
	// (SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS' bcrypt__rounds). Default 12,
	// passlib's.
	BcryptCost int
	// Argon2 holds the parameters of argon2 hashes written
	// (SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS' argon2__*). Zero fields take
	// Flask-Security 5.1.2's: t=10, m=102400 KiB, p=8, 16-byte salt and
	// key (passlib 1.7.4 with argon2-cffi 21.1). The application rewrites
	// argon2 hashes whose memory or key length is not its own.
	Argon2 passhash.Argon2Params

	// Now is the clock token and link checks use. Default time.Now.
	Now func() time.Time
}
