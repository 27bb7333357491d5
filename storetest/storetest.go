// Package storetest checks that a user store keeps the contracts of package
// auth, in the manner of testing/fstest.TestFS. A store's own test calls
// [Run] with a function that opens fresh, empty instances of it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (storetest.Store, storetest.Reopen) {
//			return auth.NewMemoryStore(), nil
//		})
//	}
//
// Every check runs as a subtest of its own, named after what it checks
// (for example "NotFound" or "ConcurrentUpdates"), so that one can be run
// alone with go test -run 'Conformance/NotFound'. Run the suite with -race:
// the concurrency checks are meant for the race detector as well.
//
// A store that keeps users in a schema it does not own, and so cannot
// keep every contract (string IDs, Unicode case folding, role order), runs
// [RunWith] with the [Limits] that name what it cannot do.
//
// # Session, throttle, personal token, second factor and passkey stores
//
// A store that also keeps device sessions for refresh tokens
// ([auth.SessionStore]) runs [RunSessions] with a [SessionOpener], in the
// same manner:
//
//	func TestSessions(t *testing.T) {
//		storetest.RunSessions(t, func(*testing.T) auth.SessionStore {
//			return auth.NewMemoryStore()
//		})
//	}
//
// Its checks are subtests too ("RoundTrip", "ConcurrentRotation", …).
// Among them, 16 goroutines at once rotate one session from one generation
// to the next, with an update that refuses any other generation, and
// exactly one must win, round after round; for a store over a database,
// run it as well with two stores over one database racing (see
// sqlstore's tests). A throttle store ([auth.ThrottleStore]) runs
// [RunThrottle], and a store of personal access tokens
// ([auth.PersonalTokenStore]) runs [RunPersonalTokens] with a
// [PersonalTokenOpener]; among its checks, 16 goroutines at once create
// tokens of one ID, or of one hash, and exactly one must win, and 32
// concurrent touches of a token must leave the latest time. A store of
// second factors ([auth.TwoFactorStore]) runs [RunTwoFactor] with a
// [TwoFactorOpener]; among its checks, 16 goroutines at once use one TOTP
// counter, or one recovery code, and exactly one must succeed. A store of
// WebAuthn credentials ([auth.PasskeyStore]) runs [RunPasskeys] with a
// [PasskeyOpener]; among its checks, 8 goroutines at once record one
// sign-in with one passkey, and exactly one must be accepted.
//
// # Comparisons
//
// Users are compared field by field. Times are compared with time.Time's
// Equal after both sides are truncated to the second: a store may keep
// more precision, in any time zone, but must keep whole seconds and must
// truncate rather than round. A zero time must come back as a zero time.
// Roles must come back in the order they were stored (the suite never
// stores a role twice); nil and empty role lists are equal.
package storetest

import (
	"testing"

	"github.com/authkit/auth"
)

// Store is a store under test: every interface package auth defines for
// stores.
type Store interface {
	auth.UserStore
	auth.UserUpdater
	auth.UserAdmin
}

// Reopen opens the storage of a Store afresh, as a new process would,
// and returns a second Store over it. The suite uses it to check that
// nothing written is lost. The Store it reopens stays open; reopen must
// give a Store that sees everything written through the first one.
type Reopen func(t *testing.T) Store

// Opener returns a new, empty Store for one check, and a Reopen for its
// storage, or nil for a store that keeps nothing past its own life (such as
// auth.MemoryStore), in which case the reopening check is skipped. It may
// register cleanups with t and should fail t (t.Fatal) if it cannot open
// the store. Run calls it once for each check.
type Opener func(t *testing.T) (Store, Reopen)

// Run runs every check of the suite against stores opened by open, each
// as a subtest of t.
func Run(t *testing.T, open Opener) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s, reopen := open(t)
			if s == nil {
				t.Fatal("storetest: the Opener returned a nil Store")
			}
			c.run(t, s, reopen)
		})
	}
}
