package totp

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeKey: decoding a key as typed never panics, and a key it
// accepts is at least MinKeyBytes long and reads back from its encoding.
func FuzzDecodeKey(f *testing.F) {
	for _, s := range []string{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezd gnbv-gy3t qojq gezd gnbv gy3t qojq", "GEZDGNBVGY3TQOJQ====", "", "=", "1", "GEZDGNBVGY3TQOJQGEZDGNBVGY\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := DecodeKey(s)
		if err != nil {
			return
		}
		if len(key) < MinKeyBytes {
			t.Fatalf("DecodeKey(%q) = %d bytes", s, len(key))
		}
		again, err := DecodeKey(EncodeKey(key))
		if err != nil || !bytes.Equal(again, key) {
			t.Fatalf("the key of %q does not read back: %x, %v", s, again, err)
		}
	})
}

// FuzzValidate: validating any string as a code never panics, and accepts
// only the code of a period in the window, spaces aside.
func FuzzValidate(f *testing.F) {
	key := []byte("12345678901234567890")
	for _, s := range []string{"081804", "081 804", "0818040", "08180", "", "      ", "٠٨١٨٠٤", "081804\x00"} {
		f.Add(s, int64(1111111109))
	}
	f.Fuzz(func(t *testing.T, code string, unix int64) {
		var c Config
		at := time.Unix(unix, 0)
		n, ok, err := c.Validate(key, code, at)
		if err != nil || !ok {
			return
		}
		want, _ := c.HOTP(key, n)
		digits := bytes.ReplaceAll([]byte(code), []byte(" "), nil)
		now, _ := c.Counter(at)
		if string(digits) != want || n+1 < now || n > now+1 {
			t.Fatalf("Validate(%q at %d) accepted counter %d (now %d), whose code is %s", code, unix, n, now, want)
		}
	})
}
