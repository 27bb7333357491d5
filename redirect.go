package auth

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/authkit/auth/internal/accept"
)

// Redirects of browsers: to the login page, and back to where they were
// going ("next") after logging in, never to another site.

// maxNextBytes bounds the "next" URL a redirect follows.
const maxNextBytes = 2048

// safeNext returns next, re-encoded, if it is a same-origin relative
// reference: a path starting with exactly one "/", no scheme, host or
// user, no backslash or control character, and still no leading "//" or
// control character once its path is percent-decoded (some servers and
// proxies decode before redirecting). Otherwise ok is false.
func safeNext(next string) (_ string, ok bool) {
	if len(next) == 0 || len(next) > maxNextBytes || !localPath(next) || !utf8.ValidString(next) {
		return "", false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if decoded, err := url.PathUnescape(u.EscapedPath()); err != nil || !localPath(decoded) {
		return "", false
	}
	// Re-encoding may lengthen it (| becomes %7C): the result must pass
	// the same limits, so that it is itself a safe next.
	out := u.String()
	if !localPath(out) || len(out) > maxNextBytes {
		return "", false
	}
	return out, true
}

// localPath reports whether s starts with a single "/" (not "//" or "/\",
// which browsers read as another host) and has no backslash or control
// character (browsers drop tabs and newlines, turning "/\t/x" into "//x").
func localPath(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return len(s) == 1 || s[1] != '/'
}

// prefersHTML reports whether the client is a browser navigating: its
// Accept header rates text/html above application/json. Without Accept,
// or with "*/*" alone, it is an API client.
func prefersHTML(r *http.Request) bool { return accept.PrefersHTML(r) }

// seeOther redirects with 303, so the browser follows with a GET.
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusSeeOther)
}

// loginPageURL is the login page with next (if safe) and, after a failed
// login, error=1 in its query.
func (s *sessions) loginPageURL(next string, failed bool) string {
	q := url.Values{}
	if failed {
		q.Set("error", "1")
	}
	if n, ok := safeNext(next); ok {
		q.Set("next", n)
	}
	page := s.loginPage
	if len(q) == 0 {
		return page
	}
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	return page + sep + q.Encode()
}

// afterLogin is where a browser goes after logging in: the form's next
// field, or else the login URL's next parameter, if safe; otherwise
// Config.Session.LoginRedirect.
func (s *sessions) afterLogin(r *http.Request, formNext string) string {
	next := formNext
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	if n, ok := safeNext(next); ok {
		return n
	}
	return s.loginRedirect
}
