// Package auth gives a net/http service token authentication in the manner
// of Flask-Security, Flask-HTTPAuth and Flask-Login: a login endpoint that
// answers with a signed token, middlewares that require a token or HTTP
// Basic credentials, and roles.
//
// # Tokens
//
// Tokens use the format of Python itsdangerous' URLSafeTimedSerializer, so
// Python services that share the secret and salt can verify them; the
// codec itself is package github.com/authkit/auth/itsdangerous. A
// [Manager]'s token carries the user's ID and uniquifier; changing the
// uniquifier ([Manager.RevokeTokens]) revokes every token of the user at
// once. A request's token is read from the Authentication-Token header,
// then Authorization: Bearer, then the auth_token query parameter; each
// source can be switched off in [Config].
//
// # Use
//
// Create a [Manager] over a [UserStore] with [New], mount
// [Manager.LoginHandler], and wrap handlers with [Manager.RequireToken] or
// [Manager.Require], which accepts any of several schemes ([Token],
// [Basic], [Session]) tried in a fixed order. Handlers read the [User]
// with [FromContext]:
//
//	mux.Handle("POST /login", m.LoginHandler())
//	mux.Handle("GET /me", m.RequireToken(me))
//	mux.Handle("GET /admin", m.Require(auth.Token, auth.Basic)(m.RequireRoles("admin")(admin)))
//
// The user is shared with other requests and read-only: a handler that
// needs a changed user works on [User.Clone]. Every field of [Config] is
// optional; the zero value means the default.
//
// # Browser sessions
//
// A browser that posts the login form gets a session cookie, signed and
// encrypted with gorilla/securecookie, that carries the user's ID and
// uniquifier, so revocation ends sessions too. The [Session] scheme of
// [Manager.Require] accepts it and sends browsers without it to the login
// page. Requests it authenticates with
// unsafe methods must carry a token from [Manager.CSRFToken] and come from
// the same origin.
//
// # Passwords
//
// New passwords are hashed with bcrypt at cost 12, or argon2id on request;
// the hash formats are package github.com/authkit/auth/passhash. bcrypt
// reads only 72 bytes, so longer passwords are refused when set. Weaker
// stored hashes are upgraded on the next login, and failed password checks
// are throttled per client address and per account.
//
// # Errors
//
// Errors are JSON in Flask-Security's shape,
// {"meta":{"code":401},"response":{"errors":["…"],"error_codes":["UNAUTHENTICATED"]}},
// with a WWW-Authenticate challenge (RFC 6750 Bearer, RFC 7617 Basic) on
// 401: each text in "errors" has a stable code in "error_codes" (and each
// field error in "field_errors" one in "field_error_codes"), and
// Config.Messages replaces the texts by code, to translate them. A failing
// store gives 503, never a false 401. Config.ErrorHandler renders errors
// another way.
//
// # Security defaults
//
// Tokens are signed with HMAC-SHA256 and expire after 24 hours. Passwords
// are hashed with bcrypt at cost 12 (argon2id on request). Signatures and
// uniquifiers are compared in constant time; an unknown email costs the same
// hash work as a wrong password and gets the same answer; request bodies are
// bounded; failures answer with fixed texts, never internal errors.
//
// # Moving from Flask-Security
//
// A Manager can share users with a Flask-Security application: accept its
// tokens and password hashes, and write hashes (and tokens) it accepts. The
// adapter is package github.com/authkit/auth/flask, which plugs into the
// Manager's extension points — a [TokenVerifier] in TokenConfig.Verifiers,
// a [TokenIssuer] as TokenConfig.Issuer, a [PasswordHasher] as
// PasswordConfig.Hasher — as any other format can; the root package has no
// Flask code. MIGRATING_FROM_FLASK.md in the repository walks through the
// move.
package auth
