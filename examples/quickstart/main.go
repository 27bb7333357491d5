package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/authkit/auth"
)

func main() {
	h, err := newServer([]byte(os.Getenv("AUTH_SECRET")))
	if err != nil {
		log.Fatal(err) // e.g. the secret is shorter than 16 bytes
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", h)) // #nosec G114 -- a demo; real servers set timeouts
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
		w.Write([]byte("hello " + u.Email + "\n")) // #nosec G104 -- the client went away; nothing to do
	})
	mux := http.NewServeMux()
	mux.Handle("POST /login", m.LoginHandler())
	mux.Handle("POST /logout", m.LogoutHandler())
	mux.Handle("GET /me", m.RequireToken(hello))
	mux.Handle("GET /admin", m.Require(auth.Token, auth.Basic)(m.RequireRoles("admin")(hello)))
	return mux, store.CreateUser(context.Background(), u)
}
