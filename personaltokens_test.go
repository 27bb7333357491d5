package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authkit/auth/pat"
)

// testScopes are the scopes the personal token tests declare: posts:read
// for every user, posts:write for editors, admin:all for admins.
var testScopes = map[string][]string{
	"posts:read":  nil,
	"posts:write": {"editor"},
	"admin:all":   {"admin"},
}

// patFixture is a Manager with personal access tokens over the seeded
// users, its account handler, and routes that need scopes.
type patFixture struct {
	m       *Manager
	store   *countingPATStore
	clock   *stepClock
	account http.Handler
	audit   *lockedBuffer
}

// countingPATStore counts the personal token lookups of a MemoryStore.
type countingPATStore struct {
	*MemoryStore
	lookups     atomic.Int64 // of personal tokens
	userLookups atomic.Int64 // UserByID
}

func (s *countingPATStore) PersonalTokenByHash(ctx context.Context, hash []byte) (*PersonalToken, error) {
	s.lookups.Add(1)
	return s.MemoryStore.PersonalTokenByHash(ctx, hash)
}

func (s *countingPATStore) PersonalTokenAndOwner(ctx context.Context, hash []byte) (*PersonalToken, *User, error) {
	s.lookups.Add(1)
	return s.MemoryStore.PersonalTokenAndOwner(ctx, hash)
}

func (s *countingPATStore) UserByID(ctx context.Context, id string) (*User, error) {
	s.userLookups.Add(1)
	return s.MemoryStore.UserByID(ctx, id)
}

func newPATFixture(t *testing.T, change func(*Config)) *patFixture {
	t.Helper()
	f := &patFixture{store: &countingPATStore{MemoryStore: newSeededStore(t)}, audit: &lockedBuffer{}}
	cfg := Config{Token: TokenConfig{Scopes: testScopes}, AuditLogger: newTextLogger(f.audit)}
	if change != nil {
		change(&cfg)
	}
	f.m = newManagerWithKey(t, f.store, seededKey, cfg)
	f.clock = setClock(f.m, seedClock)
	f.account = f.m.AccountHandler()
	return f
}

// create makes a token for the user whose login token is tok; it returns
// the answer's status and response member.
func (f *patFixture) create(t *testing.T, tok, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/tokens", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authentication-Token", tok)
	rec := serve(f.account, r)
	var env struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("POST /tokens: %d %s", rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		checkErrorCodes(t, rec.Body.Bytes(), nil)
	}
	return rec.Code, env.Response
}

// mustCreate makes a token and returns its secret and ID.
func (f *patFixture) mustCreate(t *testing.T, tok, body string) (secret, id string) {
	t.Helper()
	code, resp := f.create(t, tok, body)
	secret, _ = resp["token"].(string)
	id, _ = resp["id"].(string)
	if code != http.StatusOK || secret == "" || id == "" {
		t.Fatalf("POST /tokens %s: %d %v", body, code, resp)
	}
	return secret, id
}

// call serves GET /api through Require(schemes...) and RequireScopes(scopes...)
// with the token in the header.
func (f *patFixture) call(tok string, schemes []Scheme, scopes ...string) *httptest.ResponseRecorder {
	h := f.m.Require(schemes...)(f.m.RequireScopes(scopes...)(whoami))
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return serve(h, r)
}

var tokenOrPersonal = []Scheme{Token, PersonalAccess}

func TestPersonalTokenLifecycle(t *testing.T) {
	f := newPATFixture(t, nil)
	login := tokenOf(t, f.m, f.store, idUser)
	secret, id := f.mustCreate(t, login, `{"name":"deploy script","scopes":["posts:read"],"expires_in":3600}`)
	if err := pat.Check(pat.DefaultPrefix, secret); err != nil {
		t.Fatalf("the secret %q is not a token of the default prefix: %v", secret, err)
	}
	if !strings.Contains(f.audit.String(), "auth.token.created") || strings.Contains(f.audit.String(), secret) {
		t.Errorf("audit log %q: want auth.token.created, never the secret", f.audit)
	}

	// The listing never shows the secret or its hash.
	r := httptest.NewRequest(http.MethodGet, "/tokens", nil)
	r.Header.Set("Authentication-Token", login)
	rec := serve(f.account, r)
	hash := pat.Hash(secret)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), secret) || bytes.Contains(rec.Body.Bytes(), []byte(fmt.Sprintf("%x", hash))) {
		t.Fatalf("GET /tokens: %d %s", rec.Code, rec.Body)
	}
	var list struct {
		Response struct {
			Tokens []struct {
				ID         string     `json:"id"`
				Name       string     `json:"name"`
				Scopes     []string   `json:"scopes"`
				CreatedAt  time.Time  `json:"created_at"`
				LastUsedAt *time.Time `json:"last_used_at"`
				ExpiresAt  *time.Time `json:"expires_at"`
				Token      string     `json:"token"`
			} `json:"tokens"`
			Available []string `json:"available_scopes"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if got := list.Response.Tokens; len(got) != 1 || got[0].ID != id || got[0].Name != "deploy script" ||
		fmt.Sprint(got[0].Scopes) != "[posts:read]" || !got[0].CreatedAt.Equal(seedClock) || got[0].LastUsedAt != nil ||
		got[0].ExpiresAt == nil || !got[0].ExpiresAt.Equal(seedClock.Add(time.Hour)) || got[0].Token != "" {
		t.Errorf("GET /tokens = %+v", got)
	}
	if fmt.Sprint(list.Response.Available) != "[posts:read posts:write]" {
		t.Errorf("available_scopes = %q, want the editor's", list.Response.Available)
	}

	// The token works where personal tokens are accepted and its scope suffices.
	if rec := f.call(secret, tokenOrPersonal, "posts:read"); rec.Code != http.StatusOK || rec.Body.String() != "user 1" {
		t.Errorf("scoped route: %d %s", rec.Code, rec.Body)
	}
	// Its header form works too.
	hr := httptest.NewRequest(http.MethodGet, "/api", nil)
	hr.Header.Set("Authentication-Token", secret)
	if rec := serve(f.m.Require(PersonalAccess)(whoami), hr); rec.Code != http.StatusOK {
		t.Errorf("token header: %d %s", rec.Code, rec.Body)
	}

	// DELETE ends it at once; a second DELETE finds nothing.
	del := func() int {
		r := httptest.NewRequest(http.MethodDelete, "/tokens/"+id, nil)
		r.Header.Set("Authentication-Token", login)
		return serve(f.account, r).Code
	}
	if code := del(); code != http.StatusOK {
		t.Fatalf("DELETE: %d", code)
	}
	if rec := f.call(secret, tokenOrPersonal, "posts:read"); rec.Code != http.StatusUnauthorized ||
		rec.Header().Get("WWW-Authenticate") != challengeInvalid {
		t.Errorf("revoked token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if code := del(); code != http.StatusNotFound {
		t.Errorf("second DELETE: %d, want 404", code)
	}
	if !strings.Contains(f.audit.String(), "auth.token.revoked") {
		t.Errorf("no auth.token.revoked event: %s", f.audit)
	}
}

// TestPersonalTokenRefusals checks every way a personal token or a route
// refuses a request, and the challenge each answer carries.
func TestPersonalTokenRefusals(t *testing.T) {
	// No cache: each check of a well-formed token is one lookup.
	f := newPATFixture(t, func(c *Config) { c.UserCache.Size = -1 })
	login := tokenOf(t, f.m, f.store, idUser)
	read, _ := f.mustCreate(t, login, `{"name":"reader","scopes":["posts:read"]}`)
	both, _ := f.mustCreate(t, login, `{"name":"writer","scopes":["posts:read","posts:write"]}`)
	last := "a"
	if read[len(read)-1] == 'a' {
		last = "b"
	}
	forged := read[:len(read)-1] + last
	unknown, _ := pat.New(pat.DefaultPrefix)
	scopeChallenge := func(scope string) string {
		return `Bearer realm="auth", error="insufficient_scope", scope="` + scope + `"`
	}
	tests := []struct {
		name      string
		tok       string
		schemes   []Scheme
		scopes    []string
		want      int
		challenge string
		lookups   int64 // store lookups of personal tokens
	}{
		{name: "scope held", tok: read, schemes: tokenOrPersonal, scopes: []string{"posts:read"}, want: 200, lookups: 1},
		{name: "scope not held", tok: read, schemes: tokenOrPersonal, scopes: []string{"posts:write"}, want: 403, challenge: scopeChallenge("posts:write"), lookups: 1},
		{name: "one of two not held", tok: read, schemes: tokenOrPersonal, scopes: []string{"posts:read", "posts:write"}, want: 403, challenge: scopeChallenge("posts:read posts:write"), lookups: 1},
		{name: "both held", tok: both, schemes: tokenOrPersonal, scopes: []string{"posts:read", "posts:write"}, want: 200, lookups: 1},
		{name: "route without PersonalAccess", tok: read, schemes: []Scheme{Token}, want: 403, challenge: `Bearer realm="auth", error="insufficient_scope"`},
		{name: "route without Token", tok: login, schemes: []Scheme{PersonalAccess}, want: 401, challenge: challengeInvalid},
		{name: "bad checksum", tok: forged, schemes: tokenOrPersonal, want: 401, challenge: challengeInvalid},
		{name: "unknown token", tok: unknown, schemes: tokenOrPersonal, want: 401, challenge: challengeInvalid, lookups: 1},
		{name: "login token has its roles' scopes", tok: login, schemes: tokenOrPersonal, scopes: []string{"posts:write"}, want: 200},
		{name: "login token lacks another role's", tok: login, schemes: tokenOrPersonal, scopes: []string{"admin:all"}, want: 403, challenge: scopeChallenge("admin:all")},
		{name: "undeclared scope", tok: login, schemes: tokenOrPersonal, scopes: []string{"posts:delete"}, want: 403, challenge: `Bearer realm="auth", error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.store.lookups.Store(0)
			rec := f.call(tt.tok, tt.schemes, tt.scopes...)
			if rec.Code != tt.want || rec.Header().Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("got %d %q %s, want %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body, tt.want, tt.challenge)
			}
			if rec.Code == http.StatusForbidden {
				checkErrorResponse(t, rec, http.StatusForbidden, "This credential does not allow this request.")
			}
			if n := f.store.lookups.Load(); n != tt.lookups {
				t.Errorf("%d personal token lookups, want %d", n, tt.lookups)
			}
		})
	}

	t.Run("in the query", func(t *testing.T) {
		h := f.m.Require(tokenOrPersonal...)(whoami)
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/api?auth_token="+read, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("token in the URL: %d, want 401", rec.Code)
		}
	})
	t.Run("never fresh", func(t *testing.T) {
		h := f.m.Require(tokenOrPersonal...)(f.m.RequireFresh(time.Hour)(whoami))
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authentication-Token", read)
		checkReauth(t, serve(h, r), time.Hour)
	})
	t.Run("no account routes", func(t *testing.T) {
		// A personal token cannot make more tokens, list them, or change
		// the account: the account routes do not accept it.
		for _, path := range []string{"/tokens", "/verify"} {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"name":"x","scopes":["posts:read"],"password":"user-password"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authentication-Token", both)
			if rec := serve(f.account, r); rec.Code != http.StatusForbidden {
				t.Errorf("POST %s with a personal token: %d %s, want 403", path, rec.Code, rec.Body)
			}
		}
	})
}

// TestPersonalTokenOwnerChanges checks what ends a personal token and what
// does not: logout everywhere does not, a lost role narrows it, a new
// password, deactivation and expiry end it.
func TestPersonalTokenOwnerChanges(t *testing.T) {
	ok := func(t *testing.T, f *patFixture, tok string, scope string) int {
		t.Helper()
		return f.call(tok, tokenOrPersonal, scope).Code
	}
	t.Run("RevokeTokens leaves it", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		if err := f.m.RevokeTokens(context.Background(), idUser); err != nil {
			t.Fatal(err)
		}
		if code := ok(t, f, tok, "posts:read"); code != http.StatusOK {
			t.Errorf("after RevokeTokens: %d, want 200", code)
		}
	})
	t.Run("a lost role narrows it", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:write"]}`)
		if code := ok(t, f, tok, "posts:write"); code != http.StatusOK {
			t.Fatalf("editor: %d", code)
		}
		setUser(t, f.store.MemoryStore, idUser, func(u *User) { u.Roles = nil })
		f.m.ForgetUser(idUser)
		if code := ok(t, f, tok, "posts:write"); code != http.StatusForbidden {
			t.Errorf("after losing editor: %d, want 403", code)
		}
	})
	t.Run("a new password ends it", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		if err := f.m.SetPassword(context.Background(), idUser, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if code := ok(t, f, tok, "posts:read"); code != http.StatusUnauthorized {
			t.Errorf("after SetPassword: %d, want 401", code)
		}
		if list, _ := f.store.UserPersonalTokens(context.Background(), idUser); len(list) != 0 {
			t.Errorf("%d tokens left after SetPassword", len(list))
		}
	})
	t.Run("a new password from a Manager without scopes ends it", func(t *testing.T) {
		// As authctl's: it shares the store but declares no scopes.
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		tool := newManagerWithKey(t, f.store, seededKey, Config{})
		if err := tool.SetPassword(context.Background(), idUser, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		f.m.ForgetUser(idUser) // as the change log would tell it
		if code := ok(t, f, tok, "posts:read"); code != http.StatusUnauthorized {
			t.Errorf("after the other Manager's SetPassword: %d, want 401", code)
		}
	})
	t.Run("deactivation ends it", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		setUser(t, f.store.MemoryStore, idUser, func(u *User) { u.Active = false })
		f.m.ForgetUser(idUser)
		if code := ok(t, f, tok, "posts:read"); code != http.StatusUnauthorized {
			t.Errorf("inactive owner: %d, want 401", code)
		}
	})
	t.Run("expiry ends it", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"],"expires_in":60}`)
		f.clock.t = f.clock.t.Add(59 * time.Second)
		if code := ok(t, f, tok, "posts:read"); code != http.StatusOK {
			t.Errorf("a second before expiry: %d", code)
		}
		f.clock.t = f.clock.t.Add(time.Second)
		if code := ok(t, f, tok, "posts:read"); code != http.StatusUnauthorized {
			t.Errorf("at expiry: %d, want 401", code)
		}
	})
	t.Run("default lifetime", func(t *testing.T) {
		f := newPATFixture(t, nil)
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		f.clock.t = f.clock.t.Add(30*24*time.Hour - time.Second)
		if code := ok(t, f, tok, "posts:read"); code != http.StatusOK {
			t.Errorf("within 30 days: %d", code)
		}
		f.clock.t = f.clock.t.Add(time.Second)
		if code := ok(t, f, tok, "posts:read"); code != http.StatusUnauthorized {
			t.Errorf("after 30 days: %d, want 401", code)
		}
	})
}

// TestPersonalTokenCreation checks the validation of POST /tokens.
func TestPersonalTokenCreation(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		body   string
		cfg    func(*Config)
		want   int
		errors string // a substring of the answer
	}{
		{name: "scopes as a string", user: idUser, body: `{"name":"ci","scopes":"posts:read posts:write"}`, want: 200},
		{name: "duplicate scope kept once", user: idUser, body: `{"name":"ci","scopes":["posts:read","posts:read"]}`, want: 200, errors: `"scopes":["posts:read"]`},
		{name: "never expires when unlimited", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":0}`,
			cfg: func(c *Config) { c.Token.PersonalMaxAge = -1 }, want: 200, errors: `"expires_at":null`},
		{name: "a century when unlimited", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":3153600000}`,
			cfg: func(c *Config) { c.Token.PersonalMaxAge = -1 }, want: 200, errors: `"expires_at":"2124-`},
		{name: "over a century when unlimited", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":3153600001}`,
			cfg: func(c *Config) { c.Token.PersonalMaxAge = -1 }, want: 400, errors: `"expires_in":["The lifetime must be a whole number of seconds from 1 to 3153600000."]`},
		{name: "no name", user: idUser, body: `{"scopes":["posts:read"]}`, want: 400, errors: `"name":["Name not provided."]`},
		{name: "blank name", user: idUser, body: `{"name":"  ","scopes":["posts:read"]}`, want: 400, errors: `"name":["Name not provided."]`},
		{name: "long name", user: idUser, body: `{"name":"` + strings.Repeat("n", 101) + `","scopes":["posts:read"]}`, want: 400, errors: `"name":`},
		{name: "control in name", user: idUser, body: `{"name":"a\u0007b","scopes":["posts:read"]}`, want: 400, errors: `"name":`},
		{name: "no scopes", user: idUser, body: `{"name":"ci"}`, want: 400, errors: `"scopes":["Choose at least one scope."]`},
		{name: "empty scopes", user: idUser, body: `{"name":"ci","scopes":[]}`, want: 400, errors: `"scopes":["Choose at least one scope."]`},
		{name: "unknown scope", user: idUser, body: `{"name":"ci","scopes":["posts:delete"]}`, want: 400, errors: `Unknown scope: \"posts:delete\".`},
		{name: "scope the roles do not allow", user: idUser, body: `{"name":"ci","scopes":["admin:all"]}`, want: 400, errors: `Your account may not grant the scope admin:all.`},
		{name: "admin may", user: idAdmin, body: `{"name":"ci","scopes":["admin:all"]}`, want: 200},
		{name: "scopes not strings", user: idUser, body: `{"name":"ci","scopes":[1]}`, want: 400, errors: `"scopes\" must be a list of strings.`},
		{name: "expires_in a string", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":"soon"}`, want: 400},
		{name: "expires_in fractional", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":1.5}`, want: 400, errors: `"expires_in":`},
		{name: "expires_in zero", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":0}`, want: 400, errors: `"expires_in":["The lifetime must be a whole number of seconds from 1 to 31536000."]`},
		{name: "expires_in negative", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":-1}`, want: 400, errors: `"expires_in":`},
		{name: "expires_in over a year", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":31536001}`, want: 400, errors: `"expires_in":`},
		{name: "expires_in huge", user: idUser, body: `{"name":"ci","scopes":["posts:read"],"expires_in":1e300}`, want: 400, errors: `"expires_in":`},
		{name: "not JSON", user: idUser, body: `name=ci`, want: 400},
		{name: "member twice", user: idUser, body: `{"name":"a","name":"b","scopes":["posts:read"]}`, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPATFixture(t, tt.cfg)
			r := httptest.NewRequest(http.MethodPost, "/tokens", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store, tt.user))
			rec := serve(f.account, r)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.errors) {
				t.Errorf("got %d %s, want %d with %s", rec.Code, rec.Body, tt.want, tt.errors)
			}
			if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"errors"`) {
				t.Errorf("a refusal without errors: %s", rec.Body)
			}
			list, _ := f.store.UserPersonalTokens(context.Background(), tt.user)
			if (len(list) == 1) != (tt.want == http.StatusOK) {
				t.Errorf("%d tokens stored", len(list))
			}
		})
	}
	t.Run("form", func(t *testing.T) {
		f := newPATFixture(t, nil)
		r := httptest.NewRequest(http.MethodPost, "/tokens", strings.NewReader("name=ci&scopes=posts:read&scopes=posts:write&expires_in=600"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store, idUser))
		rec := serve(f.account, r)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"scopes":["posts:read","posts:write"]`) {
			t.Errorf("form: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("at most 100", func(t *testing.T) {
		f := newPATFixture(t, nil)
		login := tokenOf(t, f.m, f.store, idUser)
		for i := range maxPersonalTokens {
			f.mustCreate(t, login, fmt.Sprintf(`{"name":"t%d","scopes":["posts:read"]}`, i))
		}
		code, resp := f.create(t, login, `{"name":"one too many","scopes":["posts:read"]}`)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(resp), "too many personal access tokens") {
			t.Errorf("token 101: %d %v", code, resp)
		}
	})
	t.Run("methods", func(t *testing.T) {
		f := newPATFixture(t, nil)
		for _, c := range []struct{ method, path, allow string }{
			{http.MethodPut, "/tokens", "GET, POST"}, {http.MethodGet, "/tokens/abc", http.MethodDelete},
		} {
			r := httptest.NewRequest(c.method, c.path, nil)
			r.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store, idUser))
			rec := serve(f.account, r)
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != c.allow {
				t.Errorf("%s %s: %d Allow %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"))
			}
		}
	})
	t.Run("another user's token", func(t *testing.T) {
		f := newPATFixture(t, nil)
		_, id := f.mustCreate(t, tokenOf(t, f.m, f.store, idAdmin), `{"name":"admin's","scopes":["posts:read"]}`)
		r := httptest.NewRequest(http.MethodDelete, "/tokens/"+id, nil)
		r.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store, idUser))
		if rec := serve(f.account, r); rec.Code != http.StatusNotFound {
			t.Errorf("DELETE of another user's token: %d, want 404", rec.Code)
		}
		if list, _ := f.store.UserPersonalTokens(context.Background(), idAdmin); len(list) != 1 {
			t.Errorf("the admin's token is gone")
		}
	})
}

// TestPersonalTokenNeedsFreshLogin checks that POST /tokens wants a login
// within Config.Freshness, and takes one after POST /verify.
func TestPersonalTokenNeedsFreshLogin(t *testing.T) {
	f := newPATFixture(t, func(c *Config) { c.Freshness = 10 * time.Minute })
	login := tokenOf(t, f.m, f.store, idUser)
	f.clock.t = f.clock.t.Add(11 * time.Minute)
	r := httptest.NewRequest(http.MethodPost, "/tokens", strings.NewReader(`{"name":"ci","scopes":["posts:read"]}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authentication-Token", login)
	checkReauth(t, serve(f.account, r), 10*time.Minute)

	rec := serve(f.account, verifyRequest("user-password", login))
	fresh := pairOf(t, rec).access
	if rec.Code != http.StatusOK || fresh == "" {
		t.Fatalf("verify: %d %s", rec.Code, rec.Body)
	}
	f.mustCreate(t, fresh, `{"name":"ci","scopes":["posts:read"]}`)

	// Negative Freshness switches the check off.
	g := newPATFixture(t, func(c *Config) { c.Freshness = -1 })
	old := tokenOf(t, g.m, g.store, idUser)
	g.clock.t = g.clock.t.Add(23 * time.Hour)
	g.mustCreate(t, old, `{"name":"ci","scopes":["posts:read"]}`)
}

// TestPersonalTokenCache checks that with the user cache on a token costs
// one store lookup, then none while cached, and one again after its
// owner is forgotten (as a revocation here, or the change log of another
// process, makes the Manager do); and that LastUsedAt is written at most
// every five minutes.
func TestPersonalTokenCache(t *testing.T) {
	f := newPATFixture(t, func(c *Config) { c.UserCache = UserCacheConfig{Size: 100, TTL: time.Hour} })
	tok, id := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
	lastUsed := func() time.Time {
		list, err := f.store.UserPersonalTokens(context.Background(), idUser)
		if err != nil || len(list) != 1 || list[0].ID != id {
			t.Fatalf("UserPersonalTokens = %v, %v", list, err)
		}
		return list[0].LastUsedAt
	}
	// Cold: neither the token nor its owner is cached.
	f.m.ForgetUser(idUser)
	f.store.lookups.Store(0)
	f.store.userLookups.Store(0)
	for i := range 5 {
		if rec := f.call(tok, tokenOrPersonal, "posts:read"); rec.Code != http.StatusOK {
			t.Fatalf("check %d: %d", i, rec.Code)
		}
	}
	if n, u := f.store.lookups.Load(), f.store.userLookups.Load(); n != 1 || u != 0 {
		t.Errorf("5 checks made %d token lookups and %d user lookups, want 1 and 0: the owner comes with the token", n, u)
	}
	// The owner read with the token is in the user cache: a login token
	// of the user is checked without a lookup.
	lr := httptest.NewRequest(http.MethodGet, "/", nil)
	lr.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store.MemoryStore, idUser)) // the embedded store: uncounted
	if rec := serve(f.m.RequireToken(whoami), lr); rec.Code != http.StatusOK || f.store.userLookups.Load() != 0 {
		t.Errorf("login token after the personal token: %d, %d user lookups, want 0", rec.Code, f.store.userLookups.Load())
	}
	if got := lastUsed(); !got.Equal(seedClock) {
		t.Errorf("LastUsedAt = %v, want %v", got, seedClock)
	}
	f.clock.t = f.clock.t.Add(4 * time.Minute)
	f.call(tok, tokenOrPersonal, "posts:read")
	if got := lastUsed(); !got.Equal(seedClock) {
		t.Errorf("4 min later LastUsedAt = %v, want it unchanged", got)
	}
	f.clock.t = f.clock.t.Add(time.Minute)
	f.call(tok, tokenOrPersonal, "posts:read")
	if got := lastUsed(); !got.Equal(seedClock.Add(5 * time.Minute)) {
		t.Errorf("5 min later LastUsedAt = %v, want %v", got, seedClock.Add(5*time.Minute))
	}

	// Another process deletes it: this one keeps its entry until told
	// (the change log, or PostgreSQL's notifications, call ForgetUser).
	if err := f.store.DeletePersonalToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	f.store.lookups.Store(0)
	f.m.ForgetUser(idUser)
	if rec := f.call(tok, tokenOrPersonal, "posts:read"); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the owner was forgotten: %d, want 401", rec.Code)
	}
	if n := f.store.lookups.Load(); n != 1 {
		t.Errorf("%d lookups after the forget, want 1", n)
	}
}

// TestPersonalTokenCacheRace checks the race the cache closes: a lookup
// that read the token before its deletion must not cache it after the
// deletion's forget.
func TestPersonalTokenCacheRace(t *testing.T) {
	f := newPATFixture(t, func(c *Config) { c.UserCache = UserCacheConfig{Size: 100, TTL: time.Hour} })
	tok, id := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
	hash := pat.Hash(tok)
	c := f.m.personal.cache
	forgets := c.users.forgets.Load() // read before the lookup, as verifyPersonal does
	stale, err := f.store.PersonalTokenByHash(context.Background(), hash[:])
	if err != nil {
		t.Fatal(err)
	}
	// The revocation happens between the lookup and the put.
	if err := f.store.DeletePersonalToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	f.m.ForgetUser(idUser)
	c.put(hash, &patEntry{token: stale}, forgets, f.m.now())
	if e := c.get(hash, f.m.now()); e != nil {
		t.Fatal("the stale token was cached after the forget")
	}
	if rec := f.call(tok, tokenOrPersonal, "posts:read"); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", rec.Code)
	}
}

func TestPersonalTokenConfig(t *testing.T) {
	tests := []struct {
		name  string
		store UserStore
		tc    TokenConfig
		want  string // a substring of New's error; "" for none
	}{
		{name: "on", tc: TokenConfig{Scopes: testScopes}},
		{name: "own prefix", tc: TokenConfig{Scopes: testScopes, PersonalPrefix: "myapp_"}},
		{name: "bad prefix", tc: TokenConfig{Scopes: testScopes, PersonalPrefix: "MyApp"}, want: "PersonalPrefix"},
		{name: "prefix without scopes", tc: TokenConfig{PersonalPrefix: "myapp_"}, want: "need Scopes"},
		{name: "max age without scopes", tc: TokenConfig{PersonalMaxAge: time.Hour}, want: "need Scopes"},
		{name: "bad scope name", tc: TokenConfig{Scopes: map[string][]string{"posts read": nil}}, want: "not a scope name"},
		{name: "empty scope name", tc: TokenConfig{Scopes: map[string][]string{"": nil}}, want: "not a scope name"},
		{name: "store without personal tokens", store: brokenStore{}, tc: TokenConfig{Scopes: testScopes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				store = NewMemoryStore()
			}
			_, err := New(store, seededKey, Config{Token: tt.tc})
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
	t.Run("own prefix issued", func(t *testing.T) {
		f := newPATFixture(t, func(c *Config) { c.Token.PersonalPrefix = "myapp_" })
		tok, _ := f.mustCreate(t, tokenOf(t, f.m, f.store, idUser), `{"name":"ci","scopes":["posts:read"]}`)
		if pat.Check("myapp_", tok) != nil {
			t.Errorf("token %q lacks the configured prefix", tok)
		}
		if rec := f.call(tok, tokenOrPersonal, "posts:read"); rec.Code != http.StatusOK {
			t.Errorf("own-prefix token: %d", rec.Code)
		}
	})
	t.Run("scopes without a token store", func(t *testing.T) {
		// A store that keeps no personal tokens: the scopes still hold
		// for login tokens, /tokens is not served, and a string of the
		// personal token shape is just a token that does not verify.
		store := storeWithoutPersonalTokens{newSeededStore(t)}
		m := newManagerWithKey(t, store, seededKey, Config{Token: TokenConfig{Scopes: testScopes}})
		login := tokenOf(t, m, store, idUser)
		for scope, want := range map[string]int{"posts:write": 200, "admin:all": 403} {
			h := m.Require(Token, PersonalAccess)(m.RequireScopes(scope)(whoami))
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authentication-Token", login)
			if rec := serve(h, r); rec.Code != want {
				t.Errorf("login token, %s: %d, want %d", scope, rec.Code, want)
			}
		}
		r := httptest.NewRequest(http.MethodGet, "/tokens", nil)
		r.Header.Set("Authentication-Token", login)
		if rec := serve(m.AccountHandler(), r); rec.Code != http.StatusNotImplemented {
			t.Errorf("GET /tokens: %d, want 501", rec.Code)
		}
		shaped, _ := pat.New(pat.DefaultPrefix)
		r = httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authentication-Token", shaped)
		if rec := serve(m.Require(Token, PersonalAccess)(whoami), r); rec.Code != http.StatusUnauthorized {
			t.Errorf("a personal token's shape: %d, want 401", rec.Code)
		}
	})
	t.Run("off", func(t *testing.T) {
		m, store := newSeeded(t, Config{})
		r := httptest.NewRequest(http.MethodGet, "/tokens", nil)
		r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
		if rec := serve(m.AccountHandler(), r); rec.Code != http.StatusNotImplemented {
			t.Errorf("GET /tokens without Scopes: %d, want 501", rec.Code)
		}
		// Every scope is undeclared: routes that ask for one refuse.
		h := m.RequireToken(m.RequireScopes("posts:read")(whoami))
		r = httptest.NewRequest(http.MethodGet, "/api", nil)
		r.Header.Set("Authentication-Token", tokenOf(t, m, store, idUser))
		if rec := serve(h, r); rec.Code != http.StatusForbidden {
			t.Errorf("RequireScopes without Scopes: %d, want 403", rec.Code)
		}
	})
}

// storeWithoutPersonalTokens hides a MemoryStore's PersonalTokenStore.
type storeWithoutPersonalTokens struct{ store *MemoryStore }

func (s storeWithoutPersonalTokens) UserByID(ctx context.Context, id string) (*User, error) {
	return s.store.UserByID(ctx, id)
}

func (s storeWithoutPersonalTokens) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.store.UserByEmail(ctx, email)
}
