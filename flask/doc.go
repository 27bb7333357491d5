// Package flask lets an [auth.Manager] share users with a
// Flask-Security(-Too) application while a service moves from Flask to Go:
// it accepts the application's auth tokens and password hashes, and writes
// hashes (and, on request, tokens) that the application accepts, and it
// reads and makes the links the application mails. It plugs into the
// Manager's extension points and adds nothing to the root package:
//
//	fc := flask.Config{SecretKey: []byte(os.Getenv("SECRET_KEY")), PasswordSalt: os.Getenv("SECURITY_PASSWORD_SALT")}
//	tokens, err := flask.NewTokens(fc, store) // store: an auth.UniquifierLookup
//	…
//	hasher, err := flask.NewHasher(fc)
//	…
//	links, err := flask.NewLinks(fc, store) // for auth.AccountConfig.Links
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
// # Links
//
// [Links] makes and reads the tokens of the links the application mails:
// it is an [auth.LinkCodec], for auth.AccountConfig.Links. They are
// itsdangerous tokens made as the auth tokens are, each purpose under a
// salt of its own (SECURITY_CONFIRM_SALT, SECURITY_RESET_SALT,
// SECURITY_CHANGE_EMAIL_SALT), so that none is accepted for another
// purpose or as an auth token. Their payloads:
//
//   - "confirm": [fs_uniquifier, hash_data(email)], Flask-Security 5.1.2's
//     generate_confirmation_token;
//   - "reset": [fs_uniquifier, hash_data(password hash)], with null for a
//     user without a password, 5.1.2's generate_reset_password_token;
//   - "change-email": [fs_uniquifier, hash_data(email), new email].
//     Flask-Security 5.1.2 has no email change: these are the links of
//     the change-email feature of later versions, which 5.1.2 neither
//     makes nor reads, so only the Go side (or a later version) mails and
//     follows them.
//
// hash_data is a passlib hash in the first scheme of
// SECURITY_HASHING_SCHEMES, sha256_crypt at 535000 rounds by default, so
// making or checking a link costs one such hash (tens of milliseconds).
// A link is refused, as the application refuses it, once the state it
// hashes has changed: the email for "confirm" and "change-email", the
// password hash for "reset". It has expired when it is older than the max
// age the account handler gives, counted in whole seconds, or stamped in
// the future, as itsdangerous has it; its user is then returned for a
// fresh link to be sent, unless the state has changed too.
//
// Links name users by fs_uniquifier. When the user table also has
// fs_token_uniquifier, which a store maps to [auth.User].Uniquifier, the
// store must implement [FsUniquifierLookup], as sqlstore.FlaskStore does;
// otherwise Uniquifier is taken for fs_uniquifier. Where this package
// differs from 5.1.2: links signed with a key of SECRET_KEY_FALLBACKS
// verify (5.1.2 ignores the setting; later versions honor it); a reset
// link made while the user had a password is refused once the password is
// removed (5.1.2 accepts any reset link of a user without a password); and
// a link whose hash is malformed is refused (5.1.2 fails with an error).
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
