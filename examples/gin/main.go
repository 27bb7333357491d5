// Command gin is the gin recipe of github.com/authkit/auth: the Manager's
// handlers and middlewares on a github.com/gin-gonic/gin engine, over an
// in-memory store seeded with one user. README.md explains it.
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
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/gin-gonic/gin"
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
	r, err := router(m, trusted)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: r, ReadHeaderTimeout: 10 * time.Second}
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

// router returns the recipe's gin engine. trusted must be the Manager's
// Config.TrustedProxies: see trustProxies.
func router(m *auth.Manager, trusted []netip.Prefix) (*gin.Engine, error) {
	r := gin.New()
	r.Use(gin.Recovery())
	if err := trustProxies(r, trusted); err != nil {
		return nil, err
	}

	r.POST("/login", gin.WrapH(m.LoginHandler()))
	r.POST("/logout", gin.WrapH(m.LogoutHandler()))
	// The account handler serves paths relative to its mount point
	// (/verify, and /register, /reset, … once Config.Account has a
	// Mailer); gin leaves r.URL.Path whole, so strip the prefix.
	r.Any("/auth/*path", gin.WrapH(http.StripPrefix("/auth", m.AccountHandler())))

	// A token header, or a browser session (which a form login sets, with
	// its CSRF check on unsafe methods).
	api := r.Group("/api", adapt(m.Require(auth.Token, auth.Session)))
	api.GET("/me", me)
	admin := api.Group("/admin", adapt(m.RequireRoles("admin")))
	admin.GET("", hello)
	// Ending another user's tokens asks for a password entered within 10
	// minutes (a login, or POST /auth/verify).
	admin.POST("/revoke/:id", adapt(m.RequireFresh(10*time.Minute)), revoke(m))
	return r, nil
}

// adapt runs a net/http middleware, such as the Manager's, as gin
// middleware: the rest of gin's chain runs only if mw calls the handler it
// wraps, and then with the request mw passed on, whose context holds the
// user, so that auth.FromContext(c.Request.Context()) finds it. Otherwise
// mw has answered (401, 403, …) and the chain is aborted. The chain goes
// on writing to c.Writer, the ResponseWriter that the Manager's
// middlewares pass on; one that wraps it would need more than this.
func adapt(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// trustProxies makes gin's c.ClientIP name the client the Manager
// throttles and audits. The Manager never reads what gin found: it reads
// RemoteAddr and X-Forwarded-For itself, believing the header only from
// Config.TrustedProxies. Give both the same list.
//
// Always call SetTrustedProxies: a new engine trusts every peer as a
// proxy, and c.ClientIP then believes a forged X-Forwarded-For or
// X-Real-IP from anyone. With no proxies (nil), c.ClientIP is the TCP
// peer. The Manager reads X-Forwarded-For alone, and so does this engine.
func trustProxies(r *gin.Engine, trusted []netip.Prefix) error {
	var proxies []string
	for _, p := range trusted {
		proxies = append(proxies, p.String())
	}
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	return r.SetTrustedProxies(proxies)
}

// me answers the user that Require put in the request's context, and the
// client address gin found.
func me(c *gin.Context) {
	u, ok := auth.FromContext(c.Request.Context())
	if !ok { // only when mounted without Require
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": u.ID, "email": u.Email, "roles": u.Roles, "client_ip": c.ClientIP()})
}

// hello greets an admin.
func hello(c *gin.Context) {
	u, _ := auth.FromContext(c.Request.Context())
	c.String(http.StatusOK, "hello admin %s\n", u.Email)
}

// revoke ends every token and session of the user :id.
func revoke(m *auth.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		switch err := m.RevokeTokens(c.Request.Context(), c.Param("id")); {
		case errors.Is(err, auth.ErrUserNotFound):
			c.AbortWithStatus(http.StatusNotFound)
		case err != nil:
			c.AbortWithStatus(http.StatusServiceUnavailable)
		default:
			c.JSON(http.StatusOK, gin.H{"revoked": c.Param("id")})
		}
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
