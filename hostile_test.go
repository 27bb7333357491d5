package auth

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// TestHostileInput sends a battery of hostile requests to every handler and
// middleware over real HTTP and expects each one's exact status: never a
// panic, never a 500, never internal error text, and the server still
// serving afterwards.
func TestHostileInput(t *testing.T) {
	m, store := newSeeded(t, Config{MaxBodyBytes: 4 << 10})
	clock := setClock(m, seedClock)
	valid := tokenOf(t, m, store, idUser)
	now := clock.t.Unix()
	claims := appendClaims(nil, idUser, mustUser(t, store, idUser).Uniquifier, 0)
	// signerAt has the Manager's token settings, a clock fixed at unix,
	// and room for a zlib bomb.
	signerAt := func(unix int64) *itsdangerous.Serializer {
		s, err := itsdangerous.New(seededKey, itsdangerous.Config{
			Salt: "authkit-token", Digest: itsdangerous.SHA256, MaxPayloadBytes: 2 << 20,
			Now: func() time.Time { return time.Unix(unix, 0) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signedAt := func(unix int64) string { return signerAt(unix).Sign(claims) }
	bomb, err := signerAt(now).EncodeJSON([]byte(`"` + strings.Repeat("A", 1<<20) + `"`))
	if err != nil || !strings.HasPrefix(bomb, ".") {
		t.Fatalf("bomb token %q, %v", bomb, err)
	}
	if len(bomb) > 4096 {
		t.Fatalf("bomb token is %d bytes; want it to pass the length check", len(bomb))
	}
	parts := strings.Split(valid, ".")
	b64s := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("/login", m.LoginHandler())
	mux.Handle("/tokens", m.TokenHandler())
	mux.Handle("/logout", m.LogoutHandler())
	mux.Handle("/token", m.RequireToken(ok))
	mux.Handle("/basic", m.RequireBasic(ok))
	mux.Handle("/either", m.Require(Token, BasicToken, Basic)(ok))
	mux.Handle("/optional", m.Optional(Token, Basic)(ok))
	mux.Handle("/admin", m.RequireToken(m.RequireRoles("admin")(ok)))
	mux.Handle("/confirmed", m.RequireToken(m.RequireConfirmed(ok)))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.MaxHeaderBytes = 16 << 10
	srv.Start()
	defer srv.Close()

	type req struct {
		name   string
		method string
		path   string
		ctype  string
		body   string
		header map[string]string
		want   int
	}
	const js, form = "application/json", "application/x-www-form-urlencoded"
	tests := []req{
		// Login bodies.
		{name: "login oversized body", path: "/login", ctype: js, body: `{"email":"` + strings.Repeat("a", 5000) + `","password":"x"}`, want: 413},
		{name: "login deeply nested", path: "/login", ctype: js, body: `{"email":` + deep + `,"password":"x"}`, want: 400},
		{name: "login nested at top", path: "/login", ctype: js, body: deep, want: 400},
		{name: "login duplicate email", path: "/login", ctype: js, body: `{"email":"a@b.c","email":"user@example.com","password":"user-password"}`, want: 400},
		{name: "login duplicate password", path: "/login", ctype: js, body: `{"email":"user@example.com","password":"x","password":"user-password"}`, want: 400},
		{name: "login text/plain", path: "/login", ctype: "text/plain", body: `{"email":"a","password":"b"}`, want: 415},
		{name: "login no content type", path: "/login", body: `{"email":"a","password":"b"}`, want: 415},
		{name: "login multipart", path: "/login", ctype: "multipart/form-data; boundary=x", body: "--x--", want: 415},
		{name: "login malformed content type", path: "/login", ctype: "application/json; charset", body: `{}`, want: 415},
		{name: "login NUL in email", path: "/login", ctype: js, body: `{"email":"user@example.com\u0000","password":"user-password"}`, want: 400},
		{name: "login NUL in password", path: "/login", ctype: js, body: `{"email":"user@example.com","password":"user-password\u0000"}`, want: 400},
		{name: "login invalid UTF-8", path: "/login", ctype: js, body: "{\"email\":\"\xff\xfe\",\"password\":\"x\"}", want: 400},
		{name: "login array", path: "/login", ctype: js, body: `["user@example.com","user-password"]`, want: 400},
		{name: "login number", path: "/login", ctype: js, body: `42`, want: 400},
		{name: "login null", path: "/login", ctype: js, body: `null`, want: 400},
		{name: "login empty body", path: "/login", ctype: js, want: 400},
		{name: "login trailing data", path: "/login", ctype: js, body: `{"email":"user@example.com","password":"user-password"}{}`, want: 400},
		{name: "login email number", path: "/login", ctype: js, body: `{"email":1,"password":"x"}`, want: 400},
		{name: "login password object", path: "/login", ctype: js, body: `{"email":"a","password":{"$ne":""}}`, want: 400},
		{name: "login truncated JSON", path: "/login", ctype: js, body: `{"email":"a","pass`, want: 400},
		{name: "login huge number", path: "/login", ctype: js, body: `{"email":"a","password":"b","n":1e999999}`, want: 400},
		{name: "login unknown members ignored", path: "/login", ctype: js, body: `{"email":"nobody@example.com","password":"x","extra":[1,{"a":null}]}`, want: 400},
		{name: "login password over limit", path: "/login", ctype: js, body: `{"email":"user@example.com","password":"` + strings.Repeat("p", 2000) + `"}`, want: 400},
		{name: "login form duplicate email", path: "/login", ctype: form, body: "email=a&email=b&password=c", want: 400},
		{name: "login form bad escape", path: "/login", ctype: form, body: "email=%zz&password=c", want: 400},
		{name: "login form NUL", path: "/login", ctype: form, body: "email=user%40example.com&password=user-password%00", want: 400},
		{name: "login form invalid UTF-8", path: "/login", ctype: form, body: "email=%ff&password=c", want: 400},
		{name: "login GET", method: "GET", path: "/login", want: 405},
		{name: "login PUT", method: "PUT", path: "/login", ctype: js, body: `{}`, want: 405},
		// Token middleware.
		{name: "token extra dots", path: "/token", header: map[string]string{"Authentication-Token": parts[0] + ".." + parts[1] + "." + parts[2]}, want: 401},
		{name: "token trailing dot", path: "/token", header: map[string]string{"Authentication-Token": valid + "."}, want: 401},
		{name: "token leading dot", path: "/token", header: map[string]string{"Authentication-Token": "." + valid}, want: 401},
		{name: "token invalid base64", path: "/token", header: map[string]string{"Authentication-Token": "!!!!.@@@@.####"}, want: 401},
		{name: "token padded signature", path: "/token", header: map[string]string{"Authentication-Token": valid + "="}, want: 401},
		{name: "token zlib bomb", path: "/token", header: map[string]string{"Authentication-Token": bomb}, want: 401},
		{name: "token far future", path: "/token", header: map[string]string{"Authentication-Token": signedAt(now + 10*365*86400)}, want: 401},
		{name: "token one second future", path: "/token", header: map[string]string{"Authentication-Token": signedAt(now + 1)}, want: 401},
		{name: "token expired", path: "/token", header: map[string]string{"Authentication-Token": signedAt(now - 86400 - 1)}, want: 401},
		{name: "token negative timestamp", path: "/token", header: map[string]string{"Authentication-Token": signedAt(-1)}, want: 401},
		{name: "token timestamp zero", path: "/token", header: map[string]string{"Authentication-Token": signedAt(0)}, want: 401},
		{name: "token timestamp 9 bytes", path: "/token", header: map[string]string{"Authentication-Token": parts[0] + ".AQEBAQEBAQEB." + parts[2]}, want: 401},
		{name: "token huge", path: "/token", header: map[string]string{"Authentication-Token": strings.Repeat("A", 10000)}, want: 401},
		{name: "token NUL", path: "/token?auth_token=" + url.QueryEscape(valid+"\x00"), want: 401},
		{name: "token empty header", path: "/token", header: map[string]string{"Authentication-Token": ""}, want: 401},
		{name: "bearer without token", path: "/token", header: map[string]string{"Authorization": "Bearer"}, want: 401},
		{name: "bearer only spaces", path: "/token", header: map[string]string{"Authorization": "Bearer    "}, want: 401},
		{name: "authorization without scheme", path: "/token", header: map[string]string{"Authorization": valid}, want: 401},
		{name: "bearer lower-case scheme", path: "/token", header: map[string]string{"Authorization": "bearer " + valid}, want: 200},
		{name: "token huge header", path: "/token", header: map[string]string{"Authentication-Token": strings.Repeat("A", 40<<10)}, want: 431},
		{name: "token valid", path: "/token", header: map[string]string{"Authentication-Token": valid}, want: 200},
		// Basic.
		{name: "basic without colon", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s("user@example.com")}, want: 401},
		{name: "basic invalid base64", path: "/basic", header: map[string]string{"Authorization": "Basic %%%"}, want: 401},
		{name: "basic scheme only", path: "/basic", header: map[string]string{"Authorization": "Basic"}, want: 401},
		{name: "basic empty user", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s(":user-password")}, want: 401},
		{name: "basic NUL in password", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s("user@example.com:user-password\x00")}, want: 401},
		{name: "basic control in user", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s("user@example.com\n:user-password")}, want: 401},
		{name: "basic invalid UTF-8", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s("\xff:\xfe")}, want: 401},
		{name: "basic huge", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s(strings.Repeat("u", 9000)+":p")}, want: 401},
		{name: "basic token rejected on Basic-only route", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s(valid+":")}, want: 401},
		{name: "basic right credentials", path: "/basic", header: map[string]string{"Authorization": "Basic " + b64s("user@example.com:user-password")}, want: 200},
		{name: "either tampered token as username", path: "/either", header: map[string]string{"Authorization": "Basic " + b64s(valid+"x:")}, want: 401},
		{name: "either token as username", path: "/either", header: map[string]string{"Authorization": "Basic " + b64s(valid+":")}, want: 200},
		{name: "optional with garbage", path: "/optional", header: map[string]string{"Authentication-Token": "garbage", "Authorization": "Basic ???"}, want: 200},
		{name: "admin without role", path: "/admin", header: map[string]string{"Authentication-Token": valid}, want: 403},
		{name: "admin with garbage token", path: "/admin", header: map[string]string{"Authentication-Token": "x.y.z"}, want: 401},
		// Token and logout handlers.
		{name: "tokens with token as username", path: "/tokens", header: map[string]string{"Authorization": "Basic " + b64s(valid+":")}, want: 401},
		{name: "tokens with token header only", path: "/tokens", header: map[string]string{"Authentication-Token": valid}, want: 401},
		{name: "tokens Basic without colon", path: "/tokens", header: map[string]string{"Authorization": "Basic " + b64s("user@example.com")}, want: 401},
		{name: "tokens GET", method: "GET", path: "/tokens", want: 405},
		{name: "logout GET", method: "GET", path: "/logout", want: 405},
		{name: "logout without token", path: "/logout", want: 401},
		{name: "logout tampered token", path: "/logout", header: map[string]string{"Authentication-Token": tamper(valid)}, want: 401},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d hostile requests", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r, err := http.NewRequest(method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			if tt.ctype == form {
				r.Header.Set("Origin", srv.URL) // a browser's form, from this site
			}
			for k, v := range tt.header {
				r.Header[k] = []string{v} // as is, even if Go would canonicalize or refuse
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if strings.Contains(string(body), "auth:") || strings.Contains(string(body), "panic") {
				t.Errorf("body leaks internals: %s", body)
			}
		})
	}

	// The server still serves, and a repeated header is read once.
	resp, err := http.Post(srv.URL+"/login", js, strings.NewReader(`{"email":"user@example.com","password":"user-password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login after the battery: %v %v", resp, err)
	}
	r, _ := http.NewRequest("GET", srv.URL+"/token", nil)
	r.Header["Authentication-Token"] = []string{valid, "garbage"}
	resp, err = http.DefaultClient.Do(r)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("repeated token header: %v %v", resp.Status, err)
	}
}

func mustUser(t *testing.T, store UserStore, id string) *User {
	t.Helper()
	u, err := store.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tamper changes one character in the middle of the token's signature to a
// different one, so that the signature is always wrong.
func tamper(tok string) string {
	i := len(tok) - 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
