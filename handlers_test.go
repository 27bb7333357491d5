package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// postLogin builds a login request.
func postLogin(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		r.Header.Set("Origin", "http://example.com") // a browser's form, from this site
	}
	return r
}

// loginToken checks that rec is exactly the successful login response for
// user id and returns its token.
func loginToken(t *testing.T, rec *httptest.ResponseRecorder, id string) string {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var got struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("login body %s: %v", rec.Body, err)
	}
	tok := got.Response.User.Token
	csrf := ""
	if h := rec.Header().Get(CSRFHeader); h != "" { // a remembered login began a session
		csrf = `"csrf_token":"` + h + `",`
	}
	want := `{"meta":{"code":200},"response":{` + csrf + `"user":{"id":"` + id + `","authentication_token":"` + tok + `"}}}` + "\n"
	if tok == "" || rec.Body.String() != want {
		t.Errorf("login body\n%s\nwant exactly\n%s", rec.Body, want)
	}
	for header, want := range map[string]string{
		"Cache-Control":          "no-store",
		"Pragma":                 "no-cache",
		"Content-Type":           "application/json",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	return tok
}

func TestLoginHandlerSuccess(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantID      string
	}{
		{name: "JSON", contentType: "application/json", body: loginJSON("user@example.com", "user-password"), wantID: idUser},
		{name: "JSON with charset", contentType: "application/json; charset=utf-8", body: loginJSON("admin@example.com", "admin-password"), wantID: idAdmin},
		{name: "JSON media type in capitals", contentType: "Application/JSON", body: loginJSON("user@example.com", "user-password"), wantID: idUser},
		{name: "+json media type", contentType: "application/vnd.api+json", body: loginJSON("user@example.com", "user-password"), wantID: idUser},
		{name: "JSON with other members", contentType: "application/json", body: `{"remember":true,"email":"user@example.com","next":{"a":[1,2]},"password":"user-password"}`, wantID: idUser},
		{name: "JSON with escapes", contentType: "application/json", body: `{"email":"user\u0040example.com","password":"user-passwor\u0064"}`, wantID: idUser},
		{name: "email in other case", contentType: "application/json", body: loginJSON("USER@Example.Com", "user-password"), wantID: idUser},
		{name: "non-ASCII email in other case", contentType: "application/json", body: loginJSON("JÖSÉ@exÄmple.com", "pässwörd-🔑"), wantID: idUTF8},
		{name: "password with colons", contentType: "application/json", body: loginJSON("colon@example.com", "pa:ss:word:"), wantID: idColon},
		{name: "unconfirmed user", contentType: "application/json", body: loginJSON("unconfirmed@example.com", "unconfirmed-password"), wantID: idUnconfirmed},
		{
			name: "form", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"email": {"user@example.com"}, "password": {"user-password"}}.Encode(), wantID: idUser,
		},
		{
			name: "form with other fields", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: "csrf=x&email=admin%40example.com&password=admin-password&remember=1", wantID: idAdmin,
		},
		{
			name: "form with UTF-8", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"email": {"jösé@exämple.com"}, "password": {"pässwörd-🔑"}}.Encode(), wantID: idUTF8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, Config{})
			rec := serve(m.LoginHandler(), postLogin(tt.contentType, tt.body))
			tok := loginToken(t, rec, tt.wantID)
			u, err := m.VerifyToken(context.Background(), tok)
			if err != nil || u.ID != tt.wantID {
				t.Errorf("the login token verifies as %v, %v", u, err)
			}
		})
	}
}

func TestLoginHandlerErrors(t *testing.T) {
	const limit = 128
	okBody := loginJSON("user@example.com", "user-password")
	tests := []struct {
		name        string
		method      string // default POST
		contentType string
		body        string
		wantStatus  int
		wantMsg     string
	}{
		{name: "GET", method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed, wantMsg: textMethod},
		{name: "PUT", method: http.MethodPut, contentType: "application/json", body: okBody, wantStatus: http.StatusMethodNotAllowed, wantMsg: textMethod},
		{name: "DELETE", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed, wantMsg: textMethod},
		{name: "no content type", body: okBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "text/plain", contentType: "text/plain", body: okBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: okBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "malformed content type", contentType: "application/json; =", body: okBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "JSON over the limit", contentType: "application/json", body: `{"email":"user@example.com","password":"` + strings.Repeat("p", limit) + `"}`, wantStatus: http.StatusRequestEntityTooLarge, wantMsg: textTooLarge},
		{name: "form over the limit", contentType: "application/x-www-form-urlencoded", body: "email=user%40example.com&password=" + strings.Repeat("p", limit), wantStatus: http.StatusRequestEntityTooLarge, wantMsg: textTooLarge},
		{name: "empty body", contentType: "application/json", body: "", wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "not JSON", contentType: "application/json", body: "email=user", wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "truncated JSON", contentType: "application/json", body: `{"email":"user@example.com"`, wantStatus: http.StatusBadRequest, wantMsg: textInvalidJSON},
		{name: "array", contentType: "application/json", body: `["user@example.com","user-password"]`, wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "string", contentType: "application/json", body: `"user@example.com"`, wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "number", contentType: "application/json", body: `42`, wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "null", contentType: "application/json", body: `null`, wantStatus: http.StatusBadRequest, wantMsg: textShape},
		{name: "duplicate email", contentType: "application/json", body: `{"email":"x@example.com","password":"user-password","email":"user@example.com"}`, wantStatus: http.StatusBadRequest, wantMsg: `The member "email" appears more than once.`},
		{name: "duplicate password", contentType: "application/json", body: `{"email":"user@example.com","password":"a","password":"user-password"}`, wantStatus: http.StatusBadRequest, wantMsg: `The member "password" appears more than once.`},
		{name: "email a number", contentType: "application/json", body: `{"email":1,"password":"user-password"}`, wantStatus: http.StatusBadRequest, wantMsg: `"email" must be a string.`},
		{name: "email an array", contentType: "application/json", body: `{"email":["user@example.com"],"password":"user-password"}`, wantStatus: http.StatusBadRequest, wantMsg: `"email" must be a string.`},
		{name: "password a bool", contentType: "application/json", body: `{"email":"user@example.com","password":true}`, wantStatus: http.StatusBadRequest, wantMsg: `"password" must be a string.`},
		{name: "trailing data", contentType: "application/json", body: okBody + "x", wantStatus: http.StatusBadRequest, wantMsg: "The request body has data after the JSON object."},
		{name: "two objects", contentType: "application/json", body: okBody + okBody, wantStatus: http.StatusBadRequest, wantMsg: "The request body has data after the JSON object."},
		{name: "missing password", contentType: "application/json", body: `{"email":"user@example.com"}`, wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "missing email", contentType: "application/json", body: `{"password":"user-password"}`, wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "empty object", contentType: "application/json", body: `{}`, wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "null email", contentType: "application/json", body: `{"email":null,"password":"user-password"}`, wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "invalid UTF-8", contentType: "application/json", body: "{\"email\":\"user@example.com\",\"password\":\"\xff\"}", wantStatus: http.StatusBadRequest, wantMsg: "The request body is not valid UTF-8."},
		{name: "NUL in password", contentType: "application/json", body: `{"email":"user@example.com","password":"user-password\u0000"}`, wantStatus: http.StatusBadRequest, wantMsg: "The credentials must not contain NUL characters."},
		{name: "form missing password", contentType: "application/x-www-form-urlencoded", body: "email=user%40example.com", wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "form duplicate email", contentType: "application/x-www-form-urlencoded", body: "email=a&email=user%40example.com&password=user-password", wantStatus: http.StatusBadRequest, wantMsg: "Each of email and password may appear only once."},
		{name: "form bad escape", contentType: "application/x-www-form-urlencoded", body: "email=%zz&password=x", wantStatus: http.StatusBadRequest, wantMsg: "The form is not valid application/x-www-form-urlencoded data."},
		{name: "wrong password", contentType: "application/json", body: loginJSON("user@example.com", "wrong"), wantStatus: http.StatusBadRequest, wantMsg: textBadCredentials},
		{name: "unknown email", contentType: "application/json", body: loginJSON("nobody@example.com", "user-password"), wantStatus: http.StatusBadRequest, wantMsg: textBadCredentials},
		{name: "inactive user", contentType: "application/json", body: loginJSON("inactive@example.com", "inactive-password"), wantStatus: http.StatusBadRequest, wantMsg: textBadCredentials},
		{name: "form wrong password", contentType: "application/x-www-form-urlencoded", body: "email=user%40example.com&password=wrong", wantStatus: http.StatusBadRequest, wantMsg: textBadCredentials},
	}
	m, store := newSeeded(t, Config{MaxBodyBytes: limit})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postLogin(tt.contentType, tt.body)
			if tt.method != "" {
				r.Method = tt.method
			}
			rec := serve(m.LoginHandler(), r)
			checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
			allow := rec.Header().Get("Allow")
			if (tt.wantStatus == http.StatusMethodNotAllowed) != (allow == http.MethodPost) {
				t.Errorf("Allow %q with status %d", allow, rec.Code)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "" {
				t.Errorf("Cache-Control %q on an error", cc)
			}
		})
	}
	u, _ := store.UserByID(context.Background(), idUser)
	if u.LoginCount != 0 {
		t.Errorf("failed logins were recorded: LoginCount %d", u.LoginCount)
	}
}

// TestLoginHandlerBodyLimit checks that a body of exactly MaxBodyBytes is read.
func TestLoginHandlerBodyLimit(t *testing.T) {
	base := loginJSON("user@example.com", "user-password")
	padded := func(n int) string { // a login body of exactly n bytes
		pad := n - len(base) - len(`,"x":""`)
		return strings.TrimSuffix(base, "}") + `,"x":"` + strings.Repeat("p", pad) + `"}`
	}
	const limit = 100
	tests := []struct {
		name       string
		size       int
		wantStatus int
	}{
		{name: "under", size: limit - 1, wantStatus: http.StatusOK},
		{name: "at", size: limit, wantStatus: http.StatusOK},
		{name: "over", size: limit + 1, wantStatus: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, Config{MaxBodyBytes: limit})
			body := padded(tt.size)
			if len(body) != tt.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tt.size)
			}
			if rec := serve(m.LoginHandler(), postLogin("application/json", body)); rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
		})
	}
}

// TestLoginHandlerFailuresIndistinguishable: a wrong password, an unknown
// email and an inactive account get byte-identical responses.
func TestLoginHandlerFailuresIndistinguishable(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{name: "wrong password", contentType: "application/json", body: loginJSON("user@example.com", "wrong-password")},
		{name: "unknown email", contentType: "application/json", body: loginJSON("nobody@example.com", "wrong-password")},
		{name: "inactive user, right password", contentType: "application/json", body: loginJSON("inactive@example.com", "inactive-password")},
		{name: "inactive user, wrong password", contentType: "application/json", body: loginJSON("inactive@example.com", "wrong-password")},
		{name: "password over MaxPasswordBytes", contentType: "application/json", body: loginJSON("user@example.com", strings.Repeat("p", 1024+1))},
		{name: "bcrypt prefix of a long password", contentType: "application/json", body: loginJSON("user@example.com", "user-password"+strings.Repeat("x", 80))},
		{name: "form, wrong password", contentType: "application/x-www-form-urlencoded", body: "email=user%40example.com&password=wrong-password"},
		{name: "form, unknown email", contentType: "application/x-www-form-urlencoded", body: "email=nobody%40example.com&password=wrong-password"},
	}
	type response struct {
		status int
		header http.Header
		body   string
	}
	var first *response
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Throttling on, as by default: one failure changes nothing.
			m, _ := newSeeded(t, Config{Throttle: ThrottleConfig{FreeAttempts: 5}})
			rec := serve(m.LoginHandler(), postLogin(tt.contentType, tt.body))
			checkErrorResponse(t, rec, http.StatusBadRequest, textBadCredentials)
			got := &response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
			if first == nil {
				first = got
				return
			}
			if !reflect.DeepEqual(got, first) {
				t.Errorf("response %+v differs from %s's %+v", got, tests[0].name, first)
			}
		})
	}
}

func TestLoginHandlerRecordsClientAddress(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		forwarded  string
		wantIP     string
	}{
		{name: "IPv4", remoteAddr: "203.0.113.7:5555", wantIP: "203.0.113.7"},
		{name: "IPv6", remoteAddr: "[2001:db8::1]:443", wantIP: "2001:db8::1"},
		{name: "IPv4-mapped IPv6", remoteAddr: "[::ffff:192.0.2.9]:80", wantIP: "192.0.2.9"},
		{name: "no port", remoteAddr: "198.51.100.3", wantIP: "198.51.100.3"},
		{name: "X-Forwarded-For from an untrusted peer", remoteAddr: "203.0.113.7:5555", forwarded: "192.0.2.200", wantIP: "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, Config{})
			clock := setClock(m, seedClock)
			for i, wantLast := range []string{"", tt.wantIP} {
				r := postLogin("application/json", loginJSON("user@example.com", "user-password"))
				r.RemoteAddr = tt.remoteAddr
				if tt.forwarded != "" {
					r.Header.Set("X-Forwarded-For", tt.forwarded)
				}
				loginToken(t, serve(m.LoginHandler(), r), idUser)
				u, _ := store.UserByID(context.Background(), idUser)
				if u.LoginCount != i+1 || u.CurrentLoginIP != tt.wantIP || u.LastLoginIP != wantLast ||
					!u.CurrentLoginAt.Equal(clock.t) {
					t.Errorf("after login %d: count %d, current %q at %v, last %q; want %d, %q at %v, %q",
						i+1, u.LoginCount, u.CurrentLoginIP, u.CurrentLoginAt, u.LastLoginIP, i+1, tt.wantIP, clock.t, wantLast)
				}
				clock.t = clock.t.Add(time.Minute)
			}
		})
	}
}

func TestLoginHandlerStoreFailures(t *testing.T) {
	tests := []struct {
		name  string
		store func(t *testing.T) UserStore
	}{
		{name: "read fails", store: func(*testing.T) UserStore { return brokenStore{} }},
		{name: "update fails", store: func(t *testing.T) UserStore { return brokenUpdater{newSeededStore(t)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManagerWithKey(t, tt.store(t), seededKey, Config{})
			rec := serve(m.LoginHandler(), postLogin("application/json", loginJSON("user@example.com", "user-password")))
			checkErrorResponse(t, rec, http.StatusServiceUnavailable, textUnavailable)
		})
	}
}

func TestLoginHandlerReadOnlyStore(t *testing.T) {
	store := newSeededStore(t)
	m := newManagerWithKey(t, readOnlyStore{store}, seededKey, Config{})
	tok := loginToken(t, serve(m.LoginHandler(), postLogin("application/json", loginJSON("user@example.com", "user-password"))), idUser)
	if _, err := m.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("token from a read-only store: %v", err)
	}
}

func TestTokenHandler(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		method     string
		request    func(r *http.Request, tok string)
		wantStatus int
		wantExp    int64
		wantMsg    string
		wantChall  []string
	}{
		{
			name: "Basic email and password",
			cfg:  Config{Token: TokenConfig{MaxAge: time.Hour}},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusOK, wantExp: 3600,
		},
		{
			name: "default max age",
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("User@Example.com", "user-password"))
			},
			wantStatus: http.StatusOK, wantExp: 86400,
		},
		{
			name: "tokens that never expire",
			cfg:  Config{Token: TokenConfig{MaxAge: -1}},
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusOK, wantExp: 0,
		},
		{
			name:       "token as username, empty password",
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "")) },
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBasic},
		},
		{
			name:       "token as username, any password",
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", basicAuth(tok, "x")) },
			wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials, wantChall: []string{challengeBasic},
		},
		{
			name:       "Authentication-Token header alone",
			request:    func(r *http.Request, tok string) { r.Header.Set("Authentication-Token", tok) },
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBasic},
		},
		{
			name:       "Bearer token alone",
			request:    func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) },
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBasic},
		},
		{
			name:       "nothing",
			request:    func(*http.Request, string) {},
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBasic},
		},
		{
			name:       "wrong password",
			request:    func(r *http.Request, _ string) { r.Header.Set("Authorization", basicAuth("user@example.com", "nope")) },
			wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials, wantChall: []string{challengeBasic},
		},
		{
			name: "inactive user",
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("inactive@example.com", "inactive-password"))
			},
			wantStatus: http.StatusUnauthorized, wantMsg: textBadCredentials, wantChall: []string{challengeBasic},
		},
		{
			name:       "malformed Basic",
			request:    func(r *http.Request, _ string) { r.Header.Set("Authorization", "Basic !!!") },
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBasic},
		},
		{
			name: "GET", method: http.MethodGet,
			request: func(r *http.Request, _ string) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusMethodNotAllowed, wantMsg: textMethod,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, tt.cfg)
			r := httptest.NewRequest(http.MethodPost, "/api/tokens/", nil)
			if tt.method != "" {
				r.Method = tt.method
			}
			tt.request(r, tokenOf(t, m, store, idUser))
			rec := serve(m.TokenHandler(), r)
			if tt.wantStatus != http.StatusOK {
				checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
				if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, tt.wantChall) {
					t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
				}
				if tt.wantStatus == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
					t.Errorf("Allow %q", rec.Header().Get("Allow"))
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
			dec.DisallowUnknownFields()
			var got struct {
				Token      *string `json:"token"`
				Expiration *int64  `json:"expiration"`
			}
			if err := dec.Decode(&got); err != nil || got.Token == nil || got.Expiration == nil {
				t.Fatalf("body %s: want exactly token and expiration (%v)", rec.Body, err)
			}
			if *got.Expiration != tt.wantExp {
				t.Errorf("expiration %d, want %d", *got.Expiration, tt.wantExp)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			check := httptest.NewRequest(http.MethodGet, "/", nil)
			check.Header.Set("Authentication-Token", *got.Token)
			if rec := serve(m.RequireToken(whoami), check); rec.Code != http.StatusOK || rec.Body.String() != "user "+idUser {
				t.Errorf("the minted token on RequireToken: %d %s", rec.Code, rec.Body)
			}
			u, _ := store.UserByID(context.Background(), idUser)
			if u.LoginCount != 1 || u.CurrentLoginIP != "192.0.2.1" {
				t.Errorf("the login was not recorded: count %d, IP %q", u.LoginCount, u.CurrentLoginIP)
			}
		})
	}
}

func TestLogoutHandler(t *testing.T) {
	type tokens struct {
		mine, mineEarlier, theirs string
	}
	tests := []struct {
		name       string
		store      func(t *testing.T, s *MemoryStore) UserStore // nil: the MemoryStore
		method     string
		wrap       bool // mount behind RequireToken
		request    func(r *http.Request, tok tokens)
		wantStatus int
		wantMsg    string
		wantChall  []string
		wantDead   bool // the user's tokens stop working
	}{
		{
			name:       "header",
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authentication-Token", tok.mine) },
			wantStatus: http.StatusOK, wantDead: true,
		},
		{
			name:       "bearer",
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authorization", "Bearer "+tok.mine) },
			wantStatus: http.StatusOK, wantDead: true,
		},
		{
			name:       "query",
			request:    func(r *http.Request, tok tokens) { r.URL.RawQuery = "auth_token=" + tok.mine },
			wantStatus: http.StatusOK, wantDead: true,
		},
		{
			name: "behind RequireToken", wrap: true,
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authentication-Token", tok.mine) },
			wantStatus: http.StatusOK, wantDead: true,
		},
		{
			name:       "without token",
			request:    func(*http.Request, tokens) {},
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBearer},
		},
		{
			name:       "invalid token",
			request:    func(r *http.Request, _ tokens) { r.Header.Set("Authentication-Token", "garbage") },
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeInvalid},
		},
		{
			name: "Basic credentials",
			request: func(r *http.Request, _ tokens) {
				r.Header.Set("Authorization", basicAuth("user@example.com", "user-password"))
			},
			wantStatus: http.StatusUnauthorized, wantMsg: textUnauthenticated, wantChall: []string{challengeBearer},
		},
		{
			name: "GET", method: http.MethodGet,
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authentication-Token", tok.mine) },
			wantStatus: http.StatusMethodNotAllowed, wantMsg: textMethod,
		},
		{
			name:       "read-only store",
			store:      func(_ *testing.T, s *MemoryStore) UserStore { return readOnlyStore{s} },
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authentication-Token", tok.mine) },
			wantStatus: http.StatusNotImplemented, wantMsg: textNotImplemented,
		},
		{
			name:       "update fails",
			store:      func(_ *testing.T, s *MemoryStore) UserStore { return brokenUpdater{s} },
			request:    func(r *http.Request, tok tokens) { r.Header.Set("Authentication-Token", tok.mine) },
			wantStatus: http.StatusServiceUnavailable, wantMsg: textUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newSeededStore(t)
			var store UserStore = mem
			if tt.store != nil {
				store = tt.store(t, mem)
			}
			m := newManagerWithKey(t, store, seededKey, Config{})
			clock := setClock(m, seedClock)
			var tok tokens
			tok.mineEarlier = tokenOf(t, m, mem, idUser)
			clock.t = clock.t.Add(time.Minute)
			tok.mine = tokenOf(t, m, mem, idUser)
			tok.theirs = tokenOf(t, m, mem, idAdmin)

			r := httptest.NewRequest(http.MethodPost, "/logout", nil)
			if tt.method != "" {
				r.Method = tt.method
			}
			tt.request(r, tok)
			h := m.LogoutHandler()
			if tt.wrap {
				h = m.RequireToken(h)
			}
			rec := serve(h, r)
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != `{"meta":{"code":200},"response":{}}`+"\n" {
					t.Errorf("logout: %d %s", rec.Code, rec.Body)
				}
			} else {
				checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
				if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, tt.wantChall) {
					t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
				}
				if tt.wantStatus == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
					t.Errorf("Allow %q", rec.Header().Get("Allow"))
				}
			}
			for _, c := range []struct {
				name, token string
				dead        bool
			}{
				{name: "the token used", token: tok.mine, dead: tt.wantDead},
				{name: "an earlier token of the user", token: tok.mineEarlier, dead: tt.wantDead},
				{name: "another user's token", token: tok.theirs, dead: false},
			} {
				check := httptest.NewRequest(http.MethodGet, "/", nil)
				check.Header.Set("Authentication-Token", c.token)
				got := serve(m.RequireToken(whoami), check).Code
				if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusOK}[c.dead]; got != want {
					t.Errorf("%s after logout: %d, want %d", c.name, got, want)
				}
			}
		})
	}
}

// TestLoginToProtectedRoundTrip drives the handlers over real HTTP: log in
// each way, use the token each way, log out.
func TestLoginToProtectedRoundTrip(t *testing.T) {
	m, store := newSeeded(t, Config{})
	mux := http.NewServeMux()
	mux.Handle("POST /login", m.LoginHandler())
	mux.Handle("POST /logout", m.LogoutHandler())
	mux.Handle("POST /tokens", m.TokenHandler())
	mux.Handle("GET /protected", m.RequireToken(whoami))
	mux.Handle("GET /posts", m.Require(Basic, BasicToken)(m.RequireConfirmed(whoami)))
	mux.Handle("GET /admin", m.RequireToken(m.RequireRoles("admin")(whoami)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	do := func(t *testing.T, method, path string, header map[string]string, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}
	login := func(t *testing.T, contentType, body string) string {
		t.Helper()
		status, header, b := do(t, http.MethodPost, "/login", map[string]string{"Content-Type": contentType}, body)
		rec := httptest.NewRecorder()
		for k, v := range header {
			rec.Header()[k] = v
		}
		rec.Code = status
		rec.Body.WriteString(b)
		return loginToken(t, rec, idUser)
	}

	loginForm := func(t *testing.T, body string) string {
		t.Helper()
		status, header, b := do(t, http.MethodPost, "/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": srv.URL}, body)
		rec := httptest.NewRecorder()
		for k, v := range header {
			rec.Header()[k] = v
		}
		rec.Code = status
		rec.Body.WriteString(b)
		return loginToken(t, rec, idUser)
	}

	jsonTok := login(t, "application/json", loginJSON("user@example.com", "user-password"))
	formTok := loginForm(t, "email=USER%40example.com&password=user-password")
	_, _, minted := do(t, http.MethodPost, "/tokens", map[string]string{"Authorization": basicAuth("user@example.com", "user-password")}, "")
	var tokenResp struct{ Token string }
	if err := json.Unmarshal([]byte(minted), &tokenResp); err != nil || tokenResp.Token == "" {
		t.Fatalf("token endpoint: %s", minted)
	}
	u, _ := store.UserByID(context.Background(), idUser)
	if u.LoginCount != 3 || u.CurrentLoginIP != "127.0.0.1" || u.LastLoginIP != "127.0.0.1" {
		t.Errorf("after three logins: count %d, IPs %q %q", u.LoginCount, u.CurrentLoginIP, u.LastLoginIP)
	}
	admin := tokenOf(t, m, store, idAdmin)

	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
		wantBody   string
	}{
		{name: "header", path: "/protected", header: map[string]string{"Authentication-Token": jsonTok}, wantStatus: http.StatusOK, wantBody: "user 1"},
		{name: "bearer", path: "/protected", header: map[string]string{"Authorization": "Bearer " + formTok}, wantStatus: http.StatusOK, wantBody: "user 1"},
		{name: "query", path: "/protected?auth_token=" + url.QueryEscape(tokenResp.Token), wantStatus: http.StatusOK, wantBody: "user 1"},
		{name: "no token", path: "/protected", wantStatus: http.StatusUnauthorized},
		{name: "posts with password", path: "/posts", header: map[string]string{"Authorization": basicAuth("user@example.com", "user-password")}, wantStatus: http.StatusOK, wantBody: "user 1"},
		{name: "posts with token as username", path: "/posts", header: map[string]string{"Authorization": basicAuth(jsonTok, "")}, wantStatus: http.StatusOK, wantBody: "user 1"},
		{name: "posts unconfirmed", path: "/posts", header: map[string]string{"Authorization": basicAuth("unconfirmed@example.com", "unconfirmed-password")}, wantStatus: http.StatusForbidden},
		{name: "admin as user", path: "/admin", header: map[string]string{"Authentication-Token": jsonTok}, wantStatus: http.StatusForbidden},
		{name: "admin as admin", path: "/admin", header: map[string]string{"Authentication-Token": admin}, wantStatus: http.StatusOK, wantBody: "user 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, http.MethodGet, tt.path, tt.header, "")
			if status != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("GET %s: %d %q, want %d %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
			checkNoLeak(t, body)
		})
	}

	t.Run("logout", func(t *testing.T) {
		if status, _, body := do(t, http.MethodPost, "/logout", map[string]string{"Authentication-Token": formTok}, ""); status != http.StatusOK {
			t.Fatalf("logout: %d %s", status, body)
		}
		for _, tok := range []string{jsonTok, formTok, tokenResp.Token} {
			status, header, _ := do(t, http.MethodGet, "/protected", map[string]string{"Authentication-Token": tok}, "")
			if status != http.StatusUnauthorized || header.Get("WWW-Authenticate") != challengeInvalid {
				t.Errorf("token after logout: %d %q", status, header.Get("WWW-Authenticate"))
			}
		}
		if status, _, _ := do(t, http.MethodGet, "/admin", map[string]string{"Authentication-Token": admin}, ""); status != http.StatusOK {
			t.Errorf("another user's token after logout: %d", status)
		}
		status, _, _ := do(t, http.MethodPost, "/login", map[string]string{"Content-Type": "application/json"}, loginJSON("user@example.com", "user-password"))
		if status != http.StatusOK {
			t.Errorf("login after logout: %d", status)
		}
	})
}
