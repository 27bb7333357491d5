package main

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/authkit/auth"
)

// The browser pages: a login form and an account page behind the session.
// The library handles POST /login and POST /logout for them.

//go:embed templates/*.html static/*.css
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "templates/*.html"))

// staticFiles serves the style sheet.
var staticFiles = http.FileServerFS(must(fs.Sub(assets, "static")))

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wantsHTML reports whether the client asked for HTML, as a browser
// navigating does. (The library's own test, which weighs Accept's q
// values, decides between redirects and 401s; this page only needs to
// tell browsers from API clients.)
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// pageHeaders sets the headers of every HTML page: no caching of
// per-user pages, and a Content-Security-Policy that allows no script at
// all and forms that post only to this site.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// loginPage serves the login form to browsers. The form posts to
// m.LoginHandler, which redirects back here with ?error=1 after a failed
// attempt. API clients get 405, as POST is their only method here.
func loginPage(w http.ResponseWriter, r *http.Request) {
	if !wantsHTML(r) {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	render(w, "login.html", struct {
		Error bool
		Next  string // checked by the login handler before it is followed
	}{q.Get("error") != "", q.Get("next")})
}

// accountPage shows the logged-in user and a logout button. It runs
// behind m.RequireSession, so the user is in the context.
func accountPage(m *auth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
		render(w, "account.html", struct {
			User      *auth.User
			CSRFToken string
		}{u, m.CSRFToken(r)})
	})
}

// render executes the named page into a buffer and sends it, or a 500 if
// the template fails.
func render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	pageHeaders(w)
	w.Write(buf.Bytes()) // #nosec G104 -- the client went away; nothing to do
}
