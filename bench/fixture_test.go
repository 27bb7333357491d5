package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
	jwt "github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/securecookie"
	guardian "github.com/shaj13/go-guardian/v2/auth"
	guardianjwt "github.com/shaj13/go-guardian/v2/auth/strategies/jwt"
	"golang.org/x/crypto/bcrypt"
)

// Every library signs with this secret. The Manager derives its HMAC key
// from it (itsdangerous' django-concat); the peers use it as it is.
var secret = []byte("benchmark-secret-key-0123456789ab")

const (
	email    = "bench@example.com"
	password = "correct horse battery staple"
	// bcryptCost is the cost of both Basic benchmarks' hashes.
	bcryptCost = 10
	// tokenTTL is the lifetime of every token, long enough for any run.
	tokenTTL = 24 * time.Hour // the Manager's default token max age
	// tokenSalt is the salt of the Manager's tokens by default.
	tokenSalt = "authkit-token"
	// cookieName is the name securecookie binds its values to.
	cookieName = "auth"
)

// jwtClaims are the claims of the golang-jwt tokens: sub is the user ID,
// uq the uniquifier, plus iat and exp.
type jwtClaims struct {
	Uniquifier string `json:"uq"`
	jwt.RegisteredClaims
}

// cookieValue is what securecookie encodes, as JSON.
type cookieValue struct {
	ID         string `json:"sub"`
	Uniquifier string `json:"uq"`
}

// fixture holds everything the benchmarks share. It is built once per
// process and only read afterwards.
type fixture struct {
	store *auth.MemoryStore
	m     *auth.Manager // Config{BcryptCost: 10}, all else default
	user  *auth.User

	token    string // m.IssueToken(user): HMAC-SHA256
	tampered string // token with one payload character changed

	ser256, ser1 *itsdangerous.Serializer // the Manager's settings, and SHA-1
	token1       string                   // ser1's token over the same payload

	jwtParser *jwt.Parser
	jwtToken  string

	cookie      *securecookie.SecureCookie
	cookieToken string

	guardianKeeper guardianjwt.StaticSecret
	guardianToken  string

	basicHash string // bcrypt hash of password at bcryptCost, for go-http-auth
}

var sharedFixture = sync.OnceValues(newFixture)

// getFixture returns the shared fixture or stops tb.
func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	f, err := sharedFixture()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func newFixture() (*fixture, error) {
	ctx := context.Background()
	f := &fixture{store: auth.NewMemoryStore()}
	var err error
	if f.m, err = auth.New(f.store, secret, auth.Config{Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: bcryptCost}}); err != nil {
		return nil, err
	}
	if f.user, err = f.m.NewUser(email, password); err != nil {
		return nil, err
	}
	if err = f.store.CreateUser(ctx, f.user); err != nil {
		return nil, err
	}
	if f.token, err = f.m.IssueToken(f.user); err != nil {
		return nil, err
	}
	f.tampered = tamper(f.token)

	// A Serializer with the Manager's defaults verifies the Manager's tokens.
	if f.ser256, err = itsdangerous.New(secret, itsdangerous.Config{
		Salt:   tokenSalt,
		Digest: itsdangerous.SHA256,
		MaxAge: tokenTTL,
	}); err != nil {
		return nil, err
	}
	if f.ser1, err = itsdangerous.New(secret, itsdangerous.Config{
		Salt:   tokenSalt,
		Digest: itsdangerous.SHA1,
		MaxAge: tokenTTL,
	}); err != nil {
		return nil, err
	}
	payload, _, err := itsdangerous.Inspect(f.token)
	if err != nil {
		return nil, err
	}
	if f.token1, err = f.ser1.EncodeJSON(payload); err != nil {
		return nil, err
	}

	f.jwtParser = jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired())
	if f.jwtToken, err = issueJWT(f.user); err != nil {
		return nil, err
	}

	f.cookie = securecookie.New(secret, nil)
	f.cookie.SetSerializer(securecookie.JSONEncoder{})
	if f.cookieToken, err = f.cookie.Encode(cookieName, cookieValue{ID: f.user.ID, Uniquifier: f.user.Uniquifier}); err != nil {
		return nil, err
	}

	f.guardianKeeper = guardianjwt.StaticSecret{ID: "1", Secret: secret, Algorithm: guardianjwt.HS256}
	if f.guardianToken, err = issueGuardian(f.user, f.guardianKeeper); err != nil {
		return nil, err
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return nil, err
	}
	f.basicHash = string(hash)
	return f, nil
}

// tamper changes one character in the middle of the token's first part
// (the payload of the Manager's tokens) to another of the base64url
// alphabet, so that only the signature check can reject it.
func tamper(token string) string {
	b := []byte(token)
	end := strings.IndexByte(token, '.')
	if end < 0 {
		end = len(token)
	}
	i := end / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func issueJWT(u *auth.User) (string, error) {
	now := time.Now()
	claims := jwtClaims{
		Uniquifier: u.Uniquifier,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

func jwtKey(*jwt.Token) (any, error) { return secret, nil }

// issueGuardian issues a go-guardian access token: its standard claims
// (sub, exp, iat, nbf) and its user info, whose extension "uq" holds the
// uniquifier.
func issueGuardian(u *auth.User, keeper guardianjwt.StaticSecret) (string, error) {
	info := guardian.NewUserInfo("", u.ID, nil, guardian.Extensions{"uq": {u.Uniquifier}})
	return guardianjwt.IssueAccessToken(info, keeper, guardianjwt.SetExpDuration(tokenTTL))
}

// okHandler is the protected handler of the middleware benchmarks.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// serve runs b's loop over h with one reused request. The recorder is
// reset, not replaced, each iteration, keeping its header map, so that the
// loop allocates only what h does (and the recorder's snapshot of the
// headers, the bare handler's one allocation); each response's status is
// checked.
func serve(b *testing.B, h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	//lint:ignore SA1019 the map is reused, not read: see above
	header, body := w.HeaderMap, w.Body
	b.ReportAllocs()
	for b.Loop() {
		clear(header)
		body.Reset()
		//lint:ignore SA1019 as above
		*w = httptest.ResponseRecorder{HeaderMap: header, Body: body, Code: http.StatusOK}
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d, want %d", w.Code, http.StatusNoContent)
		}
	}
}
