package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

// Defaults of [Config].
const (
	// DefaultTokenSalt is the salt of the Manager's tokens when
	// Config.TokenSalt is empty.
	DefaultTokenSalt = "authkit-token" // #nosec G101 -- a public salt, documented; not a secret
	// DefaultTokenMaxAge is how long a token is valid when
	// Config.TokenMaxAge is zero.
	DefaultTokenMaxAge = 24 * time.Hour
	// DefaultMaxBodyBytes bounds login request bodies when
	// Config.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 16 << 10
	// DefaultMaxPasswordBytes bounds passwords when
	// Config.MaxPasswordBytes is zero.
	DefaultMaxPasswordBytes = 1024
	// DefaultMinPasswordLength is the shortest new password, in
	// characters, when Config.MinPasswordLength is zero.
	DefaultMinPasswordLength = 8
	// DefaultRealm is the HTTP authentication realm when Config.Realm is empty.
	DefaultRealm = "auth"
	// DefaultTokenHeader is the header RequireToken reads first.
	DefaultTokenHeader = "Authentication-Token"
	// DefaultTokenQueryParam is the query parameter RequireToken reads.
	DefaultTokenQueryParam = "auth_token"
)

// MinKeyBytes is the shortest signing key New accepts.
const MinKeyBytes = 16

// Config holds a Manager's optional settings. The zero value of every field
// means the default given in its comment.
type Config struct {
	// TokenSalt namespaces token signatures. Default DefaultTokenSalt.
	TokenSalt string
	// TokenDigest is the HMAC hash. Default itsdangerous.SHA256.
	TokenDigest itsdangerous.Digest
	// TokenKeyDerivation turns key and salt into the HMAC key. Default
	// itsdangerous.DjangoConcat.
	TokenKeyDerivation itsdangerous.KeyDerivation
	// OldKeys are retired signing keys that still verify tokens, newest
	// first. New tokens are always signed with the key given to New.
	OldKeys [][]byte
	// TokenMaxAge is how long a token stays valid. Default
	// DefaultTokenMaxAge (24 h); negative means tokens never expire.
	TokenMaxAge time.Duration

	// TokenHeader is the header RequireToken reads. Default DefaultTokenHeader.
	TokenHeader string
	// TokenQueryParam is the query parameter RequireToken reads. Default
	// DefaultTokenQueryParam.
	TokenQueryParam string
	// DisableHeaderToken, DisableBearerToken and DisableQueryToken switch
	// off one of the places RequireToken looks for a token.
	DisableHeaderToken, DisableBearerToken, DisableQueryToken bool

	// PasswordScheme is the hash written for new passwords:
	// [passhash.Bcrypt] (the default) or [passhash.Argon2id]. Hashes of
	// every scheme passhash reads are verified, whatever this is.
	PasswordScheme passhash.Scheme
	// BcryptCost is the bcrypt work factor. Default 12.
	BcryptCost int
	// Argon2 holds the argon2id parameters; zero fields take defaults.
	Argon2 passhash.Argon2Params
	// MaxPasswordBytes bounds the length of a password, which bounds the
	// cost of hashing it. Default DefaultMaxPasswordBytes. Bcrypt reads
	// at most 72 bytes regardless; see [passhash.Bcrypt].
	MaxPasswordBytes int
	// MinPasswordLength is the fewest characters (Unicode code points) a
	// new password may have, checked by [Manager.NewUser] and
	// [Manager.SetPassword]. Default DefaultMinPasswordLength.
	MinPasswordLength int

	// Throttle configures the throttling of failed password checks; it is
	// on by default. See [ThrottleConfig].
	Throttle ThrottleConfig
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header is believed when finding the client address
	// (for throttling and the trackable fields). Default none: the client
	// is RemoteAddr.
	TrustedProxies []netip.Prefix
	// UserCache configures the verified-user cache, off by default. See
	// [UserCacheConfig].
	UserCache UserCacheConfig
	// AuditLogger receives the audit events (see [EventLoginSucceeded] and
	// the others). Default: Logger. To drop them, give a logger whose
	// handler discards.
	AuditLogger *slog.Logger

	// SessionKeys are the keys of the session and remember-me cookies, in
	// pairs: a hash key of at least 32 bytes, then an AES block key of 16,
	// 24 or 32 bytes. The first pair makes new cookies; every pair reads
	// them, so to rotate, put a new pair first and drop the oldest once
	// its cookies have expired. Default: one pair derived from the signing
	// key (HMAC-SHA256 over fixed labels) and one from each of OldKeys.
	SessionKeys [][]byte
	// SessionCookieName names the session cookie. Default
	// DefaultSessionCookieName ("auth_session").
	SessionCookieName string
	// SessionCookiePath is the Path of both cookies. Default "/".
	SessionCookiePath string
	// SessionCookieDomain is the Domain of both cookies. Default none: the
	// cookies go only to the host that set them.
	SessionCookieDomain string
	// SessionInsecure leaves the Secure attribute off the cookies, so that
	// browsers send them over plain HTTP. Only for development: browsers
	// treat http://localhost and http://127.0.0.1 as secure contexts and
	// keep Secure cookies there anyway. Default false: cookies are Secure.
	// Both cookies are always HttpOnly.
	SessionInsecure bool
	// SessionSameSite is the SameSite attribute of both cookies. Default
	// http.SameSiteLaxMode; SameSiteNoneMode needs Secure cookies.
	SessionSameSite http.SameSite
	// SessionIdleTimeout ends a session that made no request for this long.
	// The cookie is re-issued when its last-seen time is older than an
	// eighth of it. Default DefaultSessionIdleTimeout (2 h); negative means
	// no idle timeout.
	SessionIdleTimeout time.Duration
	// SessionMaxAge ends a session this long after the login, however
	// active. Default DefaultSessionMaxAge (24 h); negative means no limit.
	SessionMaxAge time.Duration
	// RememberCookieName names the remember-me cookie, which starts a new
	// session when the session has ended. Default
	// DefaultRememberCookieName ("auth_remember").
	RememberCookieName string
	// RememberMaxAge is how long after the login the remember-me cookie
	// works. Default DefaultRememberMaxAge (30 days); negative disables
	// remember-me.
	RememberMaxAge time.Duration
	// LoginPage is where browsers are sent when a route that accepts
	// [Session] rejects them (with next=the page they asked for), after a
	// failed form login (with error=1) and after logout. The application
	// serves it. Default DefaultLoginPage ("/login").
	LoginPage string
	// LoginRedirect is where a browser goes after logging in when the
	// form gives no safe next. Default DefaultLoginRedirect ("/").
	LoginRedirect string

	// MaxBodyBytes bounds request bodies read by the handlers; larger ones
	// get 413. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Realm is the realm of WWW-Authenticate challenges. Default DefaultRealm.
	Realm string
	// ErrorHandler, if set, writes every error response instead of the
	// built-in JSON. It is called after the WWW-Authenticate header (if
	// any) is set, with the status and an error that matches one of the
	// package's sentinels; it must not send err's text to the client.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)
	// Logger receives store failures and other server-side errors. It
	// never receives tokens, passwords or keys. Default slog.Default().
	Logger *slog.Logger

	// Flask, if set, makes the Manager share users with a Flask-Security
	// application: accept its tokens and password hashes, and write
	// hashes (and, on request, tokens) it accepts. See [FlaskConfig].
	Flask *FlaskConfig
}

// Manager authenticates users of a [UserStore]: it checks passwords, issues
// and verifies tokens, and provides the HTTP handlers and middlewares. It
// is immutable after [New] and safe for concurrent use.
type Manager struct {
	store   UserStore
	updater UserUpdater // nil if the store cannot be written
	tokens  *itsdangerous.Serializer
	hasher  hasher
	dummy   string // a hash of the configured scheme, checked for unknown users

	maxAge      time.Duration // < 0: never expires
	tokenHeader string
	tokenQuery  string
	noHeader    bool
	noBearer    bool
	noQuery     bool
	maxPassword int
	minPassword int
	maxBody     int64
	throttle    *throttle  // nil when disabled
	cache       *userCache // nil when disabled
	proxies     []netip.Prefix
	auditLog    *slog.Logger
	sessions    sessions // browser session settings; see session.go
	realm       string
	onError     func(w http.ResponseWriter, r *http.Request, status int, err error)
	log         *slog.Logger
	now         func() time.Time

	flask *flaskTokens // Flask-Security tokens; nil unless Config.Flask.SecretKey is set
}

// New returns a Manager that reads users from store and signs tokens with
// key, which must be at least MinKeyBytes long and secret. If store also
// implements [UserUpdater], logins update the trackable fields and logout
// and revocation work.
func New(store UserStore, key []byte, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("auth: nil UserStore")
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("auth: signing key of %d bytes is shorter than %d", len(key), MinKeyBytes)
	}
	m := &Manager{
		store:       store,
		maxAge:      cfg.TokenMaxAge,
		tokenHeader: stringOr(cfg.TokenHeader, DefaultTokenHeader),
		tokenQuery:  stringOr(cfg.TokenQueryParam, DefaultTokenQueryParam),
		noHeader:    cfg.DisableHeaderToken,
		noBearer:    cfg.DisableBearerToken,
		noQuery:     cfg.DisableQueryToken,
		maxPassword: orDefault(cfg.MaxPasswordBytes, DefaultMaxPasswordBytes),
		minPassword: orDefault(cfg.MinPasswordLength, DefaultMinPasswordLength),
		throttle:    newThrottle(cfg.Throttle),
		cache:       newUserCache(cfg.UserCache),
		proxies:     append([]netip.Prefix(nil), cfg.TrustedProxies...),
		maxBody:     cfg.MaxBodyBytes,
		realm:       stringOr(cfg.Realm, DefaultRealm),
		onError:     cfg.ErrorHandler,
		log:         cfg.Logger,
		now:         time.Now,
	}
	m.updater, _ = store.(UserUpdater)
	if m.maxAge == 0 {
		m.maxAge = DefaultTokenMaxAge
	}
	if m.maxBody <= 0 {
		m.maxBody = DefaultMaxBodyBytes
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.auditLog = cfg.AuditLogger
	if m.auditLog == nil {
		m.auditLog = m.log
	}
	if m.noHeader && m.noBearer && m.noQuery {
		return nil, errors.New("auth: every token source is disabled")
	}
	digest := cfg.TokenDigest
	if digest == "" {
		digest = itsdangerous.SHA256
	}
	sc := itsdangerous.Config{
		Salt:          stringOr(cfg.TokenSalt, DefaultTokenSalt),
		Digest:        digest,
		KeyDerivation: cfg.TokenKeyDerivation,
		OldKeys:       cloneKeys(cfg.OldKeys),
		Now:           func() time.Time { return m.now() },
	}
	if m.maxAge > 0 {
		sc.MaxAge = m.maxAge
	}
	var err error
	if m.tokens, err = itsdangerous.New(bytesClone(key), sc); err != nil {
		return nil, fmt.Errorf("auth: token settings: %w", err)
	}
	if m.sessions, err = newSessions(key, cfg); err != nil {
		return nil, err
	}
	if m.hasher, err = newHasher(cfg.PasswordScheme, cfg.BcryptCost, cfg.Argon2); err != nil {
		return nil, err
	}
	if err = m.setupFlask(store, key, cfg); err != nil {
		return nil, err
	}
	if m.dummy, err = m.hasher.hash("not a password: equalizes the work for unknown users"); err != nil {
		return nil, err
	}
	return m, nil
}

func stringOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func bytesClone(b []byte) []byte { return append([]byte(nil), b...) }

func cloneKeys(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytesClone(k)
	}
	return out
}

// TokenMaxAge returns how long the Manager's tokens stay valid; zero or
// less means they never expire.
func (m *Manager) TokenMaxAge() time.Duration {
	if m.flask != nil && m.flask.mint {
		return m.flask.maxAge
	}
	if m.maxAge < 0 {
		return 0
	}
	return m.maxAge
}

// HashPassword returns a self-describing hash of password in the configured
// scheme. It returns [ErrPasswordTooLong] for passwords over the limit.
func (m *Manager) HashPassword(password string) (string, error) {
	if len(password) > m.maxPassword {
		return "", fmt.Errorf("%w: over %d bytes", ErrPasswordTooLong, m.maxPassword)
	}
	return m.hasher.hash(password)
}

// CheckPassword reports whether password matches the stored hash: nil if it
// does, [ErrPasswordMismatch] if not, [ErrUnsupportedHash] for a hash in an
// unknown scheme.
func (m *Manager) CheckPassword(hash, password string) error {
	if len(password) > m.maxPassword {
		return ErrPasswordMismatch
	}
	return m.hasher.check(hash, password)
}

// NewUser returns an active user with the given email, password (hashed)
// and roles and a fresh uniquifier, ready to be stored with
// [UserAdmin.CreateUser]. It does not store it.
func (m *Manager) NewUser(email, password string, roles ...string) (*User, error) {
	if email == "" {
		return nil, errors.New("auth: empty email")
	}
	if err := m.checkNewPassword(password); err != nil {
		return nil, err
	}
	hash, err := m.HashPassword(password)
	if err != nil {
		return nil, err
	}
	return &User{
		Email:        email,
		PasswordHash: hash,
		Active:       true,
		Roles:        append([]string(nil), roles...),
		Uniquifier:   NewUniquifier(),
	}, nil
}

// IssueToken returns a new token for u, carrying its ID and uniquifier,
// or with FlaskConfig.MintTokens a Flask-Security token carrying the
// uniquifier.
func (m *Manager) IssueToken(u *User) (string, error) {
	if m.flask != nil && m.flask.mint {
		return m.flask.issue(u)
	}
	if u == nil || u.ID == "" || u.Uniquifier == "" {
		return "", errors.New("auth: cannot issue a token for a user without ID or uniquifier")
	}
	return signClaims(m.tokens, u.ID, u.Uniquifier), nil
}

// ParseToken checks a token's signature and age and returns the ID of the
// user it names, without consulting the store: the token may still have
// been revoked. Use [Manager.VerifyToken] to authenticate.
func (m *Manager) ParseToken(token string) (userID string, err error) {
	seg, _, err := m.tokens.Unsign(token)
	if err != nil {
		return "", tokenError(err)
	}
	var scratch [256]byte
	id, _, err := parseClaims(m.tokens, seg, scratch[:0])
	return id, err
}

// VerifyToken checks token and returns the active user it belongs to. The
// error wraps [ErrInvalidToken] (bad signature, unknown or inactive user,
// rotated uniquifier), [ErrExpiredToken], or [ErrStoreUnavailable]. With
// Config.Flask it also accepts Flask-Security tokens; see [FlaskConfig].
func (m *Manager) VerifyToken(ctx context.Context, token string) (*User, error) {
	seg, _, err := m.tokens.Unsign(token)
	if err == itsdangerous.ErrBadSignature && m.flask != nil {
		return m.verifyFlaskToken(ctx, token)
	}
	if err != nil {
		return nil, tokenError(err)
	}
	var scratch [256]byte
	id, uniq, err := parseClaims(m.tokens, seg, scratch[:0])
	if err != nil {
		return nil, err
	}
	if m.cache != nil {
		if u, ok := m.cache.get(id, uniq, m.now()); ok {
			return u, nil
		}
	}
	u, err := m.store.UserByID(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return nil, errUnknownTokenUser
		}
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if subtle.ConstantTimeCompare([]byte(u.Uniquifier), uniq) != 1 {
		return nil, errRevokedToken
	}
	if !u.Active {
		return nil, errInactiveTokenUser
	}
	if m.cache != nil {
		m.cache.put(u, m.now())
	}
	return u, nil
}

// Authenticate checks an email and password and returns the active user
// they belong to. An unknown email, a wrong password and an inactive account
// all give [ErrInvalidCredentials] after the same hash work; a store failure
// gives [ErrStoreUnavailable]; too many recent failures for the account give
// a [*ThrottledError]. It does not record the login; see [Manager.Login].
func (m *Manager) Authenticate(ctx context.Context, email, password string) (*User, error) {
	return m.authenticate(ctx, email, password, "")
}

// authenticate is Authenticate with the client address, which the
// throttle and the audit log use when it is known.
func (m *Manager) authenticate(ctx context.Context, email, password, ip string) (*User, error) {
	accountWait, err := m.throttleWait(ctx, email, ip)
	if err != nil {
		return nil, err
	}
	if email == "" || len(password) > m.maxPassword {
		_ = m.hasher.check(m.dummy, password[:min(len(password), bcryptMaxBytes)])
		reason := reasonTooLong
		if email == "" {
			reason = reasonNoEmail
		}
		return nil, m.loginFailed(ctx, email, ip, nil, reason)
	}
	u, err := m.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound):
		u = nil
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if accountWait > 0 && (u == nil || ip == "" || (ip != u.CurrentLoginIP && ip != u.LastLoginIP)) {
		m.audit(ctx, EventThrottled, slog.String("ip", ip), slog.String("email_hash", emailHash(email)),
			slog.Duration("retry_after", accountWait))
		return nil, &ThrottledError{RetryAfter: accountWait}
	}
	if u == nil {
		_ = m.hasher.check(m.dummy, password)
		return nil, m.loginFailed(ctx, email, ip, nil, reasonUnknownUser)
	}
	err = m.hasher.check(u.PasswordHash, password)
	if errors.Is(err, ErrUnsupportedHash) {
		// Tell the operator, not the client, and spend the same work.
		m.log.ErrorContext(ctx, "auth: cannot verify password", "user_id", u.ID, "error", err.Error())
		_ = m.hasher.check(m.dummy, password)
		return nil, m.loginFailed(ctx, email, ip, u, reasonBadHash)
	}
	if err != nil {
		return nil, m.loginFailed(ctx, email, ip, u, reasonBadPassword)
	}
	if !u.Active {
		return nil, m.loginFailed(ctx, email, ip, u, reasonInactive)
	}
	if m.throttle != nil {
		if err := m.throttle.store.Reset(ctx, accountKey(email)); err != nil {
			m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
		}
	}
	return u, nil
}

// throttleWait refuses the attempt if the client address must wait, and
// otherwise returns how long the account must (which the caller applies
// once it knows whether the client is at one of the owner's addresses).
func (m *Manager) throttleWait(ctx context.Context, email, ip string) (time.Duration, error) {
	t := m.throttle
	if t == nil {
		return 0, nil
	}
	now := m.now()
	if ip != "" {
		wait, err := t.wait(ctx, ipKey(ip), now, t.maxIP)
		if err != nil {
			return 0, fmt.Errorf("%w: throttle: %w", ErrStoreUnavailable, err)
		}
		if wait > 0 {
			m.audit(ctx, EventThrottled, slog.String("ip", ip), slog.Duration("retry_after", wait))
			return 0, &ThrottledError{RetryAfter: wait}
		}
	}
	wait, err := t.wait(ctx, accountKey(email), now, t.maxAccount)
	if err != nil {
		return 0, fmt.Errorf("%w: throttle: %w", ErrStoreUnavailable, err)
	}
	return wait, nil
}

// loginFailed counts a failed check against the address and the account,
// writes the audit event and returns ErrInvalidCredentials.
func (m *Manager) loginFailed(ctx context.Context, email, ip string, u *User, reason string) error {
	attrs := []slog.Attr{slog.String("reason", reason), slog.String("ip", ip)}
	if u != nil {
		attrs = append(attrs, slog.String("user_id", u.ID))
	} else if email != "" {
		attrs = append(attrs, slog.String("email_hash", emailHash(email)))
	}
	m.audit(ctx, EventLoginFailed, attrs...)
	if t := m.throttle; t != nil {
		now := m.now()
		var err error
		if ip != "" {
			_, err = t.store.AddFailure(ctx, ipKey(ip), now, t.forget)
		}
		if _, aerr := t.store.AddFailure(ctx, accountKey(email), now, t.forget); aerr != nil {
			err = aerr
		}
		if err != nil {
			m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
		}
	}
	return ErrInvalidCredentials
}

// Login authenticates email and password like [Manager.Authenticate] and, if
// the store implements [UserUpdater], records the login in the trackable
// fields (with ip as the client address) and upgrades a hash weaker than
// the configured scheme, in one atomic update. It returns the updated user.
func (m *Manager) Login(ctx context.Context, email, password, ip string) (*User, error) {
	u, err := m.authenticate(ctx, email, password, ip)
	if err != nil {
		return nil, err
	}
	m.audit(ctx, EventLoginSucceeded, slog.String("user_id", u.ID), slog.String("ip", ip))
	if m.updater == nil {
		return u, nil
	}
	var rehash string
	if m.hasher.needsRehash(u.PasswordHash) {
		if h, err := m.hasher.hash(password); err == nil {
			rehash = h
		}
	}
	now := m.now().UTC()
	err = m.updater.UpdateUser(ctx, u.ID, func(v *User) error {
		v.LastLoginAt, v.CurrentLoginAt = v.CurrentLoginAt, now
		v.LastLoginIP, v.CurrentLoginIP = v.CurrentLoginIP, ip
		v.LoginCount++
		if rehash != "" && v.PasswordHash == u.PasswordHash {
			v.PasswordHash = rehash
		}
		u = v.Clone()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: recording login: %w", ErrStoreUnavailable, err)
	}
	return u, nil
}

// RevokeTokens gives the user a new uniquifier, so every token issued to
// the user so far stops verifying at once ("log out everywhere").
func (m *Manager) RevokeTokens(ctx context.Context, id string) error {
	if m.updater == nil {
		return ErrReadOnlyStore
	}
	err := m.updater.UpdateUser(ctx, id, func(u *User) error {
		u.Uniquifier = NewUniquifier()
		return nil
	})
	m.ForgetUser(id)
	if err == nil {
		m.audit(ctx, EventTokensRevoked, slog.String("user_id", id))
	}
	return err
}

// SetPassword stores a new hash of password for the user and rotates the
// uniquifier, so tokens issued before the change stop verifying.
func (m *Manager) SetPassword(ctx context.Context, id, password string) error {
	if m.updater == nil {
		return ErrReadOnlyStore
	}
	if err := m.checkNewPassword(password); err != nil {
		return err
	}
	hash, err := m.HashPassword(password)
	if err != nil {
		return err
	}
	err = m.updater.UpdateUser(ctx, id, func(u *User) error {
		u.PasswordHash = hash
		u.Uniquifier = NewUniquifier()
		return nil
	})
	m.ForgetUser(id)
	if err == nil {
		m.audit(ctx, EventPasswordSet, slog.String("user_id", id))
	}
	return err
}

// checkNewPassword applies the length policy to a password being set.
func (m *Manager) checkNewPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < m.minPassword {
		return fmt.Errorf("%w: %d characters, at least %d needed", ErrPasswordTooShort, n, m.minPassword)
	}
	if len(password) > m.maxPassword {
		return fmt.Errorf("%w: over %d bytes", ErrPasswordTooLong, m.maxPassword)
	}
	return nil
}
