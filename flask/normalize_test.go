package flask

import (
	"net/http"
	"testing"
)

// normalizedPasswords are passwords whose NFKD form differs from what a
// keyboard sends: composed letters, a ligature, full-width characters.
var normalizedPasswords = []string{"pässwörd-çà", "ﬁnance-ﬂow-2026", "Ｐａｓｓｗｏｒｄ１２３", "plain-ascii-password"}

// TestFlaskNormalizesPasswords: a user of the Flask application whose
// password has non-ASCII characters logs in on either side with the hash
// the other made. Flask-Security NFKD-normalizes a password before it
// hashes or checks it; the Hasher must do the same.
func TestFlaskNormalizesPasswords(t *testing.T) {
	t.Parallel()
	py := pythonWithFlaskSecurity(t)
	const salt = "normalization test salt"
	h := newTestHasher(t, Config{PasswordSalt: salt, PasswordHash: "pbkdf2_sha512"}, 1000)
	type hashCase struct {
		Hash     string `json:"hash"`
		Password string `json:"password"`
	}
	req := struct {
		Salt      string     `json:"password_salt"`
		Hashes    []hashCase `json:"hashes"`
		Passwords []string   `json:"passwords"`
	}{Salt: salt, Passwords: normalizedPasswords}
	for _, pw := range normalizedPasswords {
		enc, err := h.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		req.Hashes = append(req.Hashes, hashCase{enc, pw})
	}
	var res struct {
		Logins []int    `json:"logins"`
		Bodies []string `json:"bodies"`
		Hashes []string `json:"hashes"`
	}
	runFlaskScript(t, py, req, &res, "normalized_passwords.py")
	if len(res.Logins) != len(normalizedPasswords) || len(res.Hashes) != len(normalizedPasswords) {
		t.Fatalf("the script answered %d logins and %d hashes for %d passwords", len(res.Logins), len(res.Hashes), len(normalizedPasswords))
	}
	for i, pw := range normalizedPasswords {
		if res.Logins[i] != http.StatusOK {
			t.Errorf("Flask-Security's /login with %q against the Hasher's hash: %d %s; want 200", pw, res.Logins[i], res.Bodies[i])
		}
		if _, err := h.Verify(res.Hashes[i], pw); err != nil {
			t.Errorf("the Hasher refuses %q against Flask-Security's hash %s: %v", pw, res.Hashes[i], err)
		}
		raw := newTestHasher(t, Config{PasswordSalt: salt, PasswordNormalizeForm: "none"}, 0)
		if _, err := raw.Verify(res.Hashes[i], pw); (err == nil) != (pw == "plain-ascii-password") {
			t.Errorf("without normalization, %q against Flask-Security's hash: %v; the test should tell the two apart", pw, err)
		}
	}
}

// TestNormalizeFormConfig checks the values PasswordNormalizeForm takes.
func TestNormalizeFormConfig(t *testing.T) {
	for _, tc := range []struct {
		form string
		in   string
		want string // prepared password (no pre-hash), "" for an error
	}{
		{"", "é", "e\u0301"},
		{"NFKD", "ﬁ", "fi"},
		{"NFKC", "ﬁ", "fi"},
		{"NFD", "ﬁ", "ﬁ"},
		{"NFC", "e\u0301", "é"},
		{"none", "e\u0301", "e\u0301"},
		{"nfkd", "", ""},
	} {
		h, err := NewHasher(Config{PasswordSingleHash: true, PasswordNormalizeForm: tc.form})
		if tc.want == "" {
			if err == nil {
				t.Errorf("form %q accepted", tc.form)
			}
			continue
		}
		if err != nil {
			t.Fatalf("form %q: %v", tc.form, err)
		}
		if got := h.prepare(passlibPBKDF2SHA512, tc.in); got != tc.want {
			t.Errorf("form %q: %q prepared as %q; want %q", tc.form, tc.in, got, tc.want)
		}
	}
}
