package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MemoryStore keeps personal access tokens too.
var _ PersonalTokenStore = (*MemoryStore)(nil)

// memPersonalTokens are the personal access tokens of a MemoryStore,
// guarded by its mu. The maps are made by the first token.
type memPersonalTokens struct {
	byID   map[string]*PersonalToken
	byHash map[string]string // string(Hash) → ID
}

func clonePersonalToken(t *PersonalToken) *PersonalToken {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.Hash = bytesClone(t.Hash)
	return &c
}

// CreatePersonalToken implements [PersonalTokenStore]. The token must
// belong to a user the store holds; an empty ID or hash is refused. The
// store keeps a copy.
func (s *MemoryStore) CreatePersonalToken(ctx context.Context, t *PersonalToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case t == nil:
		return errors.New("auth: CreatePersonalToken: nil token")
	case t.ID == "":
		return errors.New("auth: CreatePersonalToken: empty token ID")
	case len(t.Hash) == 0:
		return errors.New("auth: CreatePersonalToken: empty token hash")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens.byID[t.ID]; ok {
		return fmt.Errorf("%w: personal token %q", ErrDuplicateID, t.ID)
	}
	if _, ok := s.tokens.byHash[string(t.Hash)]; ok {
		return fmt.Errorf("%w: personal token %q: its hash is another token's", ErrDuplicateID, t.ID)
	}
	if _, ok := s.byID[t.UserID]; !ok {
		return fmt.Errorf("%w: personal token of user %q", ErrUserNotFound, t.UserID)
	}
	if s.tokens.byID == nil {
		s.tokens.byID, s.tokens.byHash = map[string]*PersonalToken{}, map[string]string{}
	}
	s.tokens.byID[t.ID] = clonePersonalToken(t)
	s.tokens.byHash[string(t.Hash)] = t.ID
	return nil
}

// PersonalTokenByHash implements [PersonalTokenStore].
func (s *MemoryStore) PersonalTokenByHash(ctx context.Context, hash []byte) (*PersonalToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.tokens.byHash[string(hash)]
	if !ok {
		return nil, fmt.Errorf("%w: no personal token has that hash", ErrTokenNotFound)
	}
	return clonePersonalToken(s.tokens.byID[id]), nil
}

// PersonalTokenAndOwner reads the personal token whose hash is hash and
// its owner at once, as PersonalTokenByHash and UserByID would one after
// the other (see [PersonalTokenStore]). The user is the stored one,
// shared and read-only, as UserByID returns it.
func (s *MemoryStore) PersonalTokenAndOwner(ctx context.Context, hash []byte) (*PersonalToken, *User, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.tokens.byHash[string(hash)]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no personal token has that hash", ErrTokenNotFound)
	}
	t := s.tokens.byID[id]
	u, ok := s.byID[t.UserID]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no personal token has that hash", ErrTokenNotFound)
	}
	return clonePersonalToken(t), u, nil
}

// UserPersonalTokens implements [PersonalTokenStore]. Tokens made at the
// same moment come in the order of their IDs, bytewise.
func (s *MemoryStore) UserPersonalTokens(ctx context.Context, userID string) ([]*PersonalToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []*PersonalToken
	for _, t := range s.tokens.byID {
		if t.UserID == userID {
			out = append(out, clonePersonalToken(t))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *PersonalToken) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// TouchPersonalToken implements [PersonalTokenStore].
func (s *MemoryStore) TouchPersonalToken(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.byID[id]
	if !ok {
		return fmt.Errorf("%w: personal token %q", ErrTokenNotFound, id)
	}
	if at.After(t.LastUsedAt) {
		t.LastUsedAt = at // the store's own: callers hold copies
	}
	return nil
}

// DeletePersonalToken implements [PersonalTokenStore].
func (s *MemoryStore) DeletePersonalToken(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.byID[id]
	if !ok {
		return fmt.Errorf("%w: personal token %q", ErrTokenNotFound, id)
	}
	delete(s.tokens.byID, id)
	delete(s.tokens.byHash, string(t.Hash))
	return nil
}

// DeleteUserPersonalTokens implements [PersonalTokenStore].
func (s *MemoryStore) DeleteUserPersonalTokens(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, t := range s.tokens.byID {
		if t.UserID == userID {
			delete(s.tokens.byID, id)
			delete(s.tokens.byHash, string(t.Hash))
			n++
		}
	}
	return n, nil
}
