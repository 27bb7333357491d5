package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
)

// Audit events, written to Config.AuditLogger as log/slog records whose
// message is the event name. Attributes: "user_id" when the user is known,
// "ip" when the client address is, "reason" for failures, "email_hash" (the
// first 8 bytes of SHA-256 of the case-folded email, hex) to correlate
// failures for unknown emails without logging what was typed — people type
// passwords into email fields. No token, password, hash or key is ever
// part of an event.
//
//gosec:disable G101 -- event names, not credentials
const (
	EventLoginSucceeded = "auth.login.succeeded"
	EventLoginFailed    = "auth.login.failed"
	EventThrottled      = "auth.throttled"
	EventTokenRejected  = "auth.token.rejected"
	EventLogout         = "auth.logout"
	EventTokensRevoked  = "auth.tokens.revoked"
	EventPasswordSet    = "auth.password.set"
	// EventSessionRejected: a session or remember-me cookie ("cookie"
	// attribute) that does not authenticate; it is then deleted.
	EventSessionRejected = "auth.session.rejected"
	// EventCSRFRejected: a session-authenticated unsafe request refused by
	// the CSRF check (see ErrCSRF).
	EventCSRFRejected = "auth.csrf.rejected"
	// EventRegistered: a user registered through the account handler.
	EventRegistered = "auth.registered"
	// EventConfirmed: a user confirmed the address by the mailed link.
	EventConfirmed = "auth.confirmed"
	// EventEmailChanged: a user's address changed by the mailed link.
	EventEmailChanged = "auth.email.changed"
	// EventMailSent and EventMailFailed: an account message ("message"
	// attribute: its template name) was sent, or could not be.
	EventMailSent   = "auth.mail.sent"
	EventMailFailed = "auth.mail.failed"
	// EventRefreshReused: a refresh token of an earlier generation was
	// presented after the grace, so its device session was ended.
	EventRefreshReused = "auth.refresh.reused"
	// EventTokenCreated and EventTokenRevoked: a personal access token
	// ("token_id" attribute) was made, or revoked by its owner.
	EventTokenCreated = "auth.token.created"
	EventTokenRevoked = "auth.token.revoked"
	// EventReauthenticated: a user entered the password again at POST
	// /verify.
	EventReauthenticated = "auth.reauthenticated"
	// EventTwoFactorEnabled and EventTwoFactorDisabled: a user turned the
	// authenticator-app second factor on or off; EventTwoFactorFailed: a
	// code was refused.
	EventTwoFactorEnabled  = "auth.two_factor.enabled"
	EventTwoFactorDisabled = "auth.two_factor.disabled"
	EventTwoFactorFailed   = "auth.two_factor.failed"
	// EventRecoveryCodesMade: a user made new recovery codes;
	// EventRecoveryCodeUsed: one completed a login.
	EventRecoveryCodesMade = "auth.recovery_codes.made"
	EventRecoveryCodeUsed  = "auth.recovery_code.used"
	// EventPasskeyAdded and EventPasskeyDeleted: a user registered or
	// removed a passkey; EventPasskeyFailed: a passkey sign-in was
	// refused (the login itself is EventLoginSucceeded).
	EventPasskeyAdded   = "auth.passkey.added"
	EventPasskeyDeleted = "auth.passkey.deleted"
	EventPasskeyFailed  = "auth.passkey.failed"
)

// Reasons of EventLoginFailed, EventTokenRejected, EventSessionRejected
// and EventCSRFRejected.
const (
	reasonUnknownUser  = "unknown_user"
	reasonBadPassword  = "bad_password"
	reasonInactive     = "inactive"
	reasonBadHash      = "unsupported_hash"
	reasonTooLong      = "password_too_long"
	reasonNoEmail      = "missing_email"
	reasonBadSignature = "bad_signature"
	reasonExpired      = "expired"
	reasonMalformed    = "malformed_payload"
	reasonRevoked      = "revoked"
	// reasonInvalidOrExpired: a cookie that does not decode or has timed out.
	reasonInvalidOrExpired = "invalid_or_expired"
	reasonCSRFToken        = "csrf_token"
	reasonCrossOrigin      = "cross_origin"
	// reasonBodyTooLarge: a form body too large to find the CSRF token in.
	reasonBodyTooLarge = "body_too_large"
)

// Internal token errors: each matches ErrInvalidToken and names a reason
// for the audit log. They are preallocated so rejecting costs no allocation.
var (
	errUnknownTokenUser  = &wrapError{msg: "auth: invalid token: unknown user", parent: ErrInvalidToken}
	errRevokedToken      = &wrapError{msg: "auth: invalid token: revoked", parent: ErrInvalidToken}
	errInactiveTokenUser = &wrapError{msg: "auth: invalid token: inactive user", parent: ErrInvalidToken}
)

// tokenRejection names why a token was refused.
func tokenRejection(err error) string {
	switch {
	case errors.Is(err, errUnknownTokenUser):
		return reasonUnknownUser
	case errors.Is(err, errRevokedToken):
		return reasonRevoked
	case errors.Is(err, errInactiveTokenUser):
		return reasonInactive
	case errors.Is(err, ErrTokenPayload):
		return reasonMalformed
	case errors.Is(err, ErrExpiredToken):
		return reasonExpired
	}
	return reasonBadSignature
}

// sessionRejection names why a session or remember-me cookie was refused.
func sessionRejection(err error) string {
	switch {
	case errors.Is(err, errSessionUnknownUser):
		return reasonUnknownUser
	case errors.Is(err, errSessionRevoked):
		return reasonRevoked
	case errors.Is(err, errSessionInactive):
		return reasonInactive
	}
	return reasonInvalidOrExpired
}

// csrfRejection names why a CSRF check failed.
func csrfRejection(err error) string {
	switch {
	case errors.Is(err, errCrossOrigin):
		return reasonCrossOrigin
	case errors.Is(err, errBodyTooLarge):
		return reasonBodyTooLarge
	}
	return reasonCSRFToken
}

// sessionRejected writes the audit event of a refused cookie, which is
// "session" or "remember".
func (m *Manager) sessionRejected(r *http.Request, cookie string, err error) {
	m.audit(r.Context(), EventSessionRejected, slog.String("reason", sessionRejection(err)),
		slog.String("cookie", cookie), slog.String("ip", m.proxies.clientAddr(r)), slog.String("path", r.URL.Path))
}

// csrfRejected writes the audit event of a failed CSRF check by the
// session's user u.
func (m *Manager) csrfRejected(r *http.Request, u *User, err error) {
	m.audit(r.Context(), EventCSRFRejected, slog.String("reason", csrfRejection(err)),
		slog.String("user_id", u.ID), slog.String("ip", m.proxies.clientAddr(r)), slog.String("path", r.URL.Path))
}

// audit writes an audit event.
func (m *Manager) audit(ctx context.Context, event string, attrs ...slog.Attr) {
	if m.auditLog == nil {
		return
	}
	m.auditLog.LogAttrs(ctx, slog.LevelInfo, event, attrs...)
}

// emailHash is the correlation id of an email in audit events.
func emailHash(email string) string {
	sum := sha256.Sum256([]byte(foldEmail(email)))
	return hex.EncodeToString(sum[:8])
}
