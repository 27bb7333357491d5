package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/authkit/auth"
)

// The account page's Devices section: the user's device sessions, the
// logins of API clients that hold a refresh token (the native schema turns
// refresh tokens on; see nativeRefresh). The page gets them from the
// account handler itself, GET /auth/sessions served in-process as the
// user's own request, so it lists exactly what that endpoint lists and
// never sees a token; each has a button that posts to endSession, which
// ends it through DELETE /auth/sessions/{id} the same way.

// deviceSession is one session as GET /sessions answers it.
type deviceSession struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	LastIP     string    `json:"last_ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

// devices is what the account page shows of them.
type devices struct {
	On       bool // refresh tokens are on: the section is shown
	Sessions []deviceSession
	Error    bool // the sessions could not be read
}

// inProcess serves the account handler a copy of r, the user's own
// request with its cookies, as method and path (under /auth), with the
// JSON body given (none if nil) and the CSRF token csrf if not "", and
// returns the answer.
func inProcess(account http.Handler, r *http.Request, method, path, csrf string, body []byte) *httptest.ResponseRecorder {
	sub := r.Clone(r.Context())
	sub.Method = method
	sub.URL = &url.URL{Path: path}
	sub.RequestURI = ""
	sub.Body, sub.ContentLength = http.NoBody, 0
	sub.Header.Del("Content-Type")
	if body != nil {
		sub.Body, sub.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		sub.Header.Set("Content-Type", "application/json")
	}
	sub.Header.Set("Accept", "application/json")
	sub.Header.Del(auth.CSRFHeader)
	if csrf != "" {
		sub.Header.Set(auth.CSRFHeader, csrf)
	}
	rec := httptest.NewRecorder()
	account.ServeHTTP(rec, sub)
	return rec
}

// userDevices lists the device sessions of the user of r, a request behind
// m.Require(auth.Session), through account (m.AccountHandler, not
// stripped of a prefix). Without refresh tokens the handler serves no
// /sessions (404, or 501 without a Mailer), and the section is off.
func userDevices(account http.Handler, r *http.Request) devices {
	rec := inProcess(account, r, http.MethodGet, "/sessions", "", nil)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusNotImplemented:
		return devices{}
	default:
		return devices{On: true, Error: true}
	}
	var v struct {
		Response struct {
			Sessions []deviceSession `json:"sessions"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		return devices{On: true, Error: true}
	}
	return devices{On: true, Sessions: v.Response.Sessions}
}

// pathID reports whether id may name a session or a personal access
// token: the library makes their IDs base64url, and one with a "/" would
// name another route.
func pathID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// maxEndForm bounds the body of the form that ends a session: its CSRF
// token and a session ID.
const maxEndForm = 4 << 10

// endSession handles the Devices section's buttons, POST
// /account/sessions/end with the form's session ID, behind
// m.Require(auth.Session), which checks the form's CSRF token and origin
// as for every form of a logged-in user (and browserForbidden, which
// sends a refused post back to the account page). It ends the session
// through DELETE /auth/sessions/{id} in-process, which refuses an ID that
// is not one of the user's, and sends the browser back to the account
// page with the outcome.
func endSession(m *auth.Manager, account http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxEndForm)
		back := "/account?error=no-session"
		if id := r.PostFormValue("session"); pathID(id) {
			// The post passed the CSRF check; the in-process request
			// carries the session's token as a script's DELETE would.
			rec := inProcess(account, r, http.MethodDelete, "/sessions/"+id, m.CSRFToken(r), nil)
			switch rec.Code {
			case http.StatusOK:
				back = "/account?status=session-ended"
			case http.StatusNotFound:
			default:
				back = "/account?error=unavailable"
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, back, http.StatusSeeOther)
	})
}
