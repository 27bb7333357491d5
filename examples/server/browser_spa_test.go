package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/examples/spa/site"
)

// TestBrowserSPA drives the single-page app of examples/spa in Chromium
// against the example server on another origin, as TestBrowser does the
// server's own pages: the API (run with -cors-origin) on
// http://127.0.0.1:P1, the app on http://localhost:P2, which -cors-origin
// names, and the same app on http://localhost:P3, which it does not. The
// app logs in with JSON, keeps the token in sessionStorage, calls
// GET /protected with it, refreshes on a 401, logs out, and sends its
// device token with the next login; on the third
// origin the browser refuses it the API's answers. A recording proxy in
// front of the API shows what the browser sent, preflights included,
// and what CORS headers the API answered. Screenshots go where
// TestBrowser's do (with AUTH_UPDATE_SCREENSHOTS=docs, also docs/spa.png).
func TestBrowserSPA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium, driver := browserBinaries(t)
	shots := artifactDir(t)
	t.Logf("screenshots in %s", shots)

	// The listeners first: the API must be told the app's origin, and
	// the app the API's.
	pageSrv, strangerSrv, apiSrv := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	pageOrigin, strangerOrigin := localhostOrigin(pageSrv), localhostOrigin(strangerSrv)
	app := startApp(t, "-cors-origin", pageOrigin)
	target, err := url.Parse(app)
	if err != nil {
		t.Fatal(err)
	}
	rec := &apiRecorder{}
	apiSrv.Config.Handler = rec.proxy(target)
	apiSrv.Start()
	t.Cleanup(apiSrv.Close)
	api := apiSrv.URL // http://127.0.0.1:P1
	for _, srv := range []*httptest.Server{pageSrv, strangerSrv} {
		h, err := site.Handler(api)
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = h
		srv.Start()
		t.Cleanup(srv.Close)
	}

	wd := newWebDriver(t, driver, chromium)

	// 1. The app shows its login form, and where the API is.
	wd.navigate(pageOrigin + "/")
	wd.waitFor("the login form", func() bool { return wd.displayed("#login-view") })
	wd.wantText("#login-title", "Log in")
	wd.wantText("#page-origin", pageOrigin)
	wd.wantText("main", api)
	wd.screenshot(shots, "spa-01-login.png", "")

	// 2. A wrong password: the API's answer is readable (CORS), and the
	// page shows the error of its envelope.
	wd.typeInto("Email", "test@example.com")
	wd.typeInto("Password", "wrong password")
	wd.click(wd.find("css selector", "#login-form button[type=submit]"))
	wd.wantText("[role=alert]", "Invalid email or password.")
	if tok := wd.storage("sessionStorage", "authkit.token"); tok != "" {
		t.Errorf("after a refused login, sessionStorage holds a token %q", tok)
	}
	if pw := wd.attr(wd.find("css selector", "#password"), "value"); pw != "" {
		t.Errorf("after the refused login, the password field holds %q", pw)
	}
	wd.screenshot(shots, "spa-02-wrong-password.png", "")

	// 3. The right password: the token lands in sessionStorage and the
	// page shows what the protected route answers for it.
	mark := rec.len()
	wd.typeInto("Password", "test123")
	wd.click(wd.find("css selector", "#login-form button[type=submit]"))
	wd.waitFor("the logged-in view", func() bool { return wd.displayed("#app-view") })
	wd.wantText("#whoami", "Hello test@example.com (user ")
	if wd.displayed("#error") {
		t.Error("the logged-in page shows an error")
	}
	token := wd.storage("sessionStorage", "authkit.token")
	refresh := wd.storage("sessionStorage", "authkit.refresh_token")
	if token == "" || refresh == "" {
		t.Fatalf("sessionStorage after the login: token %q, refresh token %q; want both", token, refresh)
	}
	if code := getProtected(t, app, token); code != http.StatusOK {
		t.Errorf("the token the page keeps: GET /protected %d, want 200", code)
	}
	// The device token, read from the exposed header, for the next login.
	if device := wd.storage("localStorage", "authkit.device_token"); device == "" {
		t.Error("the page could not keep the device token: is Auth-Device-Token exposed?")
	}
	if cookies := wd.evaluate(`return document.cookie`); cookies != "" {
		t.Errorf("the page has cookies %q; a token app needs none", cookies)
	}
	// The browser asked first (the JSON login and the token header are not
	// "simple"), and the API allowed this origin.
	rec.want(t, mark, exchange{Method: http.MethodOptions, Path: "/login", Origin: pageOrigin, Preflight: "POST", Status: http.StatusNoContent, AllowOrigin: pageOrigin})
	rec.want(t, mark, exchange{Method: http.MethodPost, Path: "/login", Origin: pageOrigin, Status: http.StatusOK, AllowOrigin: pageOrigin, Expose: auth.DeviceTokenHeader})
	rec.want(t, mark, exchange{Method: http.MethodOptions, Path: "/protected", Origin: pageOrigin, Preflight: "GET", Status: http.StatusNoContent, AllowOrigin: pageOrigin})
	rec.want(t, mark, exchange{Method: http.MethodGet, Path: "/protected", Origin: pageOrigin, Status: http.StatusOK, AllowOrigin: pageOrigin, Expose: auth.DeviceTokenHeader})
	wd.screenshot(shots, "spa-03-logged-in.png", "spa.png")

	// 4. A token the API refuses (as an expired one would be): the page
	// refreshes it with the refresh token and retries once.
	mark = rec.len()
	wd.execute(`sessionStorage.setItem("authkit.token", "not-a-valid-token")`)
	wd.click(wd.find("css selector", "#reload"))
	wd.wantText("[role=status]", "The access token was refreshed.")
	wd.wantText("#whoami", "Hello test@example.com (user ")
	rec.wantInOrder(t, mark,
		exchange{Method: http.MethodGet, Path: "/protected", Origin: pageOrigin, Status: http.StatusUnauthorized, AllowOrigin: pageOrigin},
		exchange{Method: http.MethodPost, Path: "/auth/refresh-token", Origin: pageOrigin, Status: http.StatusOK, AllowOrigin: pageOrigin},
		exchange{Method: http.MethodGet, Path: "/protected", Origin: pageOrigin, Status: http.StatusOK, AllowOrigin: pageOrigin},
	)
	refreshed := wd.storage("sessionStorage", "authkit.token")
	if refreshed == "" || refreshed == "not-a-valid-token" || refreshed == token {
		t.Errorf("after the refresh, sessionStorage holds the token %q, want a new one", refreshed)
	}
	if rt := wd.storage("sessionStorage", "authkit.refresh_token"); rt == "" || rt == refresh {
		t.Errorf("after the refresh, the refresh token is %q, want the next one", rt)
	}
	wd.screenshot(shots, "spa-04-refreshed.png", "")

	// 5. Logout: the API revokes every token of the user, and the page
	// forgets them.
	mark = rec.len()
	lastRefresh := wd.storage("sessionStorage", "authkit.refresh_token")
	wd.click(wd.find("css selector", "#logout"))
	wd.wantText("[role=status]", "You are logged out")
	wd.waitFor("the login form", func() bool { return wd.displayed("#login-view") })
	for _, key := range []string{"authkit.token", "authkit.refresh_token"} {
		if v := wd.storage("sessionStorage", key); v != "" {
			t.Errorf("after logout, sessionStorage holds %s %q", key, v)
		}
	}
	rec.want(t, mark, exchange{Method: http.MethodPost, Path: "/logout", Origin: pageOrigin, Status: http.StatusOK, AllowOrigin: pageOrigin})
	if code := getProtected(t, app, refreshed); code != http.StatusUnauthorized {
		t.Errorf("the token after logout: GET /protected %d, want 401", code)
	}
	if refreshes(t, app, lastRefresh) {
		t.Error("the refresh token still refreshes after logout")
	}
	wd.screenshot(shots, "spa-05-logged-out.png", "")

	// 5b. The next login sends the device token back, which the API allows
	// as a request header.
	mark = rec.len()
	wd.typeInto("Email", "test@example.com")
	wd.typeInto("Password", "test123")
	wd.click(wd.find("css selector", "#login-form button[type=submit]"))
	wd.wantText("#whoami", "Hello test@example.com (user ")
	rec.want(t, mark, exchange{Method: http.MethodPost, Path: "/login", Origin: pageOrigin, Device: true, Status: http.StatusOK, AllowOrigin: pageOrigin})

	// 6. The same app on an origin the API does not allow: the preflight
	// gets no Access-Control-Allow-Origin, so the browser never sends the
	// login, and the page says why.
	mark = rec.len()
	wd.navigate(strangerOrigin + "/")
	wd.waitFor("the login form", func() bool { return wd.displayed("#login-view") })
	wd.typeInto("Email", "test@example.com")
	wd.typeInto("Password", "test123")
	wd.click(wd.find("css selector", "#login-form button[type=submit]"))
	wd.wantText("[role=alert]", "Could not reach the API at "+api)
	wd.wantText("[role=alert]", "-cors-origin "+strangerOrigin)
	if tok := wd.storage("sessionStorage", "authkit.token"); tok != "" {
		t.Errorf("the refused origin keeps a token %q", tok)
	}
	rec.want(t, mark, exchange{Method: http.MethodOptions, Path: "/login", Origin: strangerOrigin, Preflight: "POST", Status: http.StatusNoContent})
	for _, e := range rec.since(mark) {
		if e.Method != http.MethodOptions {
			t.Errorf("the browser sent %s %s from the refused origin", e.Method, e.Path)
		}
		if e.AllowOrigin != "" {
			t.Errorf("%s %s from the refused origin got Access-Control-Allow-Origin %q", e.Method, e.Path, e.AllowOrigin)
		}
	}
	wd.screenshot(shots, "spa-06-refused-origin.png", "")
}

// localhostOrigin is the origin http://localhost:PORT of srv's listener,
// which is on 127.0.0.1: another origin than http://127.0.0.1:PORT.
func localhostOrigin(srv *httptest.Server) string {
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://" + net.JoinHostPort("localhost", port)
}

// exchange is a request the browser sent the API and the CORS headers of
// the answer. In a want, an empty field matches anything except
// AllowOrigin and Expose, which must be as given.
type exchange struct {
	Method, Path, Origin string
	Preflight            string // a preflight's Access-Control-Request-Method
	Device               bool   // the request carried auth.DeviceTokenHeader
	Status               int
	AllowOrigin, Expose  string // Access-Control-Allow-Origin, -Expose-Headers
}

func (e exchange) matches(want exchange) bool {
	return (want.Method == "" || e.Method == want.Method) && (want.Path == "" || e.Path == want.Path) &&
		(want.Origin == "" || e.Origin == want.Origin) && (want.Preflight == "" || e.Preflight == want.Preflight) &&
		(want.Status == 0 || e.Status == want.Status) && e.AllowOrigin == want.AllowOrigin &&
		(want.Expose == "" || e.Expose == want.Expose) && (!want.Device || e.Device)
}

// apiRecorder is a reverse proxy that records each exchange.
type apiRecorder struct {
	mu   sync.Mutex
	seen []exchange
}

func (rec *apiRecorder) proxy(target *url.URL) http.Handler {
	p := httputil.NewSingleHostReverseProxy(target)
	p.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.seen = append(rec.seen, exchange{
			Method: r.Method, Path: r.URL.Path, Origin: r.Header.Get("Origin"),
			Preflight: r.Header.Get("Access-Control-Request-Method"), Device: r.Header.Get(auth.DeviceTokenHeader) != "",
			Status:      resp.StatusCode,
			AllowOrigin: resp.Header.Get("Access-Control-Allow-Origin"), Expose: resp.Header.Get("Access-Control-Expose-Headers"),
		})
		return nil
	}
	return p
}

func (rec *apiRecorder) len() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.seen)
}

// since returns the exchanges recorded from the mark-th on.
func (rec *apiRecorder) since(mark int) []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]exchange(nil), rec.seen[mark:]...)
}

// want fails the test unless an exchange from the mark-th on matches w.
// The page has shown the answer before the test asks, so it is recorded.
func (rec *apiRecorder) want(t *testing.T, mark int, w exchange) {
	t.Helper()
	rec.wantInOrder(t, mark, w)
}

// wantInOrder fails the test unless exchanges from the mark-th on match
// wants, in that order (others may come between).
func (rec *apiRecorder) wantInOrder(t *testing.T, mark int, wants ...exchange) {
	t.Helper()
	seen := rec.since(mark)
	i := 0
	for _, e := range seen {
		if i < len(wants) && e.matches(wants[i]) {
			i++
		}
	}
	if i < len(wants) {
		var b strings.Builder
		for _, e := range seen {
			b.WriteString("\n\t")
			b.WriteString(strings.Join([]string{e.Method, e.Path, "origin=" + e.Origin, "preflight=" + e.Preflight,
				http.StatusText(e.Status), "allow-origin=" + e.AllowOrigin, "expose=" + e.Expose, fmt.Sprint("device=", e.Device)}, " "))
		}
		t.Errorf("the API saw no %+v (in order); it saw:%s", wants[i], b.String())
	}
}

// evaluate runs script in the page and returns its value, a string
// ("" for null).
func (wd *webDriver) evaluate(script string) string {
	wd.t.Helper()
	var s *string
	wd.do(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": []any{}}, &s)
	if s == nil {
		return ""
	}
	return *s
}

// storage returns the item key of the page's sessionStorage or
// localStorage (area), "" if absent.
func (wd *webDriver) storage(area, key string) string {
	wd.t.Helper()
	var s *string
	wd.do(http.MethodPost, "/execute/sync", map[string]any{
		"script": "return window[arguments[0]].getItem(arguments[1])", "args": []any{area, key},
	}, &s)
	if s == nil {
		return ""
	}
	return *s
}
