package main

import (
	"net/http"
	"strconv"

	"github.com/authkit/auth/docs"
)

// openAPIDocument serves docs/openapi.yaml, the OpenAPI 3.1 description of
// the library's endpoints at the paths routes mounts them, for tools such
// as Swagger UI or a client generator.
func openAPIDocument() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/yaml")
		h.Set("Content-Length", strconv.Itoa(len(docs.OpenAPI)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(docs.OpenAPI) // a failed write means the client left
	})
}

// wrapRoutes, when set, wraps the handler that routes returns. The tests
// set it (openapi_test.go) to check every request and answer against
// docs/openapi.yaml; the program leaves it nil.
var wrapRoutes func(http.Handler) http.Handler
