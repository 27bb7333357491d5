package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// minKeyBytes is the shortest signing key New accepts.
const minKeyBytes = 16

// The defaults of [Config] that more than one place needs.
const (
	defaultTokenMaxAge = 24 * time.Hour
	defaultMaxBody     = 16 << 10
	defaultFreshness   = time.Hour
)

// Manager authenticates users of a [UserStore]: it checks passwords, issues
// and verifies tokens, and provides the HTTP handlers and middlewares. It
// is immutable after [New] and safe for concurrent use.
type Manager struct {
	store   UserStore
	updater UserUpdater // nil if the store cannot be written

	tokens    *itsdangerous.Serializer // the Manager's own tokens
	maxAge    time.Duration            // of the own tokens; < 0: never expire
	verifiers []TokenVerifier          // other token formats, tried in turn
	issuer    TokenIssuer              // nil: the Manager issues its own
	sources   tokenSources             // where requests carry tokens
	passwords passwords
	sessions  sessions        // browser session settings; see session.go
	throttle  *throttle       // nil when disabled
	devices   *devices        // nil when throttling or device tokens are off
	cache     *userCache      // nil when disabled
	changes   *changeFeed     // nil without a cache or a UserChangeLog
	accounts  *accounts       // nil without AccountConfig.Mailer
	refresh   *refresher      // nil unless RefreshConfig.Enabled
	personal  *personalTokens // nil unless TokenConfig.Scopes
	passkeys  *passkeys       // nil unless Config.Passkeys
	tf        *twoFactor      // nil unless TwoFactorConfig.Enabled or Config.Passkeys
	freshness time.Duration   // Config.Freshness; < 0: none

	maxBody  int64
	msgs     *messages // the texts of the answers: the catalogue's and Config.Messages'
	proxies  proxies
	realm    string
	onError  func(w http.ResponseWriter, r *http.Request, status int, err error)
	log      *slog.Logger
	auditLog *slog.Logger
	now      func() time.Time
}

// New returns a Manager that reads users from store and signs tokens with
// key, which must be at least 16 bytes long and secret. If store also
// implements [UserUpdater], logins update the trackable fields and logout
// and revocation work.
func New(store UserStore, key []byte, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("auth: nil UserStore")
	}
	if len(key) < minKeyBytes {
		return nil, fmt.Errorf("auth: signing key of %d bytes is shorter than %d", len(key), minKeyBytes)
	}
	m := &Manager{
		store:    store,
		cache:    newUserCache(cfg.UserCache, store),
		proxies:  proxies(slices.Clone(cfg.TrustedProxies)),
		maxBody:  cfg.MaxBodyBytes,
		realm:    stringOr(cfg.Realm, "auth"),
		onError:  cfg.ErrorHandler,
		log:      cfg.Logger,
		auditLog: cfg.AuditLogger,
		now:      time.Now,
	}
	m.updater, _ = store.(UserUpdater)
	var err error
	if m.msgs, err = newMessages(cfg.Messages); err != nil {
		return nil, err
	}
	if m.maxBody <= 0 {
		m.maxBody = defaultMaxBody
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.auditLog == nil {
		m.auditLog = m.log
	}
	m.changes = newChangeFeed(store, m.cache, m.log, func() time.Time { return m.now() })
	if cfg.Refresh.Enabled && cfg.Token.MaxAge == 0 {
		cfg.Token.MaxAge = defaultRefreshAccessAge
	}
	if m.refresh, err = newRefresher(store, key, cfg.Refresh); err != nil {
		return nil, err
	}
	if err = m.setupTokens(key, cfg.Token); err != nil {
		return nil, err
	}
	if m.personal, err = newPersonalTokens(store, cfg.Token, m.cache); err != nil {
		return nil, err
	}
	m.freshness = sessionDurationOr(cfg.Freshness, defaultFreshness)
	if m.tf, err = newTwoFactor(m, store, key, cfg.Token.OldKeys, cfg.TwoFactor, cfg.Passkeys != nil); err != nil {
		return nil, err
	}
	if m.tf != nil {
		if m.passkeys, err = newPasskeys(m, store, key, cfg.Token.OldKeys, cfg.Passkeys, m.tf.maxAge); err != nil {
			return nil, err
		}
	}
	if m.sessions, err = newSessions(key, cfg.Token.OldKeys, cfg.Session); err != nil {
		return nil, err
	}
	if m.passwords, err = newPasswords(cfg.Password); err != nil {
		return nil, err
	}
	if m.throttle, err = newThrottle(cfg.Throttle, key); err != nil {
		return nil, err
	}
	m.devices = newDevices(cfg.Throttle, key, cfg.Token.OldKeys)
	if m.accounts, err = newAccounts(m, key, cfg.Token.OldKeys, cfg.Account, cfg.Password.Breached); err != nil {
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
