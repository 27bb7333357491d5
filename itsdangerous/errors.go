package itsdangerous

import "errors"

// Errors returned when a token is refused. Compare with [errors.Is]: the
// errors returned may wrap these with detail meant for logs. They play the
// part of itsdangerous' BadSignature, SignatureExpired and BadPayload.
var (
	// ErrInvalid: the token is malformed, too long, or its signature does
	// not verify (itsdangerous' BadSignature and BadTimeSignature).
	// [ErrBadSignature] and [ErrBadPayload] match it too.
	ErrInvalid = errors.New("itsdangerous: invalid token")

	// ErrBadSignature: no key's signature matches the token's. It matches
	// [ErrInvalid]. It is returned as it is, never wrapped, so that
	// rejecting a forged token allocates nothing and callers may compare
	// with ==.
	ErrBadSignature error = &wrapError{msg: "itsdangerous: invalid token: signature does not match", parent: ErrInvalid}

	// ErrExpired: the signature verifies but the token is older than
	// Config.MaxAge (itsdangerous' SignatureExpired). It does not match
	// [ErrInvalid], except for a token stamped in the future, which
	// matches both.
	ErrExpired = errors.New("itsdangerous: token expired")

	// ErrBadPayload: the signature verifies but the payload is not valid
	// base64, zlib or JSON, or is larger than Config.MaxPayloadBytes
	// (itsdangerous' BadPayload). It matches [ErrInvalid].
	ErrBadPayload error = &wrapError{msg: "itsdangerous: malformed token payload", parent: ErrInvalid}
)

// wrapError is a sentinel error that also matches a more general sentinel.
type wrapError struct {
	msg    string
	parent error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.parent }

// futureError is returned for a token stamped after now: itsdangerous
// calls it expired; it is invalid too.
type futureError struct{}

func (futureError) Error() string { return "itsdangerous: token issued in the future" }
func (futureError) Is(target error) bool {
	return target == ErrExpired || target == ErrInvalid
}
