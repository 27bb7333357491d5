package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/weborigin"
	"github.com/rs/cors"
)

// corsOrigins is the value of the repeatable -cors-origin flag: the
// origins, each as a browser sends it in Origin, whose pages may call the
// API with a token (a single-page app served elsewhere, as examples/spa).
type corsOrigins []string

func (o *corsOrigins) String() string { return strings.Join(*o, " ") }

func (o *corsOrigins) Set(s string) error {
	origin, err := weborigin.Parse(s)
	if err != nil {
		return err
	}
	*o = append(*o, origin)
	return nil
}

// corsMaxAge is how long a browser may keep a preflight's answer: ten
// minutes, Chromium's own upper bound being two hours.
const corsMaxAge = 10 * time.Minute

// withCORS lets pages of origins call h from a browser with
// github.com/rs/cors, configured with what a token client of the library
// needs and nothing more. Without origins it returns h itself: no CORS
// headers at all, and a browser keeps other origins' scripts from reading
// any answer, as the library's JSON login expects (docs/sessions.md, Login
// CSRF).
//
//   - Methods: the API's routes are GET (and so HEAD), POST and DELETE
//     (DELETE /auth/sessions/{id}, /auth/tokens/{id}); none uses PUT or PATCH.
//   - Request headers: the token (Authentication-Token, TokenConfig.Header's
//     default, or Authorization: Bearer), Content-Type for
//     the JSON bodies (application/json is not a CORS-safelisted type, so
//     a login is preflighted), and the two headers the library reads back
//     from a client: X-CSRF-Token (the token of a cookie session, inert
//     here without credentials) and auth.DeviceTokenHeader, which a client
//     sends with its next logins.
//   - Exposed headers: auth.DeviceTokenHeader alone. A successful login
//     answers the device token there (handlers.go); a browser keeps it as a
//     cookie only on its own origin, and a cross-origin page gets no
//     cookie, so without reading the header it could not send the token
//     back, and an attacker's failed guesses at the account would lock the
//     page out too (ThrottleConfig). Everything else a token page reads is
//     in the JSON envelope or a CORS-safelisted header (Content-Type,
//     Cache-Control): the token and refresh token, the errors, a
//     reauth_required, the status code. X-CSRF-Token comes only with a
//     cookie session, which a page without credentials never has;
//     WWW-Authenticate repeats what the envelope says, and Retry-After (a
//     throttled login, 429) would only time a countdown: the envelope
//     already says "Too many failed attempts. Retry later.".
//   - Credentials off: the tokens travel in headers, so the browser sends
//     and keeps no cookies for these requests. Turning them on would need
//     the session cookies SameSite=None and Secure, and the library's CSRF
//     checks refuse a cookie-authenticated unsafe request from another
//     origin; see docs/cors.md.
func withCORS(h http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete},
		AllowedHeaders: []string{"Authentication-Token", "Authorization", "Content-Type", auth.CSRFHeader, auth.DeviceTokenHeader},
		ExposedHeaders: []string{auth.DeviceTokenHeader},
		MaxAge:         int(corsMaxAge / time.Second),
		// AllowCredentials stays false: see above.
	}).Handler(h)
}
