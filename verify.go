package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// serveVerify serves POST /verify {password} for a logged-in user: the
// password is checked (throttled as a login is) and the answer carries a
// fresh token, {"user":{"id":…,"authentication_token":…}}; a session
// cookie that came with the request is renewed as fresh too (see
// RequireFresh).
func (m *Manager) serveVerify(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	if !allowPost(w, r) {
		m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
		return
	}
	q, err := readAccountRequest(w, r, m.maxBody, "password")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, g, _ := grantFrom(r.Context())
	password := q.get("password")
	if password == "" {
		f := fieldErrors{}
		f.add("password", msgPasswordMissing)
		rp.refuse(w, r, q, f, "password")
		return
	}
	checked, _, err := m.authenticate(r.Context(), u.Email, password, m.proxies.clientAddr(r), deviceToken(r))
	if err == nil && checked.ID != u.ID {
		err = ErrInvalidCredentials // the email moved to another account meanwhile
	}
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		f := fieldErrors{}
		f.add("password", msgPasswordWrong)
		rp.refuse(w, r, q, f, "password")
		return
	case err != nil:
		rp.fail(w, r, q, err)
		return
	}
	m.answerVerified(w, r, q, checked, g)
}

// answerVerified answers a re-authentication of u, whose request came
// with the grant g: a fresh token, and a session cookie renewed as fresh.
func (m *Manager) answerVerified(w http.ResponseWriter, r *http.Request, q accountRequest, checked *User, g grant) {
	rp := replies{m}
	tok, err := m.IssueToken(checked)
	if err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	noStore(w)
	if g.via == Session {
		if err := m.sessions.reauthenticated(w, r, m.now()); err != nil {
			m.fail(w, r, http.StatusInternalServerError, fmt.Errorf("auth: cannot encode session cookie: %w", err))
			return
		}
	}
	m.audit(r.Context(), EventReauthenticated, slog.String("user_id", checked.ID), slog.String("ip", m.proxies.clientAddr(r)))
	rp.ok(w, r, q, "verified", struct {
		User loginUser `json:"user"`
	}{loginUser{ID: checked.ID, Token: tok}})
}
