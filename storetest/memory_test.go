package storetest_test

import (
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// TestMemoryStore runs the suite against auth.MemoryStore, which keeps
// nothing past its life: the reopening check is skipped.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, storetest.Reopen) {
		return auth.NewMemoryStore(), nil
	})
}

// TestMemoryThrottle runs the throttle checks against a Manager's default
// in-memory throttle store.
func TestMemoryThrottle(t *testing.T) {
	storetest.RunThrottle(t, func(*testing.T) auth.ThrottleStore { return nil })
}

// TestMemoryPasskeys runs the passkey checks against auth.MemoryStore.
func TestMemoryPasskeys(t *testing.T) {
	storetest.RunPasskeys(t, func(*testing.T) auth.PasskeyStore { return auth.NewMemoryStore() })
}
