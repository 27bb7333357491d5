// Quickstart is the README's quick start: a token-protected API over an
// in-memory store, on http://127.0.0.1:8080.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/authkit/auth"
)

func main() {
	h, err := newServer([]byte(os.Getenv("AUTH_SECRET")))
	if err != nil {
		log.Fatal(err) // e.g. the secret is shorter than 16 bytes
	}
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func newServer(secret []byte) (http.Handler, error) {
	store := auth.NewMemoryStore()
	m, err := auth.New(store, secret, auth.Config{})
	if err != nil {
		return nil, err
	}
	u, err := m.NewUser("alice@example.com", "correct horse", "admin")
	if err != nil {
		return nil, err
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
		fmt.Fprintln(w, "hello", u.Email)
	})
	mux := http.NewServeMux()
	mux.Handle("POST /login", m.LoginHandler())
	mux.Handle("POST /logout", m.LogoutHandler())
	mux.Handle("GET /me", m.RequireToken(hello))
	mux.Handle("GET /admin", m.Require(auth.Token, auth.Basic)(m.RequireRoles("admin")(hello)))
	return mux, store.CreateUser(context.Background(), u)
}
