// Package site serves the single-page app of examples/spa: plain HTML and
// JavaScript, no build step, that logs in to the example server's API on
// another origin and calls it with a token (static/app.js). It is a
// package of its own so that the example server's real-browser test can
// serve the same pages; examples/spa/main.go is the command.
package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/authkit/auth/internal/weborigin"
)

//go:embed static
var static embed.FS

// page is static/index.html, a template of the API's origin.
var page = template.Must(template.ParseFS(static, "static/index.html"))

// Handler returns the handler of the app's pages for the API at api, an
// origin such as http://127.0.0.1:8080 (see weborigin.Parse): GET / is the
// page, which learns api from its <meta name="api-origin">, and /app.js
// and /style.css are its script and style sheet; any other path is 404.
// Every answer carries a Content-Security-Policy that allows this origin's
// script and style sheet, no inline script or style, and connections to
// api alone.
func Handler(api string) (http.Handler, error) {
	if _, err := weborigin.Parse(api); err != nil {
		return nil, fmt.Errorf("the API's origin %q: %w", api, err)
	}
	var index bytes.Buffer
	if err := page.Execute(&index, struct{ API string }{api}); err != nil {
		return nil, err
	}
	csp := "default-src 'self'; connect-src " + api + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", file(index.Bytes(), "text/html; charset=utf-8"))
	for name, typ := range map[string]string{"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"} {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /"+name, file(b, typ))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		mux.ServeHTTP(w, r)
	}), nil
}

// file answers b as a file of type typ.
func file(b []byte, typ string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", typ)
		_, _ = w.Write(b) // a failed write means the client left
	})
}
