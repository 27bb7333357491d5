package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
)

// Open a store on an SQLite file with modernc.org/sqlite, which the
// program imports as _ "modernc.org/sqlite".
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "auth.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	u := &auth.User{Email: "Alice@Example.com", Active: true, Roles: []string{"admin"}, Uniquifier: auth.NewUniquifier()}
	if err := store.CreateUser(ctx, u); err != nil {
		log.Fatal(err)
	}
	found, err := store.UserByEmail(ctx, "alice@example.COM")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.ID, found.Email, found.Roles)
	// Output: 1 Alice@Example.com [admin]
}
