package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery"
	userEmail     = "user@example.com"
	userPassword  = "staple battery horse"
)

// newTestServer returns the recipe's router over a Manager with cfg and two
// users, the admin and a user without roles, and the Manager's audit log.
func newTestServer(t *testing.T, cfg auth.Config) (*gin.Engine, *auditLog) {
	t.Helper()
	audit := &auditLog{}
	cfg.AuditLogger = slog.New(slog.NewJSONHandler(audit, nil))
	// Tests hash at the lowest cost (CONTRIBUTING.md); main keeps the
	// default, argon2id at OWASP's parameters.
	cfg.Password = auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}
	store := auth.NewMemoryStore()
	m, err := newManager(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := addUser(m, store, adminEmail, adminPassword, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := addUser(m, store, userEmail, userPassword); err != nil {
		t.Fatal(err)
	}
	r, err := router(m, cfg.TrustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	return r, audit
}

// request is one request to the router: RemoteAddr is 192.0.2.1:1234
// unless remote says otherwise.
type request struct {
	method, target, body string
	token                string // Authentication-Token
	remote, forwarded    string // RemoteAddr, X-Forwarded-For
}

func serve(h http.Handler, q request) *httptest.ResponseRecorder {
	r := httptest.NewRequest(q.method, q.target, strings.NewReader(q.body))
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.token != "" {
		r.Header.Set("Authentication-Token", q.token)
	}
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	if q.forwarded != "" {
		r.Header.Set("X-Forwarded-For", q.forwarded)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func loginBody(email, password string) string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
}

// login logs in and returns the token and the user's ID.
func login(t *testing.T, h http.Handler, q request) (token, id string) {
	t.Helper()
	w := serve(h, q)
	var answer struct {
		Response struct {
			User struct {
				ID    string `json:"id"`
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &answer); w.Code != http.StatusOK || err != nil || answer.Response.User.Token == "" {
		t.Fatalf("login: %d %s (%v)", w.Code, w.Body, err)
	}
	return answer.Response.User.Token, answer.Response.User.ID
}

func TestRecipe(t *testing.T) {
	h, _ := newTestServer(t, auth.Config{})
	admin, _ := login(t, h, request{method: "POST", target: "/login", body: loginBody(adminEmail, adminPassword)})
	user, userID := login(t, h, request{method: "POST", target: "/login", body: loginBody(userEmail, userPassword)})

	// The steps run in order: the last ones revoke and log out.
	for _, step := range []struct {
		name string
		req  request
		code int
		body string // a substring of the answer, if set
	}{
		{name: "me with a token", req: request{method: "GET", target: "/api/me", token: admin}, code: 200, body: `"email":"admin@example.com"`},
		{name: "me without a token", req: request{method: "GET", target: "/api/me"}, code: 401},
		{name: "me with a bad token", req: request{method: "GET", target: "/api/me", token: admin + "x"}, code: 401},
		{name: "admin route as admin", req: request{method: "GET", target: "/api/admin", token: admin}, code: 200, body: "hello admin admin@example.com"},
		{name: "admin route without the role", req: request{method: "GET", target: "/api/admin", token: user}, code: 403},
		{name: "admin route without a token", req: request{method: "GET", target: "/api/admin"}, code: 401},
		{name: "account handler under /auth", req: request{method: "POST", target: "/auth/verify", token: admin, body: `{"password":"correct horse battery"}`}, code: 200, body: "authentication_token"},
		{name: "revoke without the role", req: request{method: "POST", target: "/api/admin/revoke/" + userID, token: user}, code: 403},
		{name: "revoke with a fresh login", req: request{method: "POST", target: "/api/admin/revoke/" + userID, token: admin}, code: 200},
		{name: "the revoked token", req: request{method: "GET", target: "/api/me", token: user}, code: 401},
		{name: "logout", req: request{method: "POST", target: "/logout", token: admin}, code: 200},
		{name: "after logout", req: request{method: "GET", target: "/api/me", token: admin}, code: 401},
	} {
		t.Run(step.name, func(t *testing.T) {
			w := serve(h, step.req)
			if w.Code != step.code || !strings.Contains(w.Body.String(), step.body) {
				t.Errorf("%d %s, want %d with %q", w.Code, w.Body, step.code, step.body)
			}
		})
	}
}

// TestClientAddress: the Manager (its audit log) and gin (c.ClientIP, in
// /api/me) see the same client, and an
// X-Forwarded-For from a peer that is not a trusted proxy changes neither.
func TestClientAddress(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name              string
		trusted           []netip.Prefix
		remote, forwarded string
		want              string
	}{
		{name: "no proxy", remote: "203.0.113.7:1234", want: "203.0.113.7"},
		{name: "spoofed header, no trusted proxy", remote: "203.0.113.7:1234", forwarded: "198.51.100.66", want: "203.0.113.7"},
		{name: "spoofed header from a peer that is not the proxy", trusted: proxy, remote: "203.0.113.7:1234", forwarded: "198.51.100.66", want: "203.0.113.7"},
		{name: "through the proxy", trusted: proxy, remote: "10.0.0.1:1234", forwarded: "198.51.100.2", want: "198.51.100.2"},
		{name: "through the proxy, a hop forged by the client", trusted: proxy, remote: "10.0.0.1:1234", forwarded: "6.6.6.6, 198.51.100.2", want: "198.51.100.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, audit := newTestServer(t, auth.Config{TrustedProxies: tt.trusted})
			token, _ := login(t, h, request{method: "POST", target: "/login", body: loginBody(adminEmail, adminPassword), remote: tt.remote, forwarded: tt.forwarded})
			if got := audit.ips(auth.EventLoginSucceeded); len(got) != 1 || got[0] != tt.want {
				t.Errorf("the Manager's audit log: %s from %q, want %q", auth.EventLoginSucceeded, got, tt.want)
			}
			w := serve(h, request{method: "GET", target: "/api/me", token: token, remote: tt.remote, forwarded: tt.forwarded})
			var me struct {
				ClientIP string `json:"client_ip"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me.ClientIP != tt.want {
				t.Errorf("gin's client address: %d %s, want %q", w.Code, w.Body, tt.want)
			}
		})
	}
}

// TestSpoofedForwardedForIsThrottled: a client that sends a new
// X-Forwarded-For with each failed login is still throttled by its own
// address.
func TestSpoofedForwardedForIsThrottled(t *testing.T) {
	h, audit := newTestServer(t, auth.Config{Throttle: auth.ThrottleConfig{FreeAttempts: 2}})
	codes := failLogins(h)
	if want := []int{400, 400, 429}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("answers %v, want %v", codes, want)
	}
	for _, ip := range audit.ips(auth.EventLoginFailed) {
		if ip != "203.0.113.7" {
			t.Errorf("the audit log has a failure from %q, want 203.0.113.7", ip)
		}
	}
}

// TestDefaultTrustedProxiesAreSpoofable shows that gin's client address
// and the Manager's are separate: an engine that trusts every peer (gin's
// default) believes a forged X-Forwarded-For in c.ClientIP, while the
// Manager still throttles and audits the TCP peer. Set both, to the same
// proxies.
func TestDefaultTrustedProxiesAreSpoofable(t *testing.T) {
	r, audit := newTestServer(t, auth.Config{})
	if err := r.SetTrustedProxies([]string{"0.0.0.0/0", "::/0"}); err != nil { // as gin.New leaves it
		t.Fatal(err)
	}
	q := request{method: "POST", target: "/login", body: loginBody(adminEmail, adminPassword), remote: "203.0.113.7:1234", forwarded: "198.51.100.66"}
	token, _ := login(t, r, q)
	if got := audit.ips(auth.EventLoginSucceeded); fmt.Sprint(got) != "[203.0.113.7]" {
		t.Errorf("the Manager's audit log names %q, want the peer 203.0.113.7", got)
	}
	q.method, q.target, q.body, q.token = "GET", "/api/me", "", token
	if w := serve(r, q); !strings.Contains(w.Body.String(), `"client_ip":"198.51.100.66"`) {
		t.Errorf("trusting every peer, gin's c.ClientIP: %s, want the forged 198.51.100.66", w.Body)
	}
}

// TestAdaptAborts: a request that the wrapped middleware refuses never
// reaches the handlers after it.
func TestAdaptAborts(t *testing.T) {
	r := gin.New()
	reached := false
	refuse := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	}
	r.GET("/", adapt(refuse), func(c *gin.Context) { reached = true })
	if w := serve(r, request{method: "GET", target: "/"}); w.Code != http.StatusTeapot || reached {
		t.Errorf("%d, reached %v; want 418, not reached", w.Code, reached)
	}
}

// failLogins sends three failed logins, for three emails so that no
// account is throttled, from 203.0.113.7 with a new X-Forwarded-For each,
// and returns the status codes.
func failLogins(h http.Handler) []int {
	var codes []int
	for i := 1; i <= 3; i++ {
		w := serve(h, request{
			method: "POST", target: "/login", body: loginBody(fmt.Sprintf("nobody%d@example.com", i), "wrong password"),
			remote: "203.0.113.7:1234", forwarded: fmt.Sprintf("198.51.100.%d", i),
		})
		codes = append(codes, w.Code)
	}
	return codes
}

// TestRecipesDoc fails unless every go block of the "## gin" section of
// docs/recipes.md is part of main.go, byte for byte.
func TestRecipesDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	program, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## gin\n")
	if !ok {
		t.Fatal(`docs/recipes.md has no "## gin" heading`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := strings.Split(section, "```go\n")[1:]
	if len(blocks) == 0 {
		t.Fatal(`docs/recipes.md's "## gin" has no go block`)
	}
	for _, block := range blocks {
		block, _, _ = strings.Cut(block, "```\n")
		if !strings.Contains(string(program), block) {
			first, _, _ := strings.Cut(block, "\n")
			t.Errorf("docs/recipes.md's gin block that starts %q is not in main.go: copy it from there", first)
		}
	}
}

// auditLog collects the Manager's audit events as JSON lines.
type auditLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *auditLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// ips returns the "ip" of every event named event, in order.
func (l *auditLog) ips(event string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ips []string
	for sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes())); sc.Scan(); {
		var e struct{ Msg, IP string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Msg == event {
			ips = append(ips, e.IP)
		}
	}
	return ips
}

func TestParsePrefixes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{in: "", want: "[]", ok: true},
		{in: "127.0.0.1/32, ::1/128", want: "[127.0.0.1/32 ::1/128]", ok: true},
		{in: "10.1.2.3/8", want: "[10.0.0.0/8]", ok: true},
		{in: "127.0.0.1", ok: false},
	} {
		got, err := parsePrefixes(tt.in)
		if (err == nil) != tt.ok || tt.ok && fmt.Sprint(got) != tt.want {
			t.Errorf("parsePrefixes(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
