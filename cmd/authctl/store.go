package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/sqlstore"
)

// open opens the store the -db DSN names. An SQLite file must exist unless
// create is set. The returned function closes the store and the pool.
func (a *app) open(ctx context.Context, create bool) (*sqlstore.Store, func(), error) {
	if a.dsn == "" {
		return nil, nil, fmt.Errorf("no database: give -db DSN or set AUTH_DB: %w", errUsage)
	}
	s, closeStore, err := dbopen.Open(ctx, a.dsn, create)
	if errors.Is(err, dbopen.ErrNoDatabase) {
		return nil, nil, fmt.Errorf("%w (only users create makes one)", err)
	}
	return s, closeStore, err
}

// manager returns a Manager over s configured from the environment and
// cfg. With signing set it needs the service's key in $AUTH_SECRET;
// otherwise it only hashes passwords and rotates uniquifiers, and a random
// key does.
func (a *app) manager(s auth.UserStore, cfg auth.Config, signing bool) (*auth.Manager, error) {
	var key []byte
	if signing {
		key = []byte(os.Getenv("AUTH_SECRET"))
		if len(key) == 0 {
			return nil, errors.New("AUTH_SECRET is not set: it must hold the service's token signing key")
		}
	} else {
		key = make([]byte, 32)
		rand.Read(key)
	}
	cfg.Token.Salt = os.Getenv("AUTH_TOKEN_SALT")
	cfg.Password.BcryptCost = a.bcryptCost
	// Warnings and errors only: the command reports its own success, and
	// the Manager's audit events (at level INFO) would repeat it.
	cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return auth.New(s, key, cfg)
}

// openUser opens the store, finds the user with the given email and
// returns a non-signing Manager over the store, for the commands that
// change one user. The returned function closes the store.
func (a *app) openUser(ctx context.Context, email string) (*auth.Manager, *auth.User, func(), error) {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := findUser(ctx, s, email)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	m, err := a.manager(s, auth.Config{}, false)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return m, u, done, nil
}

// findUser looks a user up by email, with a message fit for the operator.
func findUser(ctx context.Context, s auth.UserStore, email string) (*auth.User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, auth.ErrUserNotFound) {
		return nil, fmt.Errorf("no user with email %q", email)
	}
	return u, err
}

// readPassword reads a password: the first line of stdin with fromStdin,
// else from the terminal without echo, twice when confirm is set.
func (a *app) readPassword(fromStdin, confirm bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("no password on the first line of stdin")
		}
		return pw, nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("stdin is not a terminal: give the password on stdin with --password-stdin: %w", errUsage)
	}
	pw, err := a.prompt(f, "Password: ")
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	if confirm {
		again, err := a.prompt(f, "Repeat password: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the passwords do not match")
		}
	}
	return pw, nil
}

// prompt reads one line from the terminal f without echo.
func (a *app) prompt(f *os.File, label string) (string, error) {
	fmt.Fprint(a.stderr, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}

// readToken returns arg, or the first line of stdin when arg is "-".
func (a *app) readToken(arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", errors.New("no token on the first line of stdin")
	}
	return tok, nil
}
