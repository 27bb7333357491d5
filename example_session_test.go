package auth_test

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// ExampleManager_Require_session adds browser login to a net/http
// application: the login form, served behind Optional(Session) with a
// login CSRF token, posts to LoginHandler; pages behind Require(Session) read
// the user, and their forms carry a CSRF token.
func ExampleManager_Require_session() {
	store := auth.NewMemoryStore()
	m, err := auth.New(store, []byte("a secret of at least 16 bytes"), auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		panic(err)
	}
	u, _ := m.NewUser("carol@example.com", "correct horse battery")
	store.CreateUser(context.Background(), u)

	login := template.Must(template.New("login").Parse(
		`<p>Log in</p><form method="post" action="/login"><input type="hidden" name="csrf_token" value="{{.}}">` +
			`<input name="email"><input name="password" type="password"><button>Log in</button></form>`))
	account := template.Must(template.New("account").Parse(
		`<p>Hello {{.Email}}</p><form method="post" action="/logout">` +
			`<input type="hidden" name="csrf_token" value="{{.CSRF}}"><button>Log out</button></form>`))

	mux := http.NewServeMux()
	// The login page is mounted behind Optional(Session), so that CSRFToken
	// can give a browser without a session a login CSRF token and its cookie.
	mux.Handle("GET /login", m.Optional(auth.Session)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		login.Execute(w, m.CSRFToken(r))
	})))
	mux.Handle("POST /login", m.LoginHandler())   // the login form posts email, password, remember, next
	mux.Handle("POST /logout", m.LogoutHandler()) // a token, or the session with its CSRF token
	mux.Handle("GET /account", m.Require(auth.Session)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
		account.Execute(w, map[string]string{"Email": u.Email, "CSRF": m.CSRFToken(r)})
	})))
	srv := httptest.NewTLSServer(mux) // the session cookie is Secure
	defer srv.Close()

	// A browser: it keeps cookies, asks for HTML, and here shows each redirect.
	browser := srv.Client()
	browser.Jar, _ = cookiejar.New(nil)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	show := func(method, path string, form url.Values) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL) // as browsers send with every POST
		resp, err := browser.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(strings.TrimSpace(fmt.Sprint(method, " ", path, " → ", resp.StatusCode, " ", resp.Header.Get("Location"))))
		if resp.StatusCode == http.StatusOK {
			page, _, _ := strings.Cut(string(body), "<form")
			fmt.Println("   ", page)
		}
	}

	show("GET", "/account", nil)
	show("GET", "/login", nil)
	show("POST", "/login", url.Values{"email": {"carol@example.com"}, "password": {"correct horse battery"}, "next": {"/account"}})
	show("GET", "/account", nil)
	show("POST", "/logout", nil) // no CSRF token: refused with 403
	show("POST", "/logout", url.Values{"csrf_token": {csrfTokenFor(browser, srv.URL, m)}})
	show("GET", "/account", nil)
	// Output:
	// GET /account → 303 /login?next=%2Faccount
	// GET /login → 200
	//     <p>Log in</p>
	// POST /login → 303 /account
	// GET /account → 200
	//     <p>Hello carol@example.com</p>
	// POST /logout → 403
	// POST /logout → 303 /login
	// GET /account → 303 /login?next=%2Faccount
}

// csrfTokenFor returns a CSRF token for the session the client's cookies
// hold, as a page would embed it.
func csrfTokenFor(c *http.Client, site string, m *auth.Manager) string {
	u, _ := url.Parse(site)
	req := httptest.NewRequest("GET", site, nil)
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	return m.CSRFToken(req)
}
