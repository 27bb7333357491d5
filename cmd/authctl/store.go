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
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// store is what the commands need of a user store; a *sqlstore.Store and
// a *sqlstore.FlaskStore are both one.
type store interface {
	auth.UserStore
	auth.UserUpdater
	auth.UserAdmin
}

// open opens the store the -db DSN names, with the tables -schema names,
// or else the ones found there: sqlstore's own, or Flask-Security's, used
// as they are. A database of any other schema is refused, and one without
// tables (or a missing SQLite file) is refused unless create is set, when
// sqlstore's tables are made in it. Only "users create" sets create; no
// other command creates anything. The returned function closes the store
// and the pool.
func (a *app) open(ctx context.Context, create bool) (store, func(), error) {
	if a.dsn == "" {
		return nil, nil, fmt.Errorf("no database: give -db DSN or set AUTH_DB: %w", errUsage)
	}
	if a.schema == string(dbopen.FlaskSecurity) {
		return a.openFlask(ctx)
	}
	found, err := dbopen.Detect(ctx, a.dsn)
	switch {
	case err == nil && found == dbopen.FlaskSecurity:
		if a.schema == string(dbopen.Native) {
			return nil, nil, fmt.Errorf("%s holds Flask-Security's tables: authctl does not add its own beside them (use -schema flask-security to work on Flask's)", a.dsn)
		}
		return a.openFlask(ctx)
	case err == nil:
		return dbopen.Open(ctx, a.dsn, false)
	case create && (errors.Is(err, dbopen.ErrNoDatabase) || errors.Is(err, dbopen.ErrEmptyDatabase)):
		return dbopen.Open(ctx, a.dsn, true)
	case errors.Is(err, dbopen.ErrNoDatabase):
		return nil, nil, fmt.Errorf("%w (only users create makes one)", err)
	case errors.Is(err, dbopen.ErrEmptyDatabase):
		return nil, nil, fmt.Errorf("%s: %w, so no users (only users create makes the tables)", a.dsn, err)
	case errors.Is(err, dbopen.ErrForeignSchema):
		return nil, nil, fmt.Errorf("%s: %w; authctl changes nothing there", a.dsn, err)
	}
	return nil, nil, err
}

// openFlask opens the Flask-Security database -db names, as it is.
func (a *app) openFlask(ctx context.Context) (store, func(), error) {
	s, done, err := dbopen.OpenFlask(ctx, a.dsn, sqlstore.FlaskSchema{})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the Flask-Security database: %w", err)
	}
	a.flask = true
	return s, done, nil
}

// manager returns a Manager over s configured from the environment and
// cfg. With signing set it needs the service's key: $AUTH_SECRET or, for
// SQLite, the secret file the example server keeps beside the database;
// otherwise it only hashes passwords and rotates uniquifiers, and a random
// key does. On a Flask-Security database, with hashes set (the command
// writes a password), it hashes as the Flask app does, which needs the
// app's $SECURITY_PASSWORD_SALT (and $SECURITY_PASSWORD_HASH, default
// bcrypt).
func (a *app) manager(s auth.UserStore, cfg auth.Config, signing, hashes bool) (*auth.Manager, error) {
	var key []byte
	if signing {
		var err error
		if key, err = signingKey(a.dsn); err != nil {
			return nil, err
		}
	} else {
		key = make([]byte, 32)
		rand.Read(key)
	}
	cfg.Token.Salt = os.Getenv("AUTH_TOKEN_SALT")
	// One command, one lookup: a cache would only start reading the
	// store's change log as the process ends.
	cfg.UserCache.Size = -1
	if a.flask && hashes {
		fc := flask.Config{
			PasswordSalt: os.Getenv("SECURITY_PASSWORD_SALT"),
			PasswordHash: os.Getenv("SECURITY_PASSWORD_HASH"),
			BcryptCost:   a.bcryptCost,
		}
		if fc.PasswordSalt == "" {
			return nil, errors.New("SECURITY_PASSWORD_SALT is not set: writing a password into a Flask-Security database needs the Flask app's SECURITY_PASSWORD_SALT (and its SECURITY_PASSWORD_HASH if not bcrypt)")
		}
		h, err := flask.NewHasher(fc)
		if err != nil {
			return nil, err
		}
		cfg.Password.Hasher = h
	} else {
		cfg.Password.BcryptCost = a.bcryptCost
		if a.bcryptCost != 0 {
			cfg.Password.Scheme = passhash.Bcrypt
		}
	}
	// Warnings and errors only: the command reports its own success, and
	// the Manager's audit events (at level INFO) would repeat it.
	cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return auth.New(s, key, cfg)
}

// signingKey returns the service's token signing key: $AUTH_SECRET if set,
// else the secret file beside an SQLite database, read as the example
// server reads it (the same text is the same key).
func signingKey(dsn string) ([]byte, error) {
	if key := os.Getenv("AUTH_SECRET"); key != "" {
		return []byte(key), nil
	}
	if dbopen.IsPostgres(dsn) {
		return nil, errors.New("AUTH_SECRET is not set: it must hold the service's token signing key")
	}
	key, _, _, err := dbopen.SecretFile(dsn, false)
	if errors.Is(err, dbopen.ErrNoSecretFile) {
		return nil, fmt.Errorf("AUTH_SECRET is not set and there is %w: AUTH_SECRET must hold the service's token signing key", err)
	}
	if err != nil {
		return nil, fmt.Errorf("AUTH_SECRET is not set: %w", err)
	}
	return key, nil
}

// openUser opens the store, finds the user with the given email and
// returns the store and a non-signing Manager over it, for the commands
// that change one user; hashes tells whether the command writes a
// password. The returned function closes the store.
func (a *app) openUser(ctx context.Context, email string, hashes bool) (*auth.Manager, store, *auth.User, func(), error) {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	u, err := findUser(ctx, s, email)
	if err != nil {
		done()
		return nil, nil, nil, nil, err
	}
	m, err := a.manager(s, auth.Config{}, false, hashes)
	if err != nil {
		done()
		return nil, nil, nil, nil, err
	}
	return m, s, u, done, nil
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
