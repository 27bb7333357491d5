package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shaj13/go-guardian/v2/auth/strategies/jwt"
	"github.com/shaj13/libcache"
	_ "github.com/shaj13/libcache/lru" // registers libcache.LRU
)

// BenchmarkVerify checks one valid token per iteration (one tampered one in
// auth-reject-tampered).
//
// go-guardian is measured on two paths. go-guardian-jwt is its jwt
// strategy's verification proper (jwt.GetAuthenticateFunc: go-jose parses
// and checks the HS256 signature, then the standard claims), which is what
// every token costs the first time it is seen. go-guardian-cached is
// Authenticate of the strategy jwt.New(cache, keeper) builds, the one its
// README sets up, with a libcache LRU that already holds the token: a
// Bearer header parse and a cache lookup keyed by the token, no
// cryptography. A go-guardian server pays the first once per token per
// cache lifetime and the second on every later request.
func BenchmarkVerify(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()

	b.Run("floor-hmac-sha256", func(b *testing.B) {
		benchmarkFloor(b, sha256.New, f.token)
	})
	b.Run("floor-hmac-sha1", func(b *testing.B) {
		benchmarkFloor(b, sha1.New, f.token1)
	})
	b.Run("auth-signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.ser256.Verify(f.token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("auth-signature-sha1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.ser1.Verify(f.token1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("auth-payload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			seg, _, err := f.ser256.Unsign(f.token)
			if err != nil {
				b.Fatal(err)
			}
			var scratch [128]byte
			if _, err := f.ser256.AppendPayload(scratch[:0], seg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("auth-store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.m.VerifyToken(ctx, f.token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("auth-reject-tampered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.m.VerifyToken(ctx, f.tampered); err == nil {
				b.Fatal("tampered token accepted")
			}
		}
	})
	b.Run("jwt-hs256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c jwtClaims
			if _, err := f.jwtParser.ParseWithClaims(f.jwtToken, &c, jwtKey); err != nil || c.Subject != f.user.ID {
				b.Fatal(c.Subject, err)
			}
		}
	})
	b.Run("securecookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v cookieValue
			if err := f.cookie.Decode(cookieName, f.cookieToken, &v); err != nil || v.ID != f.user.ID {
				b.Fatal(v.ID, err)
			}
		}
	})
	b.Run("go-guardian-jwt", func(b *testing.B) {
		verify := jwt.GetAuthenticateFunc(f.guardianKeeper)
		r := httptest.NewRequest("GET", "/", nil)
		b.ReportAllocs()
		for b.Loop() {
			if info, _, err := verify(ctx, r, f.guardianToken); err != nil || info.GetID() != f.user.ID {
				b.Fatal(info, err)
			}
		}
	})
	b.Run("go-guardian-cached", func(b *testing.B) {
		strategy := jwt.New(libcache.LRU.New(0), f.guardianKeeper)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+f.guardianToken)
		if _, err := strategy.Authenticate(ctx, r); err != nil { // fills the cache
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if info, err := strategy.Authenticate(ctx, r); err != nil || info.GetID() != f.user.ID {
				b.Fatal(info, err)
			}
		}
	})
}

// benchmarkFloor measures the least work a verifier of token must do: one
// pre-keyed, reused HMAC over the signed bytes (everything before the last
// '.'), a comparison with the signature, and the base64url decoding of the
// three parts. The HMAC key is the one the Serializer derives
// (django-concat), so the floor really verifies token.
func benchmarkFloor(b *testing.B, newHash func() hash.Hash, token string) {
	dot := strings.LastIndexByte(token, '.')
	signed := []byte(token[:dot])
	parts := make([][]byte, 0, 3)
	for p := range strings.SplitSeq(token, ".") {
		parts = append(parts, []byte(p))
	}
	if len(parts) != 3 {
		b.Fatalf("token has %d parts", len(parts))
	}
	mac := hmac.New(newHash, deriveKey(newHash))
	enc := base64.RawURLEncoding
	var dec [3][256]byte
	var sum [64]byte
	b.ReportAllocs()
	for b.Loop() {
		var n [3]int
		for i, p := range parts {
			var err error
			if n[i], err = enc.Decode(dec[i][:], p); err != nil {
				b.Fatal(err)
			}
		}
		mac.Reset()
		mac.Write(signed)
		if !hmac.Equal(mac.Sum(sum[:0]), dec[2][:n[2]]) {
			b.Fatal("signature mismatch")
		}
	}
}

// deriveKey is itsdangerous' django-concat derivation of the Manager's
// HMAC key: digest(salt + "signer" + secret).
func deriveKey(newHash func() hash.Hash) []byte {
	h := newHash()
	h.Write([]byte(tokenSalt + "signer"))
	h.Write(secret)
	return h.Sum(nil)
}
