package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RefreshConfig configures refresh tokens, which are off until Enabled.
//
// With them, a JSON login answers a refresh token beside the access token,
// and [Manager.AccountHandler] serves POST /refresh-token, which trades it
// for a new access token and a new refresh token. Each login begins a
// device session ([DeviceSession]) of its own; each refresh rotates its
// token to the next generation, and the one before stops working. A
// rotated token presented again (after Grace) is taken for a stolen copy:
// the whole session ends at once, and [EventRefreshReused] is audited. The
// store must implement [SessionStore]. Logout and every other rotation of
// the user's uniquifier (RevokeTokens, a new password) end every session of
// the user.
type RefreshConfig struct {
	// Enabled turns refresh tokens on. It also makes TokenConfig.MaxAge
	// default to 15 min, since access tokens can then be short-lived.
	Enabled bool
	// IdleTimeout ends a session not refreshed for this long. Default 7
	// days.
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after its login, however often
	// it was refreshed. Default 90 days.
	MaxLifetime time.Duration
	// Grace is how long after a rotation the token before it gets the same
	// answer again, for a client that retries a refresh whose response it
	// lost; two refreshes racing with one token then get the same new
	// pair. Default 10 s; negative: none.
	Grace time.Duration
	// Cookie sends the refresh token in an HttpOnly, Secure (unless
	// SessionConfig.Insecure), SameSite=Strict cookie named "auth_refresh"
	// instead of in the JSON answers, for browser front ends; POST
	// /refresh-token then reads it from there. Default false.
	Cookie bool
	// CookiePath is the cookie's Path: where AccountHandler is mounted,
	// such as "/auth", so that the cookie reaches /refresh-token and
	// /sessions (which marks the current session by it) and nothing else.
	// Default "/".
	CookiePath string
}

// Defaults of RefreshConfig.
const (
	defaultRefreshIdle      = 7 * 24 * time.Hour
	defaultRefreshLifetime  = 90 * 24 * time.Hour
	defaultRefreshGrace     = 10 * time.Second
	defaultRefreshAccessAge = 15 * time.Minute
	refreshCookie           = "auth_refresh"
	// maxRefreshWalk bounds how many generations back a presented token is
	// followed to tell a reused token from a forged one.
	maxRefreshWalk = 10_000
	// maxUserAgent bounds the user agent kept with a session.
	maxUserAgent = 256
)

// refresher issues and rotates refresh tokens.
//
// A refresh token is "<session ID>.<generation>.<secret>". The first
// secret of a session is random; each next one is HMAC(chainKey, the one
// before), so that the server, and only the server, can tell a token of an
// earlier generation of a session from a forgery by walking the chain
// forward, and can give a retry within the grace the same next token. The
// store keeps HMAC(hashKey, token) of the current generation, never a
// token or a secret.
type refresher struct {
	store             SessionStore
	chainKey, hashKey []byte
	idle, life, grace time.Duration
	cookie            bool
	cookiePath        string
}

func newRefresher(store UserStore, key []byte, c RefreshConfig) (*refresher, error) {
	if !c.Enabled {
		return nil, nil
	}
	ss, ok := store.(SessionStore)
	if !ok {
		return nil, errors.New("auth: RefreshConfig.Enabled needs a store that implements SessionStore")
	}
	r := &refresher{
		store:      ss,
		chainKey:   deriveSessionKey(key, "refresh-chain"),
		hashKey:    deriveSessionKey(key, "refresh-hash"),
		idle:       durationOr(c.IdleTimeout, defaultRefreshIdle),
		life:       durationOr(c.MaxLifetime, defaultRefreshLifetime),
		grace:      c.Grace,
		cookie:     c.Cookie,
		cookiePath: stringOr(c.CookiePath, "/"),
	}
	if r.grace == 0 {
		r.grace = defaultRefreshGrace
	}
	return r, nil
}

func (r *refresher) next(secret []byte) []byte {
	h := hmac.New(sha256.New, r.chainKey)
	h.Write(secret)
	return h.Sum(nil)
}

func (r *refresher) hash(token string) []byte {
	h := hmac.New(sha256.New, r.hashKey)
	h.Write([]byte(token))
	return h.Sum(nil)
}

func formatRefresh(sid string, gen int, secret []byte) string {
	return sid + "." + strconv.Itoa(gen) + "." + base64.RawURLEncoding.EncodeToString(secret)
}

// parseRefresh splits a refresh token, or reports that it is not one.
func parseRefresh(tok string) (sid string, gen int, secret []byte, ok bool) {
	if len(tok) > 128 {
		return "", 0, nil, false
	}
	sid, rest, ok1 := strings.Cut(tok, ".")
	g, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(sid) != 22 || len(g) == 0 || len(g) > 9 || g[0] == '0' && len(g) > 1 {
		return "", 0, nil, false
	}
	for _, c := range g {
		if c < '0' || c > '9' {
			return "", 0, nil, false
		}
	}
	gen, _ = strconv.Atoi(g)
	// The decoder skips CR and LF, even in strict mode: only the canonical
	// spelling of the secret is a token.
	secret, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(secret) != sha256.Size || base64.RawURLEncoding.EncodeToString(secret) != s {
		return "", 0, nil, false
	}
	return sid, gen, secret, true
}

// startRefresh begins a device session for u, logged in from ip with the
// user agent ua, and returns its first refresh token.
func (m *Manager) startRefresh(ctx context.Context, u *User, ip, ua string) (string, error) {
	r := m.refresh
	id := make([]byte, 16)
	secret := make([]byte, sha256.Size)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	_, _ = rand.Read(secret)
	sid := base64.RawURLEncoding.EncodeToString(id)
	tok := formatRefresh(sid, 0, secret)
	now := m.now().UTC()
	err := r.store.CreateSession(ctx, &DeviceSession{
		ID: sid, UserID: u.ID, Uniquifier: u.Uniquifier, TokenHash: r.hash(tok),
		RotatedAt: now, CreatedAt: now, LastUsedAt: now, LastIP: ip, UserAgent: boundUserAgent(ua),
	})
	if err != nil {
		return "", storeError(err)
	}
	return tok, nil
}

// The outcomes of a refresh that store nothing.
var (
	errRefreshReused  = errors.New("auth: refresh token reused")
	errRefreshGrace   = errors.New("auth: refresh token retried within the grace")
	errRefreshExpired = fmt.Errorf("%w: session ended", ErrExpiredToken)
)

// rotate trades the refresh token tok for the session's next one, and
// returns it with the session's owner and the Unix time of the login that
// began the session. A token that is not one, or names
// no session, gives ErrInvalidToken; a reused one ends its session and
// gives ErrInvalidToken too, as does a session whose user has changed
// uniquifier or is inactive; one idle or old beyond the limits ends its
// session and gives ErrExpiredToken; a store failure ErrStoreUnavailable.
func (m *Manager) rotate(ctx context.Context, tok, ip, ua string) (*User, string, int64, error) {
	r := m.refresh
	sid, gen, secret, ok := parseRefresh(tok)
	if !ok {
		return nil, "", 0, fmt.Errorf("%w: not a refresh token", ErrInvalidToken)
	}
	var next string
	var session DeviceSession
	err := r.store.UpdateSession(ctx, sid, func(s *DeviceSession) error {
		now := m.now().UTC()
		session = *s
		if now.Sub(s.LastUsedAt) > r.idle || now.Sub(s.CreatedAt) > r.life {
			return errRefreshExpired
		}
		switch {
		case gen == s.Generation:
			if !hmac.Equal(r.hash(tok), s.TokenHash) {
				return ErrInvalidToken
			}
		case gen < s.Generation && s.Generation-gen <= maxRefreshWalk:
			walked := secret // a store may call update more than once
			for i := gen; i < s.Generation; i++ {
				walked = r.next(walked)
			}
			current := formatRefresh(sid, s.Generation, walked)
			if !hmac.Equal(r.hash(current), s.TokenHash) {
				return ErrInvalidToken // not a token of this session
			}
			if gen == s.Generation-1 && r.grace > 0 && now.Sub(s.RotatedAt) <= r.grace {
				next = current
				return errRefreshGrace
			}
			return errRefreshReused
		default:
			return ErrInvalidToken
		}
		next = formatRefresh(sid, gen+1, r.next(secret))
		s.Generation, s.TokenHash, s.RotatedAt = gen+1, r.hash(next), now
		s.LastUsedAt, s.LastIP, s.UserAgent = now, ip, boundUserAgent(ua)
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errRefreshGrace):
	case errors.Is(err, errRefreshReused):
		m.endSession(ctx, sid)
		m.audit(ctx, EventRefreshReused, slog.String("user_id", session.UserID), slog.String("ip", ip))
		return nil, "", 0, fmt.Errorf("%w: a rotated refresh token was used again; its session is ended", ErrInvalidToken)
	case errors.Is(err, errRefreshExpired):
		m.endSession(ctx, sid)
		return nil, "", 0, err
	case errors.Is(err, ErrInvalidToken):
		return nil, "", 0, err
	case errors.Is(err, ErrTokenNotFound):
		return nil, "", 0, fmt.Errorf("%w: no such session", ErrInvalidToken)
	default:
		return nil, "", 0, storeError(err)
	}
	u, err := m.store.UserByID(ctx, session.UserID)
	switch {
	case errors.Is(err, ErrUserNotFound):
		m.endSession(ctx, sid)
		return nil, "", 0, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	case err != nil:
		return nil, "", 0, storeError(err)
	case !u.Active || !hmac.Equal([]byte(u.Uniquifier), []byte(session.Uniquifier)):
		m.endSession(ctx, sid)
		return nil, "", 0, fmt.Errorf("%w: the user logged out everywhere, changed password or is inactive", ErrInvalidToken)
	}
	return u, next, max(session.CreatedAt.Unix(), 1), nil
}

// endSession removes a session that can no longer be used.
func (m *Manager) endSession(ctx context.Context, sid string) {
	if err := m.refresh.store.DeleteSession(ctx, sid); err != nil && !errors.Is(err, ErrTokenNotFound) {
		m.log.ErrorContext(ctx, "auth: session store failed", "error", err.Error())
	}
}

// boundUserAgent keeps at most maxUserAgent bytes of valid UTF-8.
func boundUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	if len(ua) <= maxUserAgent {
		return ua
	}
	ua = ua[:maxUserAgent]
	for !utf8.ValidString(ua) {
		ua = ua[:len(ua)-1]
	}
	return ua
}

// serveRefresh serves POST /refresh-token: {"refresh_token": …}, or the
// refresh cookie, for a new access token and refresh token, answered as a
// login is.
func (m *Manager) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if !allowPost(w, r) {
		m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
		return
	}
	var tok string
	if m.refresh.cookie {
		if c, err := r.Cookie(refreshCookie); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		q, err := readAccountRequest(w, r, m.maxBody, "refresh_token")
		if err != nil {
			m.fail(w, r, statusOf(err), err)
			return
		}
		tok = q.get("refresh_token")
	}
	if tok == "" {
		m.fail(w, r, http.StatusBadRequest, badRequest(msgRefreshMissing))
		return
	}
	u, next, authAt, err := m.rotate(r.Context(), tok, m.proxies.clientAddr(r), r.UserAgent())
	if err != nil {
		if errors.Is(err, ErrStoreUnavailable) {
			m.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		m.challenge(w, Token, err) // a 401 names its scheme (RFC 7235)
		m.fail(w, r, http.StatusUnauthorized, err)
		return
	}
	// The Manager's own token, whatever TokenConfig.Issuer, since it
	// carries the login's time: a refresh is not a fresh authentication.
	access, err := m.issueOwnToken(u, authAt)
	if err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	noStore(w)
	m.writeOK(w, r, struct {
		User loginUser `json:"user"`
	}{m.refreshAnswer(w, loginUser{ID: u.ID, Token: access}, next)})
}

// refreshAnswer puts the refresh token tok into the answer a, or into the
// refresh cookie when so configured.
func (m *Manager) refreshAnswer(w http.ResponseWriter, a loginUser, tok string) loginUser {
	if !m.refresh.cookie {
		a.Refresh = tok
		return a
	}
	http.SetCookie(w, m.refreshCookie(tok, int(m.refresh.life/time.Second)))
	return a
}

// refreshCookie is the refresh cookie holding value, for maxAge seconds
// (negative: delete it).
func (m *Manager) refreshCookie(value string, maxAge int) *http.Cookie {
	// #nosec G124 -- HttpOnly and SameSite=Strict; Secure unless Config.Session.Insecure.
	return &http.Cookie{
		Name:     refreshCookie,
		Value:    value,
		Path:     m.refresh.cookiePath,
		Domain:   m.sessions.domain,
		MaxAge:   maxAge,
		Secure:   !m.sessions.insecure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
}
