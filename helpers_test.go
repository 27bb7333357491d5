package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authkit/auth/passhash"
)

// Shared fixtures of the package's unit and HTTP tests.

// seededKey signs the tokens of the test Managers; otherKey and retiredKey
// are keys a Manager under test does not sign with.
var (
	seededKey  = []byte("seeded signing key, 32 bytes ok!")
	otherKey   = []byte("another key, nobody trusts this.")
	retiredKey = []byte("a retired key still in OldKeys..")
)

// seedClock is the fixed time tests set as a Manager's clock.
var seedClock = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// The seeded users' IDs.
const (
	idUser        = "1" // active, confirmed, role editor
	idUnconfirmed = "2" // active, not confirmed
	idInactive    = "3" // not active
	idAdmin       = "4" // active, confirmed, roles admin and editor
	idColon       = "5" // active; password with colons
	idUTF8        = "6" // active; non-ASCII email and password
)

type seedUser struct {
	id, email, password string
	active, confirmed   bool
	roles               []string
}

var seedUsers = []seedUser{
	{id: idUser, email: "user@example.com", password: "user-password", active: true, confirmed: true, roles: []string{"editor"}},
	{id: idUnconfirmed, email: "unconfirmed@example.com", password: "unconfirmed-password", active: true},
	{id: idInactive, email: "inactive@example.com", password: "inactive-password", confirmed: true},
	{id: idAdmin, email: "admin@example.com", password: "admin-password", active: true, confirmed: true, roles: []string{"admin", "editor"}},
	{id: idColon, email: "colon@example.com", password: "pa:ss:word:", active: true, confirmed: true},
	{id: idUTF8, email: "jösé@exämple.com", password: "pässwörd-🔑", active: true, confirmed: true},
}

// seedHashes hashes the seeded passwords once, at the lowest bcrypt cost.
var seedHashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, s := range seedUsers {
		h, err := bcrypt.GenerateFromPassword([]byte(s.password), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		out[s.id] = string(h)
	}
	return out
})

// newSeededStore returns a MemoryStore holding the seeded users.
func newSeededStore(t testing.TB) *MemoryStore {
	t.Helper()
	store := NewMemoryStore()
	for _, s := range seedUsers {
		u := &User{
			ID:           s.id,
			Email:        s.email,
			PasswordHash: seedHashes()[s.id],
			Active:       s.active,
			Confirmed:    s.confirmed,
			Roles:        s.roles,
			Uniquifier:   NewUniquifier(),
		}
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// discardLogger keeps expected store failures out of the test output.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// newManagerWithKey returns a Manager over store with test defaults:
// bcrypt (unless cfg names a scheme or a hasher; the tables here test
// bcrypt's 72-byte limit) at the lowest cost, small argon2id parameters, a
// silent logger, and no throttling unless cfg.Throttle asks for some (the
// tables here make many failed attempts from one address on purpose).
func newManagerWithKey(t testing.TB, store UserStore, key []byte, cfg Config) *Manager {
	t.Helper()
	if cfg.Throttle == (ThrottleConfig{}) {
		cfg.Throttle.Disabled = true
	}
	if cfg.Password.Scheme == "" && cfg.Password.Hasher == nil {
		cfg.Password.Scheme = passhash.Bcrypt
	}
	if cfg.Password.BcryptCost == 0 && cfg.Password.Hasher == nil {
		cfg.Password.BcryptCost = bcrypt.MinCost
	}
	if cfg.Password.Argon2 == (passhash.Argon2Params{}) {
		cfg.Password.Argon2 = smallArgon2
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	m, err := New(store, key, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// smallArgon2 keeps argon2id cheap in tests.
var smallArgon2 = passhash.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// newSeeded returns a Manager signing with seededKey over a fresh store of
// the seeded users.
func newSeeded(t testing.TB, cfg Config) (*Manager, *MemoryStore) {
	t.Helper()
	store := newSeededStore(t)
	return newManagerWithKey(t, store, seededKey, cfg), store
}

// tokenOf issues a token for the stored user with the given ID.
func tokenOf(t testing.TB, m *Manager, store UserStore, id string) string {
	t.Helper()
	u, err := store.UserByID(context.Background(), id)
	if err != nil {
		t.Fatalf("UserByID(%q): %v", id, err)
	}
	tok, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// setUser changes a stored user.
func setUser(t testing.TB, store *MemoryStore, id string, change func(*User)) {
	t.Helper()
	err := store.UpdateUser(context.Background(), id, func(u *User) error { change(u); return nil })
	if err != nil {
		t.Fatal(err)
	}
}

// stepClock is a Manager clock that tests move by hand.
type stepClock struct{ t time.Time }

func (c *stepClock) now() time.Time { return c.t }

// setClock fixes m's clock at t and returns it for moving later. Only call
// it before the Manager serves concurrent requests.
func setClock(m *Manager, t time.Time) *stepClock {
	c := &stepClock{t: t}
	m.now = c.now
	return c
}

// errStoreDown is what the broken stores return. Its text, like any text
// starting "auth:", must never reach a client.
var errStoreDown = errors.New("pq: connection to db-7.internal:5432 refused")

// brokenStore is a UserStore whose every read fails with errStoreDown.
type brokenStore struct{}

func (brokenStore) UserByID(context.Context, string) (*User, error)    { return nil, errStoreDown }
func (brokenStore) UserByEmail(context.Context, string) (*User, error) { return nil, errStoreDown }

// readOnlyStore hides every method of the wrapped store but UserStore's.
type readOnlyStore struct{ UserStore }

// brokenUpdater reads from a MemoryStore but fails every update.
type brokenUpdater struct{ *MemoryStore }

func (brokenUpdater) UpdateUser(context.Context, string, func(*User) error) error {
	return errStoreDown
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers, for loggers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// whoami answers "user <id>" or "anonymous", whichever the context holds.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if u, ok := FromContext(r.Context()); ok {
		fmt.Fprint(w, "user ", u.ID)
		return
	}
	fmt.Fprint(w, "anonymous")
})

// basicAuth returns an Authorization header value for RFC 7617 credentials.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// loginJSON returns a JSON login body.
func loginJSON(email, password string) string {
	b, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// serve runs h on r and returns the recorded response.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// Texts the package sends; the tests spell them out so that a change of
// wording shows up here.
const (
	textUnauthenticated = "You are not authenticated. Please supply the correct credentials."
	textBadCredentials  = "Invalid email or password."
	textForbidden       = "You do not have permission to view this resource."
	textUnconfirmed     = "Unconfirmed account"
	textUnavailable     = "The service is temporarily unavailable. Please retry."
	textMethod          = "Method not allowed."
	textTooLarge        = "Request body too large."
	textNotImplemented  = "Not supported by this server."
	textUnsupportedType = "Send the credentials as application/json or application/x-www-form-urlencoded."
	textShape           = `The request body must be a JSON object with "email" and "password" strings.`
	textInvalidJSON     = "The request body is not valid JSON."
	textRequired        = "Both email and password are required."
)

// Challenges the middlewares send with the default realm.
const (
	challengeBearer  = `Bearer realm="auth"`
	challengeInvalid = `Bearer realm="auth", error="invalid_token"`
	challengeBasic   = `Basic realm="auth", charset="UTF-8"`
)

// checkErrorResponse checks that rec is an error in the package's JSON
// envelope, exactly
// {"meta":{"code":status},"response":{"errors":[msg],"error_codes":[code]}}
// where code is that of a catalogue message whose default text is msg,
// with no internal error text.
func checkErrorResponse(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d (body %s)", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got struct {
		Response struct {
			Codes []string `json:"error_codes"`
		} `json:"response"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	code := ""
	if len(got.Response.Codes) == 1 && defaultTextMatches(got.Response.Codes[0], msg) {
		code = got.Response.Codes[0]
	}
	text, _ := json.Marshal(msg)
	want := fmt.Sprintf(`{"meta":{"code":%d},"response":{"errors":[%s],"error_codes":[%q]}}`, status, text, code)
	if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	checkNoLeak(t, rec.Body.String())
}

// checkNoLeak fails if body carries internal error text.
func checkNoLeak(t *testing.T, body string) {
	t.Helper()
	for _, s := range []string{"auth:", errStoreDown.Error(), "pq:", "bcrypt", "argon2"} {
		if strings.Contains(body, s) {
			t.Errorf("response body %q contains internal text %q", body, s)
		}
	}
}

// parseTokenID checks a token's signature and age and returns the user ID
// of its payload, without the store.
func parseTokenID(m *Manager, tok string) (string, error) {
	seg, _, err := m.tokens.Unsign(tok)
	if err != nil {
		return "", tokenError(err)
	}
	var scratch [256]byte
	id, _, _, err := parseClaims(m.tokens, seg, scratch[:0])
	return id, err
}
