package auth_test

import (
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// TestMemoryStoreSessions runs storetest's session checks against
// MemoryStore's auth.SessionStore.
func TestMemoryStoreSessions(t *testing.T) {
	storetest.RunSessions(t, func(*testing.T) auth.SessionStore { return auth.NewMemoryStore() })
}
