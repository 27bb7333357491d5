package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shaj13/go-guardian/v2/auth/strategies/jwt"
)

// TestVerifiersCheck makes sure every verifier the benchmarks time really
// checks what it is given: each accepts its own token, carrying the same
// user ID, and rejects the token with one payload character changed.
func TestVerifiersCheck(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	guardianVerify := jwt.GetAuthenticateFunc(f.guardianKeeper)
	r := httptest.NewRequest(http.MethodGet, "/", nil)

	tests := []struct {
		name   string
		token  string
		verify func(token string) (id string, err error)
	}{
		{name: "auth-signature", token: f.token, verify: func(tok string) (string, error) {
			_, err := f.ser256.Verify(tok)
			return f.user.ID, err
		}},
		{name: "auth-signature-sha1", token: f.token1, verify: func(tok string) (string, error) {
			_, err := f.ser1.Verify(tok)
			return f.user.ID, err
		}},
		{name: "auth-payload", token: f.token, verify: func(tok string) (string, error) {
			seg, _, err := f.ser256.Unsign(tok)
			if err != nil {
				return "", err
			}
			var claims []string
			payload, err := f.ser256.AppendPayload(nil, seg)
			if err == nil {
				err = json.Unmarshal(payload, &claims)
			}
			if err != nil || len(claims) != 2 {
				return "", fmt.Errorf("payload %q: %v", payload, err)
			}
			return claims[0], nil
		}},
		{name: "auth-store", token: f.token, verify: func(tok string) (string, error) {
			u, err := f.m.VerifyToken(ctx, tok)
			if err != nil {
				return "", err
			}
			return u.ID, nil
		}},
		{name: "jwt-hs256", token: f.jwtToken, verify: func(tok string) (string, error) {
			var c jwtClaims
			_, err := f.jwtParser.ParseWithClaims(tok, &c, jwtKey)
			return c.Subject, err
		}},
		{name: "securecookie", token: f.cookieToken, verify: func(tok string) (string, error) {
			var v cookieValue
			err := f.cookie.Decode(cookieName, tok, &v)
			return v.ID, err
		}},
		{name: "go-guardian-jwt", token: f.guardianToken, verify: func(tok string) (string, error) {
			info, _, err := guardianVerify(ctx, r, tok)
			if err != nil {
				return "", err
			}
			return info.GetID(), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.verify(tt.token)
			if err != nil || id != f.user.ID {
				t.Fatalf("valid token: id %q, err %v; want %q, nil", id, err, f.user.ID)
			}
			if _, err := tt.verify(tamper(tt.token)); err == nil {
				t.Fatal("tampered token accepted")
			}
		})
	}
}

// TestBasicCost makes sure both Basic benchmarks hash at the same cost.
func TestBasicCost(t *testing.T) {
	f := getFixture(t)
	u, err := f.store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	for _, hash := range []string{u.PasswordHash, f.basicHash} {
		if got := hash[:7]; got != "$2a$10$" {
			t.Errorf("hash prefix %q, want $2a$10$", got)
		}
	}
}
