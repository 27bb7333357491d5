package passhash

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The reference vectors: the repository's, made by the real Python
// libraries (also in ../shared/testdata), and this package's own, made by
// testdata/gen_hashes.py.
const (
	sharedHashes = "../testdata/password_hashes.json"
	flaskHashes  = "../testdata/flask/password_hashes.json"
	ownHashes    = "testdata/hashes.json"
)

// vector is an entry of a reference file.
type vector struct {
	Name           string   `json:"name"`
	Scheme         string   `json:"scheme"` // passlib's name ("argon2" for argon2id)
	Password       string   `json:"password"`
	Hash           string   `json:"hash"`
	WrongPasswords []string `json:"wrong_passwords"`
	AlsoVerifies   []string `json:"also_verifies"`
	FullCost       bool     `json:"full_cost"` // passlib's default parameters (testdata/hashes.json)
	// Set on the entries made through Flask-Security, whose passwords may
	// be pre-hashed: the root package checks those.
	PasswordSalt string          `json:"security_password_salt"`
	Flask        json.RawMessage `json:"flask"`
}

func loadVectors(t testing.TB, path string) []vector {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries []vector `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(f.Entries) < 10 {
		t.Fatalf("%s: only %d entries", path, len(f.Entries))
	}
	return f.Entries
}

// TestReferenceHashes checks every hash passlib, crypt(3) and the Python
// bcrypt and argon2 libraries made, in all three reference files: it
// verifies with its password and refuses every wrong one, and Identify
// names its scheme. Of the costly hashes (see costlyHash) only one per
// scheme is checked, and not in -short mode: the cheap ones have the same
// formats.
func TestReferenceHashes(t *testing.T) {
	var entries []vector
	for _, path := range []string{ownHashes, sharedHashes, flaskHashes} {
		for _, e := range loadVectors(t, path) {
			if e.PasswordSalt == "" && e.Flask == nil {
				entries = append(entries, e)
			}
		}
	}
	checked := map[string]bool{} // schemes whose costly hash is checked
	full := map[string]bool{}    // schemes with a full-cost vector
	for _, e := range entries {
		if e.FullCost {
			full[e.Scheme] = true
		}
		t.Run(e.Name, func(t *testing.T) {
			if strings.HasPrefix(e.Scheme, "werkzeug") {
				// Not a passlib format.
				if err := Verify(e.Hash, e.Password); !errors.Is(err, ErrUnsupported) {
					t.Fatalf("Verify = %v, want ErrUnsupported", err)
				}
				return
			}
			want := Scheme(e.Scheme)
			if want == "argon2" {
				want = Argon2id
			}
			if got := Identify(e.Hash); got != want {
				t.Errorf("Identify = %q, want %q", got, want)
			}
			if costlyHash(e.Hash) {
				if checked[e.Scheme] {
					t.Skip("costly hash; one per scheme is checked")
				}
				checked[e.Scheme] = true
				if testing.Short() {
					t.Skip("costly hash in -short mode")
				}
				t.Parallel()
			}
			switch {
			case len(e.Password) > bcryptMaxBytes && want == Bcrypt:
				// passlib truncates silently; this package refuses a
				// password it could compare only in part.
				if err := Verify(e.Hash, e.Password); err != ErrMismatch {
					t.Errorf("Verify(%d-byte password) = %v, want ErrMismatch", len(e.Password), err)
				}
			default:
				if err := Verify(e.Hash, e.Password); err != nil {
					t.Fatalf("Verify(password) = %v", err)
				}
			}
			for _, p := range e.AlsoVerifies {
				if err := Verify(e.Hash, p); err != nil {
					t.Errorf("Verify(%q) = %v", p, err)
				}
			}
			wrong := e.WrongPasswords
			if costlyHash(e.Hash) {
				wrong = nil // the cheap entries of the scheme refuse theirs
			}
			for _, p := range wrong {
				if err := Verify(e.Hash, p); err != ErrMismatch {
					t.Errorf("Verify(%q) = %v, want ErrMismatch", p, err)
				}
			}
		})
	}
	for _, s := range []string{"bcrypt", "argon2", "pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2_sha1", "sha512_crypt", "sha256_crypt"} {
		if !full[s] {
			t.Errorf("%s: no full-cost vector in %s", s, ownHashes)
		}
	}
}

// TestVerifyMalformed checks that damaged, truncated and
// hostile hashes of the passlib schemes give ErrUnsupported naming the
// scheme, quickly, and never panic.
func TestVerifyMalformed(t *testing.T) {
	const (
		salt512 = "8R5DaK01xngPwfif03oPQQ"
		sum512  = "aHtHXiQhhkOXNt9V1auwwVpSlo.ipk.MObwFjLqaPFlFRlrhU5SqBmJeuiWwBfI89in87Ex352CCiJ.mWiYgNw"
		sum6    = "ESFnMJbcf7fjqaHDNLJqbNiw7kOGZHrJhgzZGEyn8iFFS8NMLKE52e8GBTh2Q.gJGscvrignN0WFUNCNM.eQJ0"
		sum5    = "ZcmJd/7v3CnumfaCyE/Fz/rYLsvCHoh5EiOF7Gp4i/0"
	)
	valid := "$pbkdf2-sha512$25000$" + salt512 + "$" + sum512
	tests := []struct {
		name, hash, scheme string
	}{
		{name: "pbkdf2 truncated", hash: valid[:len(valid)-10], scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 no checksum", hash: "$pbkdf2-sha512$25000$" + salt512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 empty checksum", hash: "$pbkdf2-sha512$25000$" + salt512 + "$", scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 ident only", hash: "$pbkdf2-sha512$", scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 extra field", hash: valid + "$x", scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 huge rounds", hash: "$pbkdf2-sha512$4294967295$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 rounds over bound", hash: "$pbkdf2-sha512$10000001$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 rounds overflow", hash: "$pbkdf2-sha512$99999999999999999999$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 zero rounds", hash: "$pbkdf2-sha512$0$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 negative rounds", hash: "$pbkdf2-sha512$-1$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 zero-padded rounds", hash: "$pbkdf2-sha512$025000$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 rounds with sign", hash: "$pbkdf2-sha512$+25000$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 salt bad char", hash: "$pbkdf2-sha512$25000$8R5DaK01xngPwfif03o*QQ$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 salt impossible length", hash: "$pbkdf2-sha512$25000$8R5DaK01x$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 salt padded", hash: "$pbkdf2-sha512$25000$" + salt512 + "==$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 salt too long", hash: "$pbkdf2-sha512$25000$" + strings.Repeat("A", 1400) + "$" + sum512, scheme: "pbkdf2-sha512"},
		{name: "pbkdf2 short checksum", hash: "$pbkdf2-sha512$25000$" + salt512 + "$" + sum512[:43], scheme: "pbkdf2-sha512"},
		{name: "pbkdf2-sha256 with sha512 checksum", hash: "$pbkdf2-sha256$25000$" + salt512 + "$" + sum512, scheme: "pbkdf2-sha256"},
		{name: "pbkdf2 sha1 garbage", hash: "$pbkdf2$garbage", scheme: "pbkdf2"},
		{name: "sha512-crypt truncated", hash: "$6$rounds=1000$LtF0oZdsZeIyfDbY$" + sum6[:80], scheme: "6"},
		{name: "sha512-crypt no checksum", hash: "$6$LtF0oZdsZeIyfDbY", scheme: "6"},
		{name: "sha512-crypt ident only", hash: "$6$", scheme: "6"},
		{name: "sha512-crypt rounds only", hash: "$6$rounds=1000", scheme: "6"},
		{name: "sha512-crypt huge rounds", hash: "$6$rounds=999999999$LtF0oZdsZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt rounds over bound", hash: "$6$rounds=10000001$LtF0oZdsZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt rounds under minimum", hash: "$6$rounds=999$LtF0oZdsZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt rounds empty", hash: "$6$rounds=$LtF0oZdsZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt rounds not a number", hash: "$6$rounds=1e4$LtF0oZdsZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt salt too long", hash: "$6$rounds=1000$LtF0oZdsZeIyfDbYX$" + sum6, scheme: "6"},
		{name: "sha512-crypt salt bad char", hash: "$6$rounds=1000$LtF0oZd:ZeIyfDbY$" + sum6, scheme: "6"},
		{name: "sha512-crypt checksum bad char", hash: "$6$rounds=1000$LtF0oZdsZeIyfDbY$" + sum6[:85] + "=", scheme: "6"},
		{name: "sha512-crypt extra field", hash: "$6$rounds=1000$LtF0oZdsZeIyfDbY$" + sum6 + "$", scheme: "6"},
		{name: "sha256-crypt with sha512 checksum", hash: "$5$rounds=1000$LtF0oZdsZeIyfDbY$" + sum6, scheme: "5"},
		{name: "sha256-crypt truncated", hash: "$5$rounds=1000$1J3latUGTj4hVD9Y$" + sum5[:40], scheme: "5"},
		{name: "argon2i", hash: "$argon2i$v=19$m=8192,t=1,p=1$9b43xpgzRgjhXIsxRmhtjQ$qPJRtsEXCRbDGPnV7sD6ZQ", scheme: "argon2i"},
		{name: "md5-crypt", hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", scheme: "1"},
		{name: "bcrypt-sha256", hash: "$bcrypt-sha256$v=2,t=2b,r=12$n79VH.0Q2TMWmt3Oqt9uku$Kq4Noyk3094Y2QlB8NdRT8SvGiI4ft2", scheme: "bcrypt-sha256"},
		{name: "django pbkdf2", hash: "pbkdf2_sha256$260000$salt$hash", scheme: "unknown (no $ prefix)"},
		{name: "plaintext", hash: "test123", scheme: "unknown (no $ prefix)"},
		{name: "des_crypt", hash: "abJnggxhB/yWI", scheme: "unknown (no $ prefix)"},
		{name: "empty", hash: "", scheme: "empty"},
		{name: "dollars", hash: "$$$$", scheme: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, h := range []Hasher{{}, {Scheme: Identify(tt.hash)}} {
				needs, err := h.Verify(tt.hash, "test123")
				if !errors.Is(err, ErrUnsupported) || needs {
					t.Fatalf("Verify = %v, %v, want false, ErrUnsupported", needs, err)
				}
				if want := fmt.Sprintf("%q", tt.scheme); !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name scheme %s", err, want)
				}
				checkNoHashMaterial(t, err, tt.hash)
				if !h.NeedsRehash(tt.hash) {
					t.Error("NeedsRehash = false for a hash that cannot be checked")
				}
			}
		})
	}
}

// costlyHash reports whether checking hash would take more than a few
// milliseconds (much more under the race detector).
func costlyHash(hash string) bool {
	switch s := Identify(hash); s {
	case Bcrypt:
		cost, err := bcryptCost(hash)
		return err == nil && cost > 5
	case Argon2id:
		p, _, _, err := parseArgon2id(hash)
		return err == nil && (p.Time > 2 || p.MemoryKiB > 16<<10)
	case SHA512Crypt, SHA256Crypt:
		c, _ := shaCryptSchemeOf(s)
		rounds, _, _, err := c.parse(hash)
		return err == nil && rounds > 5000
	case "":
		return false
	default:
		p, _ := pbkdf2SchemeOf(s)
		rounds, _, _, err := p.parse(hash)
		return err == nil && rounds > 2000
	}
}
