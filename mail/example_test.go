package mail_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"

	authmail "github.com/authkit/auth/mail"
)

// A Dir keeps each message as an .eml file; here one is read back with
// net/mail.
func ExampleDir() {
	dir, err := os.MkdirTemp("", "outbox")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	mailer := authmail.Dir{Path: dir, From: "accounts@example.com"}
	err = mailer.Send(context.Background(), &authmail.Message{
		To:      "zoe@example.org",
		Subject: "Bienvenue, Zoë",
		Text:    "Confirm your account: https://example.com/confirm/abc",
	})
	if err != nil {
		log.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(files), "file")
	f, err := os.Open(files[0])
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		log.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("From:", msg.Header.Get("From"))
	fmt.Println("Subject:", subject)
	// Output:
	// 1 file
	// From: accounts@example.com
	// Subject: Bienvenue, Zoë
}

// Log stands in for a mail server in development: the link the message
// carries shows in the log. Never use it in production.
func ExampleLog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the time, so that the output is the same on every run.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	mailer := authmail.Log{Logger: logger, From: "accounts@example.com"}
	err := mailer.Send(context.Background(), &authmail.Message{
		To:      "bob@example.org",
		Subject: "Reset your password",
		Text:    "https://example.com/reset/abc",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=INFO msg=mail from=accounts@example.com to=bob@example.org subject="Reset your password" text=https://example.com/reset/abc
}
