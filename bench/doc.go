// Package bench compares the cost of package auth's tokens, middleware and
// HTTP Basic authentication with a floor and with peer libraries, on the same
// claims (a user ID and a uniquifier) in one `go test -bench` run.
//
// It is a module of its own (see go.mod), so the peers it imports never
// reach the requirements of github.com/authkit/auth. The package holds no
// code: everything is in its _test.go files.
//
//	go test -run '^$' -bench . -benchtime 1x   # quick check, as CI runs it
//	go run ./cmd/report                        # BENCHMARKS.md and chart.svg
//
// # Groups
//
// BenchmarkVerify checks one token per iteration. floor-hmac-sha256 and
// floor-hmac-sha1 are the least a verifier of this format can do: one
// pre-keyed, reused HMAC over the signed bytes, the comparison, and the
// base64url decoding of the three parts. auth-signature is
// [github.com/authkit/auth/itsdangerous.Serializer.Verify], auth-payload [github.com/authkit/auth/itsdangerous.Serializer.AppendPayload],
// auth-store [auth.Manager.VerifyToken] over an [auth.MemoryStore], and
// auth-reject-tampered VerifyToken on a token whose payload was altered.
// The peers are github.com/golang-jwt/jwt/v5 (HS256),
// github.com/gorilla/securecookie (JSON, hash key only) and
// github.com/shaj13/go-guardian/v2 v2.11.5 (its jwt strategy; see
// BenchmarkVerify for the two paths measured).
//
// BenchmarkIssue makes one token per iteration, BenchmarkMiddleware serves
// one request through [auth.Manager.RequireToken] and through the bare
// handler, and BenchmarkBasic serves one request through
// [auth.Manager.RequireBasic] and github.com/abbot/go-http-auth's Basic
// authenticator, both over bcrypt hashes of cost 10.
package bench
