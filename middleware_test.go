package auth

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// middlewareEnv is a Manager over the seeded users that accepts tokens of
// retiredKey, with tokens and a clock fixed for the test.
type middlewareEnv struct {
	m     *Manager
	store *MemoryStore
	clock *stepClock
}

func newMiddlewareEnv(t *testing.T, cfg Config) middlewareEnv {
	t.Helper()
	cfg.Token.OldKeys = [][]byte{retiredKey}
	if cfg.Token.MaxAge == 0 {
		cfg.Token.MaxAge = time.Hour
	}
	m, store := newSeeded(t, cfg)
	return middlewareEnv{m: m, store: store, clock: setClock(m, seedClock)}
}

// signedBy returns a token for a stored user, signed by a Manager with key.
func (e middlewareEnv) signedBy(t *testing.T, key []byte, id string) string {
	t.Helper()
	other := newManagerWithKey(t, e.store, key, Config{})
	other.now = e.clock.now
	return tokenOf(t, other, e.store, id)
}

func TestRequireToken(t *testing.T) {
	tests := []struct {
		name       string
		request    func(t *testing.T, e middlewareEnv, r *http.Request)
		wantStatus int
		wantUser   string
		wantChall  string
	}{
		{
			name:       "no token",
			request:    func(*testing.T, middlewareEnv, *http.Request) {},
			wantStatus: http.StatusUnauthorized, wantChall: challengeBearer,
		},
		{
			name: "header",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
			},
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "bearer",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+tokenOf(t, e.m, e.store, idAdmin))
			},
			wantStatus: http.StatusOK, wantUser: idAdmin,
		},
		{
			name: "query",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.URL.RawQuery = "auth_token=" + tokenOf(t, e.m, e.store, idUser)
			},
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "unconfirmed user",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUnconfirmed))
			},
			wantStatus: http.StatusOK, wantUser: idUnconfirmed,
		},
		{
			name: "garbage",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", "garbage")
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "tampered",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				tok := tokenOf(t, e.m, e.store, idUser)
				i := strings.IndexByte(tok, '.') + 1
				b := []byte(tok)
				b[i] ^= 1 // a timestamp character
				r.Header.Set("Authentication-Token", string(b))
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "expired",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
				e.clock.t = e.clock.t.Add(time.Hour + time.Second)
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "one second before expiry",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
				e.clock.t = e.clock.t.Add(time.Hour - time.Second)
			},
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "revoked by RevokeTokens",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
				if err := e.m.RevokeTokens(context.Background(), idUser); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "revoked by LogoutHandler",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				tok := tokenOf(t, e.m, e.store, idUser)
				out := httptest.NewRequest(http.MethodPost, "/logout", nil)
				out.Header.Set("Authentication-Token", tok)
				if rec := serve(e.m.LogoutHandler(), out); rec.Code != http.StatusOK {
					t.Fatalf("logout: %d %s", rec.Code, rec.Body)
				}
				r.Header.Set("Authentication-Token", tok)
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "revoked by SetPassword",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
				if err := e.m.SetPassword(context.Background(), idUser, "changed-password"); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "inactive user",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idInactive))
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "user deactivated after issue",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", tokenOf(t, e.m, e.store, idUser))
				setUser(t, e.store, idUser, func(u *User) { u.Active = false })
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "deleted user",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				tok, err := e.m.IssueToken(&User{ID: "deleted", Uniquifier: NewUniquifier()})
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Authentication-Token", tok)
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "signed with another key",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", e.signedBy(t, otherKey, idUser))
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid,
		},
		{
			name: "signed with an OldKeys key",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authentication-Token", e.signedBy(t, retiredKey, idUser))
			},
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "Basic credentials are not a token",
			request: func(t *testing.T, e middlewareEnv, r *http.Request) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusUnauthorized, wantChall: challengeBearer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newMiddlewareEnv(t, Config{})
			r := httptest.NewRequest(http.MethodGet, "/protected", nil)
			tt.request(t, e, r)
			rec := serve(e.m.RequireToken(whoami), r)
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != "user "+tt.wantUser {
					t.Errorf("got %d %q, want 200 user %s", rec.Code, rec.Body, tt.wantUser)
				}
				return
			}
			checkErrorResponse(t, rec, tt.wantStatus, textUnauthenticated)
			if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, []string{tt.wantChall}) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
			}
		})
	}
}

// TestStoreFailureIs503 checks that a failing store gives 503, never 401,
// and that neither its error text nor the package's reaches the client,
// while the operator's log gets it.
func TestStoreFailureIs503(t *testing.T) {
	// A token the broken store cannot look up.
	tokenM := newManagerWithKey(t, NewMemoryStore(), seededKey, Config{})
	tok, err := tokenM.IssueToken(&User{ID: "1", Uniquifier: "u"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler func(m *Manager) http.Handler
		method  string
		header  map[string]string
		body    string
	}{
		{name: "RequireToken", handler: func(m *Manager) http.Handler { return m.RequireToken(whoami) }, header: map[string]string{"Authentication-Token": tok}},
		{name: "RequireBasic", handler: func(m *Manager) http.Handler { return m.RequireBasic(whoami) }, header: map[string]string{"Authorization": basicAuth("user@example.com", "user-password")}},
		{name: "Require BasicToken", handler: func(m *Manager) http.Handler { return m.Require(Basic, BasicToken)(whoami) }, header: map[string]string{"Authorization": basicAuth(tok, "")}},
		{name: "Require Token or Basic", handler: func(m *Manager) http.Handler { return m.Require(Token, Basic)(whoami) }, header: map[string]string{"Authorization": basicAuth("user@example.com", "user-password")}},
		{name: "LoginHandler", handler: func(m *Manager) http.Handler { return m.LoginHandler() }, method: http.MethodPost, header: map[string]string{"Content-Type": "application/json"}, body: loginJSON("user@example.com", "user-password")},
		{name: "TokenHandler", handler: func(m *Manager) http.Handler { return m.TokenHandler() }, method: http.MethodPost, header: map[string]string{"Authorization": basicAuth("user@example.com", "user-password")}},
		{name: "LogoutHandler", handler: func(m *Manager) http.Handler { return m.LogoutHandler() }, method: http.MethodPost, header: map[string]string{"Authentication-Token": tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log lockedBuffer
			m := newManagerWithKey(t, brokenStore{}, seededKey, Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			r := httptest.NewRequest(cmp.Or(tt.method, http.MethodGet), "/", strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rec := serve(tt.handler(m), r)
			checkErrorResponse(t, rec, http.StatusServiceUnavailable, textUnavailable)
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			if got := rec.Header().Values("WWW-Authenticate"); len(got) != 0 {
				t.Errorf("WWW-Authenticate %q on a 503", got)
			}
			if !strings.Contains(log.String(), errStoreDown.Error()) {
				t.Errorf("log %q lacks the store's error", log.String())
			}
			if strings.Contains(log.String(), tok) || strings.Contains(log.String(), "user-password") {
				t.Errorf("log %q contains a credential", log.String())
			}
		})
	}
}

func TestRequireBasic(t *testing.T) {
	tests := []struct {
		name          string
		authorization string // "" for none
		wantStatus    int
		wantUser      string
		wantMsg       string
	}{
		{name: "correct", authorization: basicAuth("user@example.com", "user-password"), wantStatus: http.StatusOK, wantUser: idUser},
		{name: "email in other case", authorization: basicAuth("User@EXAMPLE.com", "user-password"), wantStatus: http.StatusOK, wantUser: idUser},
		{name: "lower-case scheme", authorization: "basic " + strings.TrimPrefix(basicAuth("user@example.com", "user-password"), "Basic "), wantStatus: http.StatusOK, wantUser: idUser},
		{name: "password with colons", authorization: basicAuth("colon@example.com", "pa:ss:word:"), wantStatus: http.StatusOK, wantUser: idColon},
		{name: "UTF-8 credentials", authorization: basicAuth("jösé@exämple.com", "pässwörd-🔑"), wantStatus: http.StatusOK, wantUser: idUTF8},
		{name: "no header", wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "wrong password", authorization: basicAuth("user@example.com", "nope"), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "password prefix only", authorization: basicAuth("colon@example.com", "pa"), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "unknown email", authorization: basicAuth("nobody@example.com", "user-password"), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "inactive user", authorization: basicAuth("inactive@example.com", "inactive-password"), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "Latin-1 credentials", authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte("j\xf6s\xe9@ex\xe4mple.com:p\xe4ssw\xf6rd-key")), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "bad base64", authorization: "Basic !!!", wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "no colon", authorization: "Basic " + "dXNlckBleGFtcGxlLmNvbQ==", wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "empty credentials", authorization: "Basic ", wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
		{name: "scheme only", authorization: "Basic", wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "wrong scheme", authorization: "Digest " + strings.TrimPrefix(basicAuth("user@example.com", "user-password"), "Basic "), wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "bearer", authorization: "Bearer abc", wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "empty password", authorization: basicAuth("user@example.com", ""), wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials},
	}
	e := newMiddlewareEnv(t, Config{}) // nothing here writes the store
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/basic", nil)
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			rec := serve(e.m.RequireBasic(whoami), r)
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != "user "+tt.wantUser {
					t.Errorf("got %d %q, want 200 user %s", rec.Code, rec.Body, tt.wantUser)
				}
				return
			}
			checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
			if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, []string{challengeBasic}) {
				t.Errorf("WWW-Authenticate %q, want %q", got, challengeBasic)
			}
		})
	}
}

func TestRequireSchemes(t *testing.T) {
	tests := []struct {
		name       string
		schemes    []Scheme
		cfg        Config
		request    func(r *http.Request, tok string)
		wantStatus int
		wantUser   string
		wantChall  []string
	}{
		{
			name: "Basic+BasicToken: token as username, empty password", schemes: []Scheme{Basic, BasicToken},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "")) },
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "Basic+BasicToken: email and password", schemes: []Scheme{Basic, BasicToken},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantStatus: http.StatusOK, wantUser: idAdmin,
		},
		{
			name: "Basic+BasicToken: token as username with a password", schemes: []Scheme{Basic, BasicToken},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "x")) },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBasic},
		},
		{
			name: "Basic+BasicToken: garbage username, empty password", schemes: []Scheme{Basic, BasicToken},
			request:    func(r *http.Request, _ string) { r.Header.Set("Authorization", basicAuth("garbage", "")) },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBasic},
		},
		{
			name: "Basic+BasicToken: token header is not accepted", schemes: []Scheme{Basic, BasicToken},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBasic},
		},
		{
			name: "Basic alone rejects token as username", schemes: []Scheme{Basic},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "")) },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBasic},
		},
		{
			name: "BasicToken alone rejects email and password", schemes: []Scheme{BasicToken},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBasic},
		},
		{
			name: "BasicToken alone", schemes: []Scheme{BasicToken},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "")) },
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "Token+Basic: token", schemes: []Scheme{Token, Basic},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "Token+Basic: Basic", schemes: []Scheme{Token, Basic},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantStatus: http.StatusOK, wantUser: idAdmin,
		},
		{
			name: "Basic+Token in other order: Basic", schemes: []Scheme{Basic, Token},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantStatus: http.StatusOK, wantUser: idAdmin,
		},
		{
			name: "Token+Basic: bad token, good Basic", schemes: []Scheme{Token, Basic},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authentication-Token", "garbage")
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantStatus: http.StatusOK, wantUser: idAdmin,
		},
		{
			name: "Token+Basic: token wins over Basic", schemes: []Scheme{Token, Basic},
			request: func(r *http.Request, tok string) {
				r.Header.Set("Authentication-Token", tok)
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "Token+Basic: nothing", schemes: []Scheme{Token, Basic},
			request:    func(*http.Request, string) {},
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBearer, challengeBasic},
		},
		{
			name: "Token+Basic: bad token", schemes: []Scheme{Token, Basic},
			request:    func(r *http.Request, _ string) { r.Header.Set("Authentication-Token", "garbage") },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeInvalid, challengeBasic},
		},
		{
			name: "Token+Basic: wrong password", schemes: []Scheme{Token, Basic},
			request:    func(r *http.Request, _ string) { r.Header.Set("Authorization", basicAuth("user@example.com", "nope")) },
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBearer, challengeBasic},
		},
		{
			name: "no schemes means Token", schemes: nil,
			request:    func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "no schemes rejects Basic", schemes: nil,
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusUnauthorized, wantChall: []string{challengeBearer},
		},
		{
			name: "unknown scheme bits mean Token", schemes: []Scheme{1 << 7},
			request:    func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantStatus: http.StatusOK, wantUser: idUser,
		},
		{
			name: "custom realm", schemes: []Scheme{Token, Basic}, cfg: Config{Realm: "api"},
			request:    func(*http.Request, string) {},
			wantStatus: http.StatusUnauthorized, wantChall: []string{`Bearer realm="api"`, `Basic realm="api", charset="UTF-8"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newMiddlewareEnv(t, tt.cfg)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			tt.request(r, tokenOf(t, e.m, e.store, idUser))
			rec := serve(e.m.Require(tt.schemes...)(whoami), r)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == http.StatusOK {
				if rec.Body.String() != "user "+tt.wantUser {
					t.Errorf("body %q, want user %s", rec.Body, tt.wantUser)
				}
				return
			}
			checkNoLeak(t, rec.Body.String())
			if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, tt.wantChall) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
			}
		})
	}
}

func TestOptional(t *testing.T) {
	tests := []struct {
		name     string
		schemes  []Scheme
		store    UserStore // nil: the seeded store
		request  func(r *http.Request, tok string)
		wantBody string
	}{
		{name: "no credentials", request: func(*http.Request, string) {}, wantBody: "anonymous"},
		{name: "valid token", request: func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) }, wantBody: "user " + idUser},
		{name: "valid token in query", request: func(r *http.Request, tok string) { r.URL.RawQuery = "auth_token=" + tok }, wantBody: "user " + idUser},
		{name: "invalid token", request: func(r *http.Request, _ string) { r.Header.Set("Authentication-Token", "garbage") }, wantBody: "anonymous"},
		{
			name: "Basic valid", schemes: []Scheme{Basic},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("admin@example.com", "admin-password"))
			},
			wantBody: "user " + idAdmin,
		},
		{
			name: "Basic wrong password", schemes: []Scheme{Basic},
			request:  func(r *http.Request, _ string) { r.Header.Set("Authorization", basicAuth("admin@example.com", "nope")) },
			wantBody: "anonymous",
		},
		{
			name: "Basic malformed", schemes: []Scheme{Basic},
			request:  func(r *http.Request, _ string) { r.Header.Set("Authorization", "Basic !!!") },
			wantBody: "anonymous",
		},
		{
			name: "store failure", store: brokenStore{},
			request:  func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantBody: "anonymous",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newSeededStore(t)
			m := newManagerWithKey(t, store, seededKey, Config{})
			tok := tokenOf(t, m, store, idUser)
			if tt.store != nil {
				m = newManagerWithKey(t, tt.store, seededKey, Config{})
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			tt.request(r, tok)
			rec := serve(m.Optional(tt.schemes...)(whoami), r)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body, tt.wantBody)
			}
			if got := rec.Header().Values("WWW-Authenticate"); len(got) != 0 {
				t.Errorf("WWW-Authenticate %q from Optional", got)
			}
		})
	}
}

func TestRoleMiddlewares(t *testing.T) {
	m, store := newSeeded(t, Config{})
	userOf := func(id string) *User {
		u, err := store.UserByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name       string
		middleware func(http.Handler) http.Handler
		user       *User // nil: no user in the context
		wantStatus int
		wantMsg    string
	}{
		{name: "RequireRoles admin, admin", middleware: m.RequireRoles("admin"), user: userOf(idAdmin), wantStatus: http.StatusOK},
		{name: "RequireRoles admin, user", middleware: m.RequireRoles("admin"), user: userOf(idUser), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireRoles all held", middleware: m.RequireRoles("admin", "editor"), user: userOf(idAdmin), wantStatus: http.StatusOK},
		{name: "RequireRoles one of two held", middleware: m.RequireRoles("admin", "editor"), user: userOf(idUser), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireRoles role case matters", middleware: m.RequireRoles("Admin"), user: userOf(idAdmin), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireRoles none", middleware: m.RequireRoles(), user: userOf(idUnconfirmed), wantStatus: http.StatusOK},
		{name: "RequireRoles no user", middleware: m.RequireRoles("admin"), wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "RequireAnyRole one held", middleware: m.RequireAnyRole("admin", "editor"), user: userOf(idUser), wantStatus: http.StatusOK},
		{name: "RequireAnyRole both held", middleware: m.RequireAnyRole("admin", "editor"), user: userOf(idAdmin), wantStatus: http.StatusOK},
		{name: "RequireAnyRole none held", middleware: m.RequireAnyRole("admin", "editor"), user: userOf(idUnconfirmed), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireAnyRole admin, user", middleware: m.RequireAnyRole("admin"), user: userOf(idUser), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireAnyRole empty list", middleware: m.RequireAnyRole(), user: userOf(idAdmin), wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "RequireAnyRole no user", middleware: m.RequireAnyRole("admin"), wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "RequireConfirmed confirmed", middleware: m.RequireConfirmed, user: userOf(idUser), wantStatus: http.StatusOK},
		{name: "RequireConfirmed unconfirmed", middleware: m.RequireConfirmed, user: userOf(idUnconfirmed), wantStatus: http.StatusForbidden, wantMsg: textUnconfirmed},
		{name: "RequireConfirmed no user", middleware: m.RequireConfirmed, wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.user != nil {
				r = r.WithContext(NewContext(r.Context(), tt.user))
			}
			rec := serve(tt.middleware(whoami), r)
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != "user "+tt.user.ID {
					t.Errorf("got %d %q, want 200", rec.Code, rec.Body)
				}
				return
			}
			checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
		})
	}
}

// TestRoleMiddlewaresBehindRequireToken drives the roles through the token
// middleware, as an application mounts them.
func TestRoleMiddlewaresBehindRequireToken(t *testing.T) {
	m, store := newSeeded(t, Config{})
	admin := m.RequireToken(m.RequireRoles("admin")(whoami))
	confirmed := m.RequireToken(m.RequireConfirmed(whoami))
	tests := []struct {
		name       string
		handler    http.Handler
		id         string // "" for no token
		wantStatus int
		wantMsg    string
	}{
		{name: "admin as admin", handler: admin, id: idAdmin, wantStatus: http.StatusOK},
		{name: "admin as user", handler: admin, id: idUser, wantStatus: http.StatusForbidden, wantMsg: textForbidden},
		{name: "admin without token", handler: admin, wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated},
		{name: "confirmed as user", handler: confirmed, id: idUser, wantStatus: http.StatusOK},
		{name: "confirmed as unconfirmed", handler: confirmed, id: idUnconfirmed, wantStatus: http.StatusForbidden, wantMsg: textUnconfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.id != "" {
				r.Header.Set("Authentication-Token", tokenOf(t, m, store, tt.id))
			}
			rec := serve(tt.handler, r)
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != "user "+tt.id {
					t.Errorf("got %d %q", rec.Code, rec.Body)
				}
				return
			}
			checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
		})
	}
}

// errorCall records one call of Config.ErrorHandler.
type errorCall struct {
	status int
	err    error
	chall  []string // WWW-Authenticate when the hook ran
}

func TestErrorHandler(t *testing.T) {
	tests := []struct {
		name       string
		store      func(t *testing.T) UserStore // nil: seeded MemoryStore
		handler    func(m *Manager) http.Handler
		request    func(t *testing.T, m *Manager, store UserStore) *http.Request
		wantStatus int
		wantErr    error
		wantChall  []string
	}{
		{
			name:    "no token",
			handler: func(m *Manager) http.Handler { return m.RequireToken(whoami) },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				return httptest.NewRequest(http.MethodGet, "/", nil)
			},
			wantStatus: http.StatusUnauthorized, wantErr: ErrNoCredentials, wantChall: []string{challengeBearer},
		},
		{
			name:    "invalid token",
			handler: func(m *Manager) http.Handler { return m.RequireToken(whoami) },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authentication-Token", "garbage")
				return r
			},
			wantStatus: http.StatusUnauthorized, wantErr: ErrInvalidToken, wantChall: []string{challengeInvalid},
		},
		{
			name:    "expired token",
			handler: func(m *Manager) http.Handler { return m.RequireToken(whoami) },
			request: func(t *testing.T, m *Manager, store UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				clock := setClock(m, seedClock)
				r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
				clock.t = clock.t.Add(defaultTokenMaxAge + time.Second)
				return r
			},
			wantStatus: http.StatusUnauthorized, wantErr: ErrExpiredToken, wantChall: []string{challengeInvalid},
		},
		{
			name:    "wrong Basic password",
			handler: func(m *Manager) http.Handler { return m.RequireBasic(whoami) },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", basicAuth("user@example.com", "nope"))
				return r
			},
			wantStatus: http.StatusUnauthorized, wantErr: ErrInvalidCredentials, wantChall: []string{challengeBasic},
		},
		{
			name:    "store failure",
			store:   func(*testing.T) UserStore { return brokenStore{} },
			handler: func(m *Manager) http.Handler { return m.RequireBasic(whoami) },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
				return r
			},
			wantStatus: http.StatusServiceUnavailable, wantErr: ErrStoreUnavailable,
		},
		{
			name:    "missing role",
			handler: func(m *Manager) http.Handler { return m.RequireToken(m.RequireRoles("admin")(whoami)) },
			request: func(t *testing.T, m *Manager, store UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
				return r
			},
			wantStatus: http.StatusForbidden, wantErr: ErrForbidden,
		},
		{
			name:    "unconfirmed",
			handler: func(m *Manager) http.Handler { return m.RequireToken(m.RequireConfirmed(whoami)) },
			request: func(t *testing.T, m *Manager, store UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUnconfirmed))
				return r
			},
			wantStatus: http.StatusForbidden, wantErr: ErrUnconfirmed,
		},
		{
			name:    "login with bad credentials",
			handler: func(m *Manager) http.Handler { return m.LoginHandler() },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON("user@example.com", "nope")))
				r.Header.Set("Content-Type", "application/json")
				return r
			},
			wantStatus: http.StatusBadRequest, wantErr: ErrInvalidCredentials,
		},
		{
			name:    "login with malformed body",
			handler: func(m *Manager) http.Handler { return m.LoginHandler() },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("[]"))
				r.Header.Set("Content-Type", "application/json")
				return r
			},
			wantStatus: http.StatusBadRequest, wantErr: ErrBadRequest,
		},
		{
			name:    "login with GET",
			handler: func(m *Manager) http.Handler { return m.LoginHandler() },
			request: func(*testing.T, *Manager, UserStore) *http.Request {
				return httptest.NewRequest(http.MethodGet, "/login", nil)
			},
			wantStatus: http.StatusMethodNotAllowed, wantErr: ErrBadRequest,
		},
		{
			name:    "logout on read-only store",
			store:   func(t *testing.T) UserStore { return readOnlyStore{newSeededStore(t)} },
			handler: func(m *Manager) http.Handler { return m.LogoutHandler() },
			request: func(t *testing.T, m *Manager, store UserStore) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/logout", nil)
				r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
				return r
			},
			wantStatus: http.StatusNotImplemented, wantErr: ErrReadOnlyStore,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var store UserStore
			if tt.store != nil {
				store = tt.store(t)
			} else {
				store = newSeededStore(t)
			}
			var calls []errorCall
			m := newManagerWithKey(t, store, seededKey, Config{
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, status int, err error) {
					calls = append(calls, errorCall{status: status, err: err, chall: w.Header().Values("WWW-Authenticate")})
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(status)
					fmt.Fprintf(w, "custom %d", status)
				},
			})
			rec := serve(tt.handler(m), tt.request(t, m, store))
			if len(calls) != 1 {
				t.Fatalf("ErrorHandler called %d times, want once", len(calls))
			}
			c := calls[0]
			if c.status != tt.wantStatus || !errors.Is(c.err, tt.wantErr) {
				t.Errorf("ErrorHandler(%d, %v), want (%d, an error matching %v)", c.status, c.err, tt.wantStatus, tt.wantErr)
			}
			if !slices.Equal(c.chall, tt.wantChall) {
				t.Errorf("WWW-Authenticate when the hook ran: %q, want %q", c.chall, tt.wantChall)
			}
			if want := fmt.Sprintf("custom %d", tt.wantStatus); rec.Code != tt.wantStatus || rec.Body.String() != want {
				t.Errorf("response %d %q, want %d %q", rec.Code, rec.Body, tt.wantStatus, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/plain" {
				t.Errorf("Content-Type %q: the built-in JSON was written too", ct)
			}
		})
	}
}

// TestRequireTokenUserIsSnapshot documents the read-only rule from the
// handler's side: the user in a request's context is the store's value at
// the time of the check, shared and never changed afterwards, so a handler
// still holding it sees it as it was while the account is updated, and the
// next request sees the update.
func TestRequireTokenUserIsSnapshot(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{name: "store"},
		{name: "cache", cfg: Config{UserCache: UserCacheConfig{Size: 10}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, tt.cfg)
			tok := tokenOf(t, m, store, idUser)
			var seen []*User
			h := m.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, _ := FromContext(r.Context())
				seen = append(seen, u)
			}))
			get := func() {
				t.Helper()
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authentication-Token", tok)
				if rec := serve(h, r); rec.Code != http.StatusOK {
					t.Fatalf("status %d", rec.Code)
				}
			}
			get()
			setUser(t, store, idUser, func(u *User) { u.Email, u.Roles[0] = "changed@example.com", "admin" })
			m.ForgetUser(idUser)
			get()
			if u := seen[0]; u.Email != "user@example.com" || !slices.Equal(u.Roles, []string{"editor"}) {
				t.Errorf("the first request's user changed with the store: %+v", u)
			}
			if u := seen[1]; u.Email != "changed@example.com" || !slices.Equal(u.Roles, []string{"admin"}) {
				t.Errorf("the second request's user = %+v; want the update", u)
			}
		})
	}
}
