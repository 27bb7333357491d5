package auth

import (
	"context"
	"time"
)

// PersonalToken is a personal access token as a store keeps it: a
// long-lived credential a user makes for a script, limited to scopes (see
// TokenConfig.Scopes), never the secret itself.
type PersonalToken struct {
	// ID names the token in listings and revocations. It is random and
	// never changes.
	ID string
	// UserID is the owner's ID. The token is not bound to the owner's
	// uniquifier: it outlives logouts, and ends when revoked, when it
	// expires, when the owner is deactivated or sets a new password.
	UserID string
	// Name is the owner's label for the token, such as "deploy script".
	Name string
	// Scopes are what the token may do, in the order given at creation.
	Scopes []string
	// Hash is the SHA-256 of the secret (package
	// github.com/authkit/auth/pat), by which the token is found.
	Hash []byte
	// CreatedAt is when the token was made; LastUsedAt when it last
	// authenticated a request, to within 5 minutes (zero: never);
	// ExpiresAt when it stops working (zero: never).
	CreatedAt, LastUsedAt, ExpiresAt time.Time
}

// PersonalTokenStore is implemented by stores that keep personal access
// tokens (see TokenConfig.Scopes). A store without it serves the other
// credentials as before. Implementations must be safe for concurrent use;
// a store shared by several processes that implements [UserChangeLog]
// must record a change of the owner when a token is deleted, so that
// every process stops accepting it within a second.
//
// A store may also have the method
//
//	PersonalTokenAndOwner(ctx context.Context, hash []byte) (*PersonalToken, *User, error)
//
// which reads a token and its owner in one lookup, with
// PersonalTokenByHash's errors (MemoryStore and sqlstore's Store have it):
// the Manager then checks a token neither it nor its owner is cached with
// one lookup instead of two.
type PersonalTokenStore interface {
	// CreatePersonalToken stores a new token; t.ID is set by the caller.
	// An ID or hash already in use gives an error wrapping
	// [ErrDuplicateID]; a user the store does not hold, one wrapping
	// [ErrUserNotFound].
	CreatePersonalToken(ctx context.Context, t *PersonalToken) error
	// PersonalTokenByHash returns the token whose Hash is hash, or an
	// error wrapping [ErrTokenNotFound]. The token is the caller's.
	PersonalTokenByHash(ctx context.Context, hash []byte) (*PersonalToken, error)
	// UserPersonalTokens returns the tokens of the user, newest first.
	// The slice and its tokens are the caller's.
	UserPersonalTokens(ctx context.Context, userID string) ([]*PersonalToken, error)
	// TouchPersonalToken sets the LastUsedAt of the token with the given
	// ID to at, unless it is already later; a token the store does not
	// hold gives an error wrapping [ErrTokenNotFound].
	TouchPersonalToken(ctx context.Context, id string, at time.Time) error
	// DeletePersonalToken removes the token with the given ID; one the
	// store does not hold gives an error wrapping [ErrTokenNotFound].
	DeletePersonalToken(ctx context.Context, id string) error
	// DeleteUserPersonalTokens removes every token of the user and returns
	// how many it removed.
	DeleteUserPersonalTokens(ctx context.Context, userID string) (int, error)
}
