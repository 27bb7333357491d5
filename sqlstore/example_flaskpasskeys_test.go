package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passkey"
	"github.com/authkit/auth/sqlstore"
)

// Share a Flask-Security application's passkeys: with its WebAuthn
// model's table in the database, WithPasskeys gives the store that a
// Manager with passkeys takes. Here the tables are made by hand, with the
// columns the store needs, and hold a security key the application
// registered.
func ExampleFlaskStore_WithPasskeys() {
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
			active BOOLEAN NOT NULL, fs_uniquifier VARCHAR(64) NOT NULL UNIQUE, fs_webauthn_user_handle VARCHAR(64) UNIQUE)`,
		`CREATE TABLE role (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE)`,
		`CREATE TABLE roles_users (user_id INTEGER REFERENCES user (id), role_id INTEGER REFERENCES role (id))`,
		`CREATE TABLE web_authn (id INTEGER PRIMARY KEY, credential_id BLOB NOT NULL UNIQUE, public_key BLOB NOT NULL,
			sign_count INTEGER, transports TEXT, backup_state BOOLEAN NOT NULL, device_type VARCHAR(64) NOT NULL,
			extensions VARCHAR(255), create_datetime DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
			lastuse_datetime DATETIME NOT NULL, name VARCHAR(64) NOT NULL, usage VARCHAR(64) NOT NULL,
			user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE)`,
		`INSERT INTO user (email, active, fs_uniquifier, fs_webauthn_user_handle)
			VALUES ('alice@example.com', 1, 'f1a5c0de', '0b6c2f8e4d0a4b7f9e1c3a5d7f9b1d3e')`,
		`INSERT INTO web_authn (credential_id, public_key, sign_count, transports, backup_state, device_type, extensions,
				create_datetime, lastuse_datetime, name, usage, user_id)
			VALUES (x'8f2a', x'a5010203', 41, 'usb,nfc', 0, 'single_device', '{"credProps": {"rk": false}}',
				'2024-05-01 12:00:00', '2024-05-02 08:30:00.250000', 'YubiKey', 'secondary', 1)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			log.Fatal(err)
		}
	}

	flaskStore, err := sqlstore.OpenFlaskSecurity(ctx, db, sqlstore.SQLite, sqlstore.FlaskSchema{})
	if err != nil {
		log.Fatal(err)
	}
	defer flaskStore.Close()
	store, err := flaskStore.WithPasskeys() // fails if there is no web_authn table
	if err != nil {
		log.Fatal(err)
	}
	rp, err := passkey.New(passkey.Config{RPID: "example.com", Origins: []string{"https://example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := auth.New(store, []byte("the Go service's own signing key"), auth.Config{Passkeys: rp}); err != nil {
		log.Fatal(err)
	}
	list, err := store.Passkeys(ctx, "1")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range list {
		fmt.Printf("%s %s %x count %d %v last used %s, handle %s\n", p.Name, p.Usage, p.ID, p.SignCount, p.Transports,
			p.LastUsedAt.Format("2006-01-02 15:04:05.00"), p.UserHandle)
	}
	// Output: YubiKey secondary 8f2a count 41 [usb nfc] last used 2024-05-02 08:30:00.25, handle 0b6c2f8e4d0a4b7f9e1c3a5d7f9b1d3e
}
