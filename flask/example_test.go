package flask_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/itsdangerous"
)

// Accept the auth tokens and password hashes of a Flask-Security
// application. The token here is made as the application makes one, with
// itsdangerous, its SECRET_KEY and SECURITY_REMEMBER_SALT, at a fixed time.
func Example() {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	if err := store.CreateUser(ctx, &auth.User{ID: "1", Email: "alice@example.com", Active: true, Uniquifier: "f1a5c0de"}); err != nil {
		log.Fatal(err)
	}

	issued := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	fc := flask.Config{
		SecretKey:    []byte("the Flask app's SECRET_KEY"),
		PasswordSalt: "the Flask app's SECURITY_PASSWORD_SALT",
		PasswordHash: "pbkdf2_sha512", // its SECURITY_PASSWORD_HASH
		TokenMaxAge:  24 * time.Hour,  // its SECURITY_TOKEN_MAX_AGE
		// A fixed clock, for the example's sake: an hour after the token
		// was made. Leave Now out to use time.Now.
		Now: func() time.Time { return issued.Add(time.Hour) },
	}
	tokens, err := flask.NewTokens(fc, store)
	if err != nil {
		log.Fatal(err)
	}
	hasher, err := flask.NewHasher(fc)
	if err != nil {
		log.Fatal(err)
	}
	m, err := auth.New(store, []byte("the Go service's own signing key"), auth.Config{
		Token:    auth.TokenConfig{Verifiers: []auth.TokenVerifier{tokens}},
		Password: auth.PasswordConfig{Hasher: hasher},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The token Flask-Security 4.0 to 5.3 write: ["<fs_uniquifier>"]. In
	// Python, URLSafeTimedSerializer(SECRET_KEY, salt="remember-salt")
	// .dumps(["f1a5c0de"]) at that time gives the same.
	s, err := itsdangerous.New(fc.SecretKey, itsdangerous.Config{
		Salt:   "remember-salt",
		Digest: itsdangerous.SHA1,
		Now:    func() time.Time { return issued },
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := s.EncodeJSON([]byte(`["f1a5c0de"]`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)

	u, err := m.VerifyToken(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.ID, u.Email)

	hash, err := m.HashPassword("a new password")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hash[:21], m.CheckPassword(hash, "a new password"))
	// Output:
	// WyJmMWE1YzBkZSJd.ZjIuwA.0KSu382TpnAB_XEWFB23skRkAXI
	// 1 alice@example.com
	// $pbkdf2-sha512$25000$ <nil>
}
