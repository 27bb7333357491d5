package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

func TestNew(t *testing.T) {
	store := NewMemoryStore()
	tests := []struct {
		name    string
		store   UserStore
		key     []byte
		cfg     Config
		wantErr string // substring of the error; "" for success
	}{
		{name: "defaults", store: store, key: seededKey},
		{name: "key of minKeyBytes", store: store, key: make([]byte, minKeyBytes)},
		{name: "nil store", store: nil, key: seededKey, wantErr: "nil UserStore"},
		{name: "short key", store: store, key: make([]byte, minKeyBytes-1), wantErr: "shorter than 16"},
		{name: "nil key", store: store, key: nil, wantErr: "signing key of 0 bytes"},
		{name: "header disabled", store: store, key: seededKey, cfg: Config{Token: TokenConfig{DisableHeader: true}}},
		{name: "bearer disabled", store: store, key: seededKey, cfg: Config{Token: TokenConfig{DisableBearer: true}}},
		{name: "query disabled", store: store, key: seededKey, cfg: Config{Token: TokenConfig{DisableQuery: true}}},
		{name: "only query left", store: store, key: seededKey, cfg: Config{Token: TokenConfig{DisableHeader: true, DisableBearer: true}}},
		{
			name: "every token source disabled", store: store, key: seededKey,
			cfg:     Config{Token: TokenConfig{DisableHeader: true, DisableBearer: true, DisableQuery: true}},
			wantErr: "every token source is disabled",
		},
		{name: "unknown password scheme", store: store, key: seededKey, cfg: Config{Password: PasswordConfig{Scheme: "md5"}}, wantErr: `unknown password scheme "md5"`},
		{name: "bcrypt cost below minimum", store: store, key: seededKey, cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: bcrypt.MinCost - 1}}, wantErr: "bcrypt cost 3"},
		{name: "bcrypt cost above maximum", store: store, key: seededKey, cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: bcrypt.MaxCost + 1}}, wantErr: "bcrypt cost 32"},
		{name: "unknown digest", store: store, key: seededKey, cfg: Config{Token: TokenConfig{Digest: "md5"}}, wantErr: `unknown digest "md5"`},
		{name: "unknown key derivation", store: store, key: seededKey, cfg: Config{Token: TokenConfig{KeyDerivation: "pbkdf2"}}, wantErr: `unknown key derivation "pbkdf2"`},
		{name: "sha1 and hmac derivation", store: store, key: seededKey, cfg: Config{Token: TokenConfig{Digest: itsdangerous.SHA1, KeyDerivation: itsdangerous.HMAC}}},
		{name: "argon2id", store: store, key: seededKey, cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id}}},
		{
			name: "argon2id salt too short", store: store, key: seededKey,
			cfg:     Config{Password: PasswordConfig{Scheme: passhash.Argon2id, Argon2: passhash.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 4}}},
			wantErr: "argon2id salt must be at least 8 bytes",
		},
		{
			name: "argon2id key too short", store: store, key: seededKey,
			cfg:     Config{Password: PasswordConfig{Scheme: passhash.Argon2id, Argon2: passhash.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 8}}},
			wantErr: "key at least 16",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.Password.BcryptCost == 0 {
				cfg.Password.BcryptCost = bcrypt.MinCost
			}
			if cfg.Password.Argon2 == (passhash.Argon2Params{}) {
				cfg.Password.Argon2 = smallArgon2
			}
			m, err := New(tt.store, tt.key, cfg)
			if tt.wantErr == "" {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Manager", m, err)
				}
				return
			}
			if err == nil || m != nil {
				t.Fatalf("New = %v, %v; want error %q", m, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("error %q, want an \"auth: \" error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewCopiesKeys(t *testing.T) {
	store := newSeededStore(t)
	key := bytes.Clone(seededKey)
	old := bytes.Clone(retiredKey)
	m := newManagerWithKey(t, store, key, Config{Token: TokenConfig{OldKeys: [][]byte{old}}})
	oldM := newManagerWithKey(t, store, retiredKey, Config{})
	tok := tokenOf(t, m, store, idUser)
	oldTok := tokenOf(t, oldM, store, idUser)
	for i := range key {
		key[i] = 0
	}
	for i := range old {
		old[i] = 0
	}
	for _, tc := range []struct{ name, token string }{
		{name: "signing key", token: tok},
		{name: "old key", token: oldTok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.VerifyToken(context.Background(), tc.token); err != nil {
				t.Errorf("after the caller overwrote its key slice: %v", err)
			}
		})
	}
}

func TestTokenMaxAge(t *testing.T) {
	tests := []struct {
		name string
		cfg  time.Duration
		want time.Duration
	}{
		{name: "default", cfg: 0, want: defaultTokenMaxAge},
		{name: "explicit", cfg: time.Hour, want: time.Hour},
		{name: "never expires", cfg: -1, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, Config{Token: TokenConfig{MaxAge: tt.cfg}})
			if got := m.tokenMaxAge(); got != tt.want {
				t.Errorf("TokenMaxAge() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIssueTokenStructure recomputes a token independently: itsdangerous'
// URLSafeTimedSerializer with HMAC-SHA256 over the default salt, payload
// ["<id>","<uniquifier>"], timestamp from the Manager's clock.
func TestIssueTokenStructure(t *testing.T) {
	m, store := newSeeded(t, Config{})
	clock := setClock(m, time.Unix(1700000000, 0))
	u, err := store.UserByID(context.Background(), idUser)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" {
		t.Fatalf("token %q: want payload.timestamp.signature, uncompressed", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := `["1","` + u.Uniquifier + `"]`; string(payload) != want {
		t.Errorf("payload = %s, want %s", payload, want)
	}
	ts, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var full [8]byte
	copy(full[8-len(ts):], ts)
	if got := binary.BigEndian.Uint64(full[:]); got != 1700000000 || ts[0] == 0 {
		t.Errorf("timestamp bytes %x = %d, want 1700000000 without leading zeros", ts, got)
	}
	h := sha256.New()
	h.Write([]byte("authkit-token" + "signer"))
	h.Write(seededKey)
	mac := hmac.New(sha256.New, h.Sum(nil))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); parts[2] != want {
		t.Errorf("signature = %s, want %s", parts[2], want)
	}

	again, _ := m.IssueToken(u)
	if again != tok {
		t.Errorf("same user and clock gave %q, then %q", tok, again)
	}
	clock.t = clock.t.Add(time.Second)
	if later, _ := m.IssueToken(u); later == tok {
		t.Error("a second later gave the same token")
	}
	gotPayload, issued, err := itsdangerous.Inspect(tok)
	if err != nil || string(gotPayload) != string(payload) || issued.Unix() != 1700000000 {
		t.Errorf("Inspect = %s, %v, %v", gotPayload, issued, err)
	}
}

func TestIssueTokenNeedsIDAndUniquifier(t *testing.T) {
	m, _ := newSeeded(t, Config{})
	tests := []struct {
		name string
		user *User
	}{
		{name: "nil user", user: nil},
		{name: "no ID", user: &User{Uniquifier: "u"}},
		{name: "no uniquifier", user: &User{ID: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := m.IssueToken(tt.user); err == nil || tok != "" {
				t.Errorf("IssueToken = %q, %v; want an error", tok, err)
			}
		})
	}
}

// TestVerifyTokenUnusualIDs issues tokens for IDs and uniquifiers that need
// JSON escapes (the parseClaims fallback) or exceed its scratch buffer.
func TestVerifyTokenUnusualIDs(t *testing.T) {
	tests := []struct {
		name, id, uniq string
	}{
		{name: "plain", id: "user-42", uniq: "abc"},
		{name: "quote", id: `o"brien`, uniq: "abc"},
		{name: "backslash", id: `dom\user`, uniq: "abc"},
		{name: "quote comma quote", id: `a","b`, uniq: "abc"},
		{name: "json array", id: `["x","y"]`, uniq: "abc"},
		{name: "unicode", id: "ünïcødé-用户-🔑", uniq: "abc"},
		{name: "line separator", id: "a\u2028b", uniq: "abc"},
		{name: "newline tab", id: "a\nb\tc\r", uniq: "abc"},
		{name: "control", id: "a\x01\x1fb", uniq: "abc"},
		{name: "html", id: "<script>&", uniq: "abc"},
		{name: "escaped uniquifier", id: "7", uniq: `u"\q`},
		{name: "long", id: strings.Repeat("x", 300), uniq: "abc"},
		{name: "long with escapes", id: strings.Repeat(`"\`, 150), uniq: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemoryStore()
			if err := store.CreateUser(context.Background(), &User{ID: tt.id, Email: "x@example.com", Active: true, Uniquifier: tt.uniq}); err != nil {
				t.Fatal(err)
			}
			m := newManagerWithKey(t, store, seededKey, Config{})
			tok := tokenOf(t, m, store, tt.id)
			u, err := m.VerifyToken(context.Background(), tok)
			if err != nil {
				t.Fatalf("VerifyToken: %v", err)
			}
			if u.ID != tt.id {
				t.Errorf("ID = %q, want %q", u.ID, tt.id)
			}
			payload, _, err := itsdangerous.Inspect(tok)
			if err != nil {
				t.Fatal(err)
			}
			var pair []string
			if err := json.Unmarshal(payload, &pair); err != nil || len(pair) != 2 || pair[0] != tt.id || pair[1] != tt.uniq {
				t.Errorf("payload %s decodes to %q, %v", payload, pair, err)
			}
		})
	}
}

func TestVerifyToken(t *testing.T) {
	const maxAge = time.Hour
	type env struct {
		m     *Manager
		store *MemoryStore
		clock *stepClock
	}
	// signer returns another Manager over the same store and clock.
	signer := func(t *testing.T, e env, key []byte, cfg Config) *Manager {
		m := newManagerWithKey(t, e.store, key, cfg)
		m.now = e.clock.now
		return m
	}
	tests := []struct {
		name    string
		token   func(t *testing.T, e env) string // may change the store or clock
		wantID  string
		wantErr error // nil for success
		notErr  error // the error must not match this
	}{
		{name: "valid", token: func(t *testing.T, e env) string { return tokenOf(t, e.m, e.store, idUser) }, wantID: idUser},
		{
			name: "exactly max age old",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				e.clock.t = e.clock.t.Add(maxAge)
				return tok
			},
			wantID: idUser,
		},
		{
			name: "expired",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				e.clock.t = e.clock.t.Add(maxAge + time.Second)
				return tok
			},
			wantErr: ErrExpiredToken, notErr: ErrInvalidToken,
		},
		{
			name: "issued in the future",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				e.clock.t = e.clock.t.Add(-time.Second)
				return tok
			},
			wantErr: ErrInvalidToken,
		},
		{name: "empty", token: func(*testing.T, env) string { return "" }, wantErr: ErrInvalidToken},
		{name: "garbage", token: func(*testing.T, env) string { return "not-a-token" }, wantErr: ErrInvalidToken},
		{
			name: "tampered signature",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				last := "A"
				if strings.HasSuffix(tok, "A") {
					last = "B"
				}
				return tok[:len(tok)-1] + last
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "payload swapped for another user's",
			token: func(t *testing.T, e env) string {
				mine := strings.SplitN(tokenOf(t, e.m, e.store, idUser), ".", 2)
				theirs := strings.SplitN(tokenOf(t, e.m, e.store, idAdmin), ".", 2)
				return theirs[0] + "." + mine[1]
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "signed with another key",
			token: func(t *testing.T, e env) string {
				return tokenOf(t, signer(t, e, otherKey, Config{}), e.store, idUser)
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "signed with another salt",
			token: func(t *testing.T, e env) string {
				return tokenOf(t, signer(t, e, seededKey, Config{Token: TokenConfig{Salt: "other"}}), e.store, idUser)
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "signed with an old key",
			token: func(t *testing.T, e env) string {
				return tokenOf(t, signer(t, e, retiredKey, Config{}), e.store, idUser)
			},
			wantID: idUser,
		},
		{
			name: "revoked",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				if err := e.m.RevokeTokens(context.Background(), idUser); err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "password changed",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				if err := e.m.SetPassword(context.Background(), idUser, "new-password"); err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "user deactivated",
			token: func(t *testing.T, e env) string {
				tok := tokenOf(t, e.m, e.store, idUser)
				setUser(t, e.store, idUser, func(u *User) { u.Active = false })
				return tok
			},
			wantErr: ErrInvalidToken,
		},
		{name: "inactive user", token: func(t *testing.T, e env) string { return tokenOf(t, e.m, e.store, idInactive) }, wantErr: ErrInvalidToken},
		{
			name: "unknown user",
			token: func(t *testing.T, e env) string {
				tok, err := e.m.IssueToken(&User{ID: "999", Uniquifier: NewUniquifier()})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantErr: ErrInvalidToken,
		},
		{
			name: "signed object payload",
			token: func(t *testing.T, e env) string {
				tok, err := e.m.tokens.EncodeJSON([]byte(`{"id":"1"}`))
				if err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantErr: ErrTokenPayload,
		},
		{
			name: "signed Flask-Security payload",
			token: func(t *testing.T, e env) string {
				u, _ := e.store.UserByID(context.Background(), idUser)
				tok, err := e.m.tokens.Encode([]string{u.Uniquifier})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantErr: ErrTokenPayload,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newSeededStore(t)
			m := newManagerWithKey(t, store, seededKey, Config{Token: TokenConfig{MaxAge: maxAge, OldKeys: [][]byte{retiredKey}}})
			e := env{m: m, store: store, clock: setClock(m, seedClock)}
			tok := tt.token(t, e)
			u, err := m.VerifyToken(context.Background(), tok)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyToken: %v", err)
				}
				if u.ID != tt.wantID {
					t.Errorf("user %q, want %q", u.ID, tt.wantID)
				}
				return
			}
			if u != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyToken = %v, %v; want error matching %v", u, err, tt.wantErr)
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Errorf("error %v also matches %v", err, tt.notErr)
			}
			if errors.Is(err, ErrStoreUnavailable) {
				t.Errorf("error %v matches ErrStoreUnavailable", err)
			}
		})
	}
}

func TestVerifyTokenNeverExpires(t *testing.T) {
	m, store := newSeeded(t, Config{Token: TokenConfig{MaxAge: -1}})
	clock := setClock(m, seedClock)
	tok := tokenOf(t, m, store, idUser)
	clock.t = clock.t.AddDate(10, 0, 0)
	if _, err := m.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("ten years later: %v", err)
	}
}

func TestVerifyTokenStoreFailure(t *testing.T) {
	m := newManagerWithKey(t, brokenStore{}, seededKey, Config{})
	tok, err := m.IssueToken(&User{ID: "1", Uniquifier: "u"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.VerifyToken(context.Background(), tok)
	if u != nil || !errors.Is(err, ErrStoreUnavailable) || !errors.Is(err, errStoreDown) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken = %v, %v; want ErrStoreUnavailable wrapping the store's error, not ErrInvalidToken", u, err)
	}
}

func TestAuthenticate(t *testing.T) {
	long72 := strings.Repeat("p", 72)
	tests := []struct {
		name     string
		email    string
		password string
		setup    func(t *testing.T, store *MemoryStore)
		wantID   string
		wantLog  string // substring of the log, if any
	}{
		{name: "correct", email: "user@example.com", password: "user-password", wantID: idUser},
		{name: "email in other case", email: "USER@Example.COM", password: "user-password", wantID: idUser},
		{name: "non-ASCII email in other case", email: "JÖSÉ@EXÄMPLE.COM", password: "pässwörd-🔑", wantID: idUTF8},
		{name: "password with colons", email: "colon@example.com", password: "pa:ss:word:", wantID: idColon},
		{name: "unconfirmed user", email: "unconfirmed@example.com", password: "unconfirmed-password", wantID: idUnconfirmed},
		{name: "wrong password", email: "user@example.com", password: "user-passwordx"},
		{name: "password in other case", email: "user@example.com", password: "USER-PASSWORD"},
		{name: "unknown email", email: "nobody@example.com", password: "user-password"},
		{name: "inactive user", email: "inactive@example.com", password: "inactive-password"},
		{name: "empty email", email: "", password: "user-password"},
		{name: "empty password", email: "user@example.com", password: ""},
		{name: "over MaxPasswordBytes", email: "user@example.com", password: strings.Repeat("p", 1024+1)},
		{
			name: "72-byte password", email: "long@example.com", password: long72, wantID: "long",
			setup: func(t *testing.T, store *MemoryStore) { addUser(t, store, "long", "long@example.com", long72) },
		},
		{
			name: "72-byte bcrypt prefix plus more", email: "long@example.com", password: long72 + "more",
			setup: func(t *testing.T, store *MemoryStore) { addUser(t, store, "long", "long@example.com", long72) },
		},
		{
			name: "unsupported stored hash", email: "user@example.com", password: "test123",
			setup: func(t *testing.T, store *MemoryStore) {
				setUser(t, store, idUser, func(u *User) {
					u.PasswordHash = "$pbkdf2-sha512$25000$8R5DaK01xngPwfif03oPQQ$aHtHXiQhhkOXNt9V1auwwVpSlo"
				})
			},
			wantLog: `scheme \"pbkdf2-sha512\"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newSeededStore(t)
			if tt.setup != nil {
				tt.setup(t, store)
			}
			var log lockedBuffer
			m := newManagerWithKey(t, store, seededKey, Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			u, err := m.Authenticate(context.Background(), tt.email, tt.password)
			if tt.wantID != "" {
				if err != nil || u.ID != tt.wantID {
					t.Fatalf("Authenticate = %v, %v; want user %s", u, err, tt.wantID)
				}
			} else if u != nil || err != ErrInvalidCredentials {
				t.Fatalf("Authenticate = %v, %v; want exactly ErrInvalidCredentials", u, err)
			}
			if tt.wantLog != "" {
				if !strings.Contains(log.String(), tt.wantLog) {
					t.Errorf("log %q lacks %q", log.String(), tt.wantLog)
				}
				if strings.Contains(log.String(), "8R5DaK01") {
					t.Errorf("log %q contains hash material", log.String())
				}
			}
		})
	}
}

// addUser stores an active, confirmed user with a bcrypt hash of password.
func addUser(t testing.TB, store *MemoryStore, id, email, password string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := &User{ID: id, Email: email, PasswordHash: string(h), Active: true, Confirmed: true, Uniquifier: NewUniquifier()}
	if err := store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticateStoreFailure(t *testing.T) {
	m := newManagerWithKey(t, brokenStore{}, seededKey, Config{})
	u, err := m.Authenticate(context.Background(), "user@example.com", "user-password")
	if u != nil || !errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Authenticate = %v, %v; want ErrStoreUnavailable", u, err)
	}
}

func TestLoginRecordsTrackableFields(t *testing.T) {
	m, store := newSeeded(t, Config{})
	clock := setClock(m, seedClock)
	steps := []struct {
		name          string
		after         time.Duration // clock advance before the step
		password, ip  string
		wantErr       error
		wantCount     int
		wantCurrentAt time.Time
		wantLastAt    time.Time
		wantCurrentIP string
		wantLastIP    string
	}{
		{
			name: "first login", password: "user-password", ip: "198.51.100.7",
			wantCount: 1, wantCurrentAt: seedClock, wantCurrentIP: "198.51.100.7",
		},
		{
			name: "second login", after: time.Hour, password: "user-password", ip: "2001:db8::1",
			wantCount: 2, wantCurrentAt: seedClock.Add(time.Hour), wantLastAt: seedClock,
			wantCurrentIP: "2001:db8::1", wantLastIP: "198.51.100.7",
		},
		{
			name: "failed login records nothing", after: time.Hour, password: "wrong", ip: "203.0.113.9",
			wantErr: ErrInvalidCredentials, wantCount: 2, wantCurrentAt: seedClock.Add(time.Hour), wantLastAt: seedClock,
			wantCurrentIP: "2001:db8::1", wantLastIP: "198.51.100.7",
		},
		{
			name: "third login", after: time.Hour, password: "user-password", ip: "203.0.113.9",
			wantCount: 3, wantCurrentAt: seedClock.Add(3 * time.Hour), wantLastAt: seedClock.Add(time.Hour),
			wantCurrentIP: "203.0.113.9", wantLastIP: "2001:db8::1",
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.t = clock.t.Add(st.after)
			got, err := m.Login(context.Background(), "user@example.com", st.password, st.ip)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("Login error %v, want %v", err, st.wantErr)
			}
			stored, _ := store.UserByID(context.Background(), idUser)
			users := []*User{stored}
			if err == nil {
				users = append(users, got)
			}
			for _, u := range users {
				if u.LoginCount != st.wantCount || !u.CurrentLoginAt.Equal(st.wantCurrentAt) || !u.LastLoginAt.Equal(st.wantLastAt) ||
					u.CurrentLoginIP != st.wantCurrentIP || u.LastLoginIP != st.wantLastIP {
					t.Errorf("count %d, current %v %q, last %v %q; want %d, %v %q, %v %q",
						u.LoginCount, u.CurrentLoginAt, u.CurrentLoginIP, u.LastLoginAt, u.LastLoginIP,
						st.wantCount, st.wantCurrentAt, st.wantCurrentIP, st.wantLastAt, st.wantLastIP)
				}
			}
		})
	}
}

func TestLoginRehashes(t *testing.T) {
	const password = "rehash-me"
	bcryptHash := func(cost int) func(t *testing.T) string {
		return func(t *testing.T) string {
			h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
			if err != nil {
				t.Fatal(err)
			}
			return string(h)
		}
	}
	argonHash := func(p passhash.Argon2Params) func(t *testing.T) string {
		return func(t *testing.T) string {
			s, err := passhash.Hasher{Scheme: passhash.Argon2id, Argon2: p}.Hash(password)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	tests := []struct {
		name       string
		cfg        Config
		stored     func(t *testing.T) string
		password   string
		wantRehash bool
		wantPrefix string // of the stored hash afterwards
	}{
		{name: "bcrypt below configured cost", cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 5}}, stored: bcryptHash(4), password: password, wantRehash: true, wantPrefix: "$2a$05$"},
		{name: "bcrypt at configured cost", cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}}, stored: bcryptHash(4), password: password, wantPrefix: "$2a$04$"},
		{name: "bcrypt above configured cost", cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}}, stored: bcryptHash(5), password: password, wantPrefix: "$2a$05$"},
		{name: "wrong password never rehashes", cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 5}}, stored: bcryptHash(4), password: "wrong", wantPrefix: "$2a$04$"},
		{name: "argon2id to bcrypt", cfg: Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}}, stored: argonHash(smallArgon2), password: password, wantRehash: true, wantPrefix: "$2a$04$"},
		{
			name: "bcrypt to argon2id", cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id, Argon2: smallArgon2}},
			stored: bcryptHash(4), password: password, wantRehash: true, wantPrefix: "$argon2id$v=19$m=64,t=1,p=1$",
		},
		{
			name: "weaker argon2id", cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id, Argon2: passhash.Argon2Params{Time: 2, MemoryKiB: 64, Threads: 1}}},
			stored: argonHash(smallArgon2), password: password, wantRehash: true, wantPrefix: "$argon2id$v=19$m=64,t=2,p=1$",
		},
		{
			name: "current argon2id", cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id, Argon2: smallArgon2}},
			stored: argonHash(smallArgon2), password: password, wantPrefix: "$argon2id$v=19$m=64,t=1,p=1$",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemoryStore()
			before := tt.stored(t)
			if err := store.CreateUser(context.Background(), &User{ID: "1", Email: "r@example.com", PasswordHash: before, Active: true, Uniquifier: "u"}); err != nil {
				t.Fatal(err)
			}
			m := newManagerWithKey(t, store, seededKey, tt.cfg)
			_, err := m.Login(context.Background(), "r@example.com", tt.password, "192.0.2.1")
			if (err == nil) != (tt.password == password) {
				t.Fatalf("Login: %v", err)
			}
			u, _ := store.UserByID(context.Background(), "1")
			if changed := u.PasswordHash != before; changed != tt.wantRehash {
				t.Errorf("hash changed = %v, want %v", changed, tt.wantRehash)
			}
			if !strings.HasPrefix(u.PasswordHash, tt.wantPrefix) {
				t.Errorf("stored hash %q, want prefix %q", u.PasswordHash, tt.wantPrefix)
			}
			if err := m.CheckPassword(u.PasswordHash, password); err != nil {
				t.Errorf("the password no longer matches the stored hash: %v", err)
			}
			if _, err := m.Login(context.Background(), "r@example.com", password, "192.0.2.1"); err != nil {
				t.Errorf("login after rehash: %v", err)
			}
		})
	}
}

// TestDefaultSchemeArgon2id checks the zero PasswordConfig: new hashes are
// argon2id with OWASP's parameters, and a bcrypt or pbkdf2_sha512 hash
// still verifies and is replaced by one on the next login.
func TestDefaultSchemeArgon2id(t *testing.T) {
	const password, want = "upgrade-me", "$argon2id$v=19$m=19456,t=2,p=1$"
	bcrypt4, err := passhash.Hasher{Scheme: passhash.Bcrypt, BcryptCost: 4}.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	pbkdf2, err := passhash.Hasher{Scheme: passhash.PBKDF2SHA512, Rounds: 1000}.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemoryStore()
	m, err := New(store, seededKey, Config{Logger: discardLogger, Throttle: ThrottleConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := m.HashPassword(password); err != nil || !strings.HasPrefix(h, want) {
		t.Fatalf("HashPassword = %q, %v; want prefix %q", h, err, want)
	}
	for _, tt := range []struct{ name, stored string }{
		{name: "bcrypt", stored: bcrypt4},
		{name: "pbkdf2_sha512", stored: pbkdf2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			email := tt.name + "@example.com"
			if err := store.CreateUser(context.Background(), &User{ID: tt.name, Email: email, PasswordHash: tt.stored, Active: true, Uniquifier: "u"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Login(context.Background(), email, password, "192.0.2.1"); err != nil {
				t.Fatalf("Login: %v", err)
			}
			u, _ := store.UserByID(context.Background(), tt.name)
			if !strings.HasPrefix(u.PasswordHash, want) {
				t.Errorf("stored hash %q after login, want prefix %q", u.PasswordHash, want)
			}
			if _, err := m.Login(context.Background(), email, password, "192.0.2.1"); err != nil {
				t.Errorf("login after the upgrade: %v", err)
			}
		})
	}
}

func TestLoginWithoutUpdater(t *testing.T) {
	store := newSeededStore(t)
	m := newManagerWithKey(t, readOnlyStore{store}, seededKey, Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: bcrypt.MinCost + 1}})
	u, err := m.Login(context.Background(), "user@example.com", "user-password", "192.0.2.1")
	if err != nil || u.ID != idUser {
		t.Fatalf("Login = %v, %v", u, err)
	}
	stored, _ := store.UserByID(context.Background(), idUser)
	if stored.LoginCount != 0 || stored.PasswordHash != seedHashes()[idUser] {
		t.Errorf("a read-only store was written: count %d, hash %q", stored.LoginCount, stored.PasswordHash)
	}
}

func TestLoginUpdateFailure(t *testing.T) {
	m := newManagerWithKey(t, brokenUpdater{newSeededStore(t)}, seededKey, Config{})
	u, err := m.Login(context.Background(), "user@example.com", "user-password", "192.0.2.1")
	if u != nil || !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("Login = %v, %v; want ErrStoreUnavailable", u, err)
	}
}

func TestRevokeTokensAndSetPassword(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		op           func(m *Manager) error
		newPassword  string // "" if the password must not change
		wantOldWorks bool   // after the op, does the old password log in?
	}{
		{name: "RevokeTokens", op: func(m *Manager) error { return m.RevokeTokens(ctx, idUser) }, wantOldWorks: true},
		{name: "SetPassword", op: func(m *Manager) error { return m.SetPassword(ctx, idUser, "brand-new") }, newPassword: "brand-new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, Config{})
			clock := setClock(m, seedClock)
			mine := tokenOf(t, m, store, idUser)
			clock.t = clock.t.Add(time.Minute)
			mine2 := tokenOf(t, m, store, idUser)
			theirs := tokenOf(t, m, store, idAdmin)
			if err := tt.op(m); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{mine, mine2} {
				if _, err := m.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
					t.Errorf("the user's old token: %v, want ErrInvalidToken", err)
				}
			}
			if _, err := m.VerifyToken(ctx, theirs); err != nil {
				t.Errorf("another user's token: %v", err)
			}
			if _, err := m.VerifyToken(ctx, tokenOf(t, m, store, idUser)); err != nil {
				t.Errorf("a new token: %v", err)
			}
			_, err := m.Authenticate(ctx, "user@example.com", "user-password")
			if (err == nil) != tt.wantOldWorks {
				t.Errorf("old password: %v", err)
			}
			if tt.newPassword != "" {
				if _, err := m.Authenticate(ctx, "user@example.com", tt.newPassword); err != nil {
					t.Errorf("new password: %v", err)
				}
			}
		})
	}
}

func TestRevokeTokensAndSetPasswordErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		store   func(t *testing.T) UserStore
		cfg     Config
		op      func(m *Manager) error
		wantErr error
	}{
		{
			name:  "RevokeTokens on read-only store",
			store: func(t *testing.T) UserStore { return readOnlyStore{newSeededStore(t)} },
			op:    func(m *Manager) error { return m.RevokeTokens(ctx, idUser) }, wantErr: ErrReadOnlyStore,
		},
		{
			name:  "SetPassword on read-only store",
			store: func(t *testing.T) UserStore { return readOnlyStore{newSeededStore(t)} },
			op:    func(m *Manager) error { return m.SetPassword(ctx, idUser, "x") }, wantErr: ErrReadOnlyStore,
		},
		{
			name:  "RevokeTokens of unknown user",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			op:    func(m *Manager) error { return m.RevokeTokens(ctx, "999") }, wantErr: ErrUserNotFound,
		},
		{
			name:  "SetPassword of unknown user",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			op:    func(m *Manager) error { return m.SetPassword(ctx, "999", "long enough") }, wantErr: ErrUserNotFound,
		},
		{
			name:  "SetPassword over bcrypt's 72 bytes",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			op:    func(m *Manager) error { return m.SetPassword(ctx, idUser, strings.Repeat("x", 73)) }, wantErr: ErrPasswordTooLong,
		},
		{
			name:  "SetPassword under the minimum length",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			op:    func(m *Manager) error { return m.SetPassword(ctx, idUser, "1234567") }, wantErr: ErrPasswordTooShort,
		},
		{
			name:  "SetPassword under MinPasswordLength",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			cfg:   Config{Password: PasswordConfig{MinLength: 12}},
			op:    func(m *Manager) error { return m.SetPassword(ctx, idUser, "12345678901") }, wantErr: ErrPasswordTooShort,
		},
		{
			name:  "SetPassword over MaxPasswordBytes",
			store: func(t *testing.T) UserStore { return newSeededStore(t) },
			cfg:   Config{Password: PasswordConfig{MaxBytes: 8}},
			op:    func(m *Manager) error { return m.SetPassword(ctx, idUser, "123456789") }, wantErr: ErrPasswordTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store(t)
			m := newManagerWithKey(t, store, seededKey, tt.cfg)
			before, _ := store.UserByID(ctx, idUser)
			if err := tt.op(m); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			after, _ := store.UserByID(ctx, idUser)
			if after.Uniquifier != before.Uniquifier || after.PasswordHash != before.PasswordHash {
				t.Error("a failed operation changed the user")
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		password string
		wantErr  error
	}{
		{name: "bcrypt", password: "secret"},
		{name: "bcrypt 72 bytes", password: strings.Repeat("x", 72)},
		{name: "bcrypt 73 bytes", password: strings.Repeat("x", 73), wantErr: ErrPasswordTooLong},
		{name: "argon2id 500 bytes", cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id}}, password: strings.Repeat("x", 500)},
		{name: "argon2id over the default limit", cfg: Config{Password: PasswordConfig{Scheme: passhash.Argon2id}}, password: strings.Repeat("x", 1024+1), wantErr: ErrPasswordTooLong},
		{name: "at MaxPasswordBytes", cfg: Config{Password: PasswordConfig{MaxBytes: 10}}, password: "0123456789"},
		{name: "over MaxPasswordBytes", cfg: Config{Password: PasswordConfig{MaxBytes: 10}}, password: "0123456789a", wantErr: ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, tt.cfg)
			h, err := m.HashPassword(tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("HashPassword error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if h != "" {
					t.Errorf("hash %q returned with an error", h)
				}
				return
			}
			if err := m.CheckPassword(h, tt.password); err != nil {
				t.Errorf("CheckPassword: %v", err)
			}
			if err := m.CheckPassword(h, tt.password+"x"); !errors.Is(err, ErrPasswordMismatch) {
				t.Errorf("CheckPassword(longer): %v, want ErrPasswordMismatch", err)
			}
		})
	}
}

func TestCheckPasswordOverLimit(t *testing.T) {
	m, _ := newSeeded(t, Config{Password: PasswordConfig{Scheme: passhash.Argon2id, MaxBytes: 10}})
	h, err := m.passwords.hasher.Hash("01234567890") // 11 bytes, made past the limit
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckPassword(h, "01234567890"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("CheckPassword over MaxPasswordBytes = %v, want ErrPasswordMismatch", err)
	}
}

func TestNewUser(t *testing.T) {
	tests := []struct {
		name, email, password string
		roles                 []string
		wantErr               error // nil: success; errEmpty: any error
	}{
		{name: "plain", email: "new@example.com", password: "password"},
		{name: "roles", email: "new@example.com", password: "password", roles: []string{"admin", "editor"}},
		{name: "eight characters in more bytes", email: "new@example.com", password: "pässwörd"},
		{name: "seven characters", email: "new@example.com", password: "passwör", wantErr: ErrPasswordTooShort},
		{name: "empty password", email: "new@example.com", password: "", wantErr: ErrPasswordTooShort},
		{name: "empty email", email: "", password: "password", wantErr: errAny},
		{name: "password too long", email: "new@example.com", password: strings.Repeat("x", 73), wantErr: ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, Config{})
			roles := append([]string(nil), tt.roles...)
			u, err := m.NewUser(tt.email, tt.password, roles...)
			if tt.wantErr != nil {
				if u != nil || err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("NewUser = %v, %v; want error %v", u, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != "" || u.Email != tt.email || !u.Active || u.Confirmed || len(u.Uniquifier) != 32 {
				t.Errorf("NewUser = %+v", u)
			}
			if err := m.CheckPassword(u.PasswordHash, tt.password); err != nil {
				t.Errorf("CheckPassword: %v", err)
			}
			if fmt.Sprint(u.Roles) != fmt.Sprint(tt.roles) {
				t.Errorf("roles %q, want %q", u.Roles, tt.roles)
			}
			if len(roles) > 0 {
				roles[0] = "changed"
				if u.Roles[0] == "changed" {
					t.Error("NewUser kept the caller's roles slice")
				}
			}
		})
	}
}

// errAny in a test table accepts any non-nil error.
var errAny = errors.New("any error")
