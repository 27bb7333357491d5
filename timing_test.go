package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth/passhash"
)

// BenchmarkCredentialTiming measures, on every path that checks a password,
// an unknown identity against a wrong password for a known one. Their
// medians should be within 10% of each other: the unknown identity is
// checked against a dummy hash of the same scheme and cost. It uses bcrypt
// cost 10 so that the hash dominates as it does in production; run it with
//
//	go test -run '^$' -bench CredentialTiming -benchtime 30x -count 6 . | benchstat -
func BenchmarkCredentialTiming(b *testing.B) {
	store := NewMemoryStore()
	m, err := New(store, []byte("timing benchmark signing key...."), Config{

		Throttle: ThrottleConfig{Disabled: true},
		Logger:   discardLogger, Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 10},
	})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := m.NewUser("known@example.com", "the-right-password")
	if err := store.CreateUser(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	paths := []struct {
		name    string
		handler http.Handler
		request func(email string) *http.Request
		want    int
	}{
		{name: "login-json", handler: m.LoginHandler(), want: http.StatusBadRequest, request: func(email string) *http.Request {
			r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"email":"`+email+`","password":"wrong-password"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{name: "login-form", handler: m.LoginHandler(), want: http.StatusBadRequest, request: func(email string) *http.Request {
			r := httptest.NewRequest("POST", "/login", strings.NewReader("email="+email+"&password=wrong-password"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{name: "token-handler", handler: m.TokenHandler(), want: http.StatusUnauthorized, request: func(email string) *http.Request {
			r := httptest.NewRequest("POST", "/tokens", nil)
			r.SetBasicAuth(email, "wrong-password")
			return r
		}},
		{name: "basic", handler: m.RequireBasic(ok), want: http.StatusUnauthorized, request: func(email string) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth(email, "wrong-password")
			return r
		}},
	}
	for _, p := range paths {
		for _, who := range []struct{ name, email string }{
			{name: "unknown", email: "unknown@example.com"},
			{name: "known-wrong-password", email: "known@example.com"},
		} {
			b.Run(p.name+"/"+who.name, func(b *testing.B) {
				for b.Loop() {
					w := httptest.NewRecorder()
					p.handler.ServeHTTP(w, p.request(who.email))
					if w.Code != p.want {
						b.Fatalf("status %d, want %d", w.Code, p.want)
					}
				}
			})
		}
	}
}
