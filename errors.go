package auth

import (
	"errors"
	"fmt"

	"github.com/authkit/auth/passhash"
)

// Errors returned by the package. Callers compare with [errors.Is]; the
// errors the package returns may wrap these with detail for logs, which is
// never sent to clients.
var (
	// ErrInvalidToken: the token is malformed, its signature does not
	// verify, its payload cannot be decoded, or the user it names no
	// longer accepts it (unknown, inactive, or uniquifier rotated).
	ErrInvalidToken = errors.New("auth: invalid token")

	// ErrExpiredToken: the token's signature verifies but it is older than
	// the maximum age. It does not match ErrInvalidToken, except for a
	// token stamped in the future, which matches both (itsdangerous calls
	// it expired; it is invalid here too).
	ErrExpiredToken = errors.New("auth: token expired")

	// ErrTokenPayload: the signature verifies but the payload is not
	// valid base64, zlib or JSON. It matches ErrInvalidToken as well.
	ErrTokenPayload = &wrapError{msg: "auth: malformed token payload", parent: ErrInvalidToken}

	// ErrUserNotFound: no user has the given ID or email. Stores return it.
	ErrUserNotFound = errors.New("auth: user not found")

	// ErrInvalidCredentials: an unknown email, a wrong password or an
	// inactive account. The three are deliberately indistinguishable.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")

	// ErrNoCredentials: the request carries none of the credentials the
	// route accepts.
	ErrNoCredentials = errors.New("auth: no credentials")

	// ErrThrottled: too many failed credential checks came from the
	// client's address or for the account; the client must wait. The
	// error is a *[ThrottledError] that says how long. Handlers answer 429
	// with Retry-After.
	ErrThrottled = errors.New("auth: too many failed attempts")

	// ErrCSRF: a request authenticated by the session cookie, with an
	// unsafe method, lacks a valid CSRF token or comes from another
	// origin. The middlewares answer 403.
	ErrCSRF = errors.New("auth: CSRF check failed")

	// ErrBadRequest: the request is malformed (not JSON, wrong content
	// type, missing fields). The error's text says what is wrong and is
	// safe to show. Handlers answer 400 (413 for a body over
	// Config.MaxBodyBytes, 415 for another content type).
	ErrBadRequest = errors.New("auth: bad request")

	// ErrForbidden: the user is authenticated but lacks a required role.
	ErrForbidden = errors.New("auth: forbidden")

	// ErrInsufficientScope: the credential is valid but does not allow the
	// request: a personal access token without a scope the route requires
	// (see [Manager.RequireScopes]), on a route that does not accept such
	// tokens, or a user whose roles do not allow the scope. It matches
	// ErrForbidden as well. The middlewares answer 403 with
	// error="insufficient_scope".
	ErrInsufficientScope = &wrapError{msg: "auth: insufficient scope", parent: ErrForbidden}

	// ErrReauthRequired: the route needs a more recent password check than
	// the credential's (see [Manager.RequireFresh]). The middleware answers
	// 401 with "reauth_required".
	ErrReauthRequired = errors.New("auth: re-authentication required")

	// ErrTwoFactorRequired: the password is right, but the user has a
	// second factor on (see [TwoFactorConfig]): the password alone does
	// not log in. [Manager.LoginHandler] answers "tf_required"; HTTP Basic
	// credentials get 401.
	ErrTwoFactorRequired = errors.New("auth: second factor required")

	// ErrUnconfirmed: the user is authenticated but has not confirmed the
	// account. See [Manager.RequireConfirmed].
	ErrUnconfirmed = errors.New("auth: unconfirmed account")

	// ErrStoreUnavailable wraps a store failure other than ErrUserNotFound
	// (the database is down, say). Handlers answer 503.
	ErrStoreUnavailable = errors.New("auth: user store unavailable")

	// ErrOverloaded: every slot of the password hashing pool stayed busy
	// for as long as the request could wait, or the queue for one was
	// full (see [PasswordConfig].Concurrency). No password was checked.
	// Handlers answer 503 with Retry-After, for a known email as for an
	// unknown one.
	ErrOverloaded = errors.New("auth: too many password checks at once")

	// ErrReadOnlyStore: the operation writes users but the store does not
	// implement [UserUpdater].
	ErrReadOnlyStore = errors.New("auth: user store cannot be updated")

	// ErrDuplicateEmail: another user already has this email address,
	// compared case-insensitively.
	ErrDuplicateEmail = errors.New("auth: email already in use")

	// ErrChangesLost: a [UserChangeLog] no longer holds the changes after
	// the cursor it was given (they were pruned, or too many to return).
	// The Manager then forgets every cached user.
	ErrChangesLost = errors.New("auth: user changes lost")

	// ErrInvalidEmail: the email address is not a plain address such as
	// user@example.com (no display name, angle brackets or comments).
	// [Manager.NewUser] returns it wrapped.
	ErrInvalidEmail = errors.New("auth: invalid email address")

	// ErrDuplicateID: another user (or device session, or personal access
	// token) already has this ID, or another personal access token this
	// hash.
	ErrDuplicateID = errors.New("auth: ID already in use")

	// ErrIDChanged: an update function changed the ID of a user or a device
	// session (or its user).
	ErrIDChanged = errors.New("auth: ID cannot change")

	// ErrTokenNotFound is returned by a SessionStore for a device session,
	// and by a PersonalTokenStore for a personal access token, it does not
	// hold.
	ErrTokenNotFound = errors.New("auth: token not found")

	// ErrPasswordTooLong: the password is longer than the hash scheme
	// accepts (72 bytes for bcrypt) or than Config.Password.MaxBytes. It is
	// [passhash.ErrTooLong].
	ErrPasswordTooLong = passhash.ErrTooLong

	// ErrPasswordTooShort: the password is shorter than Config.Password.MinLength.
	ErrPasswordTooShort = errors.New("auth: password too short")

	// ErrPasswordMismatch: the password does not match the hash. It is
	// [passhash.ErrMismatch].
	ErrPasswordMismatch = passhash.ErrMismatch

	// ErrUnsupportedHash: a stored password hash is in a scheme this
	// package does not know, or is malformed. The error text names the
	// scheme. It is [passhash.ErrUnsupported].
	ErrUnsupportedHash = passhash.ErrUnsupported
)

// storeError wraps a store's failure in ErrStoreUnavailable, the same way
// on every path. The store's answers (ErrUserNotFound, ErrDuplicateEmail,
// ErrDuplicateID, ErrIDChanged) are not failures and pass as they are.
func storeError(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrUserNotFound),
		errors.Is(err, ErrDuplicateEmail), errors.Is(err, ErrDuplicateID), errors.Is(err, ErrIDChanged):
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// wrapError is a sentinel error that also matches a more general sentinel.
type wrapError struct {
	msg    string
	parent error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.parent }

// futureTokenError is returned for a token stamped after now: it is expired
// in itsdangerous' terms and invalid in this package's.
type futureTokenError struct{}

func (futureTokenError) Error() string { return "auth: token issued in the future" }
func (futureTokenError) Is(target error) bool {
	return target == ErrExpiredToken || target == ErrInvalidToken
}
