package passkey_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passkey"
)

// A Manager with passkeys: its account handler begins a passwordless
// sign-in with the options a page passes to navigator.credentials.get.
func Example() {
	rp, err := passkey.New(passkey.Config{
		RPID:    "example.com",
		RPName:  "Example",
		Origins: []string{"https://example.com"},
	})
	if err != nil {
		panic(err)
	}
	key := bytes.Repeat([]byte("k"), 32) // in production: 32 random bytes, kept secret
	m, err := auth.New(auth.NewMemoryStore(), key, auth.Config{Passkeys: rp})
	if err != nil {
		panic(err)
	}
	account := m.AccountHandler()

	r := httptest.NewRequest(http.MethodPost, "/wan-signin", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	account.ServeHTTP(rec, r)

	var answer struct {
		Response struct {
			Options struct {
				RPID             string `json:"rpId"`
				UserVerification string `json:"userVerification"`
			} `json:"credential_options"`
			State     string `json:"wan_state"`
			Secondary bool   `json:"is_secondary"`
		} `json:"response"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	fmt.Println(rec.Code, answer.Response.Options.RPID, answer.Response.Options.UserVerification,
		answer.Response.Secondary, answer.Response.State != "")
	// Output: 200 example.com required false true
}
