package pat

import (
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"regexp"
	"strings"
	"testing"
)

func TestNewChecks(t *testing.T) {
	shape := regexp.MustCompile(`^akpat_[0-9A-Za-z]{36}$`)
	seen := map[string]bool{}
	for range 1000 {
		tok, err := New(DefaultPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(tok) {
			t.Fatalf("New = %q, not of the documented shape", tok)
		}
		if err := Check(DefaultPrefix, tok); err != nil {
			t.Fatalf("Check(New()) = %v", err)
		}
		if seen[tok] {
			t.Fatalf("New returned %q twice", tok)
		}
		seen[tok] = true
	}
}

// TestNewUniform checks that every base62 character turns up in the random
// part at about the same rate: a modulo bias (bytes up to 255 taken mod 62)
// would make the first 8 characters a third more frequent.
func TestNewUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 4000
	for range n {
		tok, _ := New(DefaultPrefix)
		for i := len(DefaultPrefix); i < len(DefaultPrefix)+RandomLen; i++ {
			counts[tok[i]]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	mean := float64(n*RandomLen) / 62
	for c, k := range counts {
		if d := float64(k)/mean - 1; d > 0.1 || d < -0.1 {
			t.Errorf("character %q: %d times, %.0f expected", c, k, mean)
		}
	}
}

func TestCheck(t *testing.T) {
	good, _ := New(DefaultPrefix)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	other, _ := New("other_")
	tests := []struct {
		name, prefix, token string
		want                error
	}{
		{name: "good", prefix: DefaultPrefix, token: good},
		{name: "other prefix's token", prefix: DefaultPrefix, token: other, want: ErrMalformed},
		{name: "empty", prefix: DefaultPrefix, token: "", want: ErrMalformed},
		{name: "prefix only", prefix: DefaultPrefix, token: DefaultPrefix, want: ErrMalformed},
		{name: "one short", prefix: DefaultPrefix, token: good[:len(good)-1], want: ErrMalformed},
		{name: "one long", prefix: DefaultPrefix, token: good + "a", want: ErrMalformed},
		{name: "not base62", prefix: DefaultPrefix, token: good[:10] + "-" + good[11:], want: ErrMalformed},
		{name: "non-ASCII", prefix: DefaultPrefix, token: good[:10] + "é" + good[12:], want: ErrMalformed},
		{name: "upper-case prefix", prefix: DefaultPrefix, token: strings.ToUpper(DefaultPrefix) + good[len(DefaultPrefix):], want: ErrMalformed},
		{name: "random part typo", prefix: DefaultPrefix, token: flip(good, 10), want: ErrChecksum},
		{name: "checksum typo", prefix: DefaultPrefix, token: flip(good, len(good)-1), want: ErrChecksum},
		{name: "invalid prefix", prefix: "A", token: "A" + good[len(DefaultPrefix):], want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.prefix, tt.token); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Check(%q, %q) = %v, want %v", tt.prefix, tt.token, err, tt.want)
			}
		})
	}
}

func TestValidPrefix(t *testing.T) {
	for _, p := range []string{"akpat_", "a_", "my_app_pat_", "x1_", "abcdefghijklmno_"} {
		if !ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = false", p)
		}
		if _, err := New(p); err != nil {
			t.Errorf("New(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "_", "a", "akpat", "Akpat_", "ak-pat_", "abcdefghijklmnop_", "é_", "ak pat_"} {
		if ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = true", p)
		}
		if _, err := New(p); !errors.Is(err, ErrPrefix) {
			t.Errorf("New(%q) = %v, want ErrPrefix", p, err)
		}
	}
}

func TestHash(t *testing.T) {
	a, b := Hash("akpat_a"), Hash("akpat_b")
	if a == b {
		t.Fatal("two tokens hash alike")
	}
	// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
	h := Hash("abc")
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	const hexdigits = "0123456789abcdef"
	var got strings.Builder
	for _, c := range h {
		got.WriteByte(hexdigits[c>>4])
		got.WriteByte(hexdigits[c&15])
	}
	if got.String() != want {
		t.Fatalf("Hash(abc) = %s, want %s", got.String(), want)
	}
}

func BenchmarkCheck(b *testing.B) {
	tok, _ := New(DefaultPrefix)
	b.ReportAllocs()
	for b.Loop() {
		if Check(DefaultPrefix, tok) != nil {
			b.Fatal("rejected")
		}
	}
}

func TestCRCString(t *testing.T) {
	for _, s := range []string{"", "a", "akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0sz", strings.Repeat("\xff\x00", 100)} {
		if got, want := crcString(s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("crcString(%q) = %08x, want %08x", s, got, want)
		}
	}
}

func TestHashLong(t *testing.T) {
	long := strings.Repeat("x", 65)
	if Hash(long) != sha256.Sum256([]byte(long)) || Hash(long[:64]) != sha256.Sum256([]byte(long[:64])) {
		t.Fatal("Hash disagrees with sha256.Sum256")
	}
}

// TestCheckAllocs checks that checking and hashing a token allocate
// nothing: a server does both on every request that carries one.
func TestCheckAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage counters and the race detector change allocations")
	}
	tok, _ := New(DefaultPrefix)
	if n := testing.AllocsPerRun(100, func() {
		if Check(DefaultPrefix, tok) != nil {
			t.Fatal("rejected")
		}
		_ = Hash(tok)
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
