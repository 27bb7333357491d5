package flask

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

// flaskUniq is the fs_uniquifier of the user in the Flask-Security vectors.
const flaskUniq = "0b7d7a3c1e9f4b6a8c2d5e7f9a1b3c5d"

// flaskNativeKey is the signing key of the Managers under test, unrelated
// to the Flask secret.
var flaskNativeKey = []byte("the Manager's own key, 32 bytes!")

// b64 is the unpadded URL-safe base 64 of token segments.
var b64 = base64.RawURLEncoding

// flaskVectors mirrors the parts of ../testdata/itsdangerous_vectors.json
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
	raw, err := os.ReadFile("../testdata/itsdangerous_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v flaskVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// newFlaskStore returns a MemoryStore that holds an active user with
// uniquifier flaskUniq (ID "1") and an inactive one (ID "2", uniquifier
// "inactive-uniquifier").
func newFlaskStore(t testing.TB) *auth.MemoryStore {
	t.Helper()
	store := auth.NewMemoryStore()
	for _, u := range []*auth.User{
		{ID: "1", Email: "flask@example.com", Active: true, Uniquifier: flaskUniq},
		{ID: "2", Email: "inactive@example.com", Active: false, Uniquifier: "inactive-uniquifier"},
	} {
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// tokenExpiration returns the "expiration" the TokenHandler of m answers
// for user 1 of store, whose password it sets first.
func tokenExpiration(t *testing.T, m *auth.Manager, store *auth.MemoryStore) time.Duration {
	t.Helper()
	hash, err := m.HashPassword("expiration password")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateUser(context.Background(), "1", func(u *auth.User) error { u.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/token", nil)
	r.SetBasicAuth("flask@example.com", "expiration password")
	w := httptest.NewRecorder()
	m.TokenHandler().ServeHTTP(w, r)
	var answer struct {
		Expiration int64 `json:"expiration"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &answer); w.Code != http.StatusOK || err != nil {
		t.Fatalf("TokenHandler = %d %s", w.Code, w.Body)
	}
	return time.Duration(answer.Expiration) * time.Second
}

// newFlaskTokens returns the Tokens of fc over store, with their clock at
// now (Unix seconds).
func newFlaskTokens(t testing.TB, fc Config, store auth.UniquifierLookup, now int64) *Tokens {
	t.Helper()
	fc.Now = func() time.Time { return time.Unix(now, 0) }
	tokens, err := NewTokens(fc, store)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// newTokenManager returns a Manager over store with its own key
// flaskNativeKey, accepting tokens' tokens and, if issue, issuing them.
// tc holds any other token settings.
func newTokenManager(t testing.TB, store auth.UserStore, tokens *Tokens, issue bool, tc auth.TokenConfig) *auth.Manager {
	t.Helper()
	tc.Verifiers = append(tc.Verifiers, tokens)
	if issue {
		tc.Issuer = tokens
	}
	m, err := auth.New(store, flaskNativeKey, auth.Config{
		Token:    tc,
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newFlaskManager returns a Manager that accepts the tokens of fc, whose
// clock is at now, over newFlaskStore.
func newFlaskManager(t testing.TB, fc Config, now int64) (*auth.Manager, *auth.MemoryStore) {
	t.Helper()
	store := newFlaskStore(t)
	return newTokenManager(t, store, newFlaskTokens(t, fc, store, now), false, auth.TokenConfig{}), store
}

// TestFlaskSecurityVectors runs the flask_security_* vectors through a
// Manager that accepts Flask tokens.
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
			fc := Config{SecretKey: []byte(keys[len(keys)-1]), RememberSalt: v.Salt}
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
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("VerifyToken error = %v, want ErrInvalidToken (%s)", err, v.Expect)
				}
				if v.Expect == "expired" && !errors.Is(err, auth.ErrExpiredToken) {
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
	m, _ := newFlaskManager(t, Config{SecretKey: []byte("super-secret")}, ex.Timestamp+86400*400)
	h := m.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
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
			var got, want map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			json.Unmarshal(tt.body, &want)
			// Flask-Security's answer, and the codes of its errors beside them.
			if response, _ := got["response"].(map[string]any); response != nil {
				if codes, _ := response["error_codes"].([]any); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
					t.Errorf("error_codes %v, want [UNAUTHENTICATED]", response["error_codes"])
				}
				delete(response, "error_codes")
			}
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
		cfg.Salt = "remember-salt"
	}
	if cfg.Digest == "" {
		cfg.Digest = itsdangerous.SHA1
	}
	cfg.Now = func() time.Time { return time.Unix(ts, 0) }
	return signer(t, []byte(secret), cfg)
}

// signer returns a function that signs JSON payloads with key and cfg.
func signer(t *testing.T, key []byte, cfg itsdangerous.Config) func(payload string) string {
	t.Helper()
	s, err := itsdangerous.New(key, cfg)
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

// How Tokens itself, without the Manager, refuses a token in
// TestFlaskTokens.
const (
	directOK       = iota // no error: the user (perhaps inactive) it names
	directInvalid         // ErrInvalidToken
	directPayload         // ErrTokenPayload too: no known payload shape
	directNotFound        // ErrUserNotFound too: no such uniquifier
)

// TestFlaskTokens checks each payload generation and every way a Flask
// token can be bad, through a Manager and through Tokens alone.
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
		direct  int   // what Tokens.VerifyToken says; directOK with wantErr set: user 2, inactive
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
		{name: "exp passed", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1699999999}`), wantErr: auth.ErrInvalidToken, expired: true, direct: directInvalid},
		{name: "exp now", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1700000000}`), wantErr: auth.ErrInvalidToken, expired: true, direct: directInvalid},
		{name: "exp huge", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":1e300}`)},

		// Signature.
		{name: "wrong secret", token: flaskSigner(t, "another-secret", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`), wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "wrong salt", token: flaskSigner(t, secret, itsdangerous.Config{Salt: "itsdangerous"}, now)(`["` + flaskUniq + `"]`), wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "wrong digest", token: flaskSigner(t, secret, itsdangerous.Config{Digest: itsdangerous.SHA256}, now)(`["` + flaskUniq + `"]`), wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "wrong key derivation", token: flaskSigner(t, secret, itsdangerous.Config{KeyDerivation: itsdangerous.HMAC}, now)(`["` + flaskUniq + `"]`), wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "tampered payload", token: tamperPayload(sign(`["`+flaskUniq+`"]`), `["inactive-uniquifier"]`), wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "tampered signature", token: sign(`["` + flaskUniq + `"]`)[:60] + "AAAA", wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "garbage", token: "not a token", wantErr: auth.ErrInvalidToken, direct: directInvalid},
		{name: "empty", token: "", wantErr: auth.ErrInvalidToken, direct: directInvalid},

		// Users.
		{name: "unknown uniquifier", token: sign(`["no-such-uniquifier"]`), wantErr: auth.ErrInvalidToken, direct: directNotFound},
		{name: "unknown uid", token: sign(`{"ver":"5","uid":"no-such-uniquifier","exp":0}`), wantErr: auth.ErrInvalidToken, direct: directNotFound},
		{name: "inactive user", token: sign(`["inactive-uniquifier"]`), wantErr: auth.ErrInvalidToken, direct: directOK}, // the Manager refuses it
		{name: "uniquifier in another case", token: sign(`["` + strings.ToUpper(flaskUniq) + `"]`), wantErr: auth.ErrInvalidToken, direct: directNotFound},

		// Shapes.
		{name: "empty list", token: sign(`[]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "3.x list of two", token: sign(`["1","5f4dcc3b5aa765d61d8327deb882cf99"]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "list of four", token: sign(`["1","x","` + flaskUniq + `","y"]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "list of a number", token: sign(`[123]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "list of an empty string", token: sign(`[""]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "list of three, uniquifier not a string", token: sign(`["1","x",7]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "native pair shape", token: sign(`["1","` + flaskUniq + `"]`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict without ver", token: sign(`{"uid":"` + flaskUniq + `"}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict ver 4", token: sign(`{"ver":"4","uid":"` + flaskUniq + `"}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict ver number", token: sign(`{"ver":5,"uid":"` + flaskUniq + `"}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict without uid", token: sign(`{"ver":"5","exp":0}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict uid number", token: sign(`{"ver":"5","uid":1}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "dict exp string", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":"0"}`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "string", token: sign(`"` + flaskUniq + `"`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "null", token: sign(`null`), wantErr: auth.ErrInvalidToken, direct: directPayload},
		{name: "number", token: sign(`1`), wantErr: auth.ErrInvalidToken, direct: directPayload},
	}
	store := newFlaskStore(t)
	tokens := newFlaskTokens(t, Config{
		SecretKey:          []byte(secret),
		SecretKeyFallbacks: [][]byte{[]byte("old-flask-secret")},
	}, store, now)
	m := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := m.VerifyToken(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil || u == nil || u.ID != "1" {
					t.Fatalf("VerifyToken = %v, %v; want user 1", u, err)
				}
			} else {
				if u != nil || !errors.Is(err, tt.wantErr) {
					t.Fatalf("VerifyToken = %v, %v; want %v", u, err, tt.wantErr)
				}
				if errors.Is(err, auth.ErrExpiredToken) != tt.expired {
					t.Errorf("VerifyToken error %v: matches ErrExpiredToken: %v, want %v", err, !tt.expired, tt.expired)
				}
			}

			u, err = tokens.VerifyToken(context.Background(), tt.token)
			switch tt.direct {
			case directOK:
				want := "1"
				if tt.wantErr != nil {
					want = "2"
				}
				if err != nil || u == nil || u.ID != want {
					t.Fatalf("Tokens.VerifyToken = %v, %v; want user %s", u, err, want)
				}
				return
			case directPayload:
				if !errors.Is(err, auth.ErrTokenPayload) {
					t.Errorf("Tokens.VerifyToken error %v, want ErrTokenPayload", err)
				}
			case directNotFound:
				if !errors.Is(err, auth.ErrUserNotFound) {
					t.Errorf("Tokens.VerifyToken error %v, want ErrUserNotFound", err)
				}
			}
			if u != nil || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrStoreUnavailable) {
				t.Errorf("Tokens.VerifyToken = %v, %v; want ErrInvalidToken", u, err)
			}
			if errors.Is(err, auth.ErrExpiredToken) != tt.expired {
				t.Errorf("Tokens.VerifyToken error %v: matches ErrExpiredToken: %v, want %v", err, !tt.expired, tt.expired)
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

// TestFlaskTokenMaxAge checks Config.TokenMaxAge: itsdangerous' age rule,
// an error matching both ErrInvalidToken and ErrExpiredToken, and
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
			m, _ := newFlaskManager(t, Config{SecretKey: []byte("s3cret"), TokenMaxAge: tt.maxAge}, tt.now)
			u, err := m.VerifyToken(context.Background(), tok)
			if !tt.expired {
				if err != nil || u.ID != "1" {
					t.Fatalf("VerifyToken = %v, %v", u, err)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, auth.ErrExpiredToken) {
				t.Fatalf("VerifyToken error = %v, want ErrInvalidToken and ErrExpiredToken", err)
			}
		})
	}
}

// nativeSigner signs payloads as a Manager with key flaskNativeKey and the
// default token settings does, stamped at ts: the Manager's clock cannot
// be set from outside, so its tokens' ages are set at signing instead.
func nativeSigner(t *testing.T, ts time.Time) func(payload string) string {
	t.Helper()
	return signer(t, flaskNativeKey, itsdangerous.Config{
		Salt: "authkit-token", Digest: itsdangerous.SHA256, Now: func() time.Time { return ts },
	})
}

// TestFlaskModeKeepsNativeTokens checks that a Manager that accepts Flask
// tokens still issues and verifies its own tokens, with their own errors,
// and that RevokeTokens ends Flask tokens too.
func TestFlaskModeKeepsNativeTokens(t *testing.T) {
	now := time.Now().Unix()
	m, store := newFlaskManager(t, Config{SecretKey: []byte("flask-secret-key")}, now)
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
	if got := tokenExpiration(t, m, store); got != 24*time.Hour {
		t.Errorf("expiration = %v, want the Manager's own default, 24h", got)
	}
	// A native token signed now verifies, so one signed a day and an hour
	// ago is refused for its age alone.
	payload := `["1","` + flaskUniq + `"]`
	if got, err := m.VerifyToken(context.Background(), nativeSigner(t, time.Now())(payload)); err != nil || got.ID != "1" {
		t.Fatalf("VerifyToken(native token signed by hand) = %v, %v", got, err)
	}
	old := nativeSigner(t, time.Now().Add(-25*time.Hour))(payload)
	if _, err := m.VerifyToken(context.Background(), old); !errors.Is(err, auth.ErrExpiredToken) || errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("VerifyToken(old native token) = %v, want ErrExpiredToken alone", err)
	}

	flask := flaskSigner(t, "flask-secret-key", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)
	if _, err := m.VerifyToken(context.Background(), flask); err != nil {
		t.Fatalf("VerifyToken(flask) = %v", err)
	}
	if err := m.RevokeTokens(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.VerifyToken(context.Background(), flask); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("VerifyToken(flask token after RevokeTokens) = %v, want ErrInvalidToken", err)
	}
	if _, err := m.VerifyToken(context.Background(), native); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("VerifyToken(native token after RevokeTokens) = %v, want ErrInvalidToken", err)
	}
}

// TestFlaskMintTokens checks that with Tokens as the Issuer the Manager
// writes the token Flask-Security 5.1.2 wrote in the vectors file, byte for
// byte.
func TestFlaskMintTokens(t *testing.T) {
	ex := loadFlaskVectors(t).FlaskSecurity.Example
	store := newFlaskStore(t)
	tokens := newFlaskTokens(t, Config{SecretKey: []byte("super-secret"), TokenMaxAge: time.Hour}, store, ex.Timestamp)
	m := newTokenManager(t, store, tokens, true, auth.TokenConfig{})
	u, _ := store.UserByID(context.Background(), "1")
	tok, err := m.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	if tok != ex.Token {
		t.Errorf("IssueToken = %q, want Flask-Security's %q", tok, ex.Token)
	}
	if direct, err := tokens.IssueToken(u); err != nil || direct != ex.Token {
		t.Errorf("Tokens.IssueToken = %q, %v; want Flask-Security's %q", direct, err, ex.Token)
	}
	if got, err := m.VerifyToken(context.Background(), tok); err != nil || got.ID != "1" {
		t.Errorf("VerifyToken(minted) = %v, %v", got, err)
	}
	if got := tokenExpiration(t, m, store); got != time.Hour || tokens.TokenMaxAge() != time.Hour {
		t.Errorf("expiration = %v (Tokens: %v), want the Flask max age", got, tokens.TokenMaxAge())
	}
	if _, err := m.IssueToken(&auth.User{ID: "9"}); err == nil {
		t.Error("IssueToken(user without uniquifier) succeeded")
	}
	if _, err := m.IssueToken(nil); err == nil {
		t.Error("IssueToken(nil) succeeded")
	}

	// Without a max age, the minted tokens never expire.
	forever := newFlaskTokens(t, Config{SecretKey: []byte("super-secret")}, store, ex.Timestamp)
	if got := tokenExpiration(t, newTokenManager(t, store, forever, true, auth.TokenConfig{}), store); got != 0 {
		t.Errorf("expiration without a Flask max age = %v, want 0", got)
	}
}

// TestFlaskSharedKey checks a Manager whose own tokens are signed as
// Flask's are (same key, salt "remember-salt", SHA-1, django-concat): its
// own tokens verify by their [id, uniquifier] payload and the Flask ones,
// whose signature it also verifies, are handed to Tokens for their
// payload. (The old FlaskConfig refused this setup; the two kinds of token
// are now told apart by payload.)
func TestFlaskSharedKey(t *testing.T) {
	key := []byte("a Flask SECRET_KEY, also the Manager's")
	now := time.Now().Unix()
	store := newFlaskStore(t)
	tokens := newFlaskTokens(t, Config{SecretKey: key}, store, now)
	for _, issue := range []bool{false, true} {
		tc := auth.TokenConfig{Verifiers: []auth.TokenVerifier{tokens}, Salt: "remember-salt", Digest: itsdangerous.SHA1}
		if issue {
			tc.Issuer = tokens
		}
		m, err := auth.New(store, key, auth.Config{Token: tc, Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("New with the Flask key, salt and digest: %v", err)
		}
		sign := flaskSigner(t, string(key), itsdangerous.Config{}, now)
		u, _ := store.UserByID(context.Background(), "1")
		issued, err := m.IssueToken(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, token, want string // want: a user ID, or "" for ErrInvalidToken
		}{
			{name: "issued", token: issued, want: "1"},
			{name: "native pair", token: sign(`["1","` + flaskUniq + `"]`), want: "1"},
			{name: "native pair, wrong uniquifier", token: sign(`["1","inactive-uniquifier"]`)},
			{name: "native pair, inactive user", token: sign(`["2","inactive-uniquifier"]`)},
			{name: "4.x list", token: sign(`["` + flaskUniq + `"]`), want: "1"},
			{name: "3.x list", token: sign(`["1","5f4dcc3b5aa765d61d8327deb882cf99","` + flaskUniq + `"]`), want: "1"},
			{name: "5.x dict", token: sign(`{"ver":"5","uid":"` + flaskUniq + `","exp":0}`), want: "1"},
			{name: "Flask token, inactive user", token: sign(`["inactive-uniquifier"]`)},
			{name: "Flask token, unknown user", token: sign(`["no-such-uniquifier"]`)},
			{name: "neither", token: sign(`{"ver":"4"}`)},
		} {
			u, err := m.VerifyToken(context.Background(), tt.token)
			if tt.want == "" {
				if u != nil || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrStoreUnavailable) {
					t.Errorf("issue=%v, %s: VerifyToken = %v, %v; want ErrInvalidToken", issue, tt.name, u, err)
				}
				continue
			}
			if err != nil || u == nil || u.ID != tt.want {
				t.Errorf("issue=%v, %s: VerifyToken = %v, %v; want user %s", issue, tt.name, u, err, tt.want)
			}
		}
		if p, _, _ := itsdangerous.Inspect(issued); issue != (string(p) == `["`+flaskUniq+`"]`) {
			t.Errorf("issue=%v: issued token payload %s", issue, p)
		}
	}
}

// flaskFailingStore is a store whose uniquifier lookup fails.
type flaskFailingStore struct{ *auth.MemoryStore }

func (flaskFailingStore) UserByUniquifier(context.Context, string) (*auth.User, error) {
	return nil, errors.New("database down")
}

func TestFlaskTokenStoreFailure(t *testing.T) {
	store := flaskFailingStore{auth.NewMemoryStore()}
	tokens := newFlaskTokens(t, Config{SecretKey: []byte("k")}, store, time.Now().Unix())
	m := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	tok := flaskSigner(t, "k", itsdangerous.Config{}, time.Now().Unix())(`["x"]`)
	if _, err := m.VerifyToken(context.Background(), tok); !errors.Is(err, auth.ErrStoreUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("VerifyToken = %v, want ErrStoreUnavailable", err)
	}
	if _, err := tokens.VerifyToken(context.Background(), tok); !errors.Is(err, auth.ErrStoreUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Tokens.VerifyToken = %v, want ErrStoreUnavailable", err)
	}
	// The 503 reaches clients behind RequireToken.
	h := m.RequireToken(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") }))
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Authentication-Token", tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("RequireToken with the store down: %d, want 503", w.Code)
	}
}

// TestFlaskConfigErrors checks the errors NewTokens and NewHasher give for
// settings they cannot use, and New's for a Hasher beside the Manager's own
// hash settings.
func TestFlaskConfigErrors(t *testing.T) {
	key := []byte("k")
	store := auth.NewMemoryStore()
	tokenTests := []struct {
		name    string
		noStore bool // NewTokens gets a nil store
		cfg     Config
		want    string // in the error
	}{
		{name: "empty", cfg: Config{}, want: "SecretKey"},
		{name: "store without lookup", noStore: true, cfg: Config{SecretKey: key}, want: "UniquifierLookup"},
		{name: "mint without secret", cfg: Config{PasswordSalt: "s"}, want: "SecretKey"},
		{name: "fallbacks without secret", cfg: Config{SecretKeyFallbacks: [][]byte{key}, PasswordSalt: "s"}, want: "SecretKey"},
		{name: "negative max age", cfg: Config{SecretKey: key, TokenMaxAge: -time.Second}, want: "TokenMaxAge"},
		{name: "fractional max age", cfg: Config{SecretKey: key, TokenMaxAge: 1500 * time.Millisecond}, want: "TokenMaxAge"},
	}
	for _, tt := range tokenTests {
		t.Run("NewTokens/"+tt.name, func(t *testing.T) {
			var s auth.UniquifierLookup = store
			if tt.noStore {
				s = nil
			}
			tokens, err := NewTokens(tt.cfg, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tokens != nil {
				t.Fatalf("NewTokens = %v, %v; want an error about %q", tokens, err, tt.want)
			}
		})
	}
	hashTests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "empty", cfg: Config{}, want: "PasswordSalt"},
		{name: "write scheme without salt", cfg: Config{SecretKey: key, PasswordHash: "pbkdf2_sha512"}, want: "PasswordSalt"},
		{name: "single-hash list without salt", cfg: Config{SecretKey: key, PasswordSingleHashSchemes: []string{"bcrypt"}}, want: "PasswordSalt"},
		{name: "unknown write scheme", cfg: Config{PasswordSalt: "s", PasswordHash: "md5_crypt"}, want: `PasswordHash "md5_crypt" is not one of`},
		{name: "write scheme in hash form", cfg: Config{PasswordSalt: "s", PasswordHash: "pbkdf2-sha512"}, want: "pbkdf2-sha512"},
		{name: "write scheme argon2id", cfg: Config{PasswordSalt: "s", PasswordHash: "argon2id"}, want: "argon2id"},
		{name: "bad single-hash scheme name", cfg: Config{PasswordSalt: "s", PasswordSingleHashSchemes: []string{"$6$"}}, want: "passlib scheme name"},
		{name: "empty single-hash scheme name", cfg: Config{PasswordSalt: "s", PasswordSingleHashSchemes: []string{""}}, want: "passlib scheme name"},
		{name: "bcrypt cost", cfg: Config{PasswordSalt: "s", BcryptCost: 40}, want: "bcrypt cost"},
		{name: "argon2 key", cfg: Config{PasswordSalt: "s", PasswordHash: "argon2", Argon2: passhash.Argon2Params{KeyLen: 8}}, want: "argon2id"},
	}
	for _, tt := range hashTests {
		t.Run("NewHasher/"+tt.name, func(t *testing.T) {
			h, err := NewHasher(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || h != nil {
				t.Fatalf("NewHasher = %v, %v; want an error about %q", h, err, tt.want)
			}
		})
	}
	t.Run("New/Hasher beside BcryptCost", func(t *testing.T) {
		h, err := NewHasher(Config{PasswordSalt: "s", BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		_, err = auth.New(store, flaskNativeKey, auth.Config{Password: auth.PasswordConfig{Hasher: h, BcryptCost: 4}})
		if err == nil || !strings.Contains(err.Error(), "Hasher") {
			t.Fatalf("New = %v, want an error about the Hasher", err)
		}
	})
}

// TestNewCopiesFlaskConfig checks that changing the Config after NewTokens
// and NewHasher changes nothing.
func TestNewCopiesFlaskConfig(t *testing.T) {
	now := time.Now().Unix()
	secret := []byte("flask-secret-key")
	fallback := []byte("old-flask-secret")
	fc := Config{SecretKey: secret, SecretKeyFallbacks: [][]byte{fallback}, PasswordSalt: "salt", PasswordSingleHashSchemes: []string{"bcrypt"}}
	store := newFlaskStore(t)
	tokens := newFlaskTokens(t, fc, store, now)
	h, err := NewHasher(fc)
	if err != nil {
		t.Fatal(err)
	}
	m := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	tok := flaskSigner(t, "flask-secret-key", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)
	old := flaskSigner(t, "old-flask-secret", itsdangerous.Config{}, now)(`["` + flaskUniq + `"]`)
	secret[0] = 'X'
	fallback[0] = 'X'
	fc.PasswordSingleHashSchemes[0] = "pbkdf2_sha512"
	if _, err := m.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("VerifyToken after the secret changed = %v", err)
	}
	if _, err := m.VerifyToken(context.Background(), old); err != nil {
		t.Errorf("VerifyToken(fallback's token) after the fallback changed = %v", err)
	}
	if h.prehashes(passlibBcrypt) || !h.prehashes(passlibPBKDF2SHA512) {
		t.Error("the single-hash list changed with the caller's slice")
	}
}

// TestFlaskSecurityTokenInterop has the real Flask-Security 5.1.2 issue a
// token the Manager must accept, and check the tokens the Manager minted.
func TestFlaskSecurityTokenInterop(t *testing.T) {
	t.Parallel()
	py := pythonWithFlaskSecurity(t)
	const secret = "python-interop-flask-secret"
	uniq := auth.NewUniquifier()
	store := auth.NewMemoryStore()
	if err := store.CreateUser(context.Background(), &auth.User{ID: "7", Email: "py@example.com", Active: true, Uniquifier: uniq}); err != nil {
		t.Fatal(err)
	}
	tokens, err := NewTokens(Config{SecretKey: []byte(secret)}, store)
	if err != nil {
		t.Fatal(err)
	}
	mint := newTokenManager(t, store, tokens, true, auth.TokenConfig{})
	own := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	u, _ := store.UserByID(context.Background(), "7")
	minted, _ := mint.IssueToken(u)
	native, _ := own.IssueToken(u)
	tampered := tamperPayload(minted, `["`+auth.NewUniquifier()+`"]`)

	var out struct {
		Version string         `json:"flask_security"`
		Token   string         `json:"token"`
		Status  map[string]int `json:"status"`
	}
	runFlaskScript(t, py, nil, &out, "issue_token.py", secret, uniq, minted, tampered, native)
	t.Logf("Flask-Security %s", out.Version)
	for _, m := range []*auth.Manager{mint, own} {
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

// TestFlaskTokenAuthTime checks when Tokens says a token's user
// authenticated: fs_paa for the 5.4 dict shape, the issue time for the
// list shapes (Flask-Security 5.1.2 issues them at login), and that
// RequireFresh goes by it.
func TestFlaskTokenAuthTime(t *testing.T) {
	now := time.Now().Unix()
	store := newFlaskStore(t)
	tokens := newFlaskTokens(t, Config{SecretKey: []byte("flask-secret-key")}, store, now)
	m := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	sign := flaskSigner(t, "flask-secret-key", itsdangerous.Config{}, now)
	dict := func(paa string) string {
		return sign(`{"ver":"5","uid":"` + flaskUniq + `","fs_paa":` + paa + `,"exp":0}`)
	}
	tests := []struct {
		name   string
		token  string
		want   int64 // Unix seconds
		fresh  time.Duration
		stale  time.Duration
		badPAA bool
	}{
		{name: "5.1.2 list", token: sign(`["` + flaskUniq + `"]`), want: now, fresh: time.Minute},
		{name: "dict with fs_paa two hours back", token: dict(strconv.FormatInt(now-7200, 10) + ".5"), want: now - 7200, fresh: 3 * time.Hour, stale: time.Hour},
		{name: "dict with fs_paa after its stamp", token: dict(strconv.FormatInt(now+7200, 10)), want: now, fresh: time.Minute},
		{name: "dict with fs_paa zero", token: dict("0"), want: now, fresh: time.Minute},
		{name: "dict without fs_paa", token: sign(`{"ver":"5","uid":"` + flaskUniq + `"}`), want: now, fresh: time.Minute},
		{name: "dict with a string fs_paa", token: dict(`"yesterday"`), badPAA: true},
		{name: "dict with a negative fs_paa", token: dict("-5"), badPAA: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, at, err := tokens.VerifyTokenAuth(context.Background(), tt.token)
			if tt.badPAA {
				if !errors.Is(err, auth.ErrTokenPayload) {
					t.Fatalf("VerifyTokenAuth = %v, %v, %v; want ErrTokenPayload", u, at, err)
				}
				return
			}
			if err != nil || u.ID != "1" || at.Unix() != tt.want {
				t.Fatalf("VerifyTokenAuth = %v, %v, %v; want user 1 at %d", u, at, err, tt.want)
			}
			ask := func(within time.Duration) int {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authentication-Token", tt.token)
				w := httptest.NewRecorder()
				m.RequireToken(m.RequireFresh(within)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))).ServeHTTP(w, r)
				return w.Code
			}
			if code := ask(tt.fresh); code != http.StatusOK {
				t.Errorf("RequireFresh(%v) = %d, want 200", tt.fresh, code)
			}
			if tt.stale > 0 {
				if code := ask(tt.stale); code != http.StatusUnauthorized {
					t.Errorf("RequireFresh(%v) = %d, want 401", tt.stale, code)
				}
			}
		})
	}
}
