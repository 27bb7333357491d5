package auth

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

// Config holds a [Manager]'s optional settings, grouped by the part of the
// Manager they configure. One rule holds for every field, here and in the
// groups: its zero value means the default given in its comment. For the
// durations that can be switched off, a negative value means none (no
// expiry, no limit).
type Config struct {
	// Token configures the Manager's tokens and where requests carry them.
	Token TokenConfig
	// Password configures how passwords are hashed and which are accepted.
	Password PasswordConfig
	// Session configures browser sessions: the session and remember-me
	// cookies and the login page.
	Session SessionConfig
	// Throttle configures the throttling of failed password checks; it is
	// on by default.
	Throttle ThrottleConfig
	// UserCache configures the verified-user cache; it is on by default
	// (except over a MemoryStore).
	UserCache UserCacheConfig
	// Refresh configures refresh tokens and device sessions; they are off
	// by default.
	Refresh RefreshConfig
	// TwoFactor configures second factors (authenticator apps); they are
	// off by default.
	TwoFactor TwoFactorConfig
	// Passkeys, if set, turns on passkeys (WebAuthn) for signing in and as
	// second factors; package github.com/authkit/auth/passkey makes one.
	// The store must implement [PasskeyStore]. Default none.
	Passkeys Passkeys
	// Account configures the account lifecycle of
	// [Manager.AccountHandler]: registration, confirmation, password reset
	// and change, email change. It is off until a Mailer is set.
	Account AccountConfig

	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header is believed when finding the client address
	// (for throttling, the audit log and the trackable fields). Default
	// none: the client is RemoteAddr.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes bounds request bodies read by the handlers; larger ones
	// get 413. Default 16 KiB.
	MaxBodyBytes int64
	// Realm is the realm of WWW-Authenticate challenges. Default "auth".
	Realm string
	// Freshness is how recently the user must have entered the password
	// for the routes of [Manager.AccountHandler] that make a long-lived
	// credential (POST /tokens); an older login gets 401 with
	// "reauth_required" (see [Manager.RequireFresh]). Default 1 h;
	// negative: no such check.
	Freshness time.Duration
	// ErrorHandler, if set, writes every error response instead of the
	// built-in JSON. It is called after the WWW-Authenticate header (if
	// any) is set, with the status and an error that matches one of the
	// package's sentinels; it must not send err's text to the client.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)
	// Messages replaces the texts of the JSON answers, by code (see
	// docs/messages.md for the codes and default texts), to translate them,
	// say: {"GENERIC_AUTHN_FAILED": "E-Mail oder Passwort ist falsch."}.
	// A replacement keeps the fmt verbs of the default, in the same order
	// (%d for the minimum password length, for one); New refuses an
	// unknown code, an empty text and other verbs. The answers carry the
	// codes too, in "error_codes" beside "errors" and "field_error_codes"
	// beside "field_errors". Default none: the English texts.
	Messages map[string]string
	// Logger receives store failures and other server-side errors. It
	// never receives tokens, passwords or keys. Default slog.Default().
	Logger *slog.Logger
	// AuditLogger receives the audit events (see [EventLoginSucceeded] and
	// the others). Default Logger. To drop them, give a logger whose
	// handler discards.
	AuditLogger *slog.Logger
}

// TokenConfig configures a Manager's tokens: itsdangerous
// URLSafeTimedSerializer tokens (package
// github.com/authkit/auth/itsdangerous) whose payload is the user's ID and
// uniquifier.
type TokenConfig struct {
	// Salt namespaces token signatures. Default "authkit-token".
	Salt string
	// Digest is the HMAC hash. Default itsdangerous.SHA256.
	Digest itsdangerous.Digest
	// KeyDerivation turns key and salt into the HMAC key. Default
	// itsdangerous.DjangoConcat.
	KeyDerivation itsdangerous.KeyDerivation
	// OldKeys are retired signing keys that still verify tokens, newest
	// first. New tokens are always signed with the key given to New.
	OldKeys [][]byte
	// MaxAge is how long a token stays valid. Default 24 h; negative means
	// tokens never expire.
	MaxAge time.Duration

	// Header is the request header read first. Default
	// "Authentication-Token".
	Header string
	// QueryParam is the query parameter read last. Default "auth_token".
	QueryParam string
	// DisableHeader, DisableBearer and DisableQuery switch off one of the
	// places a request's token is read: Header, "Authorization: Bearer",
	// QueryParam. At least one must stay on.
	DisableHeader, DisableBearer, DisableQuery bool

	// Verifiers verify tokens of other formats, such as a Flask-Security
	// application's (package github.com/authkit/auth/flask). A token whose
	// signature the Manager's own keys do not verify, or whose payload is
	// not the Manager's, is offered to each in turn. Default none.
	Verifiers []TokenVerifier
	// Issuer, if set, makes the tokens [Manager.IssueToken] returns
	// instead of the Manager's own, so that another application accepts
	// them too. It must also be among Verifiers for the Manager to accept
	// them. Default nil: the Manager's own tokens.
	Issuer TokenIssuer

	// Scopes declares the scopes of the application, each with the roles
	// that allow it (none: every user), for [Manager.RequireScopes]: a
	// login token, a session or Basic credentials have every scope their
	// user's roles allow. If the store implements [PersonalTokenStore],
	// Scopes also turns personal access tokens on: [Manager.AccountHandler]
	// then serves /tokens, routes whose schemes include [PersonalAccess]
	// accept them, and a token has the scopes its owner chose among those
	// the owner's roles allow. Scope names are 1 to 64 printable ASCII
	// characters without space, quote or backslash (RFC 6749's
	// scope-token), such as "posts:read". Default none: no scopes, and
	// personal access tokens are off.
	Scopes map[string][]string
	// PersonalPrefix starts every personal access token (see package
	// github.com/authkit/auth/pat), so that secret scanners can find
	// leaked ones: 2 to 16 lowercase letters, digits and underscores,
	// ending with an underscore. Default "akpat_".
	PersonalPrefix string
	// PersonalMaxAge is the longest lifetime a personal access token can
	// be given; a token made without one gets 30 days, or PersonalMaxAge
	// if shorter. Default 1 year; negative: no limit, and tokens may be
	// made that never expire.
	PersonalMaxAge time.Duration
}

// PasswordConfig configures password hashing (package
// github.com/authkit/auth/passhash) and the length policy.
type PasswordConfig struct {
	// Scheme is the hash written for new passwords: passhash.Argon2id or
	// passhash.Bcrypt. Every scheme passhash reads is verified, whatever
	// this is, and a hash in another scheme (or with weaker parameters) is
	// replaced on the user's next login. Default passhash.Argon2id.
	Scheme passhash.Scheme
	// BcryptCost is the bcrypt work factor when Scheme is passhash.Bcrypt.
	// Default 12.
	BcryptCost int
	// Argon2 holds the argon2id parameters; zero fields take passhash's
	// defaults, OWASP's (m=19 MiB, t=2, p=1, 16-byte salt, 32-byte key).
	Argon2 passhash.Argon2Params
	// Hasher, if set, makes and checks every hash instead of Scheme,
	// BcryptCost and Argon2, which must then be left zero; package
	// github.com/authkit/auth/flask provides one with a Flask-Security
	// application's rules. Default nil.
	Hasher PasswordHasher

	// MaxBytes bounds the length of a password, which bounds the cost of
	// hashing it. Default 1024. Bcrypt reads at most 72 bytes regardless,
	// so longer passwords are refused when set and never match a bcrypt
	// hash.
	MaxBytes int
	// MinLength is the fewest characters (Unicode code points) a new
	// password may have, checked by [Manager.NewUser] and
	// [Manager.SetPassword]. Default 8.
	MinLength int
	// Breached, if set, is asked about every password set through
	// [Manager.AccountHandler] (registration, reset, change), which refuses
	// a breached one with a field error. If it fails, the password is
	// accepted and the failure logged. Default nil: no check.
	Breached BreachChecker

	// Concurrency is the most password hashes computed at once, checks
	// and new hashes alike, so that a flood of logins cannot take every
	// core from the rest of the server. Default half of GOMAXPROCS, at
	// least 1; negative: no bound (and no queue).
	Concurrency int
	// QueueSize is the most hashes waiting for a slot; one more is refused
	// at once. Default 32 per slot (32 × Concurrency); negative: no bound.
	QueueSize int
	// QueueWait is the longest a hash waits for a slot. A login refused
	// for want of one, from the queue or for its wait, gets 503 with
	// Retry-After ([ErrOverloaded]) without a password check, and is not
	// counted by the throttle. Default 1 s; negative: no bound.
	QueueWait time.Duration
}

// SessionConfig configures browser sessions. The session cookie is signed
// and encrypted with gorilla/securecookie and carries the user's ID and
// uniquifier; the remember-me cookie starts a new session when the session
// has ended. Both are always HttpOnly.
type SessionConfig struct {
	// Keys are the keys of the session and remember-me cookies, in pairs:
	// a hash key of at least 32 bytes, then an AES block key of 16, 24 or
	// 32 bytes. The first pair makes new cookies; every pair reads them, so
	// to rotate, put a new pair first and drop the oldest once its cookies
	// have expired. Default: one pair derived from the signing key
	// (HMAC-SHA256 over fixed labels) and one from each of Token.OldKeys.
	Keys [][]byte
	// CookieName names the session cookie. Default "auth_session".
	CookieName string
	// CookiePath is the Path of both cookies. Default "/".
	CookiePath string
	// CookieDomain is the Domain of both cookies. Default none: the cookies
	// go only to the host that set them.
	CookieDomain string
	// Insecure leaves the Secure attribute off the cookies, so that
	// browsers send them over plain HTTP. Only for development: browsers
	// treat http://localhost and http://127.0.0.1 as secure contexts and
	// keep Secure cookies there anyway. Default false: cookies are Secure.
	Insecure bool
	// SameSite is the SameSite attribute of both cookies. Default
	// http.SameSiteLaxMode; SameSiteNoneMode needs Secure cookies.
	SameSite http.SameSite
	// IdleTimeout ends a session that made no request for this long. The
	// cookie is re-issued when its last-seen time is older than an eighth
	// of it. Default 2 h; negative means no idle timeout.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after the login, however active.
	// Default 24 h; negative means no limit.
	MaxAge time.Duration
	// RememberCookieName names the remember-me cookie. Default
	// "auth_remember".
	RememberCookieName string
	// RememberMaxAge is how long after the login the remember-me cookie
	// works. Default 30 days; negative disables remember-me.
	RememberMaxAge time.Duration
	// LoginPage is where browsers are sent when a route that accepts
	// [Session] rejects them (with next=the page they asked for), after a
	// failed form login (with error=1) and after logout. The application
	// serves it. Default "/login".
	LoginPage string
	// LoginRedirect is where a browser goes after logging in when the form
	// gives no safe next. Default "/".
	LoginRedirect string
}
