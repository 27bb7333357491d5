// Package docs holds the documents of module github.com/authkit/auth that
// programs serve: OpenAPI, the OpenAPI 3.1 description of the library's
// HTTP endpoints (openapi.yaml).
package docs

import _ "embed" // for OpenAPI

// OpenAPI is docs/openapi.yaml: every endpoint of the library's handlers,
// as the example server mounts them. Programs that serve it must not
// change it.
//
//go:embed openapi.yaml
var OpenAPI []byte
