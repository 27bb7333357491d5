package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth/passhash"
)

// benchManager returns a Manager over a MemoryStore holding one user, and a
// token of that user.
func benchManager(b *testing.B) (*Manager, string) {
	b.Helper()
	store := NewMemoryStore()
	m, err := New(store, []byte("benchmark-secret-key-0123456789"), Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		b.Fatal(err)
	}
	u, err := m.NewUser("bench@example.com", "password")
	if err != nil {
		b.Fatal(err)
	}
	if err := store.CreateUser(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	tok, err := m.IssueToken(u)
	if err != nil {
		b.Fatal(err)
	}
	return m, tok
}

// BenchmarkHMACFloor is the floor a verification cannot beat: one
// pre-keyed, reused HMAC-SHA256 over the token's signed bytes, plus the
// base64 decoding of its three parts.
func BenchmarkHMACFloor(b *testing.B) {
	_, tok := benchManager(b)
	parts := strings.Split(tok, ".")
	signed := []byte(parts[0] + "." + parts[1])
	mac := hmac.New(sha256.New, []byte("benchmark-secret-key-0123456789"))
	var sum, dec [128]byte
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range parts {
			b64.Decode(dec[:], []byte(p))
		}
		mac.Reset()
		mac.Write(signed)
		mac.Sum(sum[:0])
	}
}

// BenchmarkVerifySignature checks the signature and age only.
func BenchmarkVerifySignature(b *testing.B) {
	m, tok := benchManager(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.tokens.Unsign(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyToken parses a token, checks its signature and age and
// decodes its payload: everything but the store lookup.
func BenchmarkVerifyToken(b *testing.B) {
	m, tok := benchManager(b)
	b.ReportAllocs()
	for b.Loop() {
		seg, _, err := m.tokens.Unsign(tok)
		if err != nil {
			b.Fatal(err)
		}
		var scratch [256]byte
		if _, _, _, err := parseClaims(m.tokens, seg, scratch[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTokenWithStore is Manager.VerifyToken over a MemoryStore.
func BenchmarkVerifyTokenWithStore(b *testing.B) {
	m, tok := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.VerifyToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueToken(b *testing.B) {
	m, _ := benchManager(b)
	u, _ := m.store.UserByEmail(context.Background(), "bench@example.com")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.IssueToken(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectTamperedToken verifies a token whose signature was altered.
func BenchmarkRejectTamperedToken(b *testing.B) {
	m, tok := benchManager(b)
	bad := tamper(tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.tokens.Unsign(bad); err == nil {
			b.Fatal("tampered token accepted")
		}
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

// BenchmarkRequireToken is RequireToken over a MemoryStore, in front of a
// handler that answers 204, beside that handler alone (bare-handler): the
// difference is what the middleware adds to a request.
func BenchmarkRequireToken(b *testing.B) {
	m, tok := benchManager(b)
	b.Run("bare-handler", func(b *testing.B) { benchmarkHandler(b, okHandler, tok) })
	b.Run("Memory", func(b *testing.B) { benchmarkHandler(b, m.RequireToken(okHandler), tok) })
}

// benchmarkHandler serves a request carrying tok to h, with a fresh
// recorder per request as a server allocates a response per request.
func benchmarkHandler(b *testing.B, h http.Handler, tok string) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authentication-Token", tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkRequireTokenRejected is RequireToken answering 401, with a
// challenge and the JSON error, to a request without credentials and to
// one with a tampered token: the cost of a refusal.
func BenchmarkRequireTokenRejected(b *testing.B) {
	m, tok := benchManager(b)
	m.auditLog = slog.New(slog.DiscardHandler) // the rejections' audit events, dropped
	h := m.RequireToken(okHandler)
	for _, c := range []struct{ name, token string }{{"no-credentials", ""}, {"tampered-token", tamper(tok)}} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if c.token != "" {
				r.Header.Set("Authentication-Token", c.token)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
