package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

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
			r.Header.Set("Origin", "http://example.com")
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

// BenchmarkStoredHashTiming measures, with the default scheme (argon2id,
// 19 MiB, t=2, p=1) written, a wrong password for users stored with bcrypt
// 10, bcrypt 12, argon2id and pbkdf2_sha512 (passlib's 25000 rounds, as
// Flask-Security writes it), each beside an unknown email in the same
// iteration, so that both share the machine's noise. It reports the
// medians in ms and their ratio, which should be within 10% of 1:
//
//	go test -run '^$' -bench StoredHashTiming -benchtime 20x .
func BenchmarkStoredHashTiming(b *testing.B) {
	const password = "the-right-password"
	store := NewMemoryStore()
	m, err := New(store, []byte("timing benchmark signing key...."), Config{
		Throttle: ThrottleConfig{Disabled: true}, Logger: discardLogger,
	})
	if err != nil {
		b.Fatal(err)
	}
	users := []struct {
		name string
		h    passhash.Hasher
	}{
		{name: "bcrypt-10", h: passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 10}},
		{name: "bcrypt-12", h: passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 12}},
		{name: "argon2id", h: passhash.Hasher{Scheme: passhash.Argon2id}},
		{name: "pbkdf2_sha512", h: passhash.Hasher{Scheme: passhash.PBKDF2SHA512}},
	}
	ctx := context.Background()
	for _, u := range users {
		enc, err := u.h.Hash(password)
		if err != nil {
			b.Fatal(err)
		}
		if err := store.CreateUser(ctx, &User{ID: u.name, Email: u.name + "@example.com", PasswordHash: enc, Active: true, Uniquifier: "u"}); err != nil {
			b.Fatal(err)
		}
		_, _ = m.Authenticate(ctx, u.name+"@example.com", "wrong-password") // learn its cost
	}
	timed := func(b *testing.B, email string) float64 {
		start := time.Now()
		if _, err := m.Authenticate(ctx, email, "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
			b.Fatal(err)
		}
		return float64(time.Since(start)) / 1e6
	}
	for _, u := range users {
		b.Run(u.name, func(b *testing.B) {
			var unknown, known []float64
			for b.Loop() {
				unknown = append(unknown, timed(b, "nobody@example.com"))
				known = append(known, timed(b, u.name+"@example.com"))
			}
			mu, mk := median(unknown), median(known)
			b.ReportMetric(mu, "unknown-ms")
			b.ReportMetric(mk, "known-ms")
			b.ReportMetric(mk/mu, "known/unknown")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
