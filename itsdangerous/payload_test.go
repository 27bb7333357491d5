package itsdangerous

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSignUnsignAppendPayload runs the low-level steps a payload codec
// uses: Sign writes the payload as it is, Unsign hands back its segment,
// AppendPayload decodes it after what dst holds.
func TestSignUnsignAppendPayload(t *testing.T) {
	ts := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(t, Config{Digest: SHA256, MaxAge: time.Hour, Now: func() time.Time { return ts }})
	for _, payload := range []string{`["1","abc"]`, "not JSON at all \x00\xff", "", strings.Repeat("a", 500)} {
		tok := s.Sign([]byte(payload))
		if payload != "" && strings.HasPrefix(tok, ".") { // an empty payload's token starts with "." too
			t.Errorf("Sign compressed %q", payload)
		}
		seg, issued, err := s.Unsign(tok)
		if err != nil || !issued.Equal(ts) {
			t.Fatalf("Unsign(Sign(%q)) = %q, %v, %v", payload, seg, issued, err)
		}
		if want := b64.EncodeToString([]byte(payload)); seg != want {
			t.Errorf("segment %q, want %q", seg, want)
		}
		got, err := s.AppendPayload([]byte("prefix:"), seg)
		if err != nil || string(got) != "prefix:"+payload {
			t.Errorf("AppendPayload = %q, %v", got, err)
		}
		if canon := s.encode([]byte(payload), ts.Unix(), false); canon != tok {
			t.Errorf("Sign = %q, encode = %q", tok, canon)
		}
	}
}

func TestAppendPayload(t *testing.T) {
	s := newTestSerializer(t, Config{MaxPayloadBytes: 64})
	long := `["` + strings.Repeat("i", 60) + `"]`
	big := `["` + strings.Repeat("i", 100) + `"]`
	tests := []struct {
		name string
		seg  string
		want string // "" with wantErr
		err  bool
	}{
		{name: "plain", seg: b64.EncodeToString([]byte(`["1","abc"]`)), want: `["1","abc"]`},
		{name: "empty", seg: "", want: ""},
		{name: "compressed", seg: "." + b64.EncodeToString(s.deflate([]byte(long))), want: long},
		{name: "at the limit", seg: b64.EncodeToString([]byte(strings.Repeat("x", 64))), want: strings.Repeat("x", 64)},
		{name: "over the limit", seg: b64.EncodeToString([]byte(strings.Repeat("x", 65))), err: true},
		{name: "inflates over the limit", seg: "." + b64.EncodeToString(s.deflate([]byte(big))), err: true},
		{name: "bad base64", seg: "!!!!", err: true},
		{name: "padded base64", seg: b64.EncodeToString([]byte(`["1","ab"]`)) + "=", err: true},
		{name: "standard alphabet", seg: "+/+/", err: true},
		{name: "non-zero unused bits", seg: "AB", err: true},
		{name: "bad zlib", seg: ".AAAA", err: true},
		{name: "compressed, bad base64", seg: ".!!!!", err: true},
		{name: "truncated zlib", seg: "." + b64.EncodeToString(s.deflate([]byte(long))[:10]), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := s.AppendPayload(dst, tt.seg)
			if tt.err {
				if !errors.Is(err, ErrBadPayload) || !errors.Is(err, ErrInvalid) || string(got) != "keep" {
					t.Errorf("AppendPayload = %q, %v; want dst unchanged and ErrBadPayload", got, err)
				}
				return
			}
			if err != nil || string(got) != "keep"+tt.want {
				t.Errorf("AppendPayload = %q, %v; want %q", got, err, "keep"+tt.want)
			}
		})
	}
	// Into a buffer with room, the payload lands in that buffer.
	var scratch [64]byte
	got, err := s.AppendPayload(scratch[:0], b64.EncodeToString([]byte("abc")))
	if err != nil || &got[0] != &scratch[0] || !bytes.Equal(got, []byte("abc")) {
		t.Errorf("AppendPayload into scratch = %q, %v (same array: %v)", got, err, err == nil && &got[0] == &scratch[0])
	}
}
