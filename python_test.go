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
	// A token from a refresh carries its login's time as a third element.
	const loggedIn = 1700000000
	refreshed, _ := m.issueOwnToken(u, loggedIn)

	script := `
import hashlib, json, sys
from itsdangerous import URLSafeTimedSerializer
s = URLSafeTimedSerializer(sys.argv[1], salt=sys.argv[2], signer_kwargs={"digest_method": hashlib.sha256})
print(json.dumps(s.loads(sys.argv[3], max_age=86400)))
user_id, uniquifier, *authenticated_at = s.loads(sys.argv[6], max_age=86400)
print(json.dumps([user_id, uniquifier, authenticated_at]))
print(s.dumps([sys.argv[4], sys.argv[5]]))
print(s.dumps([sys.argv[4], sys.argv[5], 1700000000]))
`
	out, err := exec.Command(py, "-c", script, secret, "authkit-token", tok, u.ID, u.Uniquifier, refreshed).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("python printed %q", out)
	}
	if want := `["` + u.ID + `", "` + u.Uniquifier + `"]`; lines[0] != want {
		t.Errorf("itsdangerous loaded %s, want %s", lines[0], want)
	}
	if want := `["` + u.ID + `", "` + u.Uniquifier + `", [1700000000]]`; lines[1] != want {
		t.Errorf("itsdangerous loaded the refreshed token as %s, want %s", lines[1], want)
	}
	for _, line := range lines[2:] {
		got, _, err := m.verifyToken(context.Background(), line)
		if err != nil || got.ID != u.ID {
			t.Errorf("verifyToken(token from Python) = %v, %v", got, err)
		}
	}
	if _, at, err := m.verifyToken(context.Background(), lines[3]); err != nil || at != loggedIn {
		t.Errorf("verifyToken(Python's token with a time) = %d, %v; want %d", at, err, loggedIn)
	}
}
