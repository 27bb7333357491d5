// Command echo is the echo recipe of github.com/authkit/auth: the
// Manager's handlers and middlewares on a github.com/labstack/echo/v4
// server, over an in-memory store seeded with one user. README.md explains
// it.
//
//	AUTH_PASSWORD='a long passphrase' go run . [-addr 127.0.0.1:8080] [-email admin@example.com] [-trusted-proxies 127.0.0.1/32]
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/labstack/echo/v4"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the `address` to listen on")
	email := flag.String("email", "admin@example.com", "the seeded user's `email` (role admin); the password is $AUTH_PASSWORD")
	proxies := flag.String("trusted-proxies", "", "comma-separated `prefixes` of the reverse proxies whose X-Forwarded-For is believed, such as 127.0.0.1/32,::1/128 (default none: the client is the TCP peer)")
	flag.Parse()
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		log.Fatal(err)
	}
	password := os.Getenv("AUTH_PASSWORD")
	if password == "" {
		log.Fatalf("set AUTH_PASSWORD to the password of %s (8 characters or more)", *email)
	}

	store := auth.NewMemoryStore()
	m, err := newManager(store, auth.Config{TrustedProxies: trusted})
	if err != nil {
		log.Fatal(err)
	}
	if err := addUser(m, store, *email, password, "admin"); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: router(m, trusted), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// newManager returns a Manager over store that signs with a new random key,
// so its tokens end with the process, as the in-memory users do; a real
// service loads its key from a secret store. The zero Config is the safe
// default: argon2id password hashes, 24-hour tokens, throttled failures,
// and no trusted proxies.
func newManager(store *auth.MemoryStore, cfg auth.Config) (*auth.Manager, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return auth.New(store, key, cfg)
}

// addUser stores an active user whose password the Manager hashes (the
// hash of [auth.Manager.HashPassword], after the length policy).
func addUser(m *auth.Manager, store *auth.MemoryStore, email, password string, roles ...string) error {
	u, err := m.NewUser(email, password, roles...)
	if err != nil {
		return err
	}
	return store.CreateUser(context.Background(), u)
}

// router returns the recipe's echo server. trusted must be the Manager's
// Config.TrustedProxies: see ipExtractor.
func router(m *auth.Manager, trusted []netip.Prefix) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.IPExtractor = ipExtractor(trusted)

	e.POST("/login", echo.WrapHandler(m.LoginHandler()))
	e.POST("/logout", echo.WrapHandler(m.LogoutHandler()))
	// The account handler serves paths relative to its mount point
	// (/verify, and /register, /reset, … once Config.Account has a
	// Mailer); echo leaves r.URL.Path whole, so strip the prefix.
	e.Any("/auth/*", echo.WrapHandler(http.StripPrefix("/auth", m.AccountHandler())))

	// The Manager's middlewares are net/http middlewares:
	// echo.WrapMiddleware runs the rest of the chain only if they let the
	// request through, with the request they pass on, whose context
	// holds the user. A token header, or a browser session (which a form
	// login sets, with its CSRF check on unsafe methods).
	api := e.Group("/api", echo.WrapMiddleware(m.Require(auth.Token, auth.Session)))
	api.GET("/me", me)
	admin := api.Group("/admin", echo.WrapMiddleware(m.RequireRoles("admin")))
	admin.GET("", hello)
	// Ending another user's tokens asks for a password entered within 10
	// minutes (a login, or POST /auth/verify).
	admin.POST("/revoke/:id", revoke(m), echo.WrapMiddleware(m.RequireFresh(10*time.Minute)))
	return e
}

// ipExtractor returns echo's IPExtractor for the proxies the Manager
// trusts, so that c.RealIP, which echo's logger and rate limiter use, names
// the client the Manager throttles and audits. The Manager never reads
// what echo found: it reads RemoteAddr and X-Forwarded-For itself,
// believing the header only from Config.TrustedProxies. Give both the same
// list.
//
// Always set e.IPExtractor. Left nil, c.RealIP believes X-Forwarded-For
// and X-Real-IP from any peer; and ExtractIPFromXFFHeader on its own trusts
// every loopback, link-local and private address as a proxy, which the
// Manager does not.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	options := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		options = append(options, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(options...)
}

// me answers the user that Require put in the request's context, and the
// client address echo found.
func me(c echo.Context) error {
	u, ok := auth.FromContext(c.Request().Context())
	if !ok { // only when mounted without Require
		return echo.ErrUnauthorized
	}
	return c.JSON(http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "roles": u.Roles, "client_ip": c.RealIP()})
}

// hello greets an admin.
func hello(c echo.Context) error {
	u, _ := auth.FromContext(c.Request().Context())
	return c.String(http.StatusOK, "hello admin "+u.Email+"\n")
}

// revoke ends every token and session of the user :id.
func revoke(m *auth.Manager) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch err := m.RevokeTokens(c.Request().Context(), c.Param("id")); {
		case errors.Is(err, auth.ErrUserNotFound):
			return echo.ErrNotFound
		case err != nil:
			return echo.ErrServiceUnavailable
		}
		return c.JSON(http.StatusOK, map[string]any{"revoked": c.Param("id")})
	}
}

// parsePrefixes parses the -trusted-proxies flag.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies %q: want comma-separated prefixes such as 127.0.0.1/32", s)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}
