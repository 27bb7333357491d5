package auth

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/authkit/auth/internal/testpython"
	"github.com/authkit/auth/passhash"
)

// pythonWithItsdangerous returns a Python that has itsdangerous.
func pythonWithItsdangerous(t *testing.T) string {
	return testpython.Find(t, "python3-itsdangerous", "itsdangerous")
}

// TestPythonVerifiesManagerToken has the real itsdangerous verify a token
// the Manager issued, with the settings the README shows, and the Manager
// verify one that itsdangerous signed.
func TestPythonVerifiesManagerToken(t *testing.T) {
	py := pythonWithItsdangerous(t)
	store := NewMemoryStore()
	secret := "python-interop-secret-0123456789"
	m, err := New(store, []byte(secret), Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := m.NewUser("py@example.com", "pw-123456")
	if err := store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	tok, _ := m.IssueToken(u)

	script := `
import hashlib, json, sys
from itsdangerous import URLSafeTimedSerializer
s = URLSafeTimedSerializer(sys.argv[1], salt=sys.argv[2], signer_kwargs={"digest_method": hashlib.sha256})
print(json.dumps(s.loads(sys.argv[3], max_age=86400)))
print(s.dumps([sys.argv[4], sys.argv[5]]))
`
	out, err := exec.Command(py, "-c", script, secret, "authkit-token", tok, u.ID, u.Uniquifier).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("python printed %q", out)
	}
	if want := `["` + u.ID + `", "` + u.Uniquifier + `"]`; lines[0] != want {
		t.Errorf("itsdangerous loaded %s, want %s", lines[0], want)
	}
	got, err := m.VerifyToken(context.Background(), lines[1])
	if err != nil || got.ID != u.ID {
		t.Errorf("VerifyToken(token from Python) = %v, %v", got, err)
	}
}
