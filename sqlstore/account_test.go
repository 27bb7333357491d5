package sqlstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/smtptest"
	"github.com/authkit/auth/mail/smtpmail"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// accountStore is a store the account handler can work on.
type accountStore interface {
	auth.UserStore
	auth.UserUpdater
	auth.UserAdmin
}

// TestAccountLifecycle runs the account handler over each backend, on this
// package's tables and on Flask-Security's: a user registers, confirms the
// address by the mailed link, resets the password by the mailed link and
// changes the address; a store opened afresh sees each change.
func TestAccountLifecycle(t *testing.T) {
	type variant struct {
		name string
		open func(t *testing.T, b backend) func(t *testing.T) accountStore
	}
	variants := []variant{{"native", func(t *testing.T, b backend) func(t *testing.T) accountStore {
		open := b.fresh(t)
		return func(t *testing.T) accountStore { return open(t) }
	}}}
	for _, v := range flaskVariants {
		variants = append(variants, variant{"flask/" + v.name, func(t *testing.T, b backend) func(t *testing.T) accountStore {
			dsn := newFlaskDB(t, b, v, nil)
			return func(t *testing.T) accountStore { return openFlask(t, b, dsn, sqlstore.FlaskSchema{}) }
		}})
	}
	for _, b := range backends {
		for _, v := range variants {
			t.Run(b.name+"/"+v.name, func(t *testing.T) {
				b.require(t)
				open := v.open(t, b)
				accountLifecycle(t, open(t), open)
			})
		}
	}
}

func accountLifecycle(t *testing.T, store accountStore, reopen func(t *testing.T) accountStore) {
	smtp := smtptest.Start(t, smtptest.Config{})
	mailer, err := smtpmail.New(smtpmail.Config{Addr: smtp.Addr, From: "auth@example.com", Security: smtpmail.Insecure})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	m, err := auth.New(store, []byte("account lifecycle test key, 32 b"), auth.Config{
		Password:    auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Account:     auth.AccountConfig{Mailer: mailer, BaseURL: srv.URL + "/auth"},
		UserCache:   auth.UserCacheConfig{Size: -1},
		Logger:      slog.New(slog.DiscardHandler),
		AuditLogger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/auth/", http.StripPrefix("/auth", m.AccountHandler()))
	mux.Handle("/login", m.LoginHandler())
	call := func(method, url, body, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authentication-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Response struct {
				User struct {
					Token string `json:"authentication_token"`
				} `json:"user"`
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env.Response.User.Token
	}
	stored := func(email string) *auth.User {
		t.Helper()
		u, err := reopen(t).UserByEmail(context.Background(), email)
		if err != nil {
			t.Fatalf("UserByEmail(%q) on a fresh store: %v", email, err)
		}
		return u
	}
	// link waits for n messages and takes the link to route out of the
	// last one that has one: messages are sent in the background, so two
	// sent close together may arrive in either order.
	link := func(n int, route string) string {
		t.Helper()
		prefix := srv.URL + "/auth/" + route + "/"
		msgs := smtp.Wait(t, n)
		for i := len(msgs) - 1; i >= 0; i-- {
			if strings.Contains(msgs[i].Text, prefix) {
				return smtptest.LinkIn(t, msgs[i].Text, prefix)
			}
		}
		t.Fatalf("no message of %d has a link starting with %s", len(msgs), prefix)
		return ""
	}

	if code, _ := call("POST", srv.URL+"/auth/register", `{"email":"Lifecycle@example.com","password":"first password"}`, ""); code != 200 {
		t.Fatalf("register: %d", code)
	}
	if u := stored("lifecycle@example.com"); u.Confirmed || !u.Active {
		t.Fatalf("registered user %+v: want active, unconfirmed", u)
	}
	if code, _ := call("GET", link(1, "confirm"), "", ""); code != 200 {
		t.Fatalf("confirmation link: %d", code)
	}
	if u := stored("lifecycle@example.com"); !u.Confirmed {
		t.Fatal("not confirmed in the store after the link")
	}
	if code, _ := call("POST", srv.URL+"/auth/reset", `{"email":"lifecycle@example.com"}`, ""); code != 200 {
		t.Fatalf("reset request: %d", code)
	}
	before := stored("lifecycle@example.com")
	code, tok := call("POST", link(2, "reset"), `{"password":"second password"}`, "")
	if code != 200 || tok == "" {
		t.Fatalf("reset: %d", code)
	}
	after := stored("lifecycle@example.com")
	if after.PasswordHash == before.PasswordHash || after.Uniquifier == before.Uniquifier {
		t.Error("the reset did not store a new hash and uniquifier")
	}
	if code, _ := call("POST", srv.URL+"/auth/change-email", `{"email":"moved@example.com"}`, tok); code != 200 {
		t.Fatalf("change-email: %d", code)
	}
	// Messages: 3 reset-done notice, 4 the change-email link.
	if code, _ := call("GET", link(4, "change-email"), "", ""); code != 200 {
		t.Fatalf("change-email link: %d", code)
	}
	if u := stored("moved@example.com"); u.ID != after.ID || !u.Confirmed {
		t.Errorf("after the email change: %+v", u)
	}
	if code, _ := call("POST", srv.URL+"/login", `{"email":"moved@example.com","password":"second password"}`, ""); code != 200 {
		t.Errorf("login with the new address and password: %d", code)
	}
}
