// Package flask lets an [auth.Manager] share users with a
// Flask-Security(-Too) application while a service moves from Flask to Go:
// it accepts the application's auth tokens and password hashes, and writes
// hashes (and, on request, tokens) that the application accepts. It plugs
// into the Manager's extension points and adds nothing to the root
// package:
//
//	fc := flask.Config{SecretKey: []byte(os.Getenv("SECRET_KEY")), PasswordSalt: os.Getenv("SECURITY_PASSWORD_SALT")}
//	tokens, err := flask.NewTokens(fc, store) // store: an auth.UniquifierLookup
//	…
//	hasher, err := flask.NewHasher(fc)
//	…
//	m, err := auth.New(store, key, auth.Config{
//		Token:    auth.TokenConfig{Verifiers: []auth.TokenVerifier{tokens}},
//		Password: auth.PasswordConfig{Hasher: hasher},
//	})
//
// Each field of [Config] mirrors one of the application's settings; copy
// them from its configuration. A Flask-Security database itself is opened
// with sqlstore.OpenFlaskSecurity.
//
// # Tokens
//
// [Tokens] verifies the application's tokens: itsdangerous tokens signed
// with HMAC-SHA1 under a key derived (django-concat) from SECRET_KEY, or a
// fallback, and SECURITY_REMEMBER_SALT. Their payload names the user by
// uniquifier only, so the store must implement [auth.UniquifierLookup];
// the Manager refuses the tokens of inactive users. Three payload shapes
// are read:
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
// A token that fails any check gives an error matching
// [auth.ErrInvalidToken] (and also [auth.ErrExpiredToken] when it is too
// old), so clients see the same 401 as for any bad token. Given as
// auth.TokenConfig.Issuer too, Tokens makes the Manager issue the tokens
// Flask-Security 5.1.2 writes, so the application accepts the Manager's
// tokens as well.
//
// # Passwords
//
// [Hasher] applies Flask-Security's pre-hash: the password is replaced
// with base64(HMAC-SHA512(SECURITY_PASSWORD_SALT, password)), standard
// base 64 with padding, before the stored hash is checked, unless the
// hash's passlib scheme is exempt (SECURITY_PASSWORD_SINGLE_HASH). The
// hashes passlib writes for pbkdf2_sha512, pbkdf2_sha256, pbkdf2_sha1,
// sha512_crypt, sha256_crypt, bcrypt and argon2 (argon2id) are read, by
// package github.com/authkit/auth/passhash. New hashes are written in
// SECURITY_PASSWORD_HASH's scheme, in the form passlib writes, with
// Flask-Security's default parameters. Hashes in any other scheme are
// rehashed on login only when [Config].PasswordHash is given: otherwise
// they may be what the application writes, and rewriting them would have
// it rewrite them back. Flask-Security NFKD-normalizes
// passwords in its forms; this package does not, so normalize before
// calling [auth.Manager.Login] if users may type such characters.
package flask
