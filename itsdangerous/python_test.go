package itsdangerous_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/itsdangerous"
)

// pythonWithItsdangerous returns a Python that has itsdangerous.
func pythonWithItsdangerous(t *testing.T) string {
	return testpython.Find(t, "python3-itsdangerous", "itsdangerous")
}

// exampleOutput runs Example and returns what it printed.
func exampleOutput(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = stdout }()
		Example()
	}()
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPythonVerifiesExample has the real itsdangerous load the token that
// Example prints, with the settings its comment gives, and has it sign
// tokens, plain and compressed, that a Serializer with the same settings
// verifies.
func TestPythonVerifiesExample(t *testing.T) {
	py := pythonWithItsdangerous(t)
	token, _, _ := strings.Cut(exampleOutput(t), "\n")
	if token == "" {
		t.Fatal("Example printed no token")
	}
	script := `
import json, sys
from itsdangerous import URLSafeTimedSerializer
s = URLSafeTimedSerializer(sys.argv[1], salt=sys.argv[2])
value, ts = s.loads(sys.argv[3], return_timestamp=True)
print(json.dumps(value, separators=(",", ":")))
print(int(ts.timestamp()))
print(s.dumps({"id": 7, "from": "python"}))
print(s.dumps({"pad": "ab" * 200}))
`
	out, err := exec.Command(py, "-c", script, "secret-key", "activate", token).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("python printed %q", out)
	}
	if lines[0] != `{"id":42}` {
		t.Errorf("itsdangerous loaded %s, want {\"id\":42}", lines[0])
	}
	if want := exampleClock().Unix(); lines[1] != jsonText(want) {
		t.Errorf("itsdangerous read timestamp %s, want %d", lines[1], want)
	}

	s, err := itsdangerous.New([]byte("secret-key"), itsdangerous.Config{Salt: "activate", MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID   int    `json:"id"`
		From string `json:"from"`
	}
	if _, err := s.Decode(lines[2], &v); err != nil || v.ID != 7 || v.From != "python" {
		t.Errorf("Decode(token from Python) = %+v, %v", v, err)
	}
	if !strings.HasPrefix(lines[3], ".") {
		t.Fatalf("Python did not compress %q", lines[3])
	}
	payload, _, err := s.DecodeJSON(lines[3])
	if want := `{"pad": "` + strings.Repeat("ab", 200) + `"}`; err != nil || !jsonSame(payload, want) {
		t.Errorf("DecodeJSON(compressed token from Python) = %s, %v", payload, err)
	}
}

// TestPythonKeyRotation has itsdangerous, given the secret keys oldest
// first, verify tokens of the signing key and of an old key, with SHA-256
// and each key derivation, and sign one that Go verifies.
func TestPythonKeyRotation(t *testing.T) {
	py := pythonWithItsdangerous(t)
	script := `
import hashlib, sys
from itsdangerous import URLSafeTimedSerializer
s = URLSafeTimedSerializer([sys.argv[1], sys.argv[2]], salt="rotation",
    signer_kwargs={"digest_method": hashlib.sha256, "key_derivation": sys.argv[3]})
for tok in sys.argv[4:]:
    print(s.loads(tok, max_age=60))
print(s.dumps("from python"))
`
	for _, kd := range []itsdangerous.KeyDerivation{itsdangerous.DjangoConcat, itsdangerous.Concat, itsdangerous.HMAC, itsdangerous.None} {
		t.Run(string(kd), func(t *testing.T) {
			cfg := itsdangerous.Config{Salt: "rotation", Digest: itsdangerous.SHA256, KeyDerivation: kd, MaxAge: time.Minute}
			oldOnly, err := itsdangerous.New([]byte("old-key"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.OldKeys = [][]byte{[]byte("old-key")}
			s, err := itsdangerous.New([]byte("new-key"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			newTok, _ := s.Encode("new")
			oldTok, _ := oldOnly.Encode("old")
			out, err := exec.Command(py, "-c", script, "old-key", "new-key", string(kd), newTok, oldTok).CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 3 || lines[0] != "new" || lines[1] != "old" {
				t.Fatalf("python printed %q", out)
			}
			var got string
			if _, err := s.Decode(lines[2], &got); err != nil || got != "from python" {
				t.Errorf("Decode(token from Python) = %q, %v", got, err)
			}
			if _, err := oldOnly.Verify(lines[2]); err != itsdangerous.ErrBadSignature {
				t.Errorf("Python signed with the old key: %v", err)
			}
		})
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonSame reports whether a and b are the same JSON value.
func jsonSame(a []byte, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
