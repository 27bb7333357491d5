package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// vectorFile mirrors testdata/itsdangerous_vectors.json (see testdata/README.md).
type vectorFile struct {
	Counts  map[string]int `json:"counts"`
	Vectors []vector       `json:"vectors"`
}

type vector struct {
	Name          string          `json:"name"`
	SecretKeys    []string        `json:"secret_keys"`
	Salt          string          `json:"salt"`
	Digest        Digest          `json:"digest"`
	KeyDerivation KeyDerivation   `json:"key_derivation"`
	Payload       json.RawMessage `json:"payload"`
	Timestamp     *int64          `json:"timestamp"`
	Token         string          `json:"token"`
	VerifyNow     int64           `json:"verify_now"`
	MaxAge        *int64          `json:"max_age"`
	Expect        string          `json:"expect"`
	PayloadJSON   *string         `json:"payload_json"`
	Compressed    bool            `json:"compressed"`
	SignedWith    json.RawMessage `json:"signed_with"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/itsdangerous_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	if len(vf.Vectors) != vf.Counts["total"] {
		t.Fatalf("read %d vectors, file says %d", len(vf.Vectors), vf.Counts["total"])
	}
	return vf
}

// serializerFor builds the Serializer a vector describes. itsdangerous signs
// with the last of secret_keys and verifies with all, newest first; here the
// last key is the signing key and the others are OldKeys in reverse.
func serializerFor(t testing.TB, v vector) *Serializer {
	t.Helper()
	keys := v.SecretKeys
	var old [][]byte
	for i := len(keys) - 2; i >= 0; i-- {
		old = append(old, []byte(keys[i]))
	}
	cfg := SerializerConfig{
		Salt:          v.Salt,
		EmptySalt:     v.Salt == "",
		Digest:        v.Digest,
		KeyDerivation: v.KeyDerivation,
		OldKeys:       old,
	}
	if v.MaxAge != nil {
		// Ages are whole seconds, so any MaxAge under a second behaves
		// as itsdangerous' max_age=0.
		cfg.MaxAge = max(time.Duration(*v.MaxAge)*time.Second, time.Nanosecond)
	}
	s, err := NewSerializer([]byte(keys[len(keys)-1]), cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(v.VerifyNow, 0)
	s.now = func() time.Time { return now }
	return s
}

// classify maps a DecodeJSON error to itsdangerous' outcome names.
func classify(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrTokenPayload):
		return "bad_payload"
	case errors.Is(err, ErrExpiredToken):
		return "expired"
	case errors.Is(err, ErrInvalidToken):
		return "bad_signature"
	}
	return "unexpected: " + err.Error()
}

func TestItsdangerousVectors(t *testing.T) {
	vf := loadVectors(t)
	seen := map[string]int{}
	for _, v := range vf.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			s := serializerFor(t, v)
			payload, issued, err := s.DecodeJSON(v.Token)
			got := classify(err)
			want := v.Expect
			if strings.HasPrefix(v.Name, "quirk_") && v.Name != "quirk_base" {
				// Python's lenient base64 accepts these; a strict
				// decoder must refuse them as bad signatures.
				want = "bad_signature"
			}
			if got != want {
				t.Fatalf("DecodeJSON(%q) = %s (%v), itsdangerous says %s", v.Token, got, err, want)
			}
			seen[v.Expect]++
			if got != "ok" {
				if payload != nil {
					t.Errorf("rejected token returned payload %q", payload)
				}
				return
			}
			if !jsonEqual(t, payload, v.Payload) {
				t.Errorf("payload = %s, want %s", payload, v.Payload)
			}
			if v.Timestamp != nil && issued.Unix() != *v.Timestamp {
				t.Errorf("issued = %d, want %d", issued.Unix(), *v.Timestamp)
			}
		})
	}
	for outcome, n := range vf.Counts {
		if outcome != "total" && seen[outcome] != n {
			t.Errorf("checked %d %q vectors, file has %d", seen[outcome], outcome, n)
		}
	}
}

// TestMintMatchesVectors signs each uncompressed positive vector's exact JSON
// text with a clock fixed at its timestamp and expects the same token.
func TestMintMatchesVectors(t *testing.T) {
	minted := 0
	for _, v := range loadVectors(t).Vectors {
		if v.Expect != "ok" || v.PayloadJSON == nil || v.Compressed || v.Timestamp == nil || len(v.SignedWith) > 0 {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			s := serializerFor(t, v)
			ts := time.Unix(*v.Timestamp, 0)
			s.now = func() time.Time { return ts }
			got, err := s.EncodeJSON([]byte(*v.PayloadJSON))
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Token {
				t.Errorf("EncodeJSON(%s) = %q, want %q", *v.PayloadJSON, got, v.Token)
			}
		})
		minted++
	}
	if minted < 40 {
		t.Fatalf("only %d vectors minted; the filter is too strict", minted)
	}
}

// TestCompressedVectorsRoundTrip checks that payloads itsdangerous compressed
// are compressed here too and decode to the same value.
func TestCompressedVectorsRoundTrip(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		if !v.Compressed {
			continue
		}
		s := serializerFor(t, v)
		tok, err := s.EncodeJSON([]byte(*v.PayloadJSON))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, ".") {
			t.Errorf("%s: token %q is not compressed", v.Name, tok)
		}
		got, _, err := s.DecodeJSON(tok)
		if err != nil || !bytes.Equal(got, []byte(*v.PayloadJSON)) {
			t.Errorf("%s: round trip = %q, %v", v.Name, got, err)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	norm := func(p []byte) string {
		d := json.NewDecoder(bytes.NewReader(p))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad JSON %q: %v", p, err)
		}
		out, _ := json.Marshal(v)
		return string(out)
	}
	return norm(a) == norm(b)
}

func newTestSerializer(t testing.TB, cfg SerializerConfig) *Serializer {
	t.Helper()
	s, err := NewSerializer([]byte("test-secret-key-0123456789"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSerializerMaxAge(t *testing.T) {
	issued := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(t, SerializerConfig{Digest: SHA256, MaxAge: time.Hour})
	s.now = func() time.Time { return issued }
	tok, err := s.Encode(map[string]int{"id": 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		now     time.Time
		wantErr []error // every one must match; nil means accepted
		notErr  error
	}{
		{name: "same second", now: issued},
		{name: "exactly max age", now: issued.Add(time.Hour)},
		{name: "one second past", now: issued.Add(time.Hour + time.Second), wantErr: []error{ErrExpiredToken}, notErr: ErrInvalidToken},
		{name: "one second in the future", now: issued.Add(-time.Second), wantErr: []error{ErrInvalidToken, ErrExpiredToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.now = func() time.Time { return tt.now }
			var v map[string]int
			got, err := s.Decode(tok, &v)
			if len(tt.wantErr) == 0 {
				if err != nil || v["id"] != 1 || !got.Equal(issued) {
					t.Fatalf("Decode = %v, %v, %v; want accepted", v, got, err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want errors.Is %v", err, want)
				}
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Errorf("err = %v also matches %v", err, tt.notErr)
			}
		})
	}
}

func TestSerializerKeyRotation(t *testing.T) {
	oldS, err := NewSerializer([]byte("old-key"), SerializerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _ := oldS.Encode("x")
	s, err := NewSerializer([]byte("new-key"), SerializerConfig{OldKeys: [][]byte{[]byte("old-key")}})
	if err != nil {
		t.Fatal(err)
	}
	newTok, _ := s.Encode("x")
	if _, _, err := s.DecodeJSON(oldTok); err != nil {
		t.Errorf("token of an old key rejected: %v", err)
	}
	if _, _, err := oldS.DecodeJSON(newTok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("new tokens are not signed with the new key: old serializer says %v", err)
	}
}

func TestSerializerLimits(t *testing.T) {
	s := newTestSerializer(t, SerializerConfig{MaxTokenBytes: 200, MaxPayloadBytes: 100})
	big := strings.Repeat("a", 150)
	if _, err := s.Encode(big); err == nil {
		t.Error("Encode accepted a payload over MaxPayloadBytes")
	}
	// A zlib bomb: highly compressible, far larger than the limit once
	// inflated, signed with the right key so only the size check stops it.
	loose := newTestSerializer(t, SerializerConfig{MaxTokenBytes: 200})
	bomb, err := loose.EncodeJSON([]byte(`"` + strings.Repeat("a", 10_000) + `"`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bomb, ".") || len(bomb) > 200 {
		t.Fatalf("bomb token %q is not a short compressed token", bomb)
	}
	if _, _, err := s.DecodeJSON(bomb); !errors.Is(err, ErrTokenPayload) {
		t.Errorf("zlib bomb: err = %v, want ErrTokenPayload", err)
	}
	if _, _, err := s.DecodeJSON(strings.Repeat("x", 201)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("over-long token: err = %v, want ErrInvalidToken", err)
	}
}

func TestNewSerializerRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  SerializerConfig
	}{
		{name: "unknown digest", cfg: SerializerConfig{Digest: "md5"}},
		{name: "unknown key derivation", cfg: SerializerConfig{KeyDerivation: "pbkdf2"}},
		{name: "negative max age", cfg: SerializerConfig{MaxAge: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSerializer([]byte("k"), tt.cfg); err == nil {
				t.Error("NewSerializer accepted it")
			}
		})
	}
}

func TestInspectToken(t *testing.T) {
	s := newTestSerializer(t, SerializerConfig{})
	ts := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return ts }
	tok, _ := s.Encode([]string{"7", "abc"})
	payload, issued, err := InspectToken(tok)
	if err != nil || string(payload) != `["7","abc"]` || !issued.Equal(ts) {
		t.Errorf("InspectToken = %s, %v, %v", payload, issued, err)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "!!.AA.sig", "e30.AQEBAQEBAQEB.sig"} {
		if _, _, err := InspectToken(bad); err == nil {
			t.Errorf("InspectToken(%q) accepted it", bad)
		}
	}
}

// FuzzParseToken feeds arbitrary strings to the verifier of a Serializer
// and of a Manager. It must never panic, and it must never accept a token
// other than the one canonical token the key would produce for the same
// payload and time: no alternative encoding, no forged signature.
func FuzzParseToken(f *testing.F) {
	s := newTestSerializer(f, SerializerConfig{Digest: SHA256})
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	for _, p := range []string{`["1","0123456789abcdef"]`, `{"id":1}`, `"x"`, `[` + strings.Repeat(`"ab",`, 40) + `"ab"]`} {
		tok, err := s.EncodeJSON([]byte(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok + "=")
		f.Add(strings.Replace(tok, ".", "..", 1))
		f.Add(tok[:len(tok)-1])
	}
	for _, v := range loadVectors(f).Vectors {
		f.Add(v.Token)
	}
	f.Add("")
	f.Add("...")
	f.Add(".eJw.AA.AA")
	f.Fuzz(func(t *testing.T, token string) {
		payload, issued, err := s.DecodeJSON(token)
		if err != nil {
			if payload != nil {
				t.Fatalf("rejected %q but returned a payload", token)
			}
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpiredToken) {
				t.Fatalf("error %v matches no sentinel", err)
			}
		} else if !strings.HasPrefix(token, ".") {
			if canon := s.encode(payload, issued.Unix(), false); canon != token {
				t.Fatalf("accepted %q, but the key signs that payload as %q", token, canon)
			}
		}
		var scratch [256]byte
		if seg, _, err := s.verify(token); err == nil {
			_, _, _ = s.parseClaims(seg, scratch[:0])
		}
	})
}
