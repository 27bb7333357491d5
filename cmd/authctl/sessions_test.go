package main

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
)

// login logs the user in over JSON through h, a LoginHandler with refresh
// tokens on, and returns the refresh token answered.
func login(t *testing.T, h http.Handler, email, password, ua string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		Response struct {
			User struct {
				Refresh string `json:"refresh_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != http.StatusOK || env.Response.User.Refresh == "" {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return env.Response.User.Refresh
}

// TestSessions lists and ends device sessions that logins through a
// Manager with refresh tokens began over the same SQLite file, and checks
// that the refresh tokens of the ended ones stop working.
func TestSessions(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create", args: []string{"users", "create", "erin@example.com", "--password-stdin"}, stdin: "erin's password\n", stdout: []string{"created user 1"}},
		{name: "create other", args: []string{"users", "create", "frank@example.com", "--password-stdin"}, stdin: "frank's password\n", stdout: []string{"created user 2"}},
		{name: "none yet", args: []string{"sessions", "list", "erin@example.com"}, stdout: []string{"no sessions of erin@example.com"}},
	})

	s := openTestStore(t, db)
	m, err := auth.New(s, []byte(testSecret), auth.Config{
		Logger:   slog.New(slog.DiscardHandler),
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Refresh:  auth.RefreshConfig{Enabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	lh, account := m.LoginHandler(), m.AccountHandler()
	refreshes := func(tok string) bool {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"refresh_token": tok})
		req := httptest.NewRequest(http.MethodPost, "/refresh-token", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		account.ServeHTTP(rec, req)
		return rec.Code == http.StatusOK
	}
	phone := login(t, lh, "erin@example.com", "erin's password", "Phone/1.0")
	laptop := login(t, lh, "erin@example.com", "erin's password", "Laptop/2.0\x1b[2J")
	other := login(t, lh, "frank@example.com", "frank's password", "Frank/1.0")
	sessions, err := s.UserSessions(t.Context(), "1")
	if err != nil || len(sessions) != 2 {
		t.Fatalf("erin's sessions: %v, %v", sessions, err)
	}
	ids := map[string]string{} // device → session ID
	for _, d := range sessions {
		device, _, _ := strings.Cut(d.UserAgent, "/")
		ids[device] = d.ID
	}
	frankSessions, err := s.UserSessions(t.Context(), "2")
	if err != nil || len(frankSessions) != 1 {
		t.Fatalf("frank's sessions: %v, %v", frankSessions, err)
	}
	frankID := frankSessions[0].ID

	// Sessions that can no longer be refreshed: of an old uniquifier, idle
	// beyond 7 days, begun over 90 days ago.
	u, err := s.UserByID(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, d := range []*auth.DeviceSession{
		{ID: "revoked-session", Uniquifier: "an old uniquifier", CreatedAt: now, LastUsedAt: now},
		{ID: "idle-session", Uniquifier: u.Uniquifier, CreatedAt: now.Add(-10 * 24 * time.Hour), LastUsedAt: now.Add(-8 * 24 * time.Hour)},
		{ID: "expired-session", Uniquifier: u.Uniquifier, CreatedAt: now.Add(-91 * 24 * time.Hour), LastUsedAt: now.Add(-time.Hour)},
	} {
		d.UserID, d.TokenHash, d.RotatedAt = "1", []byte("not a real hash"), d.LastUsedAt
		if err := s.CreateSession(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}

	today := now.Format("2006-01-02")
	runSteps(t, db, []step{
		{name: "list", args: []string{"sessions", "list", "ERIN@example.com"}, stdout: []string{
			"ID", "CREATED", "LAST USED", "LAST ADDRESS", "USER AGENT",
			ids["Phone"] + "  " + today, "Phone/1.0", "Laptop/2.0?[2J", "192.0.2.1",
		}},
		{name: "list with all", args: []string{"sessions", "list", "erin@example.com", "--all"}, stdout: []string{
			"STATE", "revoked-session", "revoked", "idle-session", "idle", "expired-session", "expired", "live",
		}},
		{name: "unknown user", args: []string{"sessions", "list", "nobody@example.com"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "missing email", args: []string{"sessions", "list"}, code: 2, stderr: []string{"sessions list: missing EMAIL"}},
		{name: "revoke another user's", args: []string{"sessions", "revoke", "erin@example.com", frankID}, code: 1, stderr: []string{`erin@example.com has no session "` + frankID + `"`}},
		{name: "revoke unknown", args: []string{"sessions", "revoke", "erin@example.com", "no-such-id"}, code: 1, stderr: []string{`has no session "no-such-id"`}},
		{name: "revoke too many", args: []string{"sessions", "revoke", "erin@example.com", "a", "b"}, code: 2, stderr: []string{`unexpected argument "b"`}},
		{name: "revoke one", args: []string{"sessions", "revoke", "erin@example.com", ids["Phone"]}, stdout: []string{"ended 1 session of erin@example.com"}},
	})
	// Only the listing's live sessions count: the dead ones stay apart.
	var out strings.Builder
	if code := run([]string{"-db", db, "sessions", "list", "erin@example.com"}, strings.NewReader(""), &out, &out); code != 0 ||
		strings.Contains(out.String(), ids["Phone"]) || !strings.Contains(out.String(), ids["Laptop"]) ||
		strings.Contains(out.String(), "-session") {
		t.Errorf("sessions list after revoking the phone's (%d):\n%s", code, &out)
	}
	if refreshes(phone) {
		t.Error("the revoked session's refresh token still works")
	}
	if !refreshes(laptop) {
		t.Error("the other session's refresh token stopped working")
	}
	runSteps(t, db, []step{
		{name: "revoke all", args: []string{"sessions", "revoke", "erin@example.com"}, stdout: []string{"ended 4 sessions of erin@example.com"}},
		{name: "none left", args: []string{"sessions", "list", "erin@example.com", "--all"}, stdout: []string{"no sessions of erin@example.com"}},
		{name: "revoke all again", args: []string{"sessions", "revoke", "erin@example.com"}, stdout: []string{"ended 0 sessions of erin@example.com"}},
		{name: "other user's kept", args: []string{"sessions", "list", "frank@example.com"}, stdout: []string{frankID, "Frank/1.0"}},
	})
	if refreshes(laptop) {
		t.Error("a refresh token still works after sessions revoke EMAIL")
	}
	if !refreshes(other) {
		t.Error("another user's refresh token stopped working")
	}
}

// TestSessionsFlask: a Flask-Security database keeps no device sessions,
// which the session commands say, changing nothing.
func TestSessionsFlask(t *testing.T) {
	db := flaskTestDB(t)
	before := tablesOf(t, db)
	const want = "the Flask-Security database keeps no device sessions"
	runSteps(t, db, []step{
		{name: "list", args: []string{"sessions", "list", "alice@example.com"}, code: 1, stderr: []string{want}},
		{name: "revoke", args: []string{"sessions", "revoke", "alice@example.com"}, code: 1, stderr: []string{want}},
		{name: "revoke one", args: []string{"sessions", "revoke", "alice@example.com", "x"}, code: 1, stderr: []string{want}},
		{name: "users list works", args: []string{"users", "list"}, stdout: []string{"alice@example.com"}},
	})
	if after := tablesOf(t, db); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("tables before %v, after %v", before, after)
	}
}

// flaskTestDB makes an SQLite file of Flask-Security's tables holding
// alice@example.com, and unsets $AUTH_DB.
func flaskTestDB(t *testing.T) string {
	t.Helper()
	return flaskTestDBOf(t, "schema_sqlite.sql")
}

// flaskTestDBOf is flaskTestDB with the tables of the named schema file
// of testdata/flask.
func flaskTestDBOf(t *testing.T, schemaFile string) string {
	t.Helper()
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "flask.db")
	schema, err := os.ReadFile(flaskDir + schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(string(schema), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := conn.Exec(stmt); err != nil {
			conn.Close()
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	_, err = conn.Exec(`INSERT INTO user (email, active, fs_uniquifier) VALUES ('alice@example.com', 1, 'alice-uniq')`)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	return db
}
