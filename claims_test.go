package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth/itsdangerous"
)

// b64 is the strict, unpadded URL-safe base64 of token segments.
var b64 = base64.RawURLEncoding.Strict()

func TestAppendClaims(t *testing.T) {
	tests := []struct {
		name     string
		id, uniq string
		want     string
	}{
		{name: "plain", id: "1", uniq: "0123abcd", want: `["1","0123abcd"]`},
		{name: "quote", id: `a"b`, uniq: "u", want: `["a\"b","u"]`},
		{name: "backslash", id: `a\b`, uniq: "u", want: `["a\\b","u"]`},
		{name: "short escapes", id: "a\nb\rc\td", uniq: "u", want: `["a\nb\rc\td","u"]`},
		{name: "other controls", id: "\x00\x01\x1f", uniq: "u", want: `["\u0000\u0001\u001f","u"]`},
		{name: "DEL is not escaped", id: "\x7f", uniq: "u", want: "[\"\x7f\",\"u\"]"},
		{name: "non-ASCII as UTF-8", id: "jösé-用户-🔑", uniq: "u", want: `["jösé-用户-🔑","u"]`},
		{name: "line separators raw", id: "a\u2028b\u2029", uniq: "u", want: "[\"a\u2028b\u2029\",\"u\"]"},
		{name: "HTML raw", id: "<a href='x'>&</a>", uniq: "u", want: `["<a href='x'>&</a>","u"]`},
		{name: "slash raw", id: "a/b", uniq: "u", want: `["a/b","u"]`},
		{name: "escapes in uniquifier", id: "1", uniq: `"\`, want: `["1","\"\\"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendClaims([]byte("prefix:"), tt.id, tt.uniq, 0)
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("appendClaims = %s, want prefix:%s", got, tt.want)
			}
			var pair []string
			if err := json.Unmarshal(got[len("prefix:"):], &pair); err != nil || len(pair) != 2 || pair[0] != tt.id || pair[1] != tt.uniq {
				t.Errorf("encoding/json reads %q (%v)", pair, err)
			}
		})
	}
}

func TestParseClaims(t *testing.T) {
	s, err := itsdangerous.New(seededKey, itsdangerous.Config{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("i", 400)
	compressed, err := s.EncodeJSON([]byte(`["` + long + `","u"]`))
	if err != nil {
		t.Fatal(err)
	}
	compressedSeg, _, err := s.Unsign(compressed)
	if err != nil || !strings.HasPrefix(compressedSeg, ".") {
		t.Fatalf("segment %q of %q is not compressed (%v)", compressedSeg, compressed, err)
	}
	tests := []struct {
		name     string
		seg      string // payload segment, as Unsign returns it
		wantID   string
		wantUniq string
		wantErr  bool
	}{
		{name: "plain", seg: b64.EncodeToString([]byte(`["1","abc"]`)), wantID: "1", wantUniq: "abc"},
		{name: "escaped", seg: b64.EncodeToString([]byte(`["a\"b","c\\d"]`)), wantID: `a"b`, wantUniq: `c\d`},
		{name: "unicode escape", seg: b64.EncodeToString([]byte(`["\u00e9","x"]`)), wantID: "é", wantUniq: "x"},
		{name: "spaces", seg: b64.EncodeToString([]byte(` [ "1" , "abc" ] `)), wantID: "1", wantUniq: "abc"},
		{name: "empty uniquifier", seg: b64.EncodeToString([]byte(`["1",""]`)), wantID: "1", wantUniq: ""},
		{name: "longer than the scratch buffer", seg: b64.EncodeToString([]byte(`["` + long + `","u"]`)), wantID: long, wantUniq: "u"},
		{name: "compressed", seg: compressedSeg, wantID: long, wantUniq: "u"},
		{name: "one element", seg: b64.EncodeToString([]byte(`["abc"]`)), wantErr: true},
		{name: "three elements", seg: b64.EncodeToString([]byte(`["1","abc","x"]`)), wantErr: true},
		{name: "three elements, plain-looking", seg: b64.EncodeToString([]byte(`["1","a","b"]`)), wantErr: true},
		{name: "two arrays", seg: b64.EncodeToString([]byte(`["1"]["abc"]`)), wantErr: true},
		{name: "trailing bracket", seg: b64.EncodeToString([]byte(`["1","abc"]]`)), wantErr: true},
		{name: "numbers", seg: b64.EncodeToString([]byte(`[1,2]`)), wantErr: true},
		{name: "object", seg: b64.EncodeToString([]byte(`{"id":"1","u":"abc"}`)), wantErr: true},
		{name: "string", seg: b64.EncodeToString([]byte(`"1"`)), wantErr: true},
		{name: "invalid UTF-8", seg: b64.EncodeToString([]byte("[\"\xff\",\"abc\"]")), wantErr: true},
		{name: "not JSON", seg: b64.EncodeToString([]byte(`["1","abc"`)), wantErr: true},
		{name: "empty", seg: "", wantErr: true},
		{name: "bad base64", seg: "!!!!", wantErr: true},
		{name: "padded base64", seg: b64.EncodeToString([]byte(`["1","ab"]`)) + "=", wantErr: true},
		{name: "bad zlib", seg: ".AAAA", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scratch [256]byte
			id, uniq, _, err := parseClaims(s, tt.seg, scratch[:0])
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrTokenPayload) || !errors.Is(err, ErrInvalidToken) {
					t.Errorf("parseClaims = %q, %q, %v; want ErrTokenPayload", id, uniq, err)
				}
				return
			}
			if err != nil || id != tt.wantID || string(uniq) != tt.wantUniq {
				t.Errorf("parseClaims = %q, %q, %v; want %q, %q", id, uniq, err, tt.wantID, tt.wantUniq)
			}
		})
	}
}

func TestParsePlainClaims(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		a, b   string
		at     int64
		wantOK bool
	}{
		{name: "plain", in: `["1","abc"]`, a: "1", b: "abc", wantOK: true},
		{name: "unicode", in: `["jösé","ü"]`, a: "jösé", b: "ü", wantOK: true},
		{name: "shortest", in: `["a","b"]`, a: "a", b: "b", wantOK: true},
		{name: "with time", in: `["1","abc",1700000000]`, a: "1", b: "abc", at: 1700000000, wantOK: true},
		{name: "one-digit time", in: `["1","abc",7]`, a: "1", b: "abc", at: 7, wantOK: true},
		{name: "twelve-digit time", in: `["1","abc",999999999999]`, a: "1", b: "abc", at: 999999999999, wantOK: true},
		{name: "thirteen-digit time", in: `["1","abc",1000000000000]`},
		{name: "zero time", in: `["1","abc",0]`},
		{name: "leading zero", in: `["1","abc",07]`},
		{name: "negative time", in: `["1","abc",-7]`},
		{name: "fraction", in: `["1","abc",7.5]`},
		{name: "exponent", in: `["1","abc",7e9]`},
		{name: "space before time", in: `["1","abc", 7]`},
		{name: "time without comma", in: `["1","abc"7]`},
		{name: "only a time", in: `[7]`},
		{name: "digits and bracket", in: `7]`},
		{name: "escape with time", in: `["a\"","b",7]`},
		{name: "empty first", in: `["","b"]`},
		{name: "empty second", in: `["a",""]`},
		{name: "escape", in: `["a\"","b"]`},
		{name: "backslash in second", in: `["a","b\\"]`},
		{name: "control", in: "[\"a\x01\",\"b\"]"},
		{name: "three strings", in: `["a","b","c"]`},
		{name: "space", in: `["a", "b"]`},
		{name: "one", in: `["ab"]`},
		{name: "too short", in: `[""]`},
		{name: "invalid UTF-8", in: "[\"\xff\",\"b\"]"},
		{name: "not an array", in: `{"a":"b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			a, b, at, ok := parsePlainClaims(in)
			if ok != tt.wantOK || string(a) != tt.a || string(b) != tt.b || at != tt.at {
				t.Errorf("parsePlainClaims(%s) = %q, %q, %d, %v; want %q, %q, %d, %v", tt.in, a, b, at, ok, tt.a, tt.b, tt.at, tt.wantOK)
			}
			if string(in) != tt.in {
				t.Errorf("parsePlainClaims changed its input to %s", in)
			}
			if !ok {
				return
			}
			var claims []json.RawMessage
			var id, uniq string
			if err := json.Unmarshal([]byte(tt.in), &claims); err != nil || json.Unmarshal(claims[0], &id) != nil ||
				json.Unmarshal(claims[1], &uniq) != nil || id != string(a) || uniq != string(b) {
				t.Errorf("encoding/json disagrees: %q, %v", claims, err)
			}
		})
	}
}

// TestClaimsRoundTrip checks that the claims the Manager writes, with and
// without an authentication time, read back as written.
func TestClaimsRoundTrip(t *testing.T) {
	m, _ := newSeeded(t, Config{})
	for _, at := range []int64{0, 1, 1700000000} {
		tok := signClaims(m.tokens, "42", "uniq", at)
		seg, _, err := m.tokens.Unsign(tok)
		if err != nil {
			t.Fatal(err)
		}
		var scratch [256]byte
		id, uniq, gotAt, err := parseClaims(m.tokens, seg, scratch[:0])
		if err != nil || id != "42" || string(uniq) != "uniq" || gotAt != at {
			t.Errorf("at %d: parseClaims = %q, %q, %d, %v", at, id, uniq, gotAt, err)
		}
	}
}

// TestTokenAllocs checks that issuing a token allocates only the token and
// that parsing one allocates at most the ID.
func TestTokenAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage counters and the race detector change allocations")
	}
	m, store := newSeeded(t, Config{})
	u := mustUser(t, store, idUser)
	tok := tokenOf(t, m, store, idUser)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"IssueToken", func() { _, _ = m.IssueToken(u) }},
		{"parse", func() {
			if _, err := parseTokenID(m, tok); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		c.f()
		if n := testing.AllocsPerRun(100, c.f); n > 1 {
			t.Errorf("%s: %v allocations, want at most 1", c.name, n)
		}
	}
}

// TestTokenError checks the translation of the itsdangerous package's
// errors: each matches its own sentinel here and no other, keeps its
// detail, and a bad signature becomes the preallocated errBadSignature.
func TestTokenError(t *testing.T) {
	now := seedClock
	s, err := itsdangerous.New(seededKey, itsdangerous.Config{MaxAge: time.Minute, MaxTokenBytes: 100, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Sign([]byte(`["1","u"]`))
	_, _, bad := s.DecodeJSON(tok[:len(tok)-1] + "x")
	if got := tokenError(bad); got != errBadSignature {
		t.Errorf("bad signature: %v, want errBadSignature", got)
	}
	if tokenError(nil) != nil {
		t.Error("tokenError(nil) != nil")
	}
	now = seedClock.Add(2 * time.Minute)
	_, _, expired := s.DecodeJSON(tok)
	now = seedClock.Add(-time.Minute)
	_, _, future := s.DecodeJSON(tok)
	now = seedClock
	_, _, payload := s.DecodeJSON(s.Sign([]byte("not JSON")))
	_, _, long := s.DecodeJSON(strings.Repeat("a", 101))
	tests := []struct {
		name       string
		err        error
		is, isNot  []error
		wantPrefix string
	}{
		{name: "expired", err: expired, is: []error{ErrExpiredToken, itsdangerous.ErrExpired}, isNot: []error{ErrInvalidToken}, wantPrefix: "auth: token expired: 120 s old"},
		{name: "future", err: future, is: []error{ErrExpiredToken, ErrInvalidToken}, isNot: []error{ErrTokenPayload}, wantPrefix: "auth: token issued in the future"},
		{name: "payload", err: payload, is: []error{ErrTokenPayload, ErrInvalidToken, itsdangerous.ErrBadPayload}, isNot: []error{ErrExpiredToken}, wantPrefix: "auth: malformed token payload: not valid JSON"},
		{name: "too long", err: long, is: []error{ErrInvalidToken}, isNot: []error{ErrExpiredToken, ErrTokenPayload}, wantPrefix: "auth: invalid token: longer than 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tokenError(tt.err)
			for _, want := range tt.is {
				if !errors.Is(got, want) {
					t.Errorf("%v does not match %v", got, want)
				}
			}
			for _, not := range tt.isNot {
				if errors.Is(got, not) {
					t.Errorf("%v matches %v", got, not)
				}
			}
			if !strings.HasPrefix(got.Error(), tt.wantPrefix) {
				t.Errorf("text %q, want it to start %q", got, tt.wantPrefix)
			}
		})
	}
}

// TestVectorFilesMatch keeps the root's copy of the itsdangerous vectors,
// which the Flask tests read, identical to the codec's.
func TestVectorFilesMatch(t *testing.T) {
	a, err := os.ReadFile("testdata/itsdangerous_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("itsdangerous/testdata/itsdangerous_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("testdata/itsdangerous_vectors.json and itsdangerous/testdata/itsdangerous_vectors.json differ")
	}
}

// TestPlainJSONString checks the one-pass test of a string that can stand
// between JSON quotes as it is against its definition: valid UTF-8 with no
// quote, backslash or control character.
func TestPlainJSONString(t *testing.T) {
	def := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' })
	}
	for _, s := range []string{"", "abc", "42", `a"b`, `a\b`, "a\x1fb", "\x7f", "é", "日本", "\xff", "a\xc3", "é\"", "é\x00", "\xed\xa0\x80", "\u2028"} {
		if got, want := plainJSONString([]byte(s)), def(s); got != want {
			t.Errorf("plainJSONString(%q) = %v, want %v", s, got, want)
		}
		if got, want := plainJSONText(s), def(s); got != want {
			t.Errorf("plainJSONText(%q) = %v, want %v", s, got, want)
		}
	}
}
