// Package passhash makes and verifies password hashes in the
// self-describing forms Python's passlib, glibc's crypt(3),
// golang.org/x/crypto/bcrypt and the argon2 reference implementation
// write, so that a Go program can take over the users of an application
// that stored them and upgrade their hashes as they log in.
//
// It imports only the standard library and golang.org/x/crypto, and knows
// nothing of any framework's use of the hashes (pre-hashing, settings).
//
// # Schemes
//
// Each [Scheme] is named by its passlib name: [Bcrypt], [Argon2id],
// [PBKDF2SHA512], [PBKDF2SHA256], [PBKDF2SHA1], [SHA512Crypt] and
// [SHA256Crypt]. [Identify] tells the scheme of a stored hash, as
// passlib's identify does. [Verify] checks a password against a hash of
// any scheme; a [Hasher] writes new hashes in one scheme, with its
// parameters, and verifies hashes of every scheme.
//
// # Formats
//
// Hashes are written exactly as their origin writes them:
//
//	bcrypt         $2a$<cost>$<22-char salt><31-char checksum>   ($2b$, $2y$ read too)
//	argon2id       $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<key>
//	pbkdf2_sha512  $pbkdf2-sha512$<rounds>$<salt>$<checksum>
//	pbkdf2_sha256  $pbkdf2-sha256$<rounds>$<salt>$<checksum>
//	pbkdf2_sha1    $pbkdf2$<rounds>$<salt>$<checksum>
//	sha512_crypt   $6$[rounds=<n>$]<salt>$<checksum>
//	sha256_crypt   $5$[rounds=<n>$]<salt>$<checksum>
//
// argon2id uses unpadded standard base 64 (padded is read too); pbkdf2
// uses passlib's "adapted base 64", the standard alphabet with '.' for
// '+' and no padding, with a 16-byte salt; SHA-crypt follows Ulrich
// Drepper's specification, with a 16-character salt and the rounds left
// implicit when they are 5000. bcrypt reads only the first 72 bytes of a
// password, so [Hasher.Hash] refuses a longer one with [ErrTooLong]
// rather than truncate it, and a longer password never verifies against a
// bcrypt hash.
//
// # Upgrading with needsRehash
//
// [Hasher.Verify] reports, with a match, whether the stored hash should be
// replaced: it is in another scheme than the Hasher writes, or has weaker
// parameters (a lower bcrypt cost, smaller argon2id parameters, fewer
// rounds). Hash the password just verified and store the new hash:
//
//	needsRehash, err := h.Verify(stored, password)
//	if err == nil && needsRehash {
//		if fresh, err := h.Hash(password); err == nil {
//			// store fresh in place of stored
//		}
//	}
//
// # Bounds
//
// A stored hash decides how much work verifying it takes, so a hostile or
// corrupt one is refused with [ErrUnsupported] rather than computed when
// it demands more than: 10,000,000 pbkdf2 rounds or a salt over 1024
// bytes; 10,000,000 SHA-crypt rounds (or fewer than 1000, the
// specification's minimum) or a salt over 16 characters; argon2id memory
// over 4 GiB or more than 100 passes. Errors name the scheme and what is
// wrong, never a salt or checksum. Checksums are compared in constant
// time.
package passhash
