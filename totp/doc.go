// Package totp makes and checks the one-time codes of authenticator apps:
// HOTP (RFC 4226) and TOTP (RFC 6238), with the otpauth:// URI that such
// apps read from a QR code.
//
// The zero [Config] is what every authenticator app assumes: SHA-1, six
// digits, a 30-second period. [Config.Validate] accepts a code of the
// current period or of one period either side (clock skew) and returns the
// counter of the period it matched, so that a caller can refuse a code
// used before: store the last counter accepted for the user and refuse
// any that is not greater (see [Config.Validate]).
//
// Keys are random bytes ([NewKey] makes 20, RFC 4226's recommendation),
// written in base32 without padding for apps ([EncodeKey], [DecodeKey]).
//
// The package imports only the standard library.
package totp
