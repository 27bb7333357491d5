package auth

import (
	"context"
	"errors"
	"fmt"
)

// MemoryStore keeps second factors too.
var _ TwoFactorStore = (*MemoryStore)(nil)

// memTwoFactors are the second factors and recovery codes of a
// MemoryStore, guarded by its mu. The maps are made by the first write.
type memTwoFactors struct {
	byUser map[string]*TwoFactor
	codes  map[string]map[string]struct{} // user ID → string(hash)
}

func cloneTwoFactor(tf *TwoFactor) *TwoFactor {
	c := *tf
	c.Secret = bytesClone(tf.Secret)
	return &c
}

// TwoFactor implements [TwoFactorStore].
func (s *MemoryStore) TwoFactor(ctx context.Context, userID string) (*TwoFactor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tf, ok := s.factors.byUser[userID]
	if !ok {
		return nil, fmt.Errorf("%w: no second factor of user %q", ErrTokenNotFound, userID)
	}
	return cloneTwoFactor(tf), nil
}

// SetTwoFactor implements [TwoFactorStore]. The factor must belong to a
// user the store holds; a nil factor or an empty secret is refused. The
// store keeps a copy; the user's recovery codes stay as they are.
func (s *MemoryStore) SetTwoFactor(ctx context.Context, tf *TwoFactor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case tf == nil:
		return errors.New("auth: SetTwoFactor: nil second factor")
	case len(tf.Secret) == 0:
		return errors.New("auth: SetTwoFactor: empty secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[tf.UserID]; !ok {
		return fmt.Errorf("%w: second factor of user %q", ErrUserNotFound, tf.UserID)
	}
	if s.factors.byUser == nil {
		s.factors.byUser = map[string]*TwoFactor{}
	}
	s.factors.byUser[tf.UserID] = cloneTwoFactor(tf)
	return nil
}

// UseTOTPCounter implements [TwoFactorStore], under the store's lock.
func (s *MemoryStore) UseTOTPCounter(ctx context.Context, userID string, counter uint64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tf, ok := s.factors.byUser[userID]
	if !ok {
		return false, fmt.Errorf("%w: no second factor of user %q", ErrTokenNotFound, userID)
	}
	if counter <= tf.LastCounter {
		return false, nil
	}
	tf.LastCounter = counter // the store's own: callers hold copies
	return true, nil
}

// DeleteTwoFactor implements [TwoFactorStore].
func (s *MemoryStore) DeleteTwoFactor(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.factors.byUser, userID)
	delete(s.factors.codes, userID)
	return nil
}

// SetRecoveryCodes implements [TwoFactorStore]. The codes must belong to a
// user the store holds; an empty hash is refused, and a hash given twice
// is kept once. The store keeps copies of the hashes.
func (s *MemoryStore) SetRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set := make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		if len(h) == 0 {
			return errors.New("auth: SetRecoveryCodes: empty recovery code hash")
		}
		set[string(h)] = struct{}{} // string(h) copies the bytes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return fmt.Errorf("%w: recovery codes of user %q", ErrUserNotFound, userID)
	}
	if len(set) == 0 {
		delete(s.factors.codes, userID)
		return nil
	}
	if s.factors.codes == nil {
		s.factors.codes = map[string]map[string]struct{}{}
	}
	s.factors.codes[userID] = set
	return nil
}

// UseRecoveryCode implements [TwoFactorStore], under the store's lock.
func (s *MemoryStore) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := s.factors.codes[userID]
	if _, ok := codes[string(hash)]; !ok || len(hash) == 0 {
		return false, nil
	}
	delete(codes, string(hash))
	return true, nil
}

// RecoveryCodesLeft implements [TwoFactorStore].
func (s *MemoryStore) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.factors.codes[userID]), nil
}
