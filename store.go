package auth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/authkit/auth/internal/userkey"
)

// UserStore is where a [Manager] finds users. Implementations must be safe
// for concurrent use.
//
// The users a store returns may be shared, with other callers and with the
// store itself: callers treat them as read-only (see [User]), and the store
// never changes a user once it has returned it, storing a new value on a
// write instead. What a caller hands in (to CreateUser, or kept from an
// update callback) the store copies.
type UserStore interface {
	// UserByID returns the user with the given ID. If there is none it
	// returns an error that wraps [ErrUserNotFound]; any other error means
	// the store could not answer (the Manager then replies 503, never 401).
	UserByID(ctx context.Context, id string) (*User, error)

	// UserByEmail returns the user whose email equals email, compared
	// case-insensitively (Unicode simple folding, as strings.EqualFold).
	// If there is none it returns an error that wraps [ErrUserNotFound].
	UserByEmail(ctx context.Context, email string) (*User, error)
}

// UserUpdater is implemented by stores the Manager can write to. With it the
// Manager records the trackable fields on login, rotates uniquifiers on
// logout and revocation, and stores new password hashes.
type UserUpdater interface {
	// UpdateUser loads the user with the given ID, calls update with a copy
	// of it that update may change (never a user the store has handed
	// out), and stores a copy of the result, all atomically: two concurrent calls
	// for the same user never lose each other's changes. If update returns
	// an error nothing is stored and that error is returned. If the user
	// does not exist it returns an error wrapping [ErrUserNotFound]; a
	// change of Email to one another user holds wraps [ErrDuplicateEmail].
	// update must not change the ID.
	UpdateUser(ctx context.Context, id string, update func(*User) error) error
}

// UserAdmin is implemented by stores that can create and list users, the
// operations an operator's tool needs beyond [UserStore] and [UserUpdater].
type UserAdmin interface {
	// CreateUser stores a new user. If u.ID is empty the store assigns one
	// and writes it back into u. An email already held by another user,
	// compared case-insensitively, gives an error wrapping
	// [ErrDuplicateEmail]; an ID already in use, one wrapping [ErrDuplicateID].
	CreateUser(ctx context.Context, u *User) error

	// ListUsers returns every user, ordered by ID as the store orders them
	// (numerically for the in-memory store). The users are read-only, as
	// those of [UserStore]; the slice is the caller's.
	ListUsers(ctx context.Context) ([]*User, error)
}

// MemoryStore is a concurrency-safe in-memory [UserStore], [UserUpdater],
// [UserAdmin], [UniquifierLookup], [SessionStore] and [PersonalTokenStore].
// Its users are gone when the process ends; use a store from a sub-package for anything that must survive a
// restart. The zero value is not usable: call [NewMemoryStore].
//
// Its lookups return the stored users themselves, without copying, so they
// cost no allocation; a write stores a new copy and never changes a user
// already returned (see [UserStore]).
type MemoryStore struct {
	mu      sync.RWMutex
	byID    map[string]*User
	byEmail map[string]*User // keyed by foldEmail(email)
	nextID  int
	byUniq  map[string][]string // IDs of the users holding each Uniquifier

	sessions map[string]*DeviceSession // by ID; see memsessions.go
	tokens   memPersonalTokens         // see mempersonaltokens.go
	factors  memTwoFactors             // see memtwofactor.go
	passkeys map[string]*Passkey       // by string(ID); see mempasskeys.go
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{byID: map[string]*User{}, byEmail: map[string]*User{}, byUniq: map[string][]string{},
		sessions: map[string]*DeviceSession{}}
}

// foldEmail is the key under which emails are compared: strings.EqualFold
// equality, expressed as a map key.
func foldEmail(email string) string { return userkey.Email(email) }

// UserByID implements [UserStore].
func (s *MemoryStore) UserByID(ctx context.Context, id string) (*User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return nil, ErrUserNotFound
	}
	return u, nil
}

// UserByEmail implements [UserStore].
func (s *MemoryStore) UserByEmail(ctx context.Context, email string) (*User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byEmail[foldEmail(email)]
	if !ok {
		return nil, ErrUserNotFound
	}
	return u, nil
}

// UpdateUser implements [UserUpdater].
func (s *MemoryStore) UpdateUser(ctx context.Context, id string, update func(*User) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return ErrUserNotFound
	}
	u := old.Clone()
	if err := update(u); err != nil {
		return err
	}
	if u.ID != id {
		return ErrIDChanged
	}
	oldKey, newKey := foldEmail(old.Email), foldEmail(u.Email)
	if newKey != oldKey {
		if _, taken := s.byEmail[newKey]; taken {
			return ErrDuplicateEmail
		}
		delete(s.byEmail, oldKey)
	}
	u = u.Clone() // update may have kept its argument
	s.byID[id] = u
	s.byEmail[newKey] = u
	s.reindexUniquifier(old, u)
	return nil
}

// CreateUser implements [UserAdmin]. Assigned IDs are decimal numbers
// counting up from 1.
func (s *MemoryStore) CreateUser(ctx context.Context, u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := foldEmail(u.Email)
	if _, taken := s.byEmail[key]; taken {
		return ErrDuplicateEmail
	}
	if u.ID == "" {
		for {
			s.nextID++
			u.ID = strconv.Itoa(s.nextID)
			if _, taken := s.byID[u.ID]; !taken {
				break
			}
		}
	} else if _, taken := s.byID[u.ID]; taken {
		return ErrDuplicateID
	}
	c := u.Clone()
	s.byID[c.ID] = c
	s.byEmail[key] = c
	s.reindexUniquifier(nil, c)
	return nil
}

// ListUsers implements [UserAdmin]. Users are ordered by ID: decimal
// numbers numerically and before every other ID, the others bytewise.
func (s *MemoryStore) ListUsers(ctx context.Context) ([]*User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	users := make([]*User, 0, len(s.byID))
	for _, u := range s.byID {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b *User) int { return userkey.CompareIDs(a.ID, b.ID) })
	return users, nil
}

// UniquifierLookup is implemented by stores that can find a user by
// uniquifier, which a [Manager] needs to accept Flask-Security tokens
// (package github.com/authkit/auth/flask): they name the user by uniquifier alone.
type UniquifierLookup interface {
	// UserByUniquifier returns the user whose Uniquifier equals uniq,
	// compared exactly. If there is none, or uniq is empty, it returns an
	// error that wraps [ErrUserNotFound]. A store over a Flask-Security
	// schema maps Uniquifier to fs_token_uniquifier if the table has that
	// column and to fs_uniquifier otherwise, as Flask-Security does.
	UserByUniquifier(ctx context.Context, uniq string) (*User, error)
}

// errSharedUniquifier: two users hold the uniquifier asked for, so it
// cannot name either.
var errSharedUniquifier = errors.New("auth: uniquifier held by more than one user")

// UserByUniquifier implements [UniquifierLookup]. If several users hold
// uniq, it names none of them and returns an error that is not
// [ErrUserNotFound] (a Manager then answers 503 and logs it).
func (s *MemoryStore) UserByUniquifier(ctx context.Context, uniq string) (*User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch ids := s.byUniq[uniq]; {
	case uniq == "" || len(ids) == 0:
		return nil, ErrUserNotFound
	case len(ids) > 1:
		return nil, errSharedUniquifier
	default:
		return s.byID[ids[0]], nil
	}
}

// reindexUniquifier moves a user from old's uniquifier to u's in the
// index; old is nil for a new user. The caller holds the write lock.
func (s *MemoryStore) reindexUniquifier(old, u *User) {
	if old != nil && old.Uniquifier == u.Uniquifier {
		return
	}
	if s.byUniq == nil {
		s.byUniq = map[string][]string{}
	}
	if old != nil && old.Uniquifier != "" {
		ids := slices.DeleteFunc(s.byUniq[old.Uniquifier], func(id string) bool { return id == old.ID })
		if len(ids) == 0 {
			delete(s.byUniq, old.Uniquifier)
		} else {
			s.byUniq[old.Uniquifier] = ids
		}
	}
	if u.Uniquifier != "" {
		s.byUniq[u.Uniquifier] = append(s.byUniq[u.Uniquifier], u.ID)
	}
}
