package storetest_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// TestMemoryStoreWithLimits checks that limits only relax: a store that
// keeps every contract passes under all of them.
func TestMemoryStoreWithLimits(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) (storetest.Store, storetest.Reopen) {
		return auth.NewMemoryStore(), nil
	}, storetest.Limits{DecimalIDs: true, UnorderedRoles: true, GeneratedUniquifiers: true})
}

// TestDecimalIDs runs the suite against a store that refuses every ID that
// is not a decimal integer, as one over an integer primary key does.
func TestDecimalIDs(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) (storetest.Store, storetest.Reopen) {
		return decimalOnly{auth.NewMemoryStore()}, nil
	}, storetest.Limits{DecimalIDs: true})
}

// decimalOnly is a MemoryStore that keeps decimal IDs only.
type decimalOnly struct{ *auth.MemoryStore }

func isDecimal(id string) bool {
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && strconv.FormatInt(n, 10) == id
}

func (d decimalOnly) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if !isDecimal(id) {
		return nil, auth.ErrUserNotFound
	}
	return d.MemoryStore.UserByID(ctx, id)
}

func (d decimalOnly) UpdateUser(ctx context.Context, id string, update func(*auth.User) error) error {
	if !isDecimal(id) {
		return auth.ErrUserNotFound
	}
	return d.MemoryStore.UpdateUser(ctx, id, update)
}

func (d decimalOnly) CreateUser(ctx context.Context, u *auth.User) error {
	if u.ID != "" && !isDecimal(u.ID) {
		return fmt.Errorf("ID %q is not a decimal integer", u.ID)
	}
	return d.MemoryStore.CreateUser(ctx, u)
}
