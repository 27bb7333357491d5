// Package pat makes and checks the secrets of personal access tokens: long
// random strings that scripts send as bearer tokens, recognisable on sight
// so that a leaked one can be found and reported.
//
// A token is a prefix naming its issuer, 30 random base62 characters
// (178 bits) and a 6-character base62 checksum, the CRC-32 of the prefix
// and the random part:
//
//	akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0szZ9K
//	prefix└──────── random (30) ────────┘└ sum ┘
//
// The checksum lets a secret scanner (or a server, before any database
// lookup) tell a token from a typo or a random string with the regular
// expression
//
//	akpat_[0-9A-Za-z]{36}
//
// and [Check]. A server stores [Hash] of a token, never the token: with
// 178 random bits, a fast unkeyed hash is as hard to reverse as a slow one,
// and it survives a rotation of the server's keys.
//
// The package imports only the standard library.
package pat
