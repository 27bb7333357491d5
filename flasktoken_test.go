package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/itsdangerous"
)

// flaskUniq is the fs_uniquifier of the user in the Flask-Security vectors.
const flaskUniq = "0b7d7a3c1e9f4b6a8c2d5e7f9a1b3c5d"

// flaskNativeKey is the signing key of the Managers under test, unrelated
// to the Flask secret.
var flaskNativeKey = []byte("the Manager's own key, 32 bytes!")

// flaskVectors mirrors the parts of testdata/itsdangerous_vectors.json
// these tests read.
type flaskVectors struct {
	FlaskSecurity struct {
		Example struct {
			FSUniquifier string `json:"fs_uniquifier"`
			Timestamp    int64  `json:"timestamp"`
			Token        string `json:"token"`
			Status       int    `json:"app_response_status"`
			Tampered     struct {
				Token  string          `json:"token"`
				Status int             `json:"status"`
				JSON   json.RawMessage `json:"json"`
			} `json:"tampered_token_response"`
		} `json:"example"`
	} `json:"flask_security"`
	Vectors []struct {
		Name       string   `json:"name"`
		SecretKeys []string `json:"secret_keys"`
		Salt       string   `json:"salt"`
		Digest     string   `json:"digest"`
		KD         string   `json:"key_derivation"`
		Token      string   `json:"token"`
		VerifyNow  int64    `json:"verify_now"`
		MaxAge     *int64   `json:"max_age"`
		Expect     string   `json:"expect"`
	} `json:"vectors"`
}

func loadFlaskVectors(t *testing.T) flaskVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/itsdangerous_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v flaskVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// newFlaskManager returns a Manager in Flask mode over a MemoryStore that
// holds an active user with uniquifier flaskUniq (ID "1"), an inactive one
// (ID "2", uniquifier "inactive-uniquifier"), and its clock at now.
func newFlaskManager(t testing.TB, fc FlaskConfig, now int64) (*Manager, *MemoryStore) {
	t.Helper()
	store := NewMemoryStore()
	for _, u := range []*User{
		{ID: "1", Email: "flask@example.com", Active: true, Uniquifier: flaskUniq},
		{ID: "2", Email: "inactive@example.com", Active: false, Uniquifier: "inactive-uniquifier"},
	} {
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	m, err := New(store, flaskNativeKey, Config{BcryptCost: 4, Logger: slog.New(slog.DiscardHandler), Flask: &fc})
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return time.Unix(now, 0) }
	return m, store
}

// TestFlaskSecurityVectors runs the flask_security_* vectors through a
// Manager in Flask mode.
func TestFlaskSecurityVectors(t *testing.T) {
	n := 0
	for _, v := range loadFlaskVectors(t).Vectors {
		if !strings.HasPrefix(v.Name, "flask_security_") {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			if v.Digest != "sha1" || v.KD != "django-concat" {
				t.Fatalf("vector uses %s/%s; Flask-Security uses sha1/django-concat", v.Digest, v.KD)
			}
			keys := v.SecretKeys // oldest first; the last one signs
			fc := FlaskConfig{SecretKey: []byte(keys[len(keys)-1]), RememberSalt: v.Salt}
			for i := len(keys) - 2; i >= 0; i-- {
				fc.SecretKeyFallbacks = append(fc.SecretKeyFallbacks, []byte(keys[i]))
			}
			if v.MaxAge != nil {
				fc.TokenMaxAge = time.Duration(*v.MaxAge) * time.Second
			}
			m, _ := newFlaskManager(t, fc, v.VerifyNow)
			u, err := m.VerifyToken(context.Background(), v.Token)
			switch v.Expect {
			case "ok":
				if err != nil || u.ID != "1" {
					t.Fatalf("VerifyToken = %v, %v; want user 1", u, err)
				}
			default:
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("VerifyToken error = %v, want ErrInvalidToken (%s)", err, v.Expect)
				}
				if v.Expect == "expired" && !errors.Is(err, ErrExpiredToken) {
					t.Errorf("VerifyToken error = %v, want ErrExpiredToken as well", err)
				}
			}
		})
	}
	if n < 4 {
		t.Fatalf("only %d flask_security vectors", n)
	}
}

// TestFlaskSecurityExample sends the vectors file's example token, and its
// tampered copy, to a handler behind RequireToken: 200, and 401 with the
// body Flask-Security answered.
func TestFlaskSecurityExample(t *testing.T) {
	ex := loadFlaskVectors(t).FlaskSecurity.Example
	if ex.FSUniquifier != flaskUniq {
		t.Fatalf("example uniquifier %q", ex.FSUniquifier)
	}
	m, _ := newFlaskManager(t, FlaskConfig{SecretKey: []byte("super-secret")}, ex.Timestamp+86400*400)
	h := m.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := FromContext(r.Context())
		w.Write([]byte(u.Uniquifier))
	}))
	for _, tt := range []struct {
		name   string
		token  string
		status int
		body   json.RawMessage
	}{
		{name: "token", token: ex.Token, status: ex.Status},
		{name: "tampered", token: ex.Tampered.Token, status: ex.Tampered.Status, body: ex.Tampered.JSON},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/protected", nil)
			r.Header.Set("Authentication-Token", tt.token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.body == nil {
				if w.Body.String() != flaskUniq {
					t.Errorf("handler saw user %q", w.Body)
				}
				return
			}
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			json.Unmarshal(tt.body, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("body %s, want %s", w.Body, tt.body)
			}
		})
	}
}

// flaskSigner signs payloads as Flask-Security does (or with one setting
// changed), stamped at ts.
func flaskSigner(t *testing.T, secret string, cfg itsdangerous.Config, ts int64) func(payload string) string {
	t.Helper()
	if cfg.Salt == "" {
		cfg.Salt = DefaultFlaskRememberSalt
	}
	if cfg.Digest == "" {
		cfg.Digest = itsdangerous.SHA1
	}
	cfg.Now = func() time.Time { return time.Unix(ts, 0) }
	s, err := itsdangerous.New([]byte(secret), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return func(payload string) string {
		tok, err := s.EncodeJSON([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// TestFlaskTokens checks each payload generation and every way a Flask
// token can be bad.
func TestFlaskTokens(t *testing.T) {
	const (
		secret = "flask-secret-key"
		now    = int64(1700000000)
	)
	sign := flaskSigner(t, secret, itsdangerous.Config{}, now)
	long := `{"ver":"5","uid":"` + flaskUniq + `","fs_paa":1699999000.25,"exp":0,"extra":"` + strings.Repeat("padding ", 40) + `"}`
	tests := []struct {
		name    string
		token   string
		wantErr error // nil: user 1
		expired bool  // also ErrExpiredToken
	}{
		// The payload generations.
		{name: "4.x list", token: sign(`["` + flaskUniq + `"]`)},
		{name: "3.x list of three", token: sign(`["1","5f4dcc3b5aa765d61d8327deb882cf99","` + flaskUniq + `"]`)},
		{name: "3.x list with numbers", token: sign(`[1,2,"` + flaskUniq + `"]`)},
		{name: "5.x dict", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","fs_paa":1699999000.25,"exp":0}`)},
		{name: "5.x dict exp ahead", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","fs_paa":1699999000,"exp":1700000001}`)},
		{name: "5.x dict fractional exp ahead", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1700000001.5}`)},
		{name: "5.x dict negative exp", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":-5}`)},
		{name: "5.x dict null exp", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":null}`)},
		{name: "5.x dict without exp", token: sign(`{"ver":"5","uid":"` + flaskUniq + `"}`)},
		{name: "5.x dict compressed", token: sign(long)},
		{name: "signed with the fallback", token: flaskSigner(t, "old-flask-secret", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)},

		// Expiry.
		{name: "exp passed", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1699999999}`), wantErr: ErrInvalidToken, expired: true},
		{name: "exp now", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1700000000}`), wantErr: ErrInvalidToken, expired: true},
		{name: "exp huge", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1e300}`)},

		// Signature.
		{name: "wrong secret", token: flaskSigner(t, "another-secret", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`), wantErr: ErrInvalidToken},
		{name: "wrong salt", token: flaskSigner(t, secret, itsdangerous.Config{Salt: "itsdangerous"}, now)(`["` + flaskUniq + `"]`), wantErr: ErrInvalidToken},
		{name: "wrong digest", token: flaskSigner(t, secret, itsdangerous.Config{Digest: itsdangerous.SHA256}, now)(`["` + flaskUniq + `"]`), wantErr: ErrInvalidToken},
		{name: "wrong key derivation", token: flaskSigner(t, secret, itsdangerous.Config{KeyDerivation: itsdangerous.HMAC}, now)(`["` + flaskUniq + `"]`), wantErr: ErrInvalidToken},
		{name: "tampered payload", token: tamperPayload(sign(`["`+flaskUniq+`"]`), `["inactive-uniquifier"]`), wantErr: ErrInvalidToken},
		{name: "tampered signature", token: sign(`["` + flaskUniq + `"]`)[:60] + "AAAA", wantErr: ErrInvalidToken},
		{name: "garbage", token: "not a token", wantErr: ErrInvalidToken},
		{name: "empty", token: "", wantErr: ErrInvalidToken},

		// Users.
		{name: "unknown uniquifier", token: sign(`["no-such-uniquifier"]`), wantErr: ErrInvalidToken},
		{name: "unknown uid", token: sign(`{"ver":"5","uid":"no-such-uniquifier","exp":0}`), wantErr: ErrInvalidToken},
		{name: "inactive user", token: sign(`["inactive-uniquifier"]`), wantErr: ErrInvalidToken},
		{name: "uniquifier in another case", token: sign(`["` + strings.ToUpper(flaskUniq) + `"]`), wantErr: ErrInvalidToken},

		// Shapes.
		{name: "empty list", token: sign(`[]`), wantErr: ErrInvalidToken},
		{name: "3.x list of two", token: sign(`["1","5f4dcc3b5aa765d61d8327deb882cf99"]`), wantErr: ErrInvalidToken},
		{name: "list of four", token: sign(`["1","x","` + flaskUniq + `","y"]`), wantErr: ErrInvalidToken},
		{name: "list of a number", token: sign(`[123]`), wantErr: ErrInvalidToken},
		{name: "list of an empty string", token: sign(`[""]`), wantErr: ErrInvalidToken},
		{name: "list of three, uniquifier not a string", token: sign(`["1","x",7]`), wantErr: ErrInvalidToken},
		{name: "native pair shape", token: sign(`["1","` + flaskUniq + `"]`), wantErr: ErrInvalidToken},
		{name: "dict without ver", token: sign(`{"uid":"` + flaskUniq + `"}`), wantErr: ErrInvalidToken},
		{name: "dict ver 4", token: sign(`{"ver":"4","uid":"` + flaskUniq + `"}`), wantErr: ErrInvalidToken},
		{name: "dict ver number", token: sign(`{"ver":5,"uid":"` + flaskUniq + `"}`), wantErr: ErrInvalidToken},
		{name: "dict without uid", token: sign(`{"ver":"5","exp":0}`), wantErr: ErrInvalidToken},
		{name: "dict uid number", token: sign(`{"ver":"5","uid":1}`), wantErr: ErrInvalidToken},
		{name: "dict exp string", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":"0"}`), wantErr: ErrInvalidToken},
		{name: "string", token: sign(`"` + flaskUniq + `"`), wantErr: ErrInvalidToken},
		{name: "null", token: sign(`null`), wantErr: ErrInvalidToken},
		{name: "number", token: sign(`1`), wantErr: ErrInvalidToken},
	}
	m, _ := newFlaskManager(t, FlaskConfig{
		SecretKey:          []byte(secret),
		SecretKeyFallbacks: [][]byte{[]byte("old-flask-secret")},
	}, now)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := m.VerifyToken(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil || u == nil || u.ID != "1" {
					t.Fatalf("VerifyToken = %v, %v; want user 1", u, err)
				}
				return
			}
			if u != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyToken = %v, %v; want %v", u, err, tt.wantErr)
			}
			if errors.Is(err, ErrExpiredToken) != tt.expired {
				t.Errorf("VerifyToken error %v: matches ErrExpiredToken: %v, want %v", err, !tt.expired, tt.expired)
			}
		})
	}
}

// tamperPayload replaces a token's payload segment, keeping its timestamp
// and signature.
func tamperPayload(token, payload string) string {
	parts := strings.Split(token, ".")
	parts[len(parts)-3] = b64.EncodeToString([]byte(payload))
	return strings.Join(parts, ".")
}

// TestFlaskTokenMaxAge checks FlaskConfig.TokenMaxAge: itsdangerous' age
// rule, an error matching both ErrInvalidToken and ErrExpiredToken, and
// timestamps in the future refused only when a max age is set.
func TestFlaskTokenMaxAge(t *testing.T) {
	const ts = int64(1700000000)
	tok := flaskSigner(t, "s3cret", itsdangerous.Config{}, ts)(`["` + flaskUniq + `"]`)
	tests := []struct {
		name    string
		maxAge  time.Duration
		now     int64
		expired bool
	}{
		{name: "no max age, years later", now: ts + 10*365*86400},
		{name: "no max age, from the future", now: ts - 3600},
		{name: "exactly max age", maxAge: time.Minute, now: ts + 60},
		{name: "one second over", maxAge: time.Minute, now: ts + 61, expired: true},
		{name: "from the future", maxAge: time.Minute, now: ts - 1, expired: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newFlaskManager(t, FlaskConfig{SecretKey: []byte("s3cret"), TokenMaxAge: tt.maxAge}, tt.now)
			u, err := m.VerifyToken(context.Background(), tok)
			if !tt.expired {
				if err != nil || u.ID != "1" {
					t.Fatalf("VerifyToken = %v, %v", u, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrExpiredToken) {
				t.Fatalf("VerifyToken error = %v, want ErrInvalidToken and ErrExpiredToken", err)
			}
		})
	}
}

// TestFlaskModeKeepsNativeTokens checks that a Manager in Flask mode still
// issues and verifies its own tokens, with their own errors, and that
// RevokeTokens ends Flask tokens too.
func TestFlaskModeKeepsNativeTokens(t *testing.T) {
	const now = int64(1700000000)
	m, store := newFlaskManager(t, FlaskConfig{SecretKey: []byte("flask-secret-key")}, now)
	u, _ := store.UserByID(context.Background(), "1")
	native, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := itsdangerous.Inspect(native); string(p) != `["1","`+flaskUniq+`"]` {
		t.Fatalf("native token payload %s", p)
	}
	if got, err := m.VerifyToken(context.Background(), native); err != nil || got.ID != "1" {
		t.Fatalf("VerifyToken(native) = %v, %v", got, err)
	}
	if m.TokenMaxAge() != DefaultTokenMaxAge {
		t.Errorf("TokenMaxAge = %v, want the Manager's own", m.TokenMaxAge())
	}
	m.now = func() time.Time { return time.Unix(now, 0).Add(DefaultTokenMaxAge + time.Hour) }
	if _, err := m.VerifyToken(context.Background(), native); !errors.Is(err, ErrExpiredToken) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken(old native token) = %v, want ErrExpiredToken alone", err)
	}

	flask := flaskSigner(t, "flask-secret-key", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)
	if _, err := m.VerifyToken(context.Background(), flask); err != nil {
		t.Fatalf("VerifyToken(flask) = %v", err)
	}
	if err := m.RevokeTokens(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.VerifyToken(context.Background(), flask); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken(flask token after RevokeTokens) = %v, want ErrInvalidToken", err)
	}
}

// TestFlaskMintTokens checks that with MintTokens the Manager writes the
// token Flask-Security 5.1.2 wrote in the vectors file, byte for byte.
func TestFlaskMintTokens(t *testing.T) {
	ex := loadFlaskVectors(t).FlaskSecurity.Example
	m, store := newFlaskManager(t, FlaskConfig{SecretKey: []byte("super-secret"), MintTokens: true, TokenMaxAge: time.Hour}, ex.Timestamp)
	u, _ := store.UserByID(context.Background(), "1")
	tok, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	if tok != ex.Token {
		t.Errorf("IssueToken = %q, want Flask-Security's %q", tok, ex.Token)
	}
	if got, err := m.VerifyToken(context.Background(), tok); err != nil || got.ID != "1" {
		t.Errorf("VerifyToken(minted) = %v, %v", got, err)
	}
	if m.TokenMaxAge() != time.Hour {
		t.Errorf("TokenMaxAge = %v, want the Flask max age", m.TokenMaxAge())
	}
	if _, err := m.IssueToken(&User{ID: "9"}); err == nil {
		t.Error("IssueToken(user without uniquifier) succeeded")
	}
}

// flaskFailingStore is a store whose uniquifier lookup fails.
type flaskFailingStore struct{ *MemoryStore }

func (flaskFailingStore) UserByUniquifier(context.Context, string) (*User, error) {
	return nil, errors.New("database down")
}

func TestFlaskTokenStoreFailure(t *testing.T) {
	m, err := New(flaskFailingStore{NewMemoryStore()}, flaskNativeKey, Config{BcryptCost: 4, Flask: &FlaskConfig{SecretKey: []byte("k")}})
	if err != nil {
		t.Fatal(err)
	}
	tok := flaskSigner(t, "k", itsdangerous.Config{}, time.Now().Unix())(`["x"]`)
	if _, err := m.VerifyToken(context.Background(), tok); !errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken = %v, want ErrStoreUnavailable", err)
	}
}

// flaskLookuplessStore hides MemoryStore's UserByUniquifier.
type flaskLookuplessStore struct{ UserStore }

func TestNewFlaskConfigErrors(t *testing.T) {
	key := []byte("k")
	tests := []struct {
		name  string
		store UserStore
		cfg   Config
		want  string // in the error
	}{
		{name: "empty", cfg: Config{Flask: &FlaskConfig{}}, want: "neither"},
		{name: "store without lookup", store: flaskLookuplessStore{NewMemoryStore()}, cfg: Config{Flask: &FlaskConfig{SecretKey: key}}, want: "UniquifierLookup"},
		{name: "mint without secret", cfg: Config{Flask: &FlaskConfig{MintTokens: true, PasswordSalt: "s"}}, want: "SecretKey"},
		{name: "fallbacks without secret", cfg: Config{Flask: &FlaskConfig{SecretKeyFallbacks: [][]byte{key}, PasswordSalt: "s"}}, want: "SecretKey"},
		{name: "negative max age", cfg: Config{Flask: &FlaskConfig{SecretKey: key, TokenMaxAge: -time.Second}}, want: "TokenMaxAge"},
		{name: "fractional max age", cfg: Config{Flask: &FlaskConfig{SecretKey: key, TokenMaxAge: 1500 * time.Millisecond}}, want: "TokenMaxAge"},
		{name: "write scheme without salt", cfg: Config{Flask: &FlaskConfig{SecretKey: key, WritePasswordScheme: "pbkdf2_sha512"}}, want: "PasswordSalt"},
		{name: "single-hash list without salt", cfg: Config{Flask: &FlaskConfig{SecretKey: key, PasswordSingleHashSchemes: []string{"bcrypt"}}}, want: "PasswordSalt"},
		{name: "unknown write scheme", cfg: Config{Flask: &FlaskConfig{PasswordSalt: "s", WritePasswordScheme: "md5_crypt"}}, want: "md5_crypt"},
		{name: "write scheme in hash form", cfg: Config{Flask: &FlaskConfig{PasswordSalt: "s", WritePasswordScheme: "pbkdf2-sha512"}}, want: "pbkdf2-sha512"},
		{name: "bad single-hash scheme name", cfg: Config{Flask: &FlaskConfig{PasswordSalt: "s", PasswordSingleHashSchemes: []string{"$6$"}}}, want: "passlib scheme name"},
		{name: "tokens indistinguishable", cfg: Config{TokenDigest: itsdangerous.SHA1, TokenSalt: "remember-salt", Flask: &FlaskConfig{SecretKey: flaskNativeKey}}, want: "told apart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				store = NewMemoryStore()
			}
			_, err := New(store, flaskNativeKey, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

// TestNewCopiesFlaskConfig checks that changing the FlaskConfig after New
// changes nothing.
func TestNewCopiesFlaskConfig(t *testing.T) {
	const now = int64(1700000000)
	secret := []byte("flask-secret-key")
	fc := FlaskConfig{SecretKey: secret, PasswordSalt: "salt", PasswordSingleHashSchemes: []string{"bcrypt"}}
	m, _ := newFlaskManager(t, fc, now)
	tok := flaskSigner(t, "flask-secret-key", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)
	secret[0] = 'X'
	fc.PasswordSingleHashSchemes[0] = "pbkdf2_sha512"
	if _, err := m.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("VerifyToken after the secret changed = %v", err)
	}
	if m.hasher.flask.prehashes(passlibBcrypt) || !m.hasher.flask.prehashes(passlibPBKDF2SHA512) {
		t.Error("the single-hash list changed with the caller's slice")
	}
}

func TestMemoryStoreUserByUniquifier(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	for _, u := range []*User{
		{ID: "1", Email: "a@example.com", Uniquifier: "u1"},
		{ID: "2", Email: "b@example.com", Uniquifier: "u2"},
		{ID: "3", Email: "c@example.com"},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	want := func(uniq, id string) {
		t.Helper()
		u, err := s.UserByUniquifier(ctx, uniq)
		if id == "" {
			if !errors.Is(err, ErrUserNotFound) {
				t.Errorf("UserByUniquifier(%q) = %v, %v; want ErrUserNotFound", uniq, u, err)
			}
			return
		}
		if err != nil || u.ID != id {
			t.Errorf("UserByUniquifier(%q) = %v, %v; want user %s", uniq, u, err, id)
		}
	}
	want("u1", "1")
	want("u2", "2")
	want("", "")
	want("U1", "")
	want("nope", "")

	// Rotation moves the index; a failed update leaves it alone.
	s.UpdateUser(ctx, "1", func(u *User) error { u.Uniquifier = "u1b"; return nil })
	want("u1", "")
	want("u1b", "1")
	s.UpdateUser(ctx, "1", func(u *User) error { u.Uniquifier = "u1c"; return errors.New("no") })
	want("u1b", "1")
	want("u1c", "")
	s.UpdateUser(ctx, "2", func(u *User) error { u.Email = "a@example.com"; u.Uniquifier = "u2b"; return nil }) // duplicate email: refused
	want("u2", "2")
	want("u2b", "")

	// A uniquifier two users hold names neither of them.
	s.UpdateUser(ctx, "3", func(u *User) error { u.Uniquifier = "u2"; return nil })
	if u, err := s.UserByUniquifier(ctx, "u2"); err == nil || errors.Is(err, ErrUserNotFound) {
		t.Errorf("UserByUniquifier(shared) = %v, %v; want an error other than ErrUserNotFound", u, err)
	}
	s.UpdateUser(ctx, "3", func(u *User) error { u.Uniquifier = ""; return nil })
	want("u2", "2")

	// Copies.
	u, _ := s.UserByUniquifier(ctx, "u2")
	u.Email = "scribbled"
	if v, _ := s.UserByID(ctx, "2"); v.Email != "b@example.com" {
		t.Error("UserByUniquifier returned the stored user, not a copy")
	}
}

// TestFlaskSecurityTokenInterop has the real Flask-Security 5.1.2 issue a
// token the Manager must accept, and check the tokens the Manager minted.
func TestFlaskSecurityTokenInterop(t *testing.T) {
	py := pythonWithFlaskSecurity(t)
	const secret = "python-interop-flask-secret"
	uniq := NewUniquifier()
	store := NewMemoryStore()
	if err := store.CreateUser(context.Background(), &User{ID: "7", Email: "py@example.com", Active: true, Uniquifier: uniq}); err != nil {
		t.Fatal(err)
	}
	mint, err := New(store, flaskNativeKey, Config{Flask: &FlaskConfig{SecretKey: []byte(secret), MintTokens: true}})
	if err != nil {
		t.Fatal(err)
	}
	own, err := New(store, flaskNativeKey, Config{Flask: &FlaskConfig{SecretKey: []byte(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := store.UserByID(context.Background(), "7")
	minted, _ := mint.IssueToken(u)
	native, _ := own.IssueToken(u)
	tampered := tamperPayload(minted, `["`+NewUniquifier()+`"]`)

	var out struct {
		Version string         `json:"flask_security"`
		Token   string         `json:"token"`
		Status  map[string]int `json:"status"`
	}
	runFlaskScript(t, py, nil, &out, "issue_token.py", secret, uniq, minted, tampered, native)
	t.Logf("Flask-Security %s", out.Version)
	for _, m := range []*Manager{mint, own} {
		got, err := m.VerifyToken(context.Background(), out.Token)
		if err != nil || got.ID != "7" {
			t.Errorf("VerifyToken(Flask-Security's token %q) = %v, %v; want user 7", out.Token, got, err)
		}
	}
	for tok, want := range map[string]int{minted: 200, tampered: 401, native: 401} {
		if got := out.Status[tok]; got != want {
			t.Errorf("Flask-Security answered %d to %q, want %d", got, tok, want)
		}
	}
}
