package storetest

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/authkit/auth"
)

// Limits describes what a store cannot do because it keeps users in a
// schema it does not own, such as a Flask-Security application's tables
// (see sqlstore.FlaskStore). [RunWith] relaxes the checks accordingly and
// no further; the zero value asks for everything, as [Run] does.
type Limits struct {
	// DecimalIDs: the store keeps only IDs that are decimal integers (an
	// integer primary key). The suite then gives the store a decimal
	// number of its own for each ID it would choose ("known", "rt-full"),
	// mapped both ways, so every check still runs.
	DecimalIDs bool
	// UnorderedRoles: roles are a set, returned in an order of the
	// store's own. The suite compares them sorted.
	UnorderedRoles bool
	// GeneratedUniquifiers: a user stored with an empty Uniquifier gets a
	// fresh random one instead (a NOT NULL, unique column), written back
	// into the user CreateUser was given. Where the suite stored an empty
	// uniquifier it then accepts whatever comes back.
	GeneratedUniquifiers bool
}

// RunWith is [Run] for a store with limits.
func RunWith(t *testing.T, open Opener, limits Limits) {
	t.Helper()
	if limits == (Limits{}) {
		Run(t, open)
		return
	}
	Run(t, func(t *testing.T) (Store, Reopen) {
		s, reopen := open(t)
		if s == nil {
			return nil, nil
		}
		var ids *idMap
		if limits.DecimalIDs {
			ids = &idMap{toStore: map[string]string{}, toSuite: map[string]string{}, next: firstMappedID}
		}
		wrapped := &limited{Store: s, limits: limits, ids: ids}
		if reopen == nil {
			return wrapped, nil
		}
		return wrapped, func(t *testing.T) Store {
			s2 := reopen(t)
			if s2 == nil {
				return nil
			}
			return &limited{Store: s2, limits: limits, ids: ids}
		}
	})
}

// limited is a store under test with limits: it carries them to the
// checks and, with DecimalIDs, translates IDs.
type limited struct {
	Store
	limits Limits
	ids    *idMap // nil unless limits.DecimalIDs
}

// limitsOf returns the limits the store runs under.
func limitsOf(s Store) Limits {
	if l, ok := s.(*limited); ok {
		return l.limits
	}
	return Limits{}
}

// firstMappedID is the number the suite gives the first ID it chooses
// that is not decimal; later ones count down from it. Stores that assign
// IDs count up from the largest, so the two never meet, and it fits a
// 32-bit integer column.
const firstMappedID = 1_999_999_999

// idMap maps the suite's IDs to a store's decimal IDs and back.
type idMap struct {
	mu      sync.Mutex
	toStore map[string]string
	toSuite map[string]string
	next    int64
}

// in returns the store's ID for the suite's id.
func (m *idMap) in(id string) string {
	if m == nil || id == "" {
		return id
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id {
		return id // a decimal the suite chose ("1", "10") or the store assigned
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.toStore[id]; ok {
		return s
	}
	s := strconv.FormatInt(m.next, 10)
	m.next--
	m.toStore[id], m.toSuite[s] = s, id
	return s
}

// out returns the suite's ID for the store's id.
func (m *idMap) out(id string) string {
	if m == nil {
		return id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.toSuite[id]; ok {
		return s
	}
	return id
}

// user gives u the suite's ID. The store's user is read-only, so a user
// whose ID differs is copied (and the check that a store never changes a
// user it handed out sees only the copy).
func (l *limited) user(u *auth.User, err error) (*auth.User, error) {
	if u != nil {
		if id := l.ids.out(u.ID); id != u.ID {
			u = u.Clone()
			u.ID = id
		}
	}
	return u, err
}

func (l *limited) UserByID(ctx context.Context, id string) (*auth.User, error) {
	return l.user(l.Store.UserByID(ctx, l.ids.in(id)))
}

func (l *limited) UserByEmail(ctx context.Context, email string) (*auth.User, error) {
	return l.user(l.Store.UserByEmail(ctx, email))
}

func (l *limited) UpdateUser(ctx context.Context, id string, update func(*auth.User) error) error {
	return l.Store.UpdateUser(ctx, l.ids.in(id), func(u *auth.User) error {
		u.ID = l.ids.out(u.ID)
		err := update(u)
		u.ID = l.ids.in(u.ID)
		return err
	})
}

func (l *limited) CreateUser(ctx context.Context, u *auth.User) error {
	if u == nil {
		return l.Store.CreateUser(ctx, u)
	}
	u.ID = l.ids.in(u.ID)
	err := l.Store.CreateUser(ctx, u)
	u.ID = l.ids.out(u.ID)
	return err
}

func (l *limited) ListUsers(ctx context.Context) ([]*auth.User, error) {
	users, err := l.Store.ListUsers(ctx)
	for i, u := range users {
		users[i], _ = l.user(u, nil)
	}
	return users, err
}

// sameRoles reports whether got equals want, in order unless the limits
// say roles are unordered.
func sameRoles(lim Limits, got, want []string) bool {
	if lim.UnorderedRoles {
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	}
	return slices.Equal(got, want)
}
