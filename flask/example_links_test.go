package flask_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
)

// Read the links a Flask-Security application mailed, and make links it
// reads. The token is one the application mails in a confirmation link:
// generate_confirmation_token's [fs_uniquifier, hash_data(email)], signed
// with its SECRET_KEY and SECURITY_CONFIRM_SALT at noon UTC on 1 May 2024.
func ExampleLinks() {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	if err := store.CreateUser(ctx, &auth.User{ID: "1", Email: "alice@example.com", Active: true, Uniquifier: "f1a5c0de"}); err != nil {
		log.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC) // an hour after the link was mailed
	links, err := flask.NewLinks(flask.Config{
		SecretKey: []byte("the Flask app's SECRET_KEY"),
		Now:       func() time.Time { return now }, // a fixed clock, for the example's sake
	}, store)
	if err != nil {
		log.Fatal(err)
	}
	const mailed = "WyJmMWE1YzBkZSIsIiQ1JHJvdW5kcz01MzUwMDAkZ0JOM3lLOTFiVG4wajg5LiR1RGUuU0x6VFc5cmFqMUtXenQ5WXRSaXlMbHBRdllvMTVTT1YwNnFmeE0vIl0.ZjIuwA.XZQuakGrynKVYJDFRGtxElUGQzU"
	const within = 5 * 24 * time.Hour // SECURITY_CONFIRM_EMAIL_WITHIN

	u, _, err := links.ReadLinkToken(ctx, "confirm", mailed, within)
	fmt.Println(u.Email, err)

	_, _, err = links.ReadLinkToken(ctx, "reset", mailed, within)
	fmt.Println("as a reset link:", errors.Is(err, auth.ErrInvalidToken))

	now = now.AddDate(0, 0, 7)
	u, _, err = links.ReadLinkToken(ctx, "confirm", mailed, within)
	fmt.Println("a week later:", errors.Is(err, auth.ErrExpiredToken), u.Email)

	// The Go side's links, which the application reads with
	// confirm_email_token_status. The account handler makes them when
	// Links is its codec.
	fresh, err := links.MakeLinkToken(context.Background(), "confirm", u, "")
	if err != nil {
		log.Fatal(err)
	}
	u, _, err = links.ReadLinkToken(ctx, "confirm", fresh, within)
	fmt.Println(u.Email, err)
	_ = auth.AccountConfig{Links: links} // with a Mailer and BaseURL
	// Output:
	// alice@example.com <nil>
	// as a reset link: true
	// a week later: true alice@example.com
	// alice@example.com <nil>
}
