package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

func cloneSession(s *DeviceSession) *DeviceSession {
	c := *s
	c.TokenHash = bytesClone(s.TokenHash)
	return &c
}

// CreateSession implements [SessionStore].
func (s *MemoryStore) CreateSession(ctx context.Context, d *DeviceSession) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		return errors.New("auth: CreateSession: empty session ID")
	}
	if _, ok := s.sessions[d.ID]; ok {
		return fmt.Errorf("%w: session %q", ErrDuplicateID, d.ID)
	}
	if _, ok := s.byID[d.UserID]; !ok {
		return fmt.Errorf("%w: session of user %q", ErrUserNotFound, d.UserID)
	}
	s.sessions[d.ID] = cloneSession(d)
	return nil
}

// UpdateSession implements [SessionStore].
func (s *MemoryStore) UpdateSession(ctx context.Context, id string, update func(*DeviceSession) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("%w: session %q", ErrTokenNotFound, id)
	}
	next := cloneSession(cur)
	if err := update(next); err != nil {
		return err
	}
	if next.ID != cur.ID || next.UserID != cur.UserID {
		return fmt.Errorf("%w: UpdateSession: the update changed the session's ID or user", ErrIDChanged)
	}
	s.sessions[id] = cloneSession(next)
	return nil
}

// DeleteSession implements [SessionStore].
func (s *MemoryStore) DeleteSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[id]; !ok {
		return fmt.Errorf("%w: session %q", ErrTokenNotFound, id)
	}
	delete(s.sessions, id)
	return nil
}

// UserSessions implements [SessionStore].
func (s *MemoryStore) UserSessions(ctx context.Context, userID string) ([]*DeviceSession, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []*DeviceSession
	for _, d := range s.sessions {
		if d.UserID == userID {
			out = append(out, cloneSession(d))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *DeviceSession) int {
		if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DeleteUserSessions implements [SessionStore].
func (s *MemoryStore) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, d := range s.sessions {
		if d.UserID == userID && id != except {
			delete(s.sessions, id)
			n++
		}
	}
	return n, nil
}
