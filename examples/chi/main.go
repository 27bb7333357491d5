// Command chi is the chi recipe of github.com/authkit/auth: the Manager's
// handlers and middlewares on a github.com/go-chi/chi/v5 router, over an
// in-memory store seeded with one user. README.md explains it.
//
//	AUTH_PASSWORD='a long passphrase' go run . [-addr 127.0.0.1:8080] [-email admin@example.com] [-trusted-proxies 127.0.0.1/32]
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
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
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
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

// router returns the recipe's chi router. trusted must be the Manager's
// Config.TrustedProxies: see clientIP.
func router(m *auth.Manager, trusted []netip.Prefix) http.Handler {
	r := chi.NewRouter()
	r.Use(clientIP(trusted))

	r.Method(http.MethodPost, "/login", m.LoginHandler())
	r.Method(http.MethodPost, "/logout", m.LogoutHandler())
	// The account handler serves paths relative to its mount point
	// (/verify, and /register, /reset, … once Config.Account has a
	// Mailer); chi's Mount leaves r.URL.Path whole, so strip the prefix.
	r.Mount("/auth", http.StripPrefix("/auth", m.AccountHandler()))

	r.Route("/api", func(r chi.Router) {
		// A token header, or a browser session (which a form login sets,
		// with its CSRF check on unsafe methods).
		r.Use(m.Require(auth.Token, auth.Session))
		r.Get("/me", me)
		r.Route("/admin", func(r chi.Router) {
			r.Use(m.RequireRoles("admin"))
			r.Get("/", hello)
			// Ending another user's tokens asks for a password entered
			// within 10 minutes (a login, or POST /auth/verify).
			r.With(m.RequireFresh(10*time.Minute)).Post("/revoke/{id}", revoke(m))
		})
	})
	return r
}

// clientIP returns chi's client-address middleware for the proxies the
// Manager trusts, so that middleware.GetClientIP, for the application's
// logs and rate limits, names the client the Manager throttles and
// audits. The Manager never reads what chi found: it reads RemoteAddr and
// X-Forwarded-For itself, believing the header only from
// Config.TrustedProxies. Give both the same list.
//
// Do not put middleware.RealIP in front of the Manager. It believes
// True-Client-IP, X-Real-IP and X-Forwarded-For from any peer and writes
// the address into r.RemoteAddr, which the Manager then takes as the TCP
// peer: a client that sends a new X-Forwarded-For with each request gets
// a new address for each, escapes the per-address throttle of failed
// logins and writes what it likes into the audit log
// (TestRealIPDefeatsThrottle). It is safe only where nothing but a proxy
// that overwrites those headers on every request can reach the server;
// chi deprecates it.
func clientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	if len(trusted) == 0 {
		return middleware.ClientIPFromRemoteAddr
	}
	prefixes := make([]string, len(trusted))
	for i, p := range trusted {
		prefixes[i] = p.String()
	}
	return middleware.ClientIPFromXFF(prefixes...)
}

// me answers the user that Require put in the request's context, and the
// client address chi found.
func me(w http.ResponseWriter, r *http.Request) {
	u, ok := auth.FromContext(r.Context())
	if !ok { // only when mounted without Require
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.ID, "email": u.Email, "roles": u.Roles,
		"client_ip": middleware.GetClientIP(r.Context()),
	})
}

// hello greets an admin.
func hello(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	fmt.Fprintln(w, "hello admin", u.Email)
}

// revoke ends every token and session of the user {id}.
func revoke(m *auth.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch err := m.RevokeTokens(r.Context(), chi.URLParam(r, "id")); {
		case errors.Is(err, auth.ErrUserNotFound):
			http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
		case err != nil:
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		default:
			writeJSON(w, http.StatusOK, map[string]any{"revoked": chi.URLParam(r, "id")})
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
