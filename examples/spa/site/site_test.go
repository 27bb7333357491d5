package site

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const api = "http://127.0.0.1:8080"

func TestHandler(t *testing.T) {
	h, err := Handler(api)
	if err != nil {
		t.Fatal(err)
	}
	csp := "default-src 'self'; connect-src " + api + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	tests := []struct {
		method, path string
		status       int
		typ          string // Content-Type, if 200
		body         string // part of the body, if 200
	}{
		{method: http.MethodGet, path: "/", status: http.StatusOK, typ: "text/html; charset=utf-8", body: `<meta name="api-origin" content="` + api + `">`},
		{method: http.MethodGet, path: "/app.js", status: http.StatusOK, typ: "text/javascript; charset=utf-8", body: `meta[name="api-origin"]`},
		{method: http.MethodGet, path: "/style.css", status: http.StatusOK, typ: "text/css; charset=utf-8", body: "[hidden]"},
		{method: http.MethodHead, path: "/", status: http.StatusOK, typ: "text/html; charset=utf-8"},
		{method: http.MethodGet, path: "/index.html", status: http.StatusNotFound},
		{method: http.MethodGet, path: "/static/app.js", status: http.StatusNotFound},
		{method: http.MethodGet, path: "/login", status: http.StatusNotFound},
		{method: http.MethodPost, path: "/", status: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != csp {
				t.Errorf("CSP %q, want %q", got, csp)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := w.Header().Get("Content-Type"); got != tt.typ {
				t.Errorf("Content-Type %q, want %q", got, tt.typ)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
		})
	}
}

// TestPageNeedsNoInlineCode: the CSP allows no inline script or style, so
// the page has none (an inline one would be refused by the browser).
func TestPageNeedsNoInlineCode(t *testing.T) {
	h, err := Handler(api)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	page := w.Body.String()
	for _, m := range regexp.MustCompile(`(?is)<script[^>]*>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0], `src="/app.js"`) || strings.TrimSpace(m[1]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	for _, bad := range []string{"<style", " style=", " onclick=", " onsubmit=", " onload=", "javascript:"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page has %q, which its CSP refuses", bad)
		}
	}
}

func TestHandlerRefusesNonOrigins(t *testing.T) {
	for _, s := range []string{"", "*", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/api", "127.0.0.1:8080", `http://x"onload="y`} {
		if _, err := Handler(s); err == nil {
			t.Errorf("Handler(%q) = nil error, want the origin refused", s)
		}
	}
}
