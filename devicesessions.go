package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// sessionView is one device session as GET /sessions lists it: never its
// token or token hash.
type sessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	LastIP     string    `json:"last_ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

// currentSession is the ID of the device session whose refresh token the
// request carries in the refresh cookie, or "".
func (m *Manager) currentSession(r *http.Request) string {
	c, err := r.Cookie(refreshCookie)
	if err != nil {
		return ""
	}
	sid, _, _, ok := parseRefresh(c.Value)
	if !ok {
		return ""
	}
	return sid
}

// liveSessions returns the sessions of u that can still be refreshed.
func (m *Manager) liveSessions(ctx context.Context, u *User) ([]*DeviceSession, error) {
	all, err := m.refresh.store.UserSessions(ctx, u.ID)
	if err != nil {
		return nil, storeError(err)
	}
	now := m.now()
	live := all[:0]
	for _, s := range all {
		if s.Uniquifier == u.Uniquifier && now.Sub(s.LastUsedAt) <= m.refresh.idle && now.Sub(s.CreatedAt) <= m.refresh.life {
			live = append(live, s)
		}
	}
	return live, nil
}

// serveSessions serves GET /sessions, DELETE /sessions and DELETE
// /sessions/{id} for the user in the request's context (see
// AccountHandler).
func (m *Manager) serveSessions(w http.ResponseWriter, r *http.Request, id string) {
	u, _ := FromContext(r.Context())
	ctx := r.Context()
	switch {
	case r.Method == http.MethodGet && id == "":
		live, err := m.liveSessions(ctx, u)
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		current := m.currentSession(r)
		views := make([]sessionView, 0, len(live))
		for _, s := range live {
			views = append(views, sessionView{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(),
				LastIP: s.LastIP, UserAgent: s.UserAgent, Current: s.ID == current})
		}
		noStore(w)
		m.writeOK(w, r, struct {
			Sessions []sessionView `json:"sessions"`
		}{views})
	case r.Method == http.MethodDelete && id == "":
		n, err := m.refresh.store.DeleteUserSessions(ctx, u.ID, m.currentSession(r))
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			return
		}
		m.writeOK(w, r, struct {
			Ended int `json:"ended"`
		}{n})
	case r.Method == http.MethodDelete:
		// Only the owner's own sessions: another user's ID is answered as
		// an unknown one. A session never changes owner, so the check and
		// the delete need no transaction together.
		owned, err := m.refresh.store.UserSessions(ctx, u.ID)
		if err == nil {
			err = fmt.Errorf("%w: session %q", ErrTokenNotFound, id)
			for _, s := range owned {
				if s.ID == id {
					err = m.refresh.store.DeleteSession(ctx, id)
					break
				}
			}
		}
		switch {
		case errors.Is(err, ErrTokenNotFound):
			m.fail(w, r, http.StatusNotFound, badRequest(msgNoSuchSession))
			return
		case err != nil:
			m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			return
		}
		m.writeOK(w, r, struct{}{})
	default:
		allow := "GET, DELETE"
		if id != "" {
			allow = http.MethodDelete
		}
		w.Header().Set("Allow", allow)
		m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
	}
}
