package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// BenchmarkIssue makes one token of the same user per iteration.
func BenchmarkIssue(b *testing.B) {
	f := getFixture(b)

	b.Run("floor-hmac-sha256", func(b *testing.B) {
		// The least an issuer of the Manager's format does: base64url of
		// the payload and the timestamp, one pre-keyed reused HMAC, and
		// base64url of the MAC, into a reused buffer.
		payload, _, err := itsdangerous.Inspect(f.token)
		if err != nil {
			b.Fatal(err)
		}
		mac := hmac.New(sha256.New, deriveKey(sha256.New))
		enc := base64.RawURLEncoding
		buf := make([]byte, 0, 256)
		var ts [8]byte
		var sum [sha256.Size]byte
		b.ReportAllocs()
		for b.Loop() {
			binary.BigEndian.PutUint32(ts[4:], uint32(time.Now().Unix()))
			buf = enc.AppendEncode(buf[:0], payload)
			buf = append(buf, '.')
			buf = enc.AppendEncode(buf, ts[4:])
			mac.Reset()
			mac.Write(buf)
			buf = append(buf, '.')
			buf = enc.AppendEncode(buf, mac.Sum(sum[:0]))
		}
		if _, err := f.ser256.Verify(string(buf)); err != nil {
			b.Fatal("floor made an invalid token:", err)
		}
	})
	b.Run("auth", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.m.IssueToken(f.user); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwt-hs256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := issueJWT(f.user); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("securecookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.cookie.Encode(cookieName, cookieValue{ID: f.user.ID, Uniquifier: f.user.Uniquifier}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-guardian-jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := issueGuardian(f.user, f.guardianKeeper); err != nil {
				b.Fatal(err)
			}
		}
	})
}
