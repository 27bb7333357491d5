package passhash

import "errors"

// Errors returned by the package. Callers compare with [errors.Is]; the
// errors returned may wrap these with detail for logs, which names a scheme
// and what is wrong but never any salt or checksum of a hash.
var (
	// ErrMismatch: the password does not match the hash.
	ErrMismatch = errors.New("passhash: password does not match")

	// ErrUnsupported: the hash is in a scheme this package does not read,
	// or is malformed or demands more work than the package allows (see
	// the package documentation's Bounds). The error text names the
	// scheme.
	ErrUnsupported = errors.New("passhash: unsupported password hash")

	// ErrTooLong: the password is longer than the scheme reads (72 bytes
	// for bcrypt). The package refuses such a password rather than
	// truncate it.
	ErrTooLong = errors.New("passhash: password too long")
)
