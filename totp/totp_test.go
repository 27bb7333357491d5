package totp

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The keys of RFC 6238's test vectors (Appendix B): the ASCII digits
// repeated to the length of each hash's output.
var (
	rfcKey1   = []byte("12345678901234567890")
	rfcKey256 = []byte("12345678901234567890123456789012")
	rfcKey512 = []byte("1234567890123456789012345678901234567890123456789012345678901234")
)

func TestRFC6238Vectors(t *testing.T) {
	tests := []struct {
		unix int64
		alg  Algorithm
		key  []byte
		want string
	}{
		{59, SHA1, rfcKey1, "94287082"}, {59, SHA256, rfcKey256, "46119246"}, {59, SHA512, rfcKey512, "90693936"},
		{1111111109, SHA1, rfcKey1, "07081804"}, {1111111109, SHA256, rfcKey256, "68084774"}, {1111111109, SHA512, rfcKey512, "25091201"},
		{1111111111, SHA1, rfcKey1, "14050471"}, {1111111111, SHA256, rfcKey256, "67062674"}, {1111111111, SHA512, rfcKey512, "99943326"},
		{1234567890, SHA1, rfcKey1, "89005924"}, {1234567890, SHA256, rfcKey256, "91819424"}, {1234567890, SHA512, rfcKey512, "93441116"},
		{2000000000, SHA1, rfcKey1, "69279037"}, {2000000000, SHA256, rfcKey256, "90698825"}, {2000000000, SHA512, rfcKey512, "38618901"},
		{20000000000, SHA1, rfcKey1, "65353130"}, {20000000000, SHA256, rfcKey256, "77737706"}, {20000000000, SHA512, rfcKey512, "47863826"},
	}
	for _, tt := range tests {
		c := Config{Algorithm: tt.alg, Digits: 8}
		at := time.Unix(tt.unix, 0)
		got, err := c.Code(tt.key, at)
		if err != nil || got != tt.want {
			t.Errorf("%s at %d: Code = %q, %v; want %q", tt.alg, tt.unix, got, err, tt.want)
		}
		n, ok, err := c.Validate(tt.key, tt.want, at)
		if want, _ := c.Counter(at); err != nil || !ok || n != want {
			t.Errorf("%s at %d: Validate = %d, %v, %v; want counter %d", tt.alg, tt.unix, n, ok, err, want)
		}
	}
}

func TestRFC4226Vectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got, err := (Config{}).HOTP(rfcKey1, uint64(i)); err != nil || got != w {
			t.Errorf("HOTP(%d) = %q, %v; want %q", i, got, err, w)
		}
	}
}

func TestValidateWindow(t *testing.T) {
	key := NewKey()
	now := time.Unix(1700000000, 0) // counter 56666666, 20 s into its period
	var c Config
	code := func(at time.Time) string {
		s, err := c.Code(key, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base, _ := c.Counter(now)
	tests := []struct {
		name   string
		code   string
		cfg    Config
		wantOK bool
		want   uint64
	}{
		{name: "now", code: code(now), wantOK: true, want: base},
		{name: "one period back", code: code(now.Add(-30 * time.Second)), wantOK: true, want: base - 1},
		{name: "one period ahead", code: code(now.Add(30 * time.Second)), wantOK: true, want: base + 1},
		{name: "two periods back", code: code(now.Add(-60 * time.Second))},
		{name: "two periods back, skew 2", code: code(now.Add(-60 * time.Second)), cfg: Config{Skew: 2}, wantOK: true, want: base - 2},
		{name: "one back, no skew", code: code(now.Add(-30 * time.Second)), cfg: Config{Skew: -1}},
		{name: "spaces", code: code(now)[:3] + " " + code(now)[3:], wantOK: true, want: base},
		{name: "too short", code: code(now)[:5]},
		{name: "too long", code: code(now) + "0"},
		{name: "letters", code: "12a456"},
		{name: "non-ASCII digits", code: "١٢٣٤٥٦"},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok, err := tt.cfg.Validate(key, tt.code, now)
			if err != nil || ok != tt.wantOK || ok && n != tt.want {
				t.Errorf("Validate(%q) = %d, %v, %v; want %d, %v", tt.code, n, ok, err, tt.want, tt.wantOK)
			}
		})
	}
	// Near the epoch the window does not wrap around.
	if _, ok, _ := c.Validate(key, code(time.Unix(0, 0).Add(-time.Hour)), time.Unix(5, 0)); !ok {
		t.Error("the code of counter 0 is refused at counter 0")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Algorithm: "MD5"}, {Digits: 5}, {Digits: 9}, {Period: 1500 * time.Millisecond}, {Period: -time.Second}, {Skew: 11},
	} {
		if _, err := c.Code(rfcKey1, time.Now()); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Code error %v, want ErrConfig", c, err)
		}
		if _, _, err := c.Validate(rfcKey1, "123456", time.Now()); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate error %v, want ErrConfig", c, err)
		}
		if _, err := c.URI("x", "y", rfcKey1); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: URI error %v, want ErrConfig", c, err)
		}
	}
}

func TestKeys(t *testing.T) {
	k := NewKey()
	if len(k) != 20 {
		t.Fatalf("NewKey: %d bytes", len(k))
	}
	enc := EncodeKey(k)
	if len(enc) != 32 || strings.ContainsAny(enc, "=abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("EncodeKey = %q, want 32 upper-case characters without padding", enc)
	}
	tests := []struct {
		in      string
		want    string // EncodeKey of the key; "" for ErrKey
		wantErr bool
	}{
		{in: enc, want: enc},
		{in: strings.ToLower(enc), want: enc},
		{in: enc[:4] + " " + enc[4:8] + "-" + enc[8:], want: enc},
		{in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", want: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", want: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{in: "GEZDGNBVGY3TQOJQGEZDGNBVGY", want: "GEZDGNBVGY3TQOJQGEZDGNBVGY"}, // 16 bytes, the shortest
		{in: "GEZDGNBVGY3TQOJQ", wantErr: true},                                // 10 bytes: too short
		{in: "1EZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", wantErr: true},
		{in: "", wantErr: true},
		{in: strings.Repeat("A", 2000), wantErr: true},
	}
	for _, tt := range tests {
		got, err := DecodeKey(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrKey) {
				t.Errorf("DecodeKey(%q) = %x, %v; want ErrKey", tt.in, got, err)
			}
			continue
		}
		if err != nil || EncodeKey(got) != tt.want {
			t.Errorf("DecodeKey(%q) = %x, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestURI(t *testing.T) {
	tests := []struct {
		cfg             Config
		issuer, account string
		want            string
	}{
		{issuer: "Example", account: "alice@example.com",
			want: "otpauth://totp/Example:alice@example.com?issuer=Example&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{issuer: "My App", account: "bob smith",
			want: "otpauth://totp/My%20App:bob%20smith?issuer=My+App&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{account: "carol", want: "otpauth://totp/carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{cfg: Config{Algorithm: SHA256, Digits: 8, Period: 60 * time.Second}, issuer: "X", account: "d",
			want: "otpauth://totp/X:d?algorithm=SHA256&digits=8&issuer=X&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	}
	for _, tt := range tests {
		got, err := tt.cfg.URI(tt.issuer, tt.account, rfcKey1)
		if err != nil || got != tt.want {
			t.Errorf("URI(%q, %q) = %q, %v; want %q", tt.issuer, tt.account, got, err, tt.want)
		}
	}
}
