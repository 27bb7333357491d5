module github.com/authkit/auth/examples/chi

go 1.26.0

toolchain go1.26.8

require (
	github.com/authkit/auth v0.0.0-00010101000000-000000000000
	github.com/go-chi/chi/v5 v5.5.0
)

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/authkit/auth => ../..
