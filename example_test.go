package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// Example shows the whole flow: a store with one user, a login endpoint, a
// protected route, and a client that logs in and uses its token.
func Example() {
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("a secret of at least 16 bytes"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		panic(err)
	}
	u, _ := m.NewUser("alice@example.com", "correct horse")
	store.CreateUser(context.Background(), u)

	mux := http.NewServeMux()
	mux.Handle("POST /login", m.LoginHandler())
	mux.Handle("GET /hello", m.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", u.Email)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, _ := http.Post(srv.URL+"/login", "application/json",
		strings.NewReader(`{"email":"alice@example.com","password":"correct horse"}`))
	fmt.Println("login:", resp.Status)
	token := tokenFrom(resp)

	req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
	req.Header.Set("Authentication-Token", token)
	resp, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output:
	// login: 200 OK
	// 200 OK hello alice@example.com
}

// ExampleManager_RequireToken shows the answers of a token-protected route.
func ExampleManager_RequireToken() {
	store := auth.NewMemoryStore()
	m, _ := auth.New(store, []byte("a secret of at least 16 bytes"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	u, _ := m.NewUser("bob@example.com", "hunter2hunter2")
	store.CreateUser(context.Background(), u)
	token, _ := m.IssueToken(u)

	h := m.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret data")
	}))
	for _, tok := range []string{token, "", token + "x"} {
		r := httptest.NewRequest("GET", "/data", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 401 Bearer realm="auth"
	// 401 Bearer realm="auth", error="invalid_token"
}

// ExampleManager_Require accepts a token or HTTP Basic credentials and
// requires a role.
func ExampleManager_Require() {
	store := auth.NewMemoryStore()
	m, _ := auth.New(store, []byte("a secret of at least 16 bytes"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	u, _ := m.NewUser("carol@example.com", "s3cret-pass", "admin")
	store.CreateUser(context.Background(), u)

	admin := m.Require(auth.Token, auth.Basic)(m.RequireRoles("admin")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "admin area") })))

	r := httptest.NewRequest("GET", "/admin", nil)
	r.SetBasicAuth("carol@example.com", "s3cret-pass")
	w := httptest.NewRecorder()
	admin.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 admin area
}

// tokenFrom reads the token from a login response.
func tokenFrom(resp *http.Response) string {
	defer resp.Body.Close()
	var body struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := jsonDecode(resp.Body, &body); err != nil {
		panic(err)
	}
	return body.Response.User.Token
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
