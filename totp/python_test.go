package totp

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/internal/testpython"
)

// TestPasslibAgrees checks the package against passlib's TOTP, which
// Flask-Security 5.1.2 uses for its authenticator codes: passlib's codes
// validate here, and passlib reads the URI made here and makes the codes
// made here.
func TestPasslibAgrees(t *testing.T) {
	py := testpython.Find(t, "python3-passlib", "passlib.totp")
	key := NewKey()
	times := []int64{59, 1111111109, 1700000000, 2000000000}
	for _, c := range []Config{{}, {Algorithm: SHA256, Digits: 8, Period: 60 * time.Second}} {
		uri, err := c.URI("Example Co", "alice@example.com", key)
		if err != nil {
			t.Fatal(err)
		}
		script := `
import json, sys
from passlib.totp import TOTP
t = TOTP.from_uri(sys.argv[1])
print(json.dumps({"digits": t.digits, "alg": t.alg, "period": t.period, "issuer": t.issuer, "label": t.label,
                  "codes": [t.generate(int(s)).token for s in sys.argv[2:]]}))
`
		args := []string{"-c", script, uri}
		for _, s := range times {
			args = append(args, strconv.FormatInt(s, 10))
		}
		out, err := exec.Command(py, args...).CombinedOutput() // #nosec G204 -- test: Debian's Python with this package's script
		if err != nil {
			t.Fatalf("passlib: %v\n%s", err, out)
		}
		var got struct {
			Digits int      `json:"digits"`
			Alg    string   `json:"alg"`
			Period int      `json:"period"`
			Issuer string   `json:"issuer"`
			Label  string   `json:"label"`
			Codes  []string `json:"codes"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("passlib printed %s", out)
		}
		r, _ := c.resolved()
		if got.Digits != r.Digits || !strings.EqualFold(got.Alg, string(r.Algorithm)) || got.Period != int(r.Period/time.Second) ||
			got.Issuer != "Example Co" || got.Label != "alice@example.com" {
			t.Errorf("passlib read %s as %+v", uri, got)
		}
		for i, s := range times {
			at := time.Unix(s, 0)
			want, _ := c.Code(key, at)
			if got.Codes[i] != want {
				t.Errorf("%s at %d: passlib %s, here %s", uri, s, got.Codes[i], want)
			}
			if _, ok, _ := c.Validate(key, got.Codes[i], at); !ok {
				t.Errorf("passlib's code %s at %d does not validate", got.Codes[i], s)
			}
		}
	}
}
