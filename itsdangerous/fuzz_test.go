package itsdangerous

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseToken feeds arbitrary strings to the verifier of a Serializer,
// through DecodeJSON and through Unsign and AppendPayload. It must never
// panic, and it must never accept a token other than the one canonical
// token the key would produce for the same payload and time: no
// alternative encoding, no forged signature.
func FuzzParseToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(f, Config{Digest: SHA256, Now: func() time.Time { return now }})
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
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
				t.Fatalf("error %v matches no sentinel", err)
			}
		} else if !strings.HasPrefix(token, ".") {
			if canon := s.encode(payload, issued.Unix(), false); canon != token {
				t.Fatalf("accepted %q, but the key signs that payload as %q", token, canon)
			}
		}
		var scratch [256]byte
		seg, _, uerr := s.Unsign(token)
		if (uerr == nil) != (err == nil || errors.Is(err, ErrBadPayload)) {
			t.Fatalf("Unsign says %v, DecodeJSON %v", uerr, err)
		}
		if uerr != nil {
			return
		}
		raw, perr := s.AppendPayload(scratch[:0], seg)
		if err == nil && (perr != nil || !bytes.Equal(raw, payload)) {
			t.Fatalf("AppendPayload = %q, %v; DecodeJSON gave %q", raw, perr, payload)
		}
		if perr != nil && (raw == nil || len(raw) != 0 || !errors.Is(perr, ErrBadPayload)) {
			t.Fatalf("AppendPayload failed with %q, %v", raw, perr)
		}
	})
}
