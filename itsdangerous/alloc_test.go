package itsdangerous

import (
	"testing"
	"time"
)

// allocFixture is a SHA-256 serializer with an old key, like a service's,
// and a token of a short payload it signed.
func allocFixture(tb testing.TB) (*Serializer, string) {
	tb.Helper()
	now := time.Unix(1_700_000_000, 0)
	s, err := New([]byte("test-secret-key-0123456789"), Config{
		Digest:  SHA256,
		OldKeys: [][]byte{[]byte("an older secret key")},
		MaxAge:  time.Hour,
		Now:     func() time.Time { return now },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s, s.Sign([]byte(`["1234","0123456789abcdef0123456789abcdef"]`))
}

// TestAllocs checks the allocation promises: Unsign and Verify allocate
// nothing, for a good token or a forged one; AppendPayload allocates
// nothing into a buffer with room; Sign allocates only the token.
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage counters and the race detector change allocations")
	}
	s, tok := allocFixture(t)
	forged := tok[:len(tok)-2] + "AA"
	seg, _, err := s.Unsign(tok)
	if err != nil {
		t.Fatal(err)
	}
	var scratch [256]byte
	payload := []byte(`["1234","0123456789abcdef0123456789abcdef"]`)
	checks := []struct {
		name string
		max  float64
		f    func()
	}{
		{"Unsign", 0, func() {
			if _, _, err := s.Unsign(tok); err != nil {
				t.Fatal(err)
			}
		}},
		{"Unsign forged", 0, func() {
			if _, _, err := s.Unsign(forged); err != ErrBadSignature {
				t.Fatal(err)
			}
		}},
		{"Verify", 0, func() {
			if _, err := s.Verify(tok); err != nil {
				t.Fatal(err)
			}
		}},
		{"AppendPayload", 0, func() {
			if _, err := s.AppendPayload(scratch[:0], seg); err != nil {
				t.Fatal(err)
			}
		}},
		{"Sign", 1, func() { _ = s.Sign(payload) }},
	}
	for _, c := range checks {
		c.f() // warm the pools
		if n := testing.AllocsPerRun(100, c.f); n > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, n, c.max)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	s, _ := allocFixture(b)
	payload := []byte(`["1234","0123456789abcdef0123456789abcdef"]`)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Sign(payload)
	}
}

func BenchmarkEncode(b *testing.B) {
	s, _ := allocFixture(b)
	v := []string{"1234", "0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnsign(b *testing.B) {
	s, tok := allocFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Unsign(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsignForged checks a token whose signature no key made, which
// costs one HMAC per key.
func BenchmarkUnsignForged(b *testing.B) {
	s, tok := allocFixture(b)
	forged := tok[:len(tok)-2] + "AA"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Unsign(forged); err == nil {
			b.Fatal("forged token accepted")
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	s, tok := allocFixture(b)
	seg, _, err := s.Unsign(tok)
	if err != nil {
		b.Fatal(err)
	}
	var scratch [256]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendPayload(scratch[:0], seg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	s, tok := allocFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.DecodeJSON(tok); err != nil {
			b.Fatal(err)
		}
	}
}
