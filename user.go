package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"slices"
	"time"
)

// User is an account as the Manager sees it.
//
// A User handed out by a [UserStore], by the Manager (VerifyToken, Login)
// or by [FromContext] may be shared with other requests: treat it as
// read-only, and change a copy from [User.Clone] instead. A store never
// changes a user it has handed out (it stores a new value on a write), so
// reading one needs no locking.
type User struct {
	// ID identifies the user in tokens and in the store. It never changes.
	ID string
	// Email is the login name. Stores compare it case-insensitively.
	Email string
	// PasswordHash is a self-describing hash made by [Manager.HashPassword]
	// (bcrypt "$2a$…" or argon2id "$argon2id$…"). Empty means no password
	// login is possible.
	PasswordHash string
	// Active users may log in and use their tokens; inactive ones may not.
	Active bool
	// Confirmed reports whether the account's email address was confirmed.
	// See [Manager.RequireConfirmed].
	Confirmed bool
	// Roles are the role names the user holds. See [Manager.RequireRoles].
	Roles []string
	// Uniquifier is a random string carried inside every token issued to
	// the user. Changing it (see [Manager.RevokeTokens]) makes every
	// outstanding token of the user invalid at once.
	Uniquifier string

	// The trackable fields, updated by every successful password login
	// when the store implements [UserUpdater].

	// LastLoginAt is the time of the login before the current one.
	LastLoginAt time.Time
	// CurrentLoginAt is the time of the most recent login.
	CurrentLoginAt time.Time
	// LastLoginIP is the client address of the login before the current one.
	LastLoginIP string
	// CurrentLoginIP is the client address of the most recent login.
	CurrentLoginIP string
	// LoginCount counts successful password logins.
	LoginCount int
}

// HasRole reports whether u holds the named role.
func (u *User) HasRole(role string) bool {
	return slices.Contains(u.Roles, role)
}

// Clone returns a deep copy of u, which the caller may modify freely: the
// way to change a user obtained from a store or from a context, and the way
// stores keep what they are handed.
func (u *User) Clone() *User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	return &c
}

// NewUniquifier returns a fresh random uniquifier: 32 hexadecimal
// characters, the shape of Flask-Security's fs_uniquifier.
func NewUniquifier() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b[:])
}

// checkEmail accepts a plain email address only: one net/mail parses,
// whose parsed address is the input itself (no display name, angle
// brackets, comments or quoting that parsing would strip).
func checkEmail(email string) error {
	if email == "" {
		return fmt.Errorf("%w: empty", ErrInvalidEmail)
	}
	a, err := mail.ParseAddress(email)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrInvalidEmail, email, err)
	}
	if a.Name != "" || a.Address != email {
		return fmt.Errorf("%w %q: want a plain address such as %q", ErrInvalidEmail, email, a.Address)
	}
	return nil
}

// userKey is the key under which a context carries the authenticated user.
// It is unexported so that no other package can read or overwrite the value.
type userKey struct{}

// grantKey is the key under which a context carries its *userContext, for
// the grant of a context that wraps it.
type grantKey struct{}

// userContext is a context carrying a user, as context.WithValue(parent,
// userKey{}, user) would, in one allocation, with the grant of the
// credential that authenticated the user.
type userContext struct {
	context.Context
	user  *User
	grant grant
}

// grant is what the credential that authenticated a request allows beyond
// naming its user.
type grant struct {
	// via is the scheme that authenticated the request; zero for a user
	// put in the context by NewContext.
	via Scheme
	// authAt is when the user last entered the password (or passed a
	// second factor) for this credential, in Unix seconds; zero when
	// unknown, as for a personal access token.
	authAt int64
	// personal is the personal access token, with via == PersonalAccess.
	personal *PersonalToken
}

func (c *userContext) Value(key any) any {
	switch key.(type) {
	case userKey:
		return c.user
	case grantKey:
		return c
	}
	return c.Context.Value(key)
}

// grantFrom returns the user of ctx and the grant its credential gave.
func grantFrom(ctx context.Context) (*User, grant, bool) {
	c, ok := ctx.(*userContext)
	if !ok {
		c, ok = ctx.Value(grantKey{}).(*userContext)
	}
	if !ok || c.user == nil {
		u, ok := FromContext(ctx)
		return u, grant{}, ok
	}
	return c.user, c.grant, true
}

// withGrant is NewContext with the grant of the credential.
func withGrant(ctx context.Context, u *User, g grant) context.Context {
	return &userContext{Context: ctx, user: u, grant: g}
}

func (c *userContext) String() string { return fmt.Sprintf("%v.WithUser", c.Context) }

// NewContext returns a copy of ctx that carries u. The middlewares call it
// after authenticating a request; tests and custom schemes may call it too.
// The context holds u itself, not a copy: see [User] for the read-only rule.
func NewContext(ctx context.Context, u *User) context.Context {
	return &userContext{Context: ctx, user: u}
}

// FromContext returns the user that authenticated the request whose context
// is ctx, and whether there was one. It never panics. The user may be shared
// with other requests and must not be modified (see [User]).
func FromContext(ctx context.Context) (*User, bool) {
	if c, ok := ctx.(*userContext); ok {
		return c.user, c.user != nil
	}
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
