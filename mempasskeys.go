package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// MemoryStore keeps passkeys too.
var _ PasskeyStore = (*MemoryStore)(nil)

func clonePasskey(p *Passkey) Passkey {
	c := *p
	c.ID = bytesClone(p.ID)
	c.UserHandle = bytesClone(p.UserHandle)
	c.PublicKey = bytesClone(p.PublicKey)
	c.AAGUID = bytesClone(p.AAGUID)
	c.Transports = slices.Clone(p.Transports)
	return c
}

// Passkeys implements [PasskeyStore].
func (s *MemoryStore) Passkeys(ctx context.Context, userID string) ([]Passkey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Passkey
	for _, p := range s.passkeys {
		if p.UserID == userID {
			out = append(out, clonePasskey(p))
		}
	}
	slices.SortFunc(out, func(a, b Passkey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Passkey implements [PasskeyStore].
func (s *MemoryStore) Passkey(ctx context.Context, id []byte) (*Passkey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.passkeys[string(id)]
	if !ok {
		return nil, fmt.Errorf("%w: no such passkey", ErrTokenNotFound)
	}
	c := clonePasskey(p)
	return &c, nil
}

// AddPasskey implements [PasskeyStore]. A nil passkey, an empty ID or
// public key, an empty name, or a usage other than "first" and
// "secondary" is refused; the store keeps a copy.
func (s *MemoryStore) AddPasskey(ctx context.Context, p *Passkey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case p == nil:
		return errors.New("auth: AddPasskey: nil passkey")
	case len(p.ID) == 0 || len(p.PublicKey) == 0 || p.Name == "":
		return errors.New("auth: AddPasskey: a passkey needs an ID, a public key and a name")
	case p.Usage != passkeyUsageFirst && p.Usage != passkeyUsageSecondary:
		return fmt.Errorf("auth: AddPasskey: usage %q is neither \"first\" nor \"secondary\"", p.Usage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[p.UserID]; !ok {
		return fmt.Errorf("%w: passkey of user %q", ErrUserNotFound, p.UserID)
	}
	if _, ok := s.passkeys[string(p.ID)]; ok {
		return fmt.Errorf("%w: passkey already registered", ErrDuplicateID)
	}
	for _, q := range s.passkeys {
		if q.UserID == p.UserID && q.Name == p.Name {
			return fmt.Errorf("%w: the user has a passkey named %q", ErrDuplicateID, p.Name)
		}
	}
	if s.passkeys == nil {
		s.passkeys = map[string]*Passkey{}
	}
	c := clonePasskey(p)
	s.passkeys[string(p.ID)] = &c
	return nil
}

// UsePasskey implements [PasskeyStore], under the store's lock.
func (s *MemoryStore) UsePasskey(ctx context.Context, p *Passkey, since time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if p == nil {
		return false, errors.New("auth: UsePasskey: nil passkey")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.passkeys[string(p.ID)]
	if !ok || q.UserID != p.UserID {
		return false, fmt.Errorf("%w: no such passkey", ErrTokenNotFound)
	}
	switch {
	case !q.LastUsedAt.IsZero() && !q.LastUsedAt.Before(since):
		return false, nil
	case p.SignCount <= q.SignCount && (p.SignCount != 0 || q.SignCount != 0):
		return false, nil
	}
	q.SignCount, q.BackupState, q.LastUsedAt = p.SignCount, p.BackupState, p.LastUsedAt
	return true, nil
}

// DeletePasskey implements [PasskeyStore].
func (s *MemoryStore) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.passkeys[string(id)]
	if !ok || q.UserID != userID {
		return fmt.Errorf("%w: no such passkey of the user", ErrTokenNotFound)
	}
	delete(s.passkeys, string(id))
	return nil
}

// PasskeyUserHandle implements [PasskeyStore]: a MemoryStore keeps the
// handles with the passkeys alone, and returns nil.
func (s *MemoryStore) PasskeyUserHandle(ctx context.Context, userID string) ([]byte, error) {
	return nil, ctx.Err()
}
