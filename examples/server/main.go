// Command server is the example application of package auth: the demo API
// of a Flask-Security tutorial, in Go.
//
//	go run ./examples/server            # listens on 127.0.0.1:8080
//
//	go run ./examples/server -db postgres://user:pass@host/db   # PostgreSQL
//
//	go run ./examples/server -mail-dir ./mail   # account mail as .eml files
//
// Users live in the SQLite file auth.db (flag -db) unless -db is a
// postgres:// URL. The demo users are seeded into an empty store only.
//
// Environment: AUTH_SECRET is the signing secret. Without it, with SQLite,
// a random secret is made once and kept beside the database in a file
// with mode 0600 (auth.db.secret), so tokens survive a restart; with
// PostgreSQL, where several instances must share it, it is required.
// AUTH_TOKEN_SALT overrides the library's token salt. AUTH_BCRYPT_COST
// (4 to 31), with -schema native, makes the server write bcrypt hashes of
// that cost instead of the library's default, argon2id.
//
// Flask-Security compatibility: with -schema flask-security, -db names an
// existing Flask-Security database (SQLite file or postgres:// URL), used
// as it is, beside or instead of the Flask app: same routes, no demo
// users. The app's settings come from environment variables named as its
// config keys (SECRET_KEY, SECRET_KEY_FALLBACKS, SECURITY_PASSWORD_SALT,
// SECURITY_PASSWORD_HASH, SECURITY_REMEMBER_SALT, SECURITY_TOKEN_MAX_AGE,
// …; see flask.go and MIGRATING_FROM_FLASK.md). /login then issues tokens
// the Flask app accepts too, unless -tokens native.
//
// Seeded users: test@example.com / test123 (confirmed), admin@example.com /
// admin123 (role admin), unconfirmed@example.com / test123.
//
// Accounts: the library's account handler is mounted under /auth/
// (register, confirm, reset, change, change-email; see docs/account.md),
// with HTML pages for each step (pages_account.go). Its mailed links are
// made from -base-url, the site's public origin (default: http:// and the
// address listened on). Messages go to an SMTP server with -smtp HOST:PORT
// (MAIL_FROM is the sender; SMTP_USERNAME and SMTP_PASSWORD authenticate;
// -smtp-security starttls, tls or insecure), into a directory with
// -mail-dir DIR (one .eml file each), or else to the server's log.
//
// Single-page apps on another origin: -cors-origin http://localhost:5173
// (repeatable) lets that origin's pages call the API with a token, no
// cookies (cors.go, docs/cors.md); examples/spa is such a page. Without
// it the server sends no CORS headers.
//
// Browsers: open http://127.0.0.1:8080/account, which sends you to the
// login form (GET /login) and, once logged in, shows the account with a
// logout button; a failed login keeps the email typed (in a short-lived
// cookie, never in the URL), and a refused logout (CSRF) comes back to the
// account page with the reason. GET /login answers a client that prefers
// application/json with Flask-Security's JSON (its csrf_token) instead of
// the form. With -schema native the account page also lists the user's
// personal access tokens, with a form that makes one (its secret shown
// once) and a button that revokes each (pages_tokens.go); GET /api/v1/posts/
// and GET /admin/ take them as Bearer tokens with the scope each asks
// (demoScopes). With -schema native the account page also turns on
// two-factor authentication (codes of an authenticator app, its key shown
// as a QR code, and recovery codes; pages_twofactor.go), after which the
// login form asks for a code after the password. With -schema native and
// a site of a domain name (WebAuthn takes no IP address: run with
// -base-url http://localhost:8080 and open that) the account page also
// adds passkeys, which sign in alone from the login page's "Sign in with a
// passkey" button or serve as a second factor after the password
// (pages_passkeys.go, static/passkey.js); the log says whether they are on.
// The session cookie is Secure, which browsers accept on http://127.0.0.1
// and http://localhost; on any other plain-HTTP host set
// Config.Session.Insecure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/internal/mailflags"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/sqlstore/pglisten"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run parses args, builds the application and serves it until ctx ends.
// If ready is not nil it receives the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dsn := fs.String("db", "auth.db", "SQLite file, or postgres:// URL, of the user store")
	schema := fs.String("schema", "native", "the user tables: native (this package's, created if missing) or flask-security (an existing Flask-Security database, used as it is)")
	tokens := fs.String("tokens", "", "with -schema flask-security, the tokens /login issues: flask (the default; the Flask app accepts them too) or native")
	baseURL := fs.String("base-url", "", "the site's public origin, from which mailed links are made (default: http:// and the address listened on)")
	var origins corsOrigins
	fs.Var(&origins, "cors-origin", "an `origin`, such as http://localhost:5173, whose pages may call the API with a token (CORS); repeatable. Default: none, and no CORS headers")
	var mf mailflags.Flags
	mf.Define(fs, "each account message")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h: the usage is printed, and asking for it is no error
		}
		return err
	}
	if *schema != "native" && *schema != "flask-security" {
		return fmt.Errorf("unknown -schema %q: want native or flask-security", *schema)
	}
	if *schema == "native" && *tokens != "" {
		return errors.New("-tokens applies to -schema flask-security only")
	}
	site := ""
	if *baseURL != "" {
		var err error
		if site, err = checkBaseURL(*baseURL); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	mailer, mailing, err := newMailer(mf, getenv, logger)
	if err != nil {
		return err
	}

	// Listen first: the default base URL is the address listened on,
	// which -addr 127.0.0.1:0 leaves to the system.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if site == "" {
		site = defaultBaseURL(ln.Addr())
	}
	account := accountConfig(mailer, site)
	var (
		m          *auth.Manager
		closeStore func()
	)
	if *schema == "native" {
		m, closeStore, err = nativeManager(ctx, *dsn, site, account, getenv, logger)
	} else {
		m, closeStore, err = flaskManager(ctx, *dsn, *tokens, account, getenv, logger)
	}
	if err != nil {
		_ = ln.Close() // the error that stops run is err
		return err
	}
	defer closeStore()

	srv := &http.Server{
		Handler:           withCORS(routes(m), origins),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	logger.Info("listening", "addr", "http://"+ln.Addr().String(), "links", account.BaseURL, "mail", mailing)
	if len(origins) > 0 {
		logger.Info("CORS: pages of these origins may call the API with a token, without cookies", "origins", origins.String())
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serverConfig is the Manager configuration both -schema modes share. The
// verified-user cache is on, as by default: token checks skip the database
// while the entry is fresh, and a change made by another process (authctl,
// another instance) is seen within a second through the store's change
// log, at once on PostgreSQL through its notifications.
// AUTH_USER_CACHE_TTL (a Go duration such as 1m, or "off") sets how long an
// entry lives at most, or turns the cache off. AUTH_TRUSTED_PROXIES
// (comma-separated prefixes such as 127.0.0.1/32) names the proxies whose
// X-Forwarded-For is believed; AUTH_HASH_CONCURRENCY sets
// PasswordConfig.Concurrency (negative: no hashing pool).
//
// It declares the demo's scopes (demoScopes), which turn personal access
// tokens on over the native store; a Flask-Security database keeps none,
// and there the scopes hold for the other credentials by their users'
// roles.
func serverConfig(getenv func(string) string, logger *slog.Logger) (auth.Config, error) {
	cfg := auth.Config{
		Logger: logger, Token: auth.TokenConfig{Salt: getenv("AUTH_TOKEN_SALT"), MaxAge: time.Hour, Scopes: demoScopes()},
		Session: auth.SessionConfig{LoginRedirect: "/account"},
	}
	switch v := getenv("AUTH_USER_CACHE_TTL"); v {
	case "":
	case "off":
		cfg.UserCache.Size = -1
	default:
		ttl, err := time.ParseDuration(v)
		if err != nil || ttl <= 0 {
			return cfg, fmt.Errorf("AUTH_USER_CACHE_TTL=%q: want a positive duration such as 1m, or off", v)
		}
		cfg.UserCache.TTL = ttl
	}
	if v := getenv("AUTH_TRUSTED_PROXIES"); v != "" {
		for _, f := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(f))
			if err != nil {
				return cfg, fmt.Errorf("AUTH_TRUSTED_PROXIES=%q: want comma-separated prefixes such as 127.0.0.1/32", v)
			}
			cfg.TrustedProxies = append(cfg.TrustedProxies, p)
		}
	}
	if v := getenv("AUTH_HASH_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			return cfg, fmt.Errorf("AUTH_HASH_CONCURRENCY=%q: want a whole number, negative for no bound", v)
		}
		cfg.Password.Concurrency = n
	}
	return cfg, nil
}

// demoScopes are the scopes of the demo's personal access tokens
// (TokenConfig.Scopes), each with the roles that allow it: posts:read,
// which GET /api/v1/posts/ asks of a token, for every user, and admin:read,
// which GET /admin/ asks, for role admin. A login token, a session or Basic
// credentials have every scope their user's roles allow.
func demoScopes() map[string][]string {
	return map[string][]string{
		"posts:read": nil,
		"admin:read": {"admin"},
	}
}

// nativeManager opens the store of this package's own tables, creating it
// if needed, and seeds the demo users into it if it is empty, with the
// account handler configured by account and passkeys for the site at
// site, its origin, if it has a domain name (nativePasskeys). The
// returned function closes the store.
func nativeManager(ctx context.Context, dsn, site string, account auth.AccountConfig, getenv func(string) string, logger *slog.Logger) (*auth.Manager, func(), error) {
	secret, err := signingSecret(getenv("AUTH_SECRET"), dsn, logger)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := serverConfig(getenv, logger)
	if err != nil {
		return nil, nil, err
	}
	cfg.Account = account
	cfg.Refresh = nativeRefresh()
	cfg.TwoFactor = nativeTwoFactor()
	if cfg.Passkeys, err = nativePasskeys(site, logger); err != nil {
		return nil, nil, err
	}
	if v := getenv("AUTH_BCRYPT_COST"); v != "" {
		if cfg.Password.BcryptCost, err = strconv.Atoi(v); err != nil {
			return nil, nil, fmt.Errorf("AUTH_BCRYPT_COST=%q: want a whole number from 4 to 31", v)
		}
		cfg.Password.Scheme = passhash.Bcrypt
	}
	m, _, closeStore, err := openNative(ctx, dsn, secret, cfg)
	if err != nil {
		return nil, nil, err
	}
	if cfg.UserCache.Size >= 0 && dbopen.IsPostgres(dsn) {
		go pglisten.Run(ctx, dsn, m, pglisten.Config{Logger: logger}) //nolint:errcheck // it ends with ctx
	}
	return m, closeStore, nil
}

// nativeRefresh is the refresh token configuration of -schema native, whose
// store keeps device sessions: on, with the library's defaults (sessions
// end after 7 days unused or 90 in all; a 10 s grace for a retried
// refresh), the token in the JSON answers rather than a cookie. The access
// tokens keep serverConfig's MaxAge of an hour. A Flask-Security database
// has no table for sessions, so -schema flask-security goes without.
func nativeRefresh() auth.RefreshConfig {
	return auth.RefreshConfig{Enabled: true}
}

// openNative opens (creating if need be) the store of this package's own
// tables, makes the Manager over it and seeds the demo users. Several
// instances may run it at once on the same fresh database.
func openNative(ctx context.Context, dsn string, secret []byte, cfg auth.Config) (*auth.Manager, *sqlstore.Store, func(), error) {
	store, closeStore, err := dbopen.OpenNative(ctx, dsn, true)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening the user store: %w", err)
	}
	m, err := auth.New(store.Store, secret, cfg)
	if err == nil {
		// Seeding is short; finish it even if a signal comes meanwhile, so
		// the store never keeps half the demo users.
		err = seed(context.WithoutCancel(ctx), m, store)
	}
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return m, store.Store, closeStore, nil
}

// signingSecret returns the token signing secret: fromEnv if set; else,
// for an SQLite database, the secret kept in the file beside it, made on
// first use with mode 0600 (see dbopen.SecretFile). Either way the secret
// is the text as it is, so AUTH_SECRET="$(cat auth.db.secret)" is the same
// key.
func signingSecret(fromEnv, dsn string, logger *slog.Logger) ([]byte, error) {
	if fromEnv != "" {
		return []byte(fromEnv), nil
	}
	if dbopen.IsPostgres(dsn) {
		return nil, errors.New("set AUTH_SECRET: with PostgreSQL every instance must sign with the same secret")
	}
	secret, path, created, err := dbopen.SecretFile(dsn, true)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("AUTH_SECRET is not set: made a signing secret and kept it beside the database", "file", path)
	} else {
		logger.Info("using the signing secret kept beside the database", "file", path)
	}
	return secret, nil
}

// demoUser is a seeded account.
type demoUser struct {
	email, password string
	confirmed       bool
	roles           []string
}

var demoUsers = []demoUser{
	{email: "test@example.com", password: "test123", confirmed: true},
	{email: "admin@example.com", password: "admin123", confirmed: true, roles: []string{"admin"}},
	{email: "unconfirmed@example.com", password: "test123"},
}

// seedStore is a store seed can fill.
type seedStore interface {
	auth.UserStore
	auth.UserAdmin
}

// userChecker is a store that can tell cheaply whether it holds any user,
// as dbopen.NativeStore does.
type userChecker interface {
	HasUsers(ctx context.Context) (bool, error)
}

// seed stores the demo users into an empty store; a store holding any user
// is left alone. It reads no more than one user to tell, if the store is a
// userChecker (else, as with auth.MemoryStore in tests, it lists the
// users), and then looks each demo user up by email. It is safe to run from
// several instances at once on the same fresh database: a demo user that
// another instance has already stored, found by email or refused by
// CreateUser (auth.ErrDuplicateEmail), counts as seeded once it is found in
// the store.
func seed(ctx context.Context, m *auth.Manager, store seedStore) error {
	var (
		has bool
		err error
	)
	if c, ok := store.(userChecker); ok {
		has, err = c.HasUsers(ctx)
	} else {
		var existing []*auth.User
		existing, err = store.ListUsers(ctx)
		has = len(existing) > 0
	}
	if err != nil || has {
		return err
	}
	for _, d := range demoUsers {
		_, err := store.UserByEmail(ctx, d.email)
		if err == nil {
			continue // another instance stored it meanwhile
		}
		if !errors.Is(err, auth.ErrUserNotFound) {
			return fmt.Errorf("seeding %s: %w", d.email, err)
		}
		// The demo passwords are shorter than the library's minimum for new
		// passwords (NewUser would refuse them), so they are hashed directly.
		hash, err := m.HashPassword(d.password)
		if err != nil {
			return err
		}
		u := &auth.User{Email: d.email, PasswordHash: hash, Active: true, Confirmed: d.confirmed,
			Roles: d.roles, Uniquifier: auth.NewUniquifier()}
		err = store.CreateUser(ctx, u)
		if errors.Is(err, auth.ErrDuplicateEmail) {
			_, err = store.UserByEmail(ctx, d.email)
		}
		if err != nil {
			return fmt.Errorf("seeding %s: %w", d.email, err)
		}
	}
	return nil
}
