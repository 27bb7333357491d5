package flask

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
)

// The purposes of the links the account handler mails; see
// [auth.LinkCodec].
const (
	purposeConfirm     = "confirm"
	purposeReset       = "reset"
	purposeChangeEmail = "change-email"
)

// FsUniquifierLookup is implemented by stores over a Flask-Security user
// table whose fs_uniquifier is not the users' [auth.User].Uniquifier:
// tables with the optional fs_token_uniquifier column, which such stores
// map to Uniquifier, as sqlstore.FlaskStore does. The links Flask-Security
// mails name the user by fs_uniquifier, so [Links] uses these methods when
// its store has them, and Uniquifier as fs_uniquifier when it does not.
type FsUniquifierLookup interface {
	// UserByFsUniquifier returns the user whose fs_uniquifier equals
	// uniq, compared exactly. If there is none, or uniq is empty, it
	// returns an error that wraps [auth.ErrUserNotFound].
	UserByFsUniquifier(ctx context.Context, uniq string) (*auth.User, error)
	// FsUniquifier returns the fs_uniquifier of the user whose ID is id,
	// or an error that wraps [auth.ErrUserNotFound] if there is no such
	// user.
	FsUniquifier(ctx context.Context, id string) (string, error)
}

// Links makes and reads the tokens of the links a Flask-Security
// application mails: email confirmation and password reset, and email
// change, which Flask-Security 5.1.2 lacks (see the package
// documentation). It is an [auth.LinkCodec]: give it to
// auth.AccountConfig.Links, and the links the application mailed work on
// the Go side, and those the Go side mails work in the application. It is
// safe for concurrent use.
type Links struct {
	confirm, reset, changeEmail *itsdangerous.Serializer // SHA-1, django-concat, no max age
	lookup                      auth.UniquifierLookup
	fs                          FsUniquifierLookup // nil: Uniquifier is fs_uniquifier
	hash                        dataHasher
	now                         func() time.Time
}

// The Links' interfaces, checked at compile time.
var _ auth.LinkCodec = (*Links)(nil)

// NewLinks returns the Links of the application whose settings c holds,
// finding users in store; if store also implements [FsUniquifierLookup],
// users are found, and links made, by its fs_uniquifier. c.SecretKey is
// required, and the salts of the three purposes and of auth tokens
// (c.RememberSalt) must differ, so that no token is accepted for another
// purpose.
func NewLinks(c Config, store auth.UniquifierLookup) (*Links, error) {
	switch {
	case len(c.SecretKey) == 0:
		return nil, errors.New("flask: Config.SecretKey (SECRET_KEY) is required for links")
	case store == nil:
		return nil, errors.New("flask: links need a store that implements auth.UniquifierLookup")
	}
	l := &Links{lookup: store, now: c.Now}
	l.fs, _ = store.(FsUniquifierLookup)
	if l.now == nil {
		l.now = time.Now
	}
	salts := []struct {
		field, setting, salt string
		ser                  **itsdangerous.Serializer
	}{
		{"ConfirmSalt", "SECURITY_CONFIRM_SALT", orDefault(c.ConfirmSalt, "confirm-salt"), &l.confirm},
		{"ResetSalt", "SECURITY_RESET_SALT", orDefault(c.ResetSalt, "reset-salt"), &l.reset},
		{"ChangeEmailSalt", "SECURITY_CHANGE_EMAIL_SALT", orDefault(c.ChangeEmailSalt, "change-email-salt"), &l.changeEmail},
		{"RememberSalt", "SECURITY_REMEMBER_SALT", orDefault(c.RememberSalt, "remember-salt"), nil},
	}
	for i, s := range salts {
		for _, o := range salts[:i] {
			if s.salt == o.salt {
				return nil, fmt.Errorf("flask: Config.%s and Config.%s (%s and %s) are both %q: each kind of token needs a salt of its own", o.field, s.field, o.setting, s.setting, s.salt)
			}
		}
		if s.ser == nil {
			continue
		}
		ser, err := itsdangerous.New(c.SecretKey, itsdangerous.Config{
			Salt:          s.salt,
			Digest:        itsdangerous.SHA1,
			KeyDerivation: itsdangerous.DjangoConcat,
			OldKeys:       c.SecretKeyFallbacks,
			Now:           func() time.Time { return l.now() },
		})
		if err != nil {
			return nil, fmt.Errorf("flask: %w", err)
		}
		*s.ser = ser
	}
	var err error
	if l.hash, err = newDataHasher(c.HashingSchemes); err != nil {
		return nil, err
	}
	return l, nil
}

// orDefault returns s, or def if s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// serializer returns the serializer of purpose, nil for an unknown one.
func (l *Links) serializer(purpose string) *itsdangerous.Serializer {
	switch purpose {
	case purposeConfirm:
		return l.confirm
	case purposeReset:
		return l.reset
	case purposeChangeEmail:
		return l.changeEmail
	}
	return nil
}

// MakeLinkToken implements [auth.LinkCodec]: it returns the token
// Flask-Security 5.1.2 mails for purpose. For "confirm" that is
// generate_confirmation_token's, [fs_uniquifier, hash_data(email)]; for
// "reset" generate_reset_password_token's, [fs_uniquifier,
// hash_data(password hash)], with null for a user without a password;
// for "change-email", [fs_uniquifier, hash_data(email), new email], as
// later Flask-Security versions write it. email is the new address for
// "change-email" and must be empty for the others. When the store
// implements [FsUniquifierLookup], the fs_uniquifier is read from it.
func (l *Links) MakeLinkToken(ctx context.Context, purpose string, u *auth.User, email string) (string, error) {
	ser := l.serializer(purpose)
	switch {
	case ser == nil:
		return "", fmt.Errorf("flask: unknown link purpose %q", purpose)
	case u == nil:
		return "", errors.New("flask: cannot make a link token for a nil user")
	case (purpose == purposeChangeEmail) != (email != ""):
		if email == "" {
			return "", errors.New("flask: a change-email link token needs the new email")
		}
		return "", fmt.Errorf("flask: a %s link token takes no email", purpose)
	case !utf8.ValidString(email):
		// JSON would carry another address than the one given.
		return "", errors.New("flask: the new email is not valid UTF-8")
	}
	uniq := u.Uniquifier
	if l.fs != nil {
		// auth.LinkCodec gives no context to make a token with.
		var err error
		if uniq, err = l.fs.FsUniquifier(ctx, u.ID); err != nil {
			if !errors.Is(err, auth.ErrUserNotFound) {
				err = fmt.Errorf("%w: %w", auth.ErrStoreUnavailable, err)
			}
			return "", fmt.Errorf("flask: reading the fs_uniquifier of user %q: %w", u.ID, err)
		}
	}
	if uniq == "" {
		return "", fmt.Errorf("flask: cannot make a link token for user %q, who has no fs_uniquifier", u.ID)
	}
	payload := []any{uniq, nil}
	var err error
	switch purpose {
	case purposeConfirm:
		payload[1], err = l.hash.hash(u.Email)
	case purposeReset:
		if u.PasswordHash != "" {
			payload[1], err = l.hash.hash(u.PasswordHash)
		}
	case purposeChangeEmail:
		payload[1], err = l.hash.hash(u.Email)
		payload = append(payload, email)
	}
	if err != nil {
		return "", fmt.Errorf("flask: cannot make a %s link token: %w", purpose, err)
	}
	tok, err := ser.Encode(payload)
	if err != nil {
		return "", fmt.Errorf("flask: cannot make a %s link token: %w", purpose, err)
	}
	return tok, nil
}

// ReadLinkToken implements [auth.LinkCodec]: it checks a token as
// Flask-Security 5.1.2's confirm_email_token_status and
// reset_password_token_status do (and, for "change-email", as later
// versions check theirs) and returns the user it names and, for
// "change-email", the new address. Errors match [auth.ErrInvalidToken]
// when the token is not one of purpose's, names no user, or no longer
// matches the user's email ("confirm", "change-email") or password hash
// ("reset"); [auth.ErrExpiredToken], with the user (and new address),
// when it is older than maxAge, counted in whole seconds as itsdangerous
// does, or stamped in the future; [auth.ErrStoreUnavailable] when the
// store fails. An expired token that no longer matches the user is
// invalid, as the application has it.
func (l *Links) ReadLinkToken(ctx context.Context, purpose, token string, maxAge time.Duration) (*auth.User, string, error) {
	ser := l.serializer(purpose)
	if ser == nil {
		return nil, "", fmt.Errorf("%w: flask: unknown link purpose %q", auth.ErrInvalidToken, purpose)
	}
	payload, issued, err := ser.DecodeJSON(token)
	switch {
	case err == nil:
	case errors.Is(err, itsdangerous.ErrBadPayload):
		return nil, "", fmt.Errorf("%w: %w", auth.ErrTokenPayload, err)
	default:
		return nil, "", fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	}
	claims, err := parseLinkClaims(purpose, payload)
	if err != nil {
		return nil, "", err
	}
	u, err := l.userByFsUniquifier(ctx, claims.uniq)
	if err != nil {
		return nil, "", err
	}
	var current string // what the token's hash must be of
	switch purpose {
	case purposeConfirm, purposeChangeEmail:
		current = u.Email
	case purposeReset:
		current = u.PasswordHash
	}
	var ok bool
	if purpose == purposeReset && (claims.hashNull || current == "") {
		// A reset token made for a user without a password holds null,
		// and stays valid while the user has none. (The application
		// accepts any reset token while the user has no password; here
		// one made while there was a password is refused.)
		ok = claims.hashNull && current == ""
	} else {
		ok = l.hash.verify(claims.hash, current)
	}
	if !ok {
		return nil, "", fmt.Errorf("%w: flask: the %s link no longer matches the user", auth.ErrInvalidToken, purpose)
	}
	// itsdangerous counts whole seconds, and calls a token stamped in the
	// future expired.
	if age := l.now().Unix() - issued.Unix(); age < 0 || float64(age) > maxAge.Seconds() {
		return u, claims.email, fmt.Errorf("%w: flask: %s link made %ds ago, valid for %v", auth.ErrExpiredToken, purpose, age, maxAge)
	}
	return u, claims.email, nil
}

// userByFsUniquifier returns the user whose fs_uniquifier is uniq, with
// an error matching auth.ErrInvalidToken if there is none, or
// auth.ErrStoreUnavailable if the store fails.
func (l *Links) userByFsUniquifier(ctx context.Context, uniq string) (*auth.User, error) {
	var u *auth.User
	var err error
	if l.fs != nil {
		u, err = l.fs.UserByFsUniquifier(ctx, uniq)
	} else {
		u, err = l.lookup.UserByUniquifier(ctx, uniq)
		// The store matched; compare again in case its comparison is
		// looser (a case-insensitive collation, say).
		if err == nil && subtle.ConstantTimeCompare([]byte(u.Uniquifier), []byte(uniq)) != 1 {
			err = auth.ErrUserNotFound
		}
	}
	switch {
	case err == nil:
		return u, nil
	case errors.Is(err, auth.ErrUserNotFound):
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	default:
		return nil, fmt.Errorf("%w: %w", auth.ErrStoreUnavailable, err)
	}
}

// linkClaims are the contents of a link token's payload.
type linkClaims struct {
	uniq     string // fs_uniquifier
	hash     string // hash_data of the email or password hash
	hashNull bool   // the hash is null: a reset token for a user without a password
	email    string // the new email of a change-email token
}

// parseLinkClaims reads the payload of a token for purpose: a JSON list
// of exactly two elements, [fs_uniquifier, hash] (hash null allowed for
// "reset"), or three for "change-email", [fs_uniquifier, hash, new email].
func parseLinkClaims(purpose string, payload []byte) (linkClaims, error) {
	bad := func(what string) (linkClaims, error) {
		return linkClaims{}, fmt.Errorf("%w: Flask-Security %s link token %s", auth.ErrTokenPayload, purpose, what)
	}
	var list []json.RawMessage
	if json.Unmarshal(payload, &list) != nil {
		return bad("is not a JSON list")
	}
	n := 2
	if purpose == purposeChangeEmail {
		n = 3
	}
	if len(list) != n {
		return bad(fmt.Sprintf("is a list of %d elements, not %d", len(list), n))
	}
	var c linkClaims
	for i, raw := range list {
		var s *string
		if json.Unmarshal(raw, &s) != nil {
			return bad(fmt.Sprintf("has a non-string element %d", i))
		}
		switch {
		case s == nil && i == 1 && purpose == purposeReset:
			c.hashNull = true
		case s == nil || *s == "":
			return bad(fmt.Sprintf("has an empty element %d", i))
		case i == 0:
			c.uniq = *s
		case i == 1:
			c.hash = *s
		default:
			c.email = *s
		}
	}
	return c, nil
}
