package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStart fails unless the go block under the README's
// "Quick start" heading is main.go, byte for byte.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	program, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start\n")
	if !ok {
		t.Fatal(`README.md has no "## Quick start" heading`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("README.md's Quick start has no ```go block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("README.md's Quick start go block is not closed")
	}
	if block+"\n" != string(program) {
		t.Errorf("README.md's Quick start differs from examples/quickstart/main.go; copy main.go into the README")
	}
}

func TestQuickStart(t *testing.T) {
	if _, err := newServer([]byte("short")); err == nil {
		t.Error("newServer accepted a 5-byte secret")
	}
	h, err := newServer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, target, body string, header ...string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := do("POST", "/login", `{"email":"alice@example.com","password":"correct horse"}`, "Content-Type", "application/json")
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var login struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &login); err != nil || login.Response.User.Token == "" {
		t.Fatalf("login answer %s: %v", w.Body, err)
	}
	token := login.Response.User.Token

	for _, c := range []struct {
		name, method, target string
		header               []string
		code                 int
		body                 string
	}{
		{"me with token", "GET", "/me", []string{"Authentication-Token", token}, 200, "hello alice@example.com\n"},
		{"me with bearer", "GET", "/me", []string{"Authorization", "Bearer " + token}, 200, "hello alice@example.com\n"},
		{"me with query", "GET", "/me?auth_token=" + token, nil, 200, "hello alice@example.com\n"},
		{"me without token", "GET", "/me", nil, 401, ""},
		{"admin with token", "GET", "/admin", []string{"Authentication-Token", token}, 200, "hello alice@example.com\n"},
		{"admin with basic", "GET", "/admin", []string{"Authorization", basic("alice@example.com", "correct horse")}, 200, "hello alice@example.com\n"},
		{"admin with wrong password", "GET", "/admin", []string{"Authorization", basic("alice@example.com", "wrong horse")}, 401, ""},
		{"admin without credentials", "GET", "/admin", nil, 401, ""},
		{"logout", "POST", "/logout", []string{"Authentication-Token", token}, 200, ""},
		{"me after logout", "GET", "/me", []string{"Authentication-Token", token}, 401, ""},
	} {
		w := do(c.method, c.target, "", c.header...)
		if w.Code != c.code || (c.body != "" && w.Body.String() != c.body) {
			t.Errorf("%s: %d %q, want %d %q", c.name, w.Code, w.Body, c.code, c.body)
		}
	}
}

func basic(user, password string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

// TestRelativeLinks fails when a relative link of README.md or docs/*.md
// names a file that does not exist.
func TestRelativeLinks(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Links inside code blocks are code, not links.
		var prose bytes.Buffer
		for i, part := range strings.Split(string(text), "```") {
			if i%2 == 0 {
				prose.WriteString(part)
			}
		}
		for _, m := range link.FindAllStringSubmatch(prose.String(), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", filepath.Base(f), m[1])
			}
		}
	}
}
