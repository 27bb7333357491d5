package flask

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/totp"
)

// flaskTOTP runs Flask-Security 5.1.2's Totp (passlib underneath) with
// the secrets and issuer, on the script's argument lines; the script
// prints JSON.
func flaskTOTP(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	py := testpython.Find(t, "python3-flask-security python3-passlib python3-cryptography", "flask_security.totp", "cryptography")
	prelude := `
import json, sys
from flask_security.totp import Totp
f = Totp({"1": "first secret", "2": "second secret"}, "Example")
`
	out, err := exec.Command(py, append([]string{"-c", prelude + script}, args...)...).CombinedOutput() // #nosec G204 -- test: Debian's Python with this package's script
	if err != nil {
		t.Fatalf("flask_security: %v\n%s", err, out)
	}
	return out
}

var testTOTPConfig = Config{TOTPSecrets: map[string]string{"1": "first secret", "2": "second secret"}}

// TestTOTPSecretsFlaskAgrees: a key Flask-Security sealed opens here and
// gives its codes; a key sealed here opens in Flask-Security and gives
// ours.
func TestTOTPSecretsFlaskAgrees(t *testing.T) {
	s, err := NewTOTPSecrets(testTOTPConfig)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	var fromFlask struct {
		Secret string `json:"secret"`
		Code   string `json:"code"`
	}
	out := flaskTOTP(t, `
s = f.generate_totp_secret()
print(json.dumps({"secret": s, "code": f._totp.from_source(s).generate(1700000000).token}))
`)
	if err := json.Unmarshal(out, &fromFlask); err != nil {
		t.Fatalf("%s", out)
	}
	if !strings.Contains(fromFlask.Secret, `"t":"2"`) {
		t.Errorf("Flask-Security encrypted under a tag other than the greatest: %s", fromFlask.Secret)
	}
	key, err := s.OpenTOTPKey("1", []byte(fromFlask.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := (totp.Config{}).Code(key, at); code != fromFlask.Code {
		t.Errorf("code of Flask-Security's key: %s, Flask-Security's %s", code, fromFlask.Code)
	}

	key = totp.NewKey()
	sealed, err := s.SealTOTPKey("1", key)
	if err != nil {
		t.Fatal(err)
	}
	out = flaskTOTP(t, `
t = f._totp.from_source(sys.argv[1])
print(json.dumps({"code": t.generate(1700000000).token, "json": t.to_json(encrypt=True)}))
`, string(sealed))
	var fromGo struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(out, &fromGo); err != nil {
		t.Fatalf("%s", out)
	}
	if code, _ := (totp.Config{}).Code(key, at); code != fromGo.Code {
		t.Errorf("Flask-Security's code of our key: %s, ours %s", fromGo.Code, code)
	}
	if !bytes.HasPrefix(sealed, []byte(`{"enckey":{"c":14,"k":"`)) || !bytes.HasSuffix(sealed, []byte(`","t":"2","v":1},"type":"totp","v":1}`)) {
		t.Errorf("sealed %s", sealed)
	}
}

func TestTOTPSecretsRefusals(t *testing.T) {
	if _, err := NewTOTPSecrets(Config{}); err == nil {
		t.Error("no secrets accepted")
	}
	if _, err := NewTOTPSecrets(Config{TOTPSecrets: map[string]string{"a b": "x"}}); err == nil {
		t.Error("a tag with a space accepted")
	}
	s, _ := NewTOTPSecrets(testTOTPConfig)
	other, _ := NewTOTPSecrets(Config{TOTPSecrets: map[string]string{"3": "third"}})
	sealed, _ := other.SealTOTPKey("1", totp.NewKey())
	for _, in := range []string{
		``, `{`, `[]`, `{"type":"totp","v":2,"key":"JBSWY3DP"}`, `{"type":"hotp","v":1,"key":"JBSWY3DP"}`,
		`{"type":"totp","v":1}`, `{"type":"totp","v":1,"key":"JBSWY3DP","digits":8}`,
		`{"type":"totp","v":1,"key":"JBSWY3DP","alg":"sha256"}`, `{"type":"totp","v":1,"key":"!!"}`,
		`{"enckey":{"c":40,"k":"AAAA","s":"AAAA","t":"1","v":1},"type":"totp","v":1}`,
		string(sealed),
	} {
		if key, err := s.OpenTOTPKey("1", []byte(in)); err == nil {
			t.Errorf("%s opened: %x", in, key)
		}
	}
	// passlib's plain form opens.
	if key, err := s.OpenTOTPKey("1", []byte(`{"key":"jbswy3dpehpk3pxp","type":"totp","v":1}`)); err != nil || string(key) != "Hello!\xde\xad\xbe\xef" {
		t.Errorf("plain key: %q %v", key, err)
	}
}
