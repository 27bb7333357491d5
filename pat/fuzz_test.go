package pat

import (
	"hash/crc32"
	"testing"
)

// FuzzCheck feeds Check arbitrary strings: it never panics, and accepts
// only strings of the documented shape whose checksum matches.
func FuzzCheck(f *testing.F) {
	good, _ := New(DefaultPrefix)
	for _, s := range []string{good, good[:len(good)-1], DefaultPrefix, "", "akpat_" + string(make([]byte, 36)),
		"akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0szZ9K", "akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0szZ9\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Check(DefaultPrefix, s) != nil {
			return
		}
		if len(s) != len(DefaultPrefix)+RandomLen+ChecksumLen || s[:len(DefaultPrefix)] != DefaultPrefix {
			t.Fatalf("accepted %q of the wrong shape", s)
		}
		for i := len(DefaultPrefix); i < len(s); i++ {
			if !isBase62(s[i]) {
				t.Fatalf("accepted %q with a non-base62 byte", s)
			}
		}
		body := s[:len(s)-ChecksumLen]
		if string(appendChecksum(nil, crc32.ChecksumIEEE([]byte(body)))) != s[len(body):] {
			t.Fatalf("accepted %q with a wrong checksum", s)
		}
	})
}
