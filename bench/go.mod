module github.com/authkit/auth/bench

go 1.26.0

toolchain go1.26.8

require (
	github.com/abbot/go-http-auth v0.4.0
	github.com/authkit/auth v0.0.0-00010101000000-000000000000
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/gorilla/securecookie v1.1.2
	github.com/shaj13/go-guardian/v2 v2.11.5
	github.com/shaj13/libcache v1.0.0
	golang.org/x/crypto v0.57.0
	golang.org/x/perf v0.0.0-20260512194132-3cf34090a3db
	modernc.org/sqlite v1.46.1
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/exp v0.0.0-20260410095643-746e56fc9e2f // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	gopkg.in/square/go-jose.v2 v2.5.1 // indirect
	modernc.org/libc v1.67.6 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.11.0 // indirect
)

replace github.com/authkit/auth => ../
