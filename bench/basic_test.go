package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	httpauth "github.com/abbot/go-http-auth"
)

// BenchmarkBasic serves one request with valid HTTP Basic credentials.
// Both sides check a bcrypt hash of cost 10 made by golang.org/x/crypto,
// which dominates: the difference is the per-request overhead around it.
func BenchmarkBasic(b *testing.B) {
	f := getFixture(b)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(email, password)

	b.Run("auth-require-basic", func(b *testing.B) {
		serve(b, f.m.RequireBasic(okHandler), r)
	})
	b.Run("go-http-auth", func(b *testing.B) {
		serve(b, goHTTPAuthBasic(f.basicHash), r)
	})
}

// goHTTPAuthBasic is go-http-auth's Basic authenticator over a one-user
// password file holding hash, in front of okHandler.
func goHTTPAuthBasic(hash string) http.Handler {
	secrets := func(user, realm string) string {
		if user == email {
			return hash
		}
		return ""
	}
	a := httpauth.NewBasicAuthenticator("auth", secrets)
	return a.Wrap(func(w http.ResponseWriter, ar *httpauth.AuthenticatedRequest) {
		okHandler.ServeHTTP(w, &ar.Request)
	})
}
