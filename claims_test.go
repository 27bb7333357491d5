package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

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
			got := appendClaims([]byte("prefix:"), tt.id, tt.uniq)
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
	s, err := NewSerializer(seededKey, SerializerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("i", 400)
	tests := []struct {
		name     string
		seg      string // payload segment; see encodePayload
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
		{name: "compressed", seg: "." + b64.EncodeToString(s.deflate([]byte(`["`+long+`","u"]`))), wantID: long, wantUniq: "u"},
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
			id, uniq, err := s.parseClaims(tt.seg, scratch[:0])
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

func TestParsePlainPair(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		a, b   string
		wantOK bool
	}{
		{name: "plain", in: `["1","abc"]`, a: "1", b: "abc", wantOK: true},
		{name: "unicode", in: `["jösé","ü"]`, a: "jösé", b: "ü", wantOK: true},
		{name: "shortest", in: `["a","b"]`, a: "a", b: "b", wantOK: true},
		{name: "empty first", in: `["","b"]`},
		{name: "empty second", in: `["a",""]`},
		{name: "escape", in: `["a\"","b"]`},
		{name: "backslash in second", in: `["a","b\\"]`},
		{name: "control", in: "[\"a\x01\",\"b\"]"},
		{name: "three", in: `["a","b","c"]`},
		{name: "space", in: `["a", "b"]`},
		{name: "one", in: `["ab"]`},
		{name: "too short", in: `[""]`},
		{name: "invalid UTF-8", in: "[\"\xff\",\"b\"]"},
		{name: "not an array", in: `{"a":"b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, ok := parsePlainPair([]byte(tt.in))
			if ok != tt.wantOK || string(a) != tt.a || string(b) != tt.b {
				t.Errorf("parsePlainPair(%s) = %q, %q, %v; want %q, %q, %v", tt.in, a, b, ok, tt.a, tt.b, tt.wantOK)
			}
			if !ok {
				return
			}
			var pair []string
			if err := json.Unmarshal([]byte(tt.in), &pair); err != nil || pair[0] != string(a) || pair[1] != string(b) {
				t.Errorf("encoding/json disagrees: %q, %v", pair, err)
			}
		})
	}
}

func TestInspectTokenRejects(t *testing.T) {
	m, store := newSeeded(t, Config{})
	valid := tokenOf(t, m, store, idUser)
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		token string
	}{
		{name: "empty", token: ""},
		{name: "two parts", token: parts[0] + "." + parts[1]},
		{name: "four parts", token: valid + ".x"},
		{name: "bad timestamp", token: parts[0] + ".!!." + parts[2]},
		{name: "bad payload", token: "!!!." + parts[1] + "." + parts[2]},
		{name: "payload not JSON", token: b64.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2]},
		{name: "too long", token: strings.Repeat("a", DefaultMaxTokenBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, _, err := InspectToken(tt.token); err == nil || !errors.Is(err, ErrInvalidToken) {
				t.Errorf("InspectToken = %q, %v; want ErrInvalidToken", p, err)
			}
		})
	}
}
