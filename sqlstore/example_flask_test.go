package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/sqlstore"
)

// Open the database of a Flask-Security application as it is, and accept
// its users' passwords and auth tokens. Here the tables are made by hand,
// with the columns the store needs; a real application's have more.
func ExampleOpenFlaskSecurity() {
	dir, err := os.MkdirTemp("", "flask-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE TABLE user (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, password VARCHAR(255),
			active BOOLEAN NOT NULL, fs_uniquifier VARCHAR(64) NOT NULL UNIQUE, confirmed_at DATETIME)`,
		`CREATE TABLE role (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE)`,
		`CREATE TABLE roles_users (user_id INTEGER REFERENCES user (id), role_id INTEGER REFERENCES role (id))`,
		`INSERT INTO user (email, active, fs_uniquifier, confirmed_at) VALUES ('Alice@Example.com', 1, 'f1a5c0de', '2024-05-01 12:00:00.000000')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			log.Fatal(err)
		}
	}

	store, err := sqlstore.OpenFlaskSecurity(ctx, db, sqlstore.SQLite, sqlstore.FlaskSchema{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	fc := flask.Config{
		SecretKey:    []byte("the Flask app's SECRET_KEY"),
		PasswordSalt: "the Flask app's SECURITY_PASSWORD_SALT",
		PasswordHash: "pbkdf2_sha512", // its SECURITY_PASSWORD_HASH
	}
	tokens, err := flask.NewTokens(fc, store) // store is an auth.UniquifierLookup
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
	if err := m.SetPassword(ctx, "1", "a new password"); err != nil {
		log.Fatal(err)
	}
	u, err := m.Authenticate(ctx, "alice@example.com", "a new password")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.ID, u.Email, u.Confirmed, u.Uniquifier != "f1a5c0de", u.PasswordHash[:15])
	// Output: 1 Alice@Example.com true true $pbkdf2-sha512$
}
