package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// TestTwoInstancesOnePostgres runs two Managers, each with a connection
// pool of its own, on one PostgreSQL database, as two instances of a
// service behind a load balancer: a token issued by one is accepted by the
// other, and a logout on one is refused by the other within a second.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := freshPostgres(t)
	key := []byte("shared signing key of both instances")
	newInstance := func() (*auth.Manager, *sqlstore.Store) {
		s := openStore(t, "pgx", dsn, sqlstore.Postgres)
		m, err := auth.New(s, key, auth.Config{Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
		if err != nil {
			t.Fatal(err)
		}
		return m, s
	}
	a, storeA := newInstance()
	b, _ := newInstance()

	ctx := context.Background()
	u, err := a.NewUser("multi@example.com", "multi-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := storeA.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	// Log in on A over HTTP, use the token on B.
	srvA := httptest.NewServer(a.LoginHandler())
	defer srvA.Close()
	resp, err := http.Post(srvA.URL, "application/json", strings.NewReader(`{"email":"multi@example.com","password":"multi-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := loginToken(t, resp)
	protectedB := httptest.NewServer(b.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer protectedB.Close()
	if code := getWithToken(t, protectedB.URL, tok); code != http.StatusOK {
		t.Fatalf("instance B answered %d to A's token, want 200", code)
	}

	// Log out on A; B refuses the token on its next request.
	logoutA := httptest.NewServer(a.LogoutHandler())
	defer logoutA.Close()
	req, _ := http.NewRequest(http.MethodPost, logoutA.URL, nil)
	req.Header.Set("Authentication-Token", tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on A: %v %v", resp, err)
	}
	resp.Body.Close()
	// B may answer from its cache for up to a second.
	refusedWithin(t, time.Second, func() bool { return getWithToken(t, protectedB.URL, tok) == http.StatusUnauthorized })
	if _, err := b.VerifyToken(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("B.VerifyToken = %v, want ErrInvalidToken", err)
	}
}

func loginToken(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var body struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := decodeJSON(resp.Body, &body); err != nil || body.Response.User.Token == "" {
		t.Fatalf("login answered %d: %v", resp.StatusCode, err)
	}
	return body.Response.User.Token
}

func getWithToken(t *testing.T, url, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authentication-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
