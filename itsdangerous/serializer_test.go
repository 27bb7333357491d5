package itsdangerous

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
	now := time.Unix(v.VerifyNow, 0)
	cfg := Config{
		Salt:          v.Salt,
		EmptySalt:     v.Salt == "",
		Digest:        v.Digest,
		KeyDerivation: v.KeyDerivation,
		OldKeys:       old,
		Now:           func() time.Time { return now },
	}
	if v.MaxAge != nil {
		// Ages are whole seconds, so any MaxAge under a second behaves
		// as itsdangerous' max_age=0.
		cfg.MaxAge = max(time.Duration(*v.MaxAge)*time.Second, time.Nanosecond)
	}
	s, err := New([]byte(keys[len(keys)-1]), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// classify maps a DecodeJSON error to itsdangerous' outcome names.
func classify(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrBadPayload):
		return "bad_payload"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrInvalid):
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

func newTestSerializer(t testing.TB, cfg Config) *Serializer {
	t.Helper()
	s, err := New([]byte("test-secret-key-0123456789"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSerializerMaxAge(t *testing.T) {
	issued := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(t, Config{Digest: SHA256, MaxAge: time.Hour})
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
		{name: "one second past", now: issued.Add(time.Hour + time.Second), wantErr: []error{ErrExpired}, notErr: ErrInvalid},
		{name: "one second in the future", now: issued.Add(-time.Second), wantErr: []error{ErrInvalid, ErrExpired}},
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
	oldS, err := New([]byte("old-key"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _ := oldS.Encode("x")
	s, err := New([]byte("new-key"), Config{OldKeys: [][]byte{[]byte("old-key")}})
	if err != nil {
		t.Fatal(err)
	}
	newTok, _ := s.Encode("x")
	if _, _, err := s.DecodeJSON(oldTok); err != nil {
		t.Errorf("token of an old key rejected: %v", err)
	}
	if _, _, err := oldS.DecodeJSON(newTok); !errors.Is(err, ErrInvalid) {
		t.Errorf("new tokens are not signed with the new key: old serializer says %v", err)
	}
}

func TestSerializerLimits(t *testing.T) {
	s := newTestSerializer(t, Config{MaxTokenBytes: 200, MaxPayloadBytes: 100})
	big := strings.Repeat("a", 150)
	if _, err := s.Encode(big); err == nil {
		t.Error("Encode accepted a payload over MaxPayloadBytes")
	}
	// A zlib bomb: highly compressible, far larger than the limit once
	// inflated, signed with the right key so only the size check stops it.
	loose := newTestSerializer(t, Config{MaxTokenBytes: 200})
	bomb, err := loose.EncodeJSON([]byte(`"` + strings.Repeat("a", 10_000) + `"`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bomb, ".") || len(bomb) > 200 {
		t.Fatalf("bomb token %q is not a short compressed token", bomb)
	}
	if _, _, err := s.DecodeJSON(bomb); !errors.Is(err, ErrBadPayload) {
		t.Errorf("zlib bomb: err = %v, want ErrBadPayload", err)
	}
	if _, _, err := s.DecodeJSON(strings.Repeat("x", 201)); !errors.Is(err, ErrInvalid) {
		t.Errorf("over-long token: err = %v, want ErrInvalid", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "unknown digest", cfg: Config{Digest: "md5"}},
		{name: "unknown key derivation", cfg: Config{KeyDerivation: "pbkdf2"}},
		{name: "negative max age", cfg: Config{MaxAge: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New([]byte("k"), tt.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// TestNewCopiesKeys changes the key and the old keys after New: tokens
// still verify, so New kept copies.
func TestNewCopiesKeys(t *testing.T) {
	for _, kd := range []KeyDerivation{DjangoConcat, Concat, HMAC, None} {
		t.Run(string(kd), func(t *testing.T) {
			key, old := []byte("current-key"), []byte("retired-key")
			s, err := New(key, Config{KeyDerivation: kd, OldKeys: [][]byte{old}})
			if err != nil {
				t.Fatal(err)
			}
			oldS, err := New(bytes.Clone(old), Config{KeyDerivation: kd})
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := s.Encode("x")
			oldTok, _ := oldS.Encode("x")
			copy(key, "XXXXXXXXXXX")
			copy(old, "XXXXXXXXXXX")
			if _, err := s.Verify(tok); err != nil {
				t.Errorf("after changing the key: %v", err)
			}
			if _, err := s.Verify(oldTok); err != nil {
				t.Errorf("after changing the old key: %v", err)
			}
		})
	}
}

// TestConfigNow checks that Config.Now stamps tokens and measures ages, and
// that the default clock is the real one.
func TestConfigNow(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(t, Config{MaxAge: time.Minute, Now: func() time.Time { return clock }})
	tok := s.Sign([]byte(`"x"`))
	if issued, err := s.Verify(tok); err != nil || !issued.Equal(clock) {
		t.Fatalf("Verify = %v, %v; want %v", issued, err, clock)
	}
	clock = clock.Add(time.Minute + time.Second)
	if _, err := s.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("a minute and a second later: %v, want ErrExpired", err)
	}
	real := newTestSerializer(t, Config{MaxAge: time.Minute})
	if _, err := real.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("the default clock accepted a 2023 token: %v", err)
	}
	before := time.Now().Unix()
	issued, err := real.Verify(real.Sign([]byte(`"x"`)))
	if err != nil || issued.Unix() < before || issued.Unix() > time.Now().Unix() {
		t.Errorf("default clock: issued %v, %v", issued, err)
	}
}

// TestSentinels checks how the sentinel errors match each other, and that
// a forged signature is reported as ErrBadSignature itself.
func TestSentinels(t *testing.T) {
	if !errors.Is(ErrBadSignature, ErrInvalid) || !errors.Is(ErrBadPayload, ErrInvalid) {
		t.Error("ErrBadSignature and ErrBadPayload must match ErrInvalid")
	}
	if errors.Is(ErrExpired, ErrInvalid) || errors.Is(ErrInvalid, ErrExpired) {
		t.Error("ErrExpired and ErrInvalid must not match each other")
	}
	if errors.Is(ErrBadSignature, ErrBadPayload) || errors.Is(ErrBadPayload, ErrBadSignature) {
		t.Error("ErrBadSignature and ErrBadPayload must not match each other")
	}
	s := newTestSerializer(t, Config{})
	tok := s.Sign([]byte(`"x"`))
	other, _ := New([]byte("another key"), Config{})
	swapped := "A" // a last character of another MAC, in canonical form
	if tok[len(tok)-1] == 'A' {
		swapped = "E"
	}
	for _, bad := range []string{other.Sign([]byte(`"x"`)), tok[:len(tok)-1] + swapped, "no-dots", tok + "."} {
		if _, _, err := s.Unsign(bad); err != ErrBadSignature {
			t.Errorf("Unsign(%q) = %v, want ErrBadSignature itself", bad, err)
		}
	}
	for _, msg := range []string{ErrInvalid.Error(), ErrBadSignature.Error(), ErrExpired.Error(), ErrBadPayload.Error(), futureError{}.Error()} {
		if !strings.HasPrefix(msg, "itsdangerous: ") {
			t.Errorf("error text %q", msg)
		}
	}
}

// TestSignatureOnlyCanonical checks that a signature verifies only in its
// one strict base64 form: not with nonzero padding bits in its last
// character (which a lenient decoder reads as the same MAC), nor with a
// line break in it, which base64 decoders skip.
func TestSignatureOnlyCanonical(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, d := range []Digest{SHA1, SHA256, SHA512} {
		t.Run(string(d), func(t *testing.T) {
			s := newTestSerializer(t, Config{Digest: d})
			tok := s.Sign([]byte(`"x"`))
			if _, _, err := s.Unsign(tok); err != nil {
				t.Fatalf("Unsign(valid) = %v", err)
			}
			dot := strings.LastIndexByte(tok, '.')
			signed, sig := tok[:dot+1], tok[dot+1:]
			last := strings.IndexByte(alphabet, sig[len(sig)-1])
			variants := map[string]string{
				"padding bit set":    sig[:len(sig)-1] + string(alphabet[last|1]),
				"CR for a character": sig[:len(sig)-1] + "\r",
				"LF inside":          sig[:10] + "\n" + sig[10:len(sig)-1],
				"LF appended":        sig + "\n",
				"standard alphabet":  strings.NewReplacer("-", "+", "_", "/").Replace(sig),
			}
			for name, v := range variants {
				if v == sig { // no "-" or "_" to replace
					continue
				}
				if _, _, err := s.Unsign(signed + v); err != ErrBadSignature {
					t.Errorf("%s: Unsign = %v, want ErrBadSignature", name, err)
				}
			}
		})
	}
}
