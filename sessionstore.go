package auth

import (
	"context"
	"time"
)

// DeviceSession is one login on one device, as refresh tokens carry it:
// the login gets a refresh token, and each refresh replaces it with the
// next generation of the same session. Stores keep it for [SessionStore].
type DeviceSession struct {
	// ID names the session in listings and in the refresh tokens of its
	// generations. It is random and never changes.
	ID string
	// UserID is the owner's ID.
	UserID string
	// Uniquifier is the owner's uniquifier when the session began: the
	// session ends when the user's changes (logout everywhere, a new
	// password).
	Uniquifier string
	// Generation counts the refreshes; TokenHash is a keyed hash of the
	// refresh token of that generation, never the token itself.
	Generation int
	TokenHash  []byte
	// RotatedAt is when the current generation was issued.
	RotatedAt time.Time
	// CreatedAt is when the session began; LastUsedAt when it was last
	// refreshed.
	CreatedAt, LastUsedAt time.Time
	// LastIP and UserAgent are the client's at the last refresh (or the
	// login), for the owner's listing.
	LastIP, UserAgent string
}

// SessionStore is implemented by stores that keep device sessions, which
// refresh tokens need (see RefreshConfig). A store without it serves plain
// tokens as before. Implementations must be safe for concurrent use, also
// across processes sharing one database.
type SessionStore interface {
	// CreateSession stores a new session; s.ID is set by the caller. An
	// ID already in use gives an error wrapping [ErrDuplicateID]; a user
	// the store does not hold, one wrapping [ErrUserNotFound].
	CreateSession(ctx context.Context, s *DeviceSession) error
	// UpdateSession loads the session with the given ID, calls update with
	// a copy that update may change, and stores the result, atomically
	// with every other call for that session, across processes too: two
	// refreshes racing with one token see one another's generation. If
	// update returns an error nothing is stored and that error is
	// returned. A session the store does not hold gives an error wrapping
	// [ErrTokenNotFound]. update must not change ID or UserID (an error
	// wrapping [ErrIDChanged]).
	UpdateSession(ctx context.Context, id string, update func(*DeviceSession) error) error
	// DeleteSession removes the session; one the store does not hold
	// gives an error wrapping [ErrTokenNotFound].
	DeleteSession(ctx context.Context, id string) error
	// UserSessions returns the sessions of the user, most recently used
	// first. The slice and its sessions are the caller's.
	UserSessions(ctx context.Context, userID string) ([]*DeviceSession, error)
	// DeleteUserSessions removes every session of the user but the one
	// named except ("" for none) and returns how many it removed.
	DeleteUserSessions(ctx context.Context, userID, except string) (int, error)
}
