package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/pat"
)

// createdToken is what tokens create printed.
type createdToken struct {
	id, secret, expires string
}

// createToken runs tokens create with args after the email, wants it to
// succeed, and returns the ID and the secret it printed.
func createToken(t *testing.T, db, email string, args ...string) createdToken {
	t.Helper()
	var stdout, stderr strings.Builder
	full := append([]string{"-db", db, "tokens", "create", email}, args...)
	if code := run(full, strings.NewReader(""), &stdout, &stderr); code != 0 || stderr.Len() > 0 {
		t.Fatalf("authctl %q exited %d\nstdout:\n%s\nstderr:\n%s", full, code, &stdout, &stderr)
	}
	field := func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + name + `: +(\S+)$`).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatalf("authctl %q printed no %s line:\n%s", full, name, &stdout)
		}
		return m[1]
	}
	return createdToken{id: field("id"), secret: field("token"), expires: field("expires")}
}

// runOut runs authctl on db and returns its exit status and its output.
func runOut(db string, args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	code := run(append([]string{"-db", db}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestPersonalTokens makes, lists and revokes personal access tokens with
// authctl and checks what the store holds: the secret's SHA-256, never the
// secret, with the scopes in order and the expiry
// asked for.
func TestPersonalTokens(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create erin", args: []string{"users", "create", "erin@example.com", "--no-password"}, stdout: []string{"created user 1"}},
		{name: "create frank", args: []string{"users", "create", "frank@example.com", "--no-password"}, stdout: []string{"created user 2"}},
		{name: "none yet", args: []string{"tokens", "list", "erin@example.com"}, stdout: []string{"no personal tokens of erin@example.com"}},
	})
	s := openTestStore(t, db)
	ctx := t.Context()
	if _, err := s.UserByID(ctx, "1"); err != nil {
		t.Fatal(err)
	}

	// The default: the default prefix, 30 days.
	before := time.Now().Truncate(time.Second)
	deploy := createToken(t, db, "ERIN@example.com", "--name", "deploy script", "--scope", "repo:write", "--scope", "repo:read")
	after := time.Now()
	if err := pat.Check(pat.DefaultPrefix, deploy.secret); err != nil {
		t.Errorf("the printed token %q: %v", deploy.secret, err)
	}
	h := pat.Hash(deploy.secret)
	stored, err := s.PersonalTokenByHash(ctx, h[:])
	if err != nil {
		t.Fatalf("the store has no token under the printed token's SHA-256: %v", err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(deploy.id) {
		t.Errorf("token ID %q; want 22 base64url characters, as the server makes them", deploy.id)
	}
	if stored.ID != deploy.id || stored.UserID != "1" || stored.Name != "deploy script" ||
		!slices.Equal(stored.Scopes, []string{"repo:write", "repo:read"}) || !stored.LastUsedAt.IsZero() {
		t.Errorf("stored token = %+v; want ID %q of user 1, named, the scopes in order, never used", stored, deploy.id)
	}
	if stored.CreatedAt.Before(before) || stored.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %v, want between %v and %v", stored.CreatedAt, before, after)
	}
	if got := stored.ExpiresAt.Sub(stored.CreatedAt); got != 30*24*time.Hour {
		t.Errorf("the token lasts %v, want 30 days", got)
	}
	if want := stored.ExpiresAt.UTC().Format(time.RFC3339); deploy.expires != want {
		t.Errorf("printed expiry %q, want %q", deploy.expires, want)
	}

	// Never expiring, with another prefix.
	forever := createToken(t, db, "erin@example.com", "--name", "ci", "--scope", "read", "--expires", "0", "--prefix", "ci_")
	if err := pat.Check("ci_", forever.secret); err != nil || forever.expires != "never" {
		t.Errorf("token %q, expires %q: %v; want a ci_ token that never expires", forever.secret, forever.expires, err)
	}
	h = pat.Hash(forever.secret)
	if p, err := s.PersonalTokenByHash(ctx, h[:]); err != nil || !p.ExpiresAt.IsZero() || p.ID != forever.id {
		t.Errorf("the token made with --expires 0 = %+v, %v; want it stored without expiry", p, err)
	}
	// A short one, the longest scope and the edges of printable ASCII.
	longScope := strings.Repeat("s", 64)
	short := createToken(t, db, "erin@example.com", "--expires", "90m", "--scope", longScope, "--scope", "!~", "--name", "  Ünïcode name ")
	frank := createToken(t, db, "frank@example.com", "--name", "frank's", "--scope", "read")
	if err := s.TouchPersonalToken(ctx, deploy.id, time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// Two older ones, made a day and a year ago (authctl's are of this
	// second, which orders them by ID).
	for _, old := range []struct {
		id  string
		age time.Duration
	}{{"made-a-year-ago", 365 * 24 * time.Hour}, {"made-a-day-ago", 24 * time.Hour}} {
		p := &auth.PersonalToken{ID: old.id, UserID: "1", Name: old.id, Scopes: []string{"read"}, Hash: []byte(old.id), CreatedAt: time.Now().Add(-old.age)}
		if err := s.CreatePersonalToken(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := runOut(db, "tokens", "list", "erin@example.com")
	if code != 0 || errOut != "" {
		t.Fatalf("tokens list exited %d:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"ID", "NAME", "SCOPES", "CREATED", "LAST USED", "EXPIRES",
		deploy.id, "deploy script", "repo:write repo:read", "2031-01-02T03:04:05Z", deploy.expires,
		forever.id, "never", short.id, longScope + " !~", "Ünïcode name",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tokens list lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{deploy.secret, forever.secret, short.secret, "akpat_"} {
		if strings.Contains(out, secret) {
			t.Errorf("tokens list shows %q, a secret or part of one:\n%s", secret, out)
		}
	}
	// The custom prefix with a token's body after it (an ID, random
	// base64url, may hold "ci_" by chance).
	if regexp.MustCompile(`ci_[0-9A-Za-z]{30}`).MatchString(out) {
		t.Errorf("tokens list shows a ci_ token:\n%s", out)
	}
	if strings.Contains(out, frank.id) {
		t.Errorf("erin's tokens list frank's %q:\n%s", frank.id, out)
	}
	// Newest first.
	for _, id := range []string{short.id, forever.id, deploy.id} {
		if i, j, k := strings.Index(out, id), strings.Index(out, "made-a-day-ago"), strings.Index(out, "made-a-year-ago"); i > j || j > k {
			t.Errorf("tokens list is not newest first (%s, made-a-day-ago, made-a-year-ago):\n%s", id, out)
		}
	}
	// A never-used token's LAST USED is "-".
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, forever.id) && !regexp.MustCompile(`Z +- +never$`).MatchString(line) {
			t.Errorf("the never-used, never-expiring token's line = %q; want LAST USED - and EXPIRES never", line)
		}
	}

	runSteps(t, db, []step{
		{name: "revoke unknown", args: []string{"tokens", "revoke-id", "no-such-id"}, code: 1, stderr: []string{`no personal token "no-such-id"`}},
		{name: "revoke without ID", args: []string{"tokens", "revoke-id"}, code: 2, stderr: []string{"tokens revoke-id: missing ID"}},
		// "--": an ID may start with "-".
		{name: "revoke", args: []string{"tokens", "revoke-id", "--", deploy.id}, stdout: []string{"revoked personal token " + deploy.id}},
		{name: "revoke again", args: []string{"tokens", "revoke-id", "--", deploy.id}, code: 1, stderr: []string{`no personal token "` + deploy.id + `"`}},
		{name: "frank's", args: []string{"tokens", "list", "frank@example.com"}, stdout: []string{frank.id, "frank's", "read"}},
		{name: "list unknown user", args: []string{"tokens", "list", "nobody@example.com"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
		{name: "create for unknown user", args: []string{"tokens", "create", "nobody@example.com", "--name", "x", "--scope", "read"}, code: 1, stderr: []string{`no user with email "nobody@example.com"`}},
	})
	h = pat.Hash(deploy.secret)
	if _, err := s.PersonalTokenByHash(ctx, h[:]); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("the revoked token: error = %v, want auth.ErrTokenNotFound", err)
	}
	if list, err := s.UserPersonalTokens(ctx, "1"); err != nil || len(list) != 4 {
		t.Errorf("erin's tokens after revoking one = %d, %v; want 4", len(list), err)
	}
	h = pat.Hash(short.secret)
	if p, err := s.PersonalTokenByHash(ctx, h[:]); err != nil || p.Name != "Ünïcode name" {
		t.Errorf("the token named with spaces around = %v, %v; want its name trimmed", p, err)
	}
	_, out, _ = runOut(db, "tokens", "list", "erin@example.com")
	if strings.Contains(out, deploy.id) || !strings.Contains(out, forever.id) {
		t.Errorf("tokens list after revoke-id:\n%s", out)
	}
}

// TestPersonalTokenCreateRefusals: tokens create refuses a bad name,
// scope, lifetime or prefix as a usage error (status 2), before it opens
// the database, and stores nothing.
func TestPersonalTokenCreateRefusals(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{{name: "create user", args: []string{"users", "create", "erin@example.com", "--no-password"}, stdout: []string{"created user 1"}}})
	ok := []string{"--name", "n", "--scope", "read"}
	with := func(args ...string) []string {
		return append(append([]string{"tokens", "create", "erin@example.com"}, ok...), args...)
	}
	steps := []step{
		{name: "no name", args: []string{"tokens", "create", "erin@example.com", "--scope", "read"}, code: 2, stderr: []string{"tokens create: give the token a --name"}},
		{name: "blank name", args: with("--name", "  "), code: 2, stderr: []string{"give the token a --name"}},
		{name: "control character in the name", args: with("--name", "a\x1b[2Jb"), code: 2, stderr: []string{"without control characters"}},
		{name: "long name", args: with("--name", strings.Repeat("ü", 101)), code: 2, stderr: []string{"want at most 100 characters"}},
		{name: "name not UTF-8", args: with("--name", "a\xffb"), code: 2, stderr: []string{"want at most 100 characters"}},
		{name: "no scope", args: []string{"tokens", "create", "erin@example.com", "--name", "n"}, code: 2, stderr: []string{"tokens create: give at least one --scope"}},
		{name: "empty scope", args: with("--scope", ""), code: 2, stderr: []string{`--scope "": want 1 to 64 bytes`}},
		{name: "long scope", args: with("--scope", strings.Repeat("s", 65)), code: 2, stderr: []string{"want 1 to 64 bytes"}},
		{name: "scope with a space", args: with("--scope", "repo read"), code: 2, stderr: []string{`--scope "repo read": want printable ASCII without spaces`}},
		{name: "scope with a quote", args: with("--scope", `a"b`), code: 2, stderr: []string{"want printable ASCII"}},
		{name: "scope with a backslash", args: with("--scope", `a\b`), code: 2, stderr: []string{"want printable ASCII"}},
		{name: "scope with a tab", args: with("--scope", "a\tb"), code: 2, stderr: []string{"want printable ASCII"}},
		{name: "scope not ASCII", args: with("--scope", "ü"), code: 2, stderr: []string{"want printable ASCII"}},
		{name: "scope with DEL", args: with("--scope", "a\x7f"), code: 2, stderr: []string{"want printable ASCII"}},
		{name: "scope twice", args: with("--scope", "read"), code: 2, stderr: []string{`--scope "read" given twice`}},
		{name: "negative lifetime", args: with("--expires", "-1h"), code: 2, stderr: []string{"--expires -1h0m0s is negative"}},
		{name: "not a duration", args: with("--expires", "30d"), code: 2, stderr: []string{`invalid value "30d" for flag -expires`}},
		{name: "bad prefix", args: with("--prefix", "Bad_"), code: 2, stderr: []string{`--prefix "Bad_": want 2 to 16 lowercase letters`}},
		{name: "prefix without underscore", args: with("--prefix", "ci"), code: 2, stderr: []string{`--prefix "ci"`}},
		{name: "missing email", args: []string{"tokens", "create"}, code: 2, stderr: []string{"tokens create: missing EMAIL"}},
	}
	runSteps(t, db, steps)
	s := openTestStore(t, db)
	if list, err := s.UserPersonalTokens(t.Context(), "1"); err != nil || len(list) != 0 {
		t.Errorf("tokens stored after the refusals: %d, %v; want none", len(list), err)
	}
	// Nothing is opened either: the same refusals on a missing database.
	missing := filepath.Join(t.TempDir(), "missing.db")
	runSteps(t, missing, steps[:3])
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused tokens create made %s: %v", missing, err)
	}
}

// TestPersonalTokensFlask: a Flask-Security database keeps no personal
// access tokens, which the commands say, changing nothing.
func TestPersonalTokensFlask(t *testing.T) {
	db := flaskTestDB(t)
	before := tablesOf(t, db)
	const want = "the Flask-Security database keeps no personal access tokens"
	runSteps(t, db, []step{
		{name: "list", args: []string{"tokens", "list", "alice@example.com"}, code: 1, stderr: []string{want}},
		{name: "create", args: []string{"tokens", "create", "alice@example.com", "--name", "n", "--scope", "read"}, code: 1, stderr: []string{want}},
		{name: "revoke-id", args: []string{"tokens", "revoke-id", "x"}, code: 1, stderr: []string{want}},
		{name: "users list works", args: []string{"users", "list"}, stdout: []string{"alice@example.com"}},
	})
	if after := tablesOf(t, db); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("tables before %v, after %v", before, after)
	}
}

// TestPersonalTokenLimitsAndEnds: a user has at most 100 personal access
// tokens, a name of 100 characters is accepted; tokens revoke leaves them
// (and says so), users set-password deletes the user's and no other's.
func TestPersonalTokenLimitsAndEnds(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create erin", args: []string{"users", "create", "erin@example.com", "--password-stdin"}, stdin: "erin's password\n", stdout: []string{"created user 1"}},
		{name: "create frank", args: []string{"users", "create", "frank@example.com", "--no-password"}, stdout: []string{"created user 2"}},
	})
	s := openTestStore(t, db)
	ctx := t.Context()
	longName := strings.Repeat("ü", 100)
	first := createToken(t, db, "erin@example.com", "--name", longName, "--scope", "read")
	frank := createToken(t, db, "frank@example.com", "--name", "frank's", "--scope", "read")
	for i := 1; i < 100; i++ {
		id := fmt.Sprint("bulk-", i)
		if err := s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: id, UserID: "1", Hash: []byte(id), Scopes: []string{"read"}}); err != nil {
			t.Fatal(err)
		}
	}
	runSteps(t, db, []step{
		{name: "the 101st", args: []string{"tokens", "create", "erin@example.com", "--name", "one too many", "--scope", "read"}, code: 1,
			stderr: []string{"erin@example.com has 100 personal access tokens, the most a user may have"}},
		{name: "another user's first", args: []string{"tokens", "create", "frank@example.com", "--name", "second", "--scope", "read"}, stdout: []string{"token:   akpat_"}},
		{name: "tokens revoke", args: []string{"tokens", "revoke", "erin@example.com"},
			stdout: []string{"revoked every token of erin@example.com; personal access tokens outlive this"}},
	})
	h := pat.Hash(first.secret)
	if p, err := s.PersonalTokenByHash(ctx, h[:]); err != nil || p.Name != longName {
		t.Fatalf("after tokens revoke, the first token = %v, %v; want it kept, with its 100-character name", p, err)
	}
	runSteps(t, db, []step{
		{name: "set-password", args: []string{"users", "set-password", "erin@example.com", "--password-stdin"}, stdin: "a new password\n",
			stdout: []string{"password changed for erin@example.com; tokens issued before are revoked, and 100 personal access tokens deleted"}},
		{name: "none left", args: []string{"tokens", "list", "erin@example.com"}, stdout: []string{"no personal tokens of erin@example.com"}},
		{name: "set-password again", args: []string{"users", "set-password", "erin@example.com", "--password-stdin"}, stdin: "another password\n",
			stdout: []string{"and 0 personal access tokens deleted"}},
		{name: "frank's kept", args: []string{"tokens", "list", "frank@example.com"}, stdout: []string{frank.id, "second"}},
	})
	if _, err := s.PersonalTokenByHash(ctx, h[:]); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("after set-password, the first token: error = %v; want auth.ErrTokenNotFound", err)
	}
}

// TestPersonalTokenWorksOnServer: a token authctl makes authenticates at a
// Manager with personal tokens on over the same database, with its scopes
// and no other, until tokens revoke-id or users set-password ends it;
// tokens revoke leaves it working.
func TestPersonalTokenWorksOnServer(t *testing.T) {
	t.Setenv("AUTH_DB", "")
	db := filepath.Join(t.TempDir(), "auth.db")
	runSteps(t, db, []step{
		{name: "create erin", args: []string{"users", "create", "erin@example.com", "--password-stdin"}, stdin: "erin's password\n", stdout: []string{"created user 1"}},
	})
	s := openTestStore(t, db)
	m, err := auth.New(s, []byte(testSecret), auth.Config{
		Logger:    slog.New(slog.DiscardHandler),
		Password:  auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Token:     auth.TokenConfig{Scopes: map[string][]string{"posts:read": nil, "posts:write": nil}},
		UserCache: auth.UserCacheConfig{Size: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	reading := m.Require(auth.Token, auth.PersonalAccess)(m.RequireScopes("posts:read")(ok))
	writing := m.Require(auth.Token, auth.PersonalAccess)(m.RequireScopes("posts:write")(ok))
	status := func(h http.Handler, secret string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/posts", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	tok := createToken(t, db, "erin@example.com", "--name", "reader", "--scope", "posts:read")
	if got := status(reading, tok.secret); got != http.StatusNoContent {
		t.Fatalf("the token on a posts:read route: %d, want 204", got)
	}
	if got := status(writing, tok.secret); got != http.StatusForbidden {
		t.Errorf("the posts:read token on a posts:write route: %d, want 403", got)
	}
	runSteps(t, db, []step{{name: "tokens revoke", args: []string{"tokens", "revoke", "erin@example.com"}, stdout: []string{"revoked every token of"}}})
	if got := status(reading, tok.secret); got != http.StatusNoContent {
		t.Errorf("the token after tokens revoke: %d, want 204 (personal tokens outlive it)", got)
	}
	runSteps(t, db, []step{{name: "revoke-id", args: []string{"tokens", "revoke-id", "--", tok.id}, stdout: []string{"revoked personal token"}}})
	if got := status(reading, tok.secret); got != http.StatusUnauthorized {
		t.Errorf("the token after tokens revoke-id: %d, want 401", got)
	}
	other := createToken(t, db, "erin@example.com", "--name", "reader", "--scope", "posts:read", "--prefix", "akpat_")
	if got := status(reading, other.secret); got != http.StatusNoContent {
		t.Fatalf("a second token: %d, want 204", got)
	}
	runSteps(t, db, []step{{name: "set-password", args: []string{"users", "set-password", "erin@example.com", "--password-stdin"}, stdin: "a new password\n",
		stdout: []string{"1 personal access token deleted"}}})
	if got := status(reading, other.secret); got != http.StatusUnauthorized {
		t.Errorf("the token after users set-password: %d, want 401", got)
	}
}
