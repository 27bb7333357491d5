package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMiddleware serves one request carrying a valid token in the
// Authentication-Token header, through RequireToken over a MemoryStore
// and, as the baseline, straight to the handler.
func BenchmarkMiddleware(b *testing.B) {
	f := getFixture(b)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authentication-Token", f.token)

	b.Run("bare-handler", func(b *testing.B) {
		serve(b, okHandler, r)
	})
	b.Run("auth-require-token", func(b *testing.B) {
		serve(b, f.m.RequireToken(okHandler), r)
	})
}
