package itsdangerous

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInspect(t *testing.T) {
	ts := time.Unix(1_700_000_000, 0)
	s := newTestSerializer(t, Config{Now: func() time.Time { return ts }})
	tok, _ := s.Encode([]string{"7", "abc"})
	payload, issued, err := Inspect(tok)
	if err != nil || string(payload) != `["7","abc"]` || !issued.Equal(ts) {
		t.Errorf("Inspect = %s, %v, %v", payload, issued, err)
	}
	long := `["` + strings.Repeat("ab", 200) + `"]`
	ztok, _ := s.EncodeJSON([]byte(long))
	if !strings.HasPrefix(ztok, ".") {
		t.Fatalf("token %q is not compressed", ztok)
	}
	if payload, _, err := Inspect(ztok); err != nil || string(payload) != long {
		t.Errorf("Inspect(compressed) = %s, %v", payload, err)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "!!.AA.sig", "e30.AQEBAQEBAQEB.sig"} {
		if _, _, err := Inspect(bad); err == nil {
			t.Errorf("Inspect(%q) accepted it", bad)
		}
	}
}

// TestInspectRejects checks that every malformed token gives ErrInvalid,
// whatever its signature.
func TestInspectRejects(t *testing.T) {
	s := newTestSerializer(t, Config{Digest: SHA256})
	valid := s.Sign([]byte(`["1","0123456789abcdef"]`))
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
		{name: "too long", token: strings.Repeat("a", defaultMaxTokenBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, _, err := Inspect(tt.token); err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("Inspect = %q, %v; want ErrInvalid", p, err)
			}
		})
	}
}
