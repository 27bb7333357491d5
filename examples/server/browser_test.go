package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBrowser logs in and out of the example server with a real browser:
// Debian's chromium, driven through chromedriver over the W3C WebDriver
// protocol (spoken here with net/http; no extra dependency). It checks
// what the pages show, not just URLs, and saves a screenshot of each step
// in a temporary directory (or $AUTH_BROWSER_ARTIFACTS). With
// AUTH_UPDATE_SCREENSHOTS=docs it also rewrites docs/login.png and
// docs/account.png, which lists an API client's device session (a
// relative directory is taken from the module root), shrunk by shrinkPNG.
//
// Without chromium and chromedriver it skips, except under CI=true, where
// it fails: install them with apt-get install chromium chromium-driver.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chromium, driver := browserBinaries(t)
	shots := artifactDir(t)
	t.Logf("screenshots in %s", shots)

	app := startApp(t)
	// Two pages that post to /logout without a CSRF token, as a hostile
	// page would. "localhost" is another site than 127.0.0.1, so SameSite
	// keeps the cookie away; another port of 127.0.0.1 is the same site
	// but another origin, so the cookie goes along and the CSRF check
	// must refuse the request.
	crossSite := hostilePage(t, "localhost", app+"/logout")
	crossOrigin := hostilePage(t, "127.0.0.1", app+"/logout")

	wd := newWebDriver(t, driver, chromium)

	// 1. A protected page sends the browser to the login form.
	wd.navigate(app + "/account")
	wd.waitPath("/login")
	wd.wantText("h1", "Log in")
	if next := wd.attr(wd.find("css selector", "input[name=next]"), "value"); next != "/account" {
		t.Errorf("the form's next field is %q, want /account", next)
	}
	if wd.exists("[role=alert]") {
		t.Error("the fresh login form shows an error")
	}
	wd.screenshot(shots, "01-login.png", "login.png")

	// 2. A wrong password brings the form back with the error announced.
	wd.typeInto("Email", "test@example.com")
	wd.typeInto("Password", "wrong password")
	wd.click(wd.find("css selector", "button[type=submit]"))
	wd.waitFor("the error message", func() bool { return wd.exists("[role=alert]") })
	wd.wantText("[role=alert]", "Invalid email or password.")
	if email := wd.attr(wd.find("css selector", "#email"), "value"); email != "test@example.com" {
		t.Errorf("after the failed login, the email field holds %q, want the email typed", email)
	}
	if pw := wd.attr(wd.find("css selector", "#password"), "value"); pw != "" {
		t.Errorf("after the failed login, the password field holds %q", pw)
	}
	if strings.Contains(wd.url(), "example.com") {
		t.Errorf("the email travels in the URL %s", wd.url())
	}
	if next := wd.attr(wd.find("css selector", "input[name=next]"), "value"); next != "/account" {
		t.Errorf("after the failed login, next is %q, want /account", next)
	}
	wd.screenshot(shots, "02-wrong-password.png", "")

	// 3. The right password leads to the page first asked for, which
	// lists the devices logged in with a refresh token: here an API
	// client's login.
	cli := apiLogin(t, app, "test@example.com", "test123", "example-cli/1.0 (linux)")
	wd.typeInto("Email", "test@example.com")
	wd.typeInto("Password", "test123")
	wd.click(wd.find("css selector", "button[type=submit]"))
	wd.waitPath("/account")
	wd.wantText("h1", "Your account")
	wd.wantText("#email", "test@example.com")
	session := wd.cookie("auth_session")
	if session == nil {
		t.Fatal("the browser kept no session cookie")
	}
	if !session.HTTPOnly || !session.Secure || session.SameSite != "Lax" {
		t.Errorf("session cookie as the browser keeps it: %+v", session)
	}
	wd.wantText("#devices", "example-cli/1.0 (linux)")
	wd.screenshot(shots, "03-account.png", "account.png")

	// 3b. Its button ends that session: the client's refresh token dies.
	wd.click(wd.find("css selector", "#devices form button"))
	wd.waitFor("the ended session", func() bool { return wd.exists("[role=status]") })
	wd.waitPath("/account")
	wd.wantText("[role=status]", "The session has ended")
	wd.wantText("#devices", "No app is logged in with a refresh token.")
	if refreshes(t, app, cli) {
		t.Error("the session ended on the account page still refreshes")
	}
	wd.screenshot(shots, "03b-device-ended.png", "")

	// 4. A cross-site form post arrives without the cookie (SameSite=Lax),
	// so it is not authenticated; the user stays logged in.
	wd.navigate(crossSite)
	wd.waitFor("the cross-site post to land on the app", func() bool { return strings.HasPrefix(wd.url(), app) })
	wd.wantText("h1", "Log in")
	wd.screenshot(shots, "04-cross-site-post.png", "")
	wd.navigate(app + "/account")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")

	// 5. A same-site, cross-origin form post carries the cookie; the
	// Origin check refuses it, and the browser is sent back to the
	// account page, which says why.
	wd.navigate(crossOrigin)
	wd.waitFor("the cross-origin post to land on the app", func() bool { return strings.HasPrefix(wd.url(), app) })
	wd.waitPath("/account")
	wd.wantText("[role=alert]", "CSRF check failed: the request comes from another origin.")
	wd.wantText("#email", "test@example.com")
	wd.screenshot(shots, "05-cross-origin-post.png", "")
	wd.navigate(app + "/account")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")

	// 6. The logout form without its CSRF token is refused too.
	wd.execute(`document.querySelector("input[name=csrf_token]").value = ""`)
	wd.click(wd.find("css selector", "form[action='/logout'] button"))
	wd.waitFor("the logout answer", func() bool { return !strings.HasSuffix(wd.url(), "/account") })
	wd.waitPath("/account")
	wd.wantText("[role=alert]", "CSRF token missing or invalid.")
	wd.screenshot(shots, "06-missing-csrf-token.png", "")
	wd.navigate(app + "/account")
	wd.waitPath("/account")
	wd.wantText("#email", "test@example.com")
	if wd.exists("[role=alert]") {
		t.Error("the account page shows an error without one")
	}

	// 7. The logout button ends the session.
	wd.click(wd.find("css selector", "form[action='/logout'] button"))
	wd.waitPath("/login")
	wd.wantText("h1", "Log in")
	if c := wd.cookie("auth_session"); c != nil {
		t.Errorf("the session cookie survived logout: %+v", c)
	}
	wd.navigate(app + "/account")
	wd.waitPath("/login")
	wd.wantText("h1", "Log in")
	wd.screenshot(shots, "07-logged-out.png", "")
}

// browserBinaries finds chromium and chromedriver, skipping the test (or
// failing it under CI) without them.
func browserBinaries(t *testing.T) (chromium, driver string) {
	t.Helper()
	var missing []string
	for _, name := range []string{"chromium", "chromedriver"} {
		path, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		if name == "chromium" {
			chromium = path
		} else {
			driver = path
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%s not found: apt-get install chromium chromium-driver", strings.Join(missing, " and "))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromium, driver
}

// artifactDir returns $AUTH_BROWSER_ARTIFACTS, created if need be, or a
// new temporary directory that outlives the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("AUTH_BROWSER_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "auth-browser-*")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// startApp runs the example server as main does, on a free port of
// 127.0.0.1 with a fresh SQLite database and the flags args, and returns
// its URL.
func startApp(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"AUTH_SECRET": "browser test secret, 32 bytes..."}
	var stderr syncBuffer
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "auth.db")}, args...),
			func(k string) string { return env[k] }, &stderr, ready)
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run: %v\n%s", err, stderr.String())
			}
		})
		return "http://" + addr
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	return ""
}

// hostilePage serves, on host, a page whose form posts to target as soon
// as it loads, and returns the page's URL.
func hostilePage(t *testing.T, host, target string) string {
	t.Helper()
	page := `<!doctype html><title>Win a prize</title>
<form method="post" action="` + target + `"><input type="hidden" name="prize" value="1"></form>
<script>document.forms[0].submit()</script>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// webDriver is a W3C WebDriver session with chromedriver.
type webDriver struct {
	t       *testing.T
	session string // the session's URL
	client  *http.Client
}

// elementKey is the W3C name of an element reference.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// newWebDriver starts chromedriver on a free loopback port and a headless
// chromium session under it; both end with the test.
func newWebDriver(t *testing.T, driver, chromium string) *webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var log bytes.Buffer
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	wd := &webDriver{t: t, client: &http.Client{Timeout: 60 * time.Second}}

	deadline := time.Now().Add(20 * time.Second)
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := wd.call(http.MethodGet, base+"/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not become ready:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": []string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--window-size=900,720", "--user-data-dir=" + t.TempDir(),
			},
		},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := wd.call(http.MethodPost, base+"/session", caps, &created); err != nil {
		t.Fatalf("creating the browser session: %v\n%s", err, log.String())
	}
	wd.session = base + "/session/" + created.SessionID
	t.Cleanup(func() { wd.call(http.MethodDelete, wd.session, nil, nil) })
	return wd
}

// call sends a WebDriver command and decodes the "value" of its answer
// into out.
func (wd *webDriver) call(method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := wd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("%s %s: %s: %w", method, url, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(answer.Value, &e)
		return fmt.Errorf("%s %s: %s: %s: %s", method, url, resp.Status, e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer.Value, out)
}

// do runs a command of the session, failing the test on error.
func (wd *webDriver) do(method, path string, in, out any) {
	wd.t.Helper()
	if err := wd.call(method, wd.session+path, in, out); err != nil {
		wd.t.Fatal(err)
	}
}

func (wd *webDriver) navigate(u string) {
	wd.t.Helper()
	wd.do(http.MethodPost, "/url", map[string]string{"url": u}, nil)
}

func (wd *webDriver) url() string {
	wd.t.Helper()
	var u string
	wd.do(http.MethodGet, "/url", nil, &u)
	return u
}

// findElement returns the reference of the first element matching
// selector, using strategy ("css selector" or "xpath").
func (wd *webDriver) findElement(strategy, selector string) (string, error) {
	var ref map[string]string
	err := wd.call(http.MethodPost, wd.session+"/element", map[string]string{"using": strategy, "value": selector}, &ref)
	return ref[elementKey], err
}

func (wd *webDriver) find(strategy, selector string) string {
	wd.t.Helper()
	id, err := wd.findElement(strategy, selector)
	if err != nil {
		wd.t.Fatalf("%s %q: %v", strategy, selector, err)
	}
	return id
}

func (wd *webDriver) exists(css string) bool {
	_, err := wd.findElement("css selector", css)
	return err == nil
}

func (wd *webDriver) attr(id, name string) string {
	wd.t.Helper()
	var s *string
	wd.do(http.MethodGet, "/element/"+id+"/property/"+name, nil, &s)
	if s == nil {
		return ""
	}
	return *s
}

func (wd *webDriver) click(id string) {
	wd.t.Helper()
	wd.do(http.MethodPost, "/element/"+id+"/click", map[string]string{}, nil)
}

func (wd *webDriver) execute(script string) {
	wd.t.Helper()
	wd.do(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": []any{}}, nil)
}

// typeInto finds the input that the label with text label names, checks
// that the browser computes that label for it, clears it and types text.
func (wd *webDriver) typeInto(label, text string) {
	wd.t.Helper()
	l := wd.find("xpath", fmt.Sprintf("//label[normalize-space()=%q]", label))
	input := wd.find("css selector", "#"+wd.attr(l, "htmlFor"))
	var computed string
	wd.do(http.MethodGet, "/element/"+input+"/computedlabel", nil, &computed)
	if computed != label {
		wd.t.Errorf("the input labeled %q has the accessible name %q", label, computed)
	}
	wd.do(http.MethodPost, "/element/"+input+"/clear", map[string]string{}, nil)
	wd.do(http.MethodPost, "/element/"+input+"/value", map[string]string{"text": text}, nil)
}

// wantText fails the test unless the first element matching css contains text.
func (wd *webDriver) wantText(css, text string) {
	wd.t.Helper()
	var got string
	ok := wd.poll(func() bool {
		id, err := wd.findElement("css selector", css)
		if err != nil {
			return false
		}
		var s string
		if wd.call(http.MethodGet, wd.session+"/element/"+id+"/text", nil, &s) != nil {
			return false
		}
		got = s
		return strings.Contains(s, text)
	})
	if !ok {
		wd.t.Fatalf("on %s, %s shows %q, want %q", wd.url(), css, got, text)
	}
}

// waitPath waits until the page's path is path.
func (wd *webDriver) waitPath(path string) {
	wd.t.Helper()
	wd.waitFor("path "+path, func() bool {
		u, err := url.Parse(wd.url())
		return err == nil && u.Path == path
	})
}

func (wd *webDriver) waitFor(what string, cond func() bool) {
	wd.t.Helper()
	if !wd.poll(cond) {
		wd.t.Fatalf("timed out waiting for %s; the browser is at %s", what, wd.url())
	}
}

// poll calls cond until it holds, for at most ten seconds.
func (wd *webDriver) poll(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// browserCookie is a cookie as WebDriver reports it.
type browserCookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	HTTPOnly bool   `json:"httpOnly"`
	Secure   bool   `json:"secure"`
	SameSite string `json:"sameSite"`
}

// cookie returns the browser's cookie named name for the current page, or nil.
func (wd *webDriver) cookie(name string) *browserCookie {
	wd.t.Helper()
	var c browserCookie
	err := wd.call(http.MethodGet, wd.session+"/cookie/"+name, nil, &c)
	if err != nil {
		if strings.Contains(err.Error(), "no such cookie") {
			return nil
		}
		wd.t.Fatal(err)
	}
	return &c
}

// screenshot saves the page as dir/name and, when AUTH_UPDATE_SCREENSHOTS
// names a directory and docName is set, as that directory's docName.
func (wd *webDriver) screenshot(dir, name, docName string) {
	wd.t.Helper()
	var b64 string
	wd.do(http.MethodGet, "/screenshot", nil, &b64)
	shot, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		wd.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
		wd.t.Fatal(err)
	}
	docs := os.Getenv("AUTH_UPDATE_SCREENSHOTS")
	if docs == "" || docName == "" {
		return
	}
	if !filepath.IsAbs(docs) {
		root, err := moduleRoot()
		if err != nil {
			wd.t.Fatal(err)
		}
		docs = filepath.Join(root, docs)
	}
	if err := os.MkdirAll(docs, 0o755); err != nil {
		wd.t.Fatal(err)
	}
	small, err := shrinkPNG(shot)
	if err != nil {
		wd.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(docs, docName), small, 0o644); err != nil {
		wd.t.Fatal(err)
	}
	wd.t.Logf("updated %s (%d bytes)", filepath.Join(docs, docName), len(small))
}

// shrinkPNG re-encodes a screenshot for the docs with a palette of its 256
// most frequent colors, the others mapped to the nearest: the pages have
// few colors besides the antialiasing of their text, so the result looks
// the same at less than half the size.
func shrinkPNG(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	r := img.Bounds()
	count := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := slices.Collect(maps.Keys(count))
	slices.SortFunc(colors, func(a, b color.RGBA) int {
		if d := count[b] - count[a]; d != 0 {
			return d
		}
		return cmp.Compare(uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A), uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A))
	})
	palette := make(color.Palette, 0, 256)
	index := map[color.RGBA]uint8{}
	for i, c := range colors[:min(len(colors), 256)] {
		palette = append(palette, c)
		index[c] = uint8(i)
	}
	out := image.NewPaletted(r, palette)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(palette.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out)
	return buf.Bytes(), err
}

// moduleRoot is the nearest directory above the working directory that
// holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
