package smtpmail_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/authkit/auth/mail"
	"github.com/authkit/auth/mail/smtpmail"
)

// New configures a Mailer for a submission server: STARTTLS (the default)
// on port 587, with credentials. Send opens a connection per message.
func ExampleNew() {
	mailer, err := smtpmail.New(smtpmail.Config{
		Addr:     "smtp.example.com:587",
		Username: "accounts@example.com",
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     "accounts@example.com",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = mailer.Send(ctx, &mail.Message{
		To:      "alice@example.org",
		Subject: "Confirm your account",
		Text:    "Open https://example.com/confirm/... to confirm your account.",
	})
	if err != nil {
		log.Print(err)
	}
}
