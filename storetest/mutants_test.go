package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// mutantEnv names the mutant TestMutant runs the suite against, in a child
// process started by TestSuiteCatchesMutants.
const mutantEnv = "STORETEST_MUTANT"

// mutants are stores with one defect each, and the check of the suite
// that must catch it.
var mutants = []struct {
	name     string
	open     storetest.Opener
	sessions storetest.SessionOpener // if set, RunSessions runs instead of RunWith
	// if set, RunPersonalTokens runs instead of RunWith
	personalTokens storetest.PersonalTokenOpener
	// if set, RunTwoFactor runs instead of RunWith
	twoFactor storetest.TwoFactorOpener
	passkeys  storetest.PasskeyOpener // if set, RunPasskeys runs instead of RunWith
	limits    storetest.Limits        // the suite runs with these
	wantFail  string                  // a subtest of the suite that must fail
}{
	{name: "bare not-found error", open: memory(func(m *mutant) { m.bareNotFound = true }), wantFail: "NotFound"},
	{name: "update of unknown user calls update", open: memory(func(m *mutant) { m.callUpdateOnMissing = true }), wantFail: "NotFound"},
	{name: "drops the last login IP", open: memory(func(m *mutant) { m.dropIP = true }), wantFail: "RoundTrip"},
	{name: "keeps minutes only", open: memory(func(m *mutant) { m.minutes = true }), wantFail: "RoundTrip"},
	{name: "assigns no ID", open: memory(func(m *mutant) { m.noAssignedID = true }), wantFail: "AssignedIDs"},
	{name: "case-sensitive lookup", open: memory(func(m *mutant) { m.caseSensitive = true }), wantFail: "EmailCaseInsensitive"},
	{name: "ASCII-only folding", open: memory(func(m *mutant) { m.asciiFold = true }), wantFail: "EmailCaseInsensitive"},
	{name: "swallows duplicate email", open: memory(func(m *mutant) { m.swallowDupEmail = true }), wantFail: "DuplicateEmail"},
	{name: "swallows duplicate ID", open: memory(func(m *mutant) { m.swallowDupID = true }), wantFail: "DuplicateID"},
	{name: "stores despite update error", open: memory(func(m *mutant) { m.storeOnError = true }), wantFail: "UpdateError"},
	{name: "swallows ID change", open: memory(func(m *mutant) { m.swallowIDChange = true }), wantFail: "IDChange"},
	{name: "sorts roles", open: memory(func(m *mutant) { m.sortRoles = true }), wantFail: "Roles"},
	{name: "keeps the caller's user", open: memory(func(m *mutant) { m.alias = true }), wantFail: "Copies"},
	{name: "updates the user it handed out", open: memory(func(m *mutant) { m.inPlace = true }), wantFail: "Copies"},
	{name: "unlocked read-modify-write", open: memory(func(m *mutant) { m.racyUpdate = true }), wantFail: "ConcurrentUpdates"},
	{name: "stale cache", open: memory(func(m *mutant) { m.cache = map[string]*auth.User{} }), wantFail: "Revocation"},
	{name: "list misses a user", open: memory(func(m *mutant) { m.shortList = true }), wantFail: "ListUsers"},
	{name: "reopen loses everything", open: func(t *testing.T) (storetest.Store, storetest.Reopen) {
		return auth.NewMemoryStore(), func(*testing.T) storetest.Store { return auth.NewMemoryStore() }
	}, wantFail: "Reopen"},
	{name: "not empty", open: func(t *testing.T) (storetest.Store, storetest.Reopen) {
		s := auth.NewMemoryStore()
		s.CreateUser(t.Context(), &auth.User{ID: "leftover", Email: "leftover@example.com"})
		return s, nil
	}, wantFail: "Empty"},
	// Limits relax only what they name.
	{name: "swallows duplicate ID under DecimalIDs", open: memory(func(m *mutant) { m.swallowDupID = true }), limits: storetest.Limits{DecimalIDs: true}, wantFail: "DuplicateID"},
	{name: "swallows ID change under DecimalIDs", open: memory(func(m *mutant) { m.swallowIDChange = true }), limits: storetest.Limits{DecimalIDs: true}, wantFail: "IDChange"},
	{name: "drops the last login IP under all limits", open: memory(func(m *mutant) { m.dropIP = true }), limits: allLimits, wantFail: "RoundTrip"},
	{name: "stale cache under GeneratedUniquifiers", open: memory(func(m *mutant) { m.cache = map[string]*auth.User{} }), limits: storetest.Limits{GeneratedUniquifiers: true}, wantFail: "Revocation"},

	// Session stores, checked by RunSessions.
	{name: "sessions: not empty", sessions: sessions(func(m *sessionMutant) { m.leftover = true }), wantFail: "Empty"},
	{name: "sessions: drops the user agent", sessions: sessions(func(m *sessionMutant) { m.dropUserAgent = true }), wantFail: "RoundTrip"},
	{name: "sessions: keeps minutes only", sessions: sessions(func(m *sessionMutant) { m.minutes = true }), wantFail: "RoundTrip"},
	{name: "sessions: rounds to the second", sessions: sessions(func(m *sessionMutant) { m.round = true }), wantFail: "RoundTrip"},
	{name: "sessions: swallows duplicate ID", sessions: sessions(func(m *sessionMutant) { m.swallowDupID = true }), wantFail: "DuplicateID"},
	{name: "sessions: overwrites duplicate ID", sessions: sessions(func(m *sessionMutant) { m.overwriteDupID = true }), wantFail: "DuplicateID"},
	{name: "sessions: bare not-found error", sessions: sessions(func(m *sessionMutant) { m.bareNotFound = true }), wantFail: "NotFound"},
	{name: "sessions: update of unknown session calls update", sessions: sessions(func(m *sessionMutant) { m.callUpdateOnMissing = true }), wantFail: "NotFound"},
	{name: "sessions: stores despite update error", sessions: sessions(func(m *sessionMutant) { m.storeOnError = true }), wantFail: "UpdateError"},
	{name: "sessions: updates the stored session in place", sessions: sessions(func(m *sessionMutant) { m.inPlace = true }), wantFail: "UpdateError"},
	{name: "sessions: allows ID change", sessions: sessions(func(m *sessionMutant) { m.allowIDChange = true }), wantFail: "IDChange"},
	{name: "sessions: unordered list", sessions: sessions(func(m *sessionMutant) { m.unordered = true }), wantFail: "UserSessions"},
	{name: "sessions: lists every user's sessions", sessions: sessions(func(m *sessionMutant) { m.allUsers = true }), wantFail: "UserSessions"},
	{name: "sessions: keeps the caller's session", sessions: sessions(func(m *sessionMutant) { m.keepCaller = true }), wantFail: "Copies"},
	{name: "sessions: returns stored sessions without copying", sessions: sessions(func(m *sessionMutant) { m.shareOut = true }), wantFail: "Copies"},
	{name: "sessions: shares token hash bytes", sessions: sessions(func(m *sessionMutant) { m.shallowHash = true }), wantFail: "Copies"},
	{name: "sessions: delete keeps the session", sessions: sessions(func(m *sessionMutant) { m.deleteNothing = true }), wantFail: "DeleteSession"},
	{name: "sessions: ignores except", sessions: sessions(func(m *sessionMutant) { m.ignoreExcept = true }), wantFail: "DeleteUserSessions"},
	{name: "sessions: miscounts deletions", sessions: sessions(func(m *sessionMutant) { m.miscount = true }), wantFail: "DeleteUserSessions"},
	{name: "sessions: loses concurrent rotations", sessions: sessions(func(m *sessionMutant) { m.racyUpdate = true }), wantFail: "ConcurrentRotation"},
	{name: "sessions: loses concurrent updates", sessions: sessions(func(m *sessionMutant) { m.racyUpdate = true }), wantFail: "ConcurrentUpdates"},

	// Personal token stores, checked by RunPersonalTokens.
	{name: "tokens: not empty", personalTokens: tokens(func(m *tokenMutant) { m.leftover = true }), wantFail: "Empty"},
	{name: "tokens: drops the name", personalTokens: tokens(func(m *tokenMutant) { m.dropName = true }), wantFail: "RoundTrip"},
	{name: "tokens: drops the expiry", personalTokens: tokens(func(m *tokenMutant) { m.dropExpiry = true }), wantFail: "RoundTrip"},
	{name: "tokens: sorts scopes", personalTokens: tokens(func(m *tokenMutant) { m.sortScopes = true }), wantFail: "RoundTrip"},
	{name: "tokens: reads no scopes as one empty scope", personalTokens: tokens(func(m *tokenMutant) { m.emptyScope = true }), wantFail: "RoundTrip"},
	{name: "tokens: rounds to the second", personalTokens: tokens(func(m *tokenMutant) { m.round = true }), wantFail: "RoundTrip"},
	{name: "tokens: keeps minutes only", personalTokens: tokens(func(m *tokenMutant) { m.minutes = true }), wantFail: "RoundTrip"},
	{name: "tokens: stores zero times as the epoch", personalTokens: tokens(func(m *tokenMutant) { m.zeroAsEpoch = true }), wantFail: "RoundTrip"},
	{name: "tokens: swallows duplicate ID", personalTokens: tokens(func(m *tokenMutant) { m.swallowDupID = true }), wantFail: "DuplicateID"},
	{name: "tokens: overwrites duplicate ID", personalTokens: tokens(func(m *tokenMutant) { m.overwriteDupID = true }), wantFail: "DuplicateID"},
	{name: "tokens: allows duplicate hash", personalTokens: tokens(func(m *tokenMutant) { m.allowDupHash = true }), wantFail: "DuplicateHash"},
	{name: "tokens: accepts unknown users", personalTokens: tokens(func(m *tokenMutant) { m.anyUser = true }), wantFail: "UnknownUser"},
	{name: "tokens: bare not-found error", personalTokens: tokens(func(m *tokenMutant) { m.bareNotFound = true }), wantFail: "NotFound"},
	{name: "tokens: matches a hash's prefix", personalTokens: tokens(func(m *tokenMutant) { m.prefixHash = true }), wantFail: "NotFound"},
	{name: "tokens: unordered list", personalTokens: tokens(func(m *tokenMutant) { m.order = "unordered" }), wantFail: "UserPersonalTokens"},
	{name: "tokens: oldest first", personalTokens: tokens(func(m *tokenMutant) { m.order = "oldest" }), wantFail: "UserPersonalTokens"},
	{name: "tokens: most recently used first", personalTokens: tokens(func(m *tokenMutant) { m.order = "used" }), wantFail: "UserPersonalTokens"},
	{name: "tokens: undated first", personalTokens: tokens(func(m *tokenMutant) { m.order = "nulls first" }), wantFail: "UserPersonalTokens"},
	{name: "tokens: lists every user's tokens", personalTokens: tokens(func(m *tokenMutant) { m.allUsers = true }), wantFail: "UserPersonalTokens"},
	{name: "tokens: keeps the caller's token", personalTokens: tokens(func(m *tokenMutant) { m.keepCaller = true }), wantFail: "Copies"},
	{name: "tokens: returns stored tokens without copying", personalTokens: tokens(func(m *tokenMutant) { m.shareOut = true }), wantFail: "Copies"},
	{name: "tokens: shares scopes", personalTokens: tokens(func(m *tokenMutant) { m.shallowScopes = true }), wantFail: "Copies"},
	{name: "tokens: shares hash bytes", personalTokens: tokens(func(m *tokenMutant) { m.shallowHash = true }), wantFail: "Copies"},
	{name: "tokens: touch moves backwards", personalTokens: tokens(func(m *tokenMutant) { m.touchBackwards = true }), wantFail: "Touch"},
	{name: "tokens: touch does nothing", personalTokens: tokens(func(m *tokenMutant) { m.touchNothing = true }), wantFail: "Touch"},
	{name: "tokens: touch of unknown token succeeds", personalTokens: tokens(func(m *tokenMutant) { m.touchUnknown = true }), wantFail: "Touch"},
	{name: "tokens: delete keeps the token", personalTokens: tokens(func(m *tokenMutant) { m.deleteNothing = true }), wantFail: "DeletePersonalToken"},
	{name: "tokens: delete of unknown token succeeds", personalTokens: tokens(func(m *tokenMutant) { m.deleteUnknown = true }), wantFail: "DeletePersonalToken"},
	{name: "tokens: delete leaves the hash taken", personalTokens: tokens(func(m *tokenMutant) { m.keepHashTaken = true }), wantFail: "DeletePersonalToken"},
	{name: "tokens: miscounts deletions", personalTokens: tokens(func(m *tokenMutant) { m.miscount = true }), wantFail: "DeleteUserPersonalTokens"},
	{name: "tokens: deletes every user's tokens", personalTokens: tokens(func(m *tokenMutant) { m.deleteAllUsers = true }), wantFail: "DeleteUserPersonalTokens"},
	{name: "tokens: racy duplicate check", personalTokens: tokens(func(m *tokenMutant) { m.racyCreate = true }), wantFail: "ConcurrentCreates"},
	{name: "tokens: racy touch", personalTokens: tokens(func(m *tokenMutant) { m.racyTouch = true }), wantFail: "ConcurrentTouches"},

	// Second factor stores, checked by RunTwoFactor.
	{name: "2fa: not empty", twoFactor: factors(func(m *factorMutant) { m.leftover = true }), wantFail: "Empty"},
	{name: "2fa: leftover recovery codes", twoFactor: factors(func(m *factorMutant) { m.leftoverCodes = true }), wantFail: "Empty"},
	{name: "2fa: bare not-found error", twoFactor: factors(func(m *factorMutant) { m.bareNotFound = true }), wantFail: "Empty"},
	{name: "2fa: drops Enabled", twoFactor: factors(func(m *factorMutant) { m.dropEnabled = true }), wantFail: "RoundTrip"},
	{name: "2fa: keeps the counter in a float64", twoFactor: factors(func(m *factorMutant) { m.floatCounter = true }), wantFail: "RoundTrip"},
	{name: "2fa: keeps the counter in 32 bits", twoFactor: factors(func(m *factorMutant) { m.counter32 = true }), wantFail: "RoundTrip"},
	{name: "2fa: rounds to the second", twoFactor: factors(func(m *factorMutant) { m.round = true }), wantFail: "RoundTrip"},
	{name: "2fa: keeps minutes only", twoFactor: factors(func(m *factorMutant) { m.minutes = true }), wantFail: "RoundTrip"},
	{name: "2fa: stores zero times as the epoch", twoFactor: factors(func(m *factorMutant) { m.zeroAsEpoch = true }), wantFail: "RoundTrip"},
	{name: "2fa: drops the secret's zero bytes", twoFactor: factors(func(m *factorMutant) { m.secretAsCString = true }), wantFail: "RoundTrip"},
	{name: "2fa: set keeps the first factor", twoFactor: factors(func(m *factorMutant) { m.firstWins = true }), wantFail: "SetReplaces"},
	{name: "2fa: set keeps the greater counter", twoFactor: factors(func(m *factorMutant) { m.keepCounter = true }), wantFail: "SetReplaces"},
	{name: "2fa: accepts unknown users", twoFactor: factors(func(m *factorMutant) { m.anyUser = true }), wantFail: "UnknownUser"},
	{name: "2fa: keeps the caller's factor", twoFactor: factors(func(m *factorMutant) { m.keepCaller = true }), wantFail: "Copies"},
	{name: "2fa: returns the stored factor without copying", twoFactor: factors(func(m *factorMutant) { m.shareOut = true }), wantFail: "Copies"},
	{name: "2fa: shares secret bytes", twoFactor: factors(func(m *factorMutant) { m.shallowSecret = true }), wantFail: "Copies"},
	{name: "2fa: shares recovery code hash bytes", twoFactor: factors(func(m *factorMutant) { m.shallowCodes = true }), wantFail: "Copies"},
	{name: "2fa: accepts an equal counter", twoFactor: factors(func(m *factorMutant) { m.acceptEqual = true }), wantFail: "UseTOTPCounter"},
	{name: "2fa: counter moves backwards", twoFactor: factors(func(m *factorMutant) { m.counterBackwards = true }), wantFail: "UseTOTPCounter"},
	{name: "2fa: accepts without storing the counter", twoFactor: factors(func(m *factorMutant) { m.counterNotStored = true }), wantFail: "UseTOTPCounter"},
	{name: "2fa: counter of a user without a factor is false", twoFactor: factors(func(m *factorMutant) { m.counterUnknownFalse = true }), wantFail: "UseTOTPCounter"},
	{name: "2fa: counter of every user", twoFactor: factors(func(m *factorMutant) { m.counterAllUsers = true }), wantFail: "UseTOTPCounter"},
	{name: "2fa: racy counter", twoFactor: factors(func(m *factorMutant) { m.racyCounter = true }), wantFail: "ConcurrentTOTPCounter"},
	{name: "2fa: delete keeps the factor", twoFactor: factors(func(m *factorMutant) { m.deleteNothing = true }), wantFail: "DeleteTwoFactor"},
	{name: "2fa: delete keeps the recovery codes", twoFactor: factors(func(m *factorMutant) { m.deleteKeepsCodes = true }), wantFail: "DeleteTwoFactor"},
	{name: "2fa: delete of a user without a factor fails", twoFactor: factors(func(m *factorMutant) { m.deleteUnknownFails = true }), wantFail: "DeleteTwoFactor"},
	{name: "2fa: delete deletes every user's", twoFactor: factors(func(m *factorMutant) { m.deleteAllUsers = true }), wantFail: "DeleteTwoFactor"},
	{name: "2fa: set codes appends", twoFactor: factors(func(m *factorMutant) { m.appendCodes = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: set codes clears every user's", twoFactor: factors(func(m *factorMutant) { m.setClearsAll = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: use keeps the code", twoFactor: factors(func(m *factorMutant) { m.useKeeps = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: matches a hash's prefix", twoFactor: factors(func(m *factorMutant) { m.prefixCode = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: any user's code", twoFactor: factors(func(m *factorMutant) { m.anyUsersCode = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: miscounts codes", twoFactor: factors(func(m *factorMutant) { m.miscount = true }), wantFail: "RecoveryCodes"},
	{name: "2fa: racy recovery code", twoFactor: factors(func(m *factorMutant) { m.racyCode = true }), wantFail: "ConcurrentRecoveryCodes"},

	// Passkey stores, checked by RunPasskeys.
	{name: "passkeys: not empty", passkeys: passkeys(func(m *passkeyMutant) { m.leftover = true }), wantFail: "Empty"},
	{name: "passkeys: bare not-found error", passkeys: passkeys(func(m *passkeyMutant) { m.bareNotFound = true }), wantFail: "Empty"},
	{name: "passkeys: drops the transports", passkeys: passkeys(func(m *passkeyMutant) { m.dropTransports = true }), wantFail: "RoundTrip"},
	{name: "passkeys: sorts the transports", passkeys: passkeys(func(m *passkeyMutant) { m.sortTransports = true }), wantFail: "RoundTrip"},
	{name: "passkeys: drops the AAGUID", passkeys: passkeys(func(m *passkeyMutant) { m.dropAAGUID = true }), wantFail: "RoundTrip"},
	{name: "passkeys: drops the user handle", passkeys: passkeys(func(m *passkeyMutant) { m.dropHandle = true }), wantFail: "RoundTrip"},
	{name: "passkeys: keeps the sign count in 31 bits", passkeys: passkeys(func(m *passkeyMutant) { m.count31 = true }), wantFail: "RoundTrip"},
	{name: "passkeys: swaps the backup flags", passkeys: passkeys(func(m *passkeyMutant) { m.swapBackup = true }), wantFail: "RoundTrip"},
	{name: "passkeys: drops Discoverable", passkeys: passkeys(func(m *passkeyMutant) { m.dropDiscoverable = true }), wantFail: "RoundTrip"},
	{name: "passkeys: drops UserVerified", passkeys: passkeys(func(m *passkeyMutant) { m.dropVerified = true }), wantFail: "RoundTrip"},
	{name: "passkeys: rounds to the second", passkeys: passkeys(func(m *passkeyMutant) { m.round = true }), wantFail: "RoundTrip"},
	{name: "passkeys: stores zero times as the epoch", passkeys: passkeys(func(m *passkeyMutant) { m.zeroAsEpoch = true }), wantFail: "RoundTrip"},
	{name: "passkeys: cuts IDs at a zero byte", passkeys: passkeys(func(m *passkeyMutant) { m.idAsCString = true }), wantFail: "RoundTrip"},
	{name: "passkeys: keeps 255 bytes of an ID", passkeys: passkeys(func(m *passkeyMutant) { m.shortIDs = true }), wantFail: "RoundTrip"},
	{name: "passkeys: unordered list", passkeys: passkeys(func(m *passkeyMutant) { m.order = "unordered" }), wantFail: "UserPasskeys"},
	{name: "passkeys: newest first", passkeys: passkeys(func(m *passkeyMutant) { m.order = "newest" }), wantFail: "UserPasskeys"},
	{name: "passkeys: ordered by name", passkeys: passkeys(func(m *passkeyMutant) { m.order = "name" }), wantFail: "UserPasskeys"},
	{name: "passkeys: most recently used first", passkeys: passkeys(func(m *passkeyMutant) { m.order = "used" }), wantFail: "UserPasskeys"},
	{name: "passkeys: lists every user's passkeys", passkeys: passkeys(func(m *passkeyMutant) { m.allUsers = true }), wantFail: "UserPasskeys"},
	{name: "passkeys: keeps the caller's passkey", passkeys: passkeys(func(m *passkeyMutant) { m.keepCaller = true }), wantFail: "Copies"},
	{name: "passkeys: returns stored passkeys without copying", passkeys: passkeys(func(m *passkeyMutant) { m.shareOut = true }), wantFail: "Copies"},
	{name: "passkeys: shares the transports", passkeys: passkeys(func(m *passkeyMutant) { m.shallowTransports = true }), wantFail: "Copies"},
	{name: "passkeys: shares the bytes of the keys", passkeys: passkeys(func(m *passkeyMutant) { m.shallowBytes = true }), wantFail: "Copies"},
	{name: "passkeys: swallows a duplicate ID", passkeys: passkeys(func(m *passkeyMutant) { m.swallowDupID = true }), wantFail: "DuplicateID"},
	{name: "passkeys: overwrites a duplicate ID", passkeys: passkeys(func(m *passkeyMutant) { m.overwriteDupID = true }), wantFail: "DuplicateID"},
	{name: "passkeys: allows a duplicate name", passkeys: passkeys(func(m *passkeyMutant) { m.allowDupName = true }), wantFail: "DuplicateID"},
	{name: "passkeys: names unique across users", passkeys: passkeys(func(m *passkeyMutant) { m.globalNames = true }), wantFail: "DuplicateID"},
	{name: "passkeys: names unique without case", passkeys: passkeys(func(m *passkeyMutant) { m.foldNames = true }), wantFail: "DuplicateID"},
	{name: "passkeys: stores a refused name's passkey", passkeys: passkeys(func(m *passkeyMutant) { m.storeDupName = true }), wantFail: "DuplicateID"},
	{name: "passkeys: accepts unknown users", passkeys: passkeys(func(m *passkeyMutant) { m.anyUser = true }), wantFail: "UnknownUser"},
	{name: "passkeys: use ignores since", passkeys: passkeys(func(m *passkeyMutant) { m.ignoreSince = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use accepts a use at since", passkeys: passkeys(func(m *passkeyMutant) { m.sinceExclusive = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use refuses a passkey never used", passkeys: passkeys(func(m *passkeyMutant) { m.neverUsedRefused = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use accepts an equal count", passkeys: passkeys(func(m *passkeyMutant) { m.acceptEqualCount = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use ignores the count", passkeys: passkeys(func(m *passkeyMutant) { m.ignoreCount = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use refuses counts of 0", passkeys: passkeys(func(m *passkeyMutant) { m.refuseZeroCounts = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use accepts 0 after a count", passkeys: passkeys(func(m *passkeyMutant) { m.acceptZeroCount = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use stores every field", passkeys: passkeys(func(m *passkeyMutant) { m.useStoresAll = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use stores nothing", passkeys: passkeys(func(m *passkeyMutant) { m.useStoresNothing = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use keeps the backup state", passkeys: passkeys(func(m *passkeyMutant) { m.useKeepsBackup = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use stores a refused use", passkeys: passkeys(func(m *passkeyMutant) { m.useStoresRefused = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use of another user's passkey", passkeys: passkeys(func(m *passkeyMutant) { m.useAnyOwner = true }), wantFail: "UsePasskey"},
	{name: "passkeys: use of an unknown passkey is false", passkeys: passkeys(func(m *passkeyMutant) { m.useUnknownFalse = true }), wantFail: "UsePasskey"},
	{name: "passkeys: racy use", passkeys: passkeys(func(m *passkeyMutant) { m.racyUse = true }), wantFail: "ConcurrentUsePasskey"},
	{name: "passkeys: delete keeps the passkey", passkeys: passkeys(func(m *passkeyMutant) { m.deleteNothing = true }), wantFail: "DeletePasskey"},
	{name: "passkeys: delete of another user's passkey", passkeys: passkeys(func(m *passkeyMutant) { m.deleteAnyOwner = true }), wantFail: "DeletePasskey"},
	{name: "passkeys: delete of an unknown passkey succeeds", passkeys: passkeys(func(m *passkeyMutant) { m.deleteUnknown = true }), wantFail: "DeletePasskey"},
	{name: "passkeys: delete leaves the name taken", passkeys: passkeys(func(m *passkeyMutant) { m.keepNameTaken = true }), wantFail: "DeletePasskey"},
}

var allLimits = storetest.Limits{DecimalIDs: true, UnorderedRoles: true, GeneratedUniquifiers: true}

// TestMutant runs the suite against the mutant named in $STORETEST_MUTANT;
// without it, it does nothing. It is meant to fail.
func TestMutant(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesMutants")
	}
	for _, m := range mutants {
		if m.name == name {
			if m.sessions != nil {
				storetest.RunSessions(t, m.sessions)
				return
			}
			if m.personalTokens != nil {
				storetest.RunPersonalTokens(t, m.personalTokens)
				return
			}
			if m.twoFactor != nil {
				storetest.RunTwoFactor(t, m.twoFactor)
				return
			}
			if m.passkeys != nil {
				storetest.RunPasskeys(t, m.passkeys)
				return
			}
			storetest.RunWith(t, m.open, m.limits)
			return
		}
	}
	t.Fatalf("no mutant %q", name)
}

// TestSuiteCatchesMutants checks that each check of the suite can fail: it
// runs the suite against each mutant in a child process and expects the
// check meant to catch the defect to fail.
func TestSuiteCatchesMutants(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a mutant run")
	}
	if testing.Short() {
		t.Skip("starts a process per mutant")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutant$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that %s\n%s", m.name, out)
			}
			if want := "--- FAIL: TestMutant/" + m.wantFail + " "; !strings.Contains(string(out), want) {
				t.Errorf("check %s did not fail for a store that %s:\n%s", m.wantFail, m.name, out)
			}
		})
	}
}

// mutant is an auth.MemoryStore with defects switched on.
type mutant struct {
	*auth.MemoryStore
	bareNotFound, callUpdateOnMissing, dropIP, minutes, noAssignedID bool
	caseSensitive, asciiFold, swallowDupEmail, swallowDupID          bool
	storeOnError, swallowIDChange, sortRoles, alias, racyUpdate      bool
	shortList, inPlace                                               bool
	cache                                                            map[string]*auth.User // never invalidated
	kept                                                             map[string]*auth.User // callers' users, kept by alias
}

func memory(defect func(*mutant)) storetest.Opener {
	return func(*testing.T) (storetest.Store, storetest.Reopen) {
		m := &mutant{MemoryStore: auth.NewMemoryStore(), kept: map[string]*auth.User{}}
		defect(m)
		return m, nil
	}
}

func (m *mutant) notFound(err error) error {
	if m.bareNotFound && errors.Is(err, auth.ErrUserNotFound) {
		return errors.New("no such user")
	}
	return err
}

func (m *mutant) mangle(u *auth.User) {
	if m.dropIP {
		u.LastLoginIP = ""
	}
	if m.minutes {
		u.CurrentLoginAt = u.CurrentLoginAt.Truncate(60e9)
	}
	if m.sortRoles && len(u.Roles) > 1 && u.Roles[0] > u.Roles[1] {
		u.Roles[0], u.Roles[1] = u.Roles[1], u.Roles[0]
	}
}

func (m *mutant) UserByID(ctx context.Context, id string) (*auth.User, error) {
	if u, ok := m.kept[id]; ok {
		return u, nil
	}
	if u, ok := m.cache[id]; ok {
		return u.Clone(), nil
	}
	u, err := m.MemoryStore.UserByID(ctx, id)
	if err == nil && m.cache != nil {
		m.cache[id] = u.Clone()
	}
	return u, m.notFound(err)
}

func (m *mutant) UserByEmail(ctx context.Context, email string) (*auth.User, error) {
	if m.asciiFold { // as SQLite's lower() compares
		users, _ := m.MemoryStore.ListUsers(ctx)
		for _, u := range users {
			if asciiLower(u.Email) == asciiLower(email) {
				return u, nil
			}
		}
		return nil, auth.ErrUserNotFound
	}
	u, err := m.MemoryStore.UserByEmail(ctx, email)
	if err == nil && m.caseSensitive && u.Email != email {
		return nil, auth.ErrUserNotFound
	}
	return u, m.notFound(err)
}

func (m *mutant) UpdateUser(ctx context.Context, id string, update func(*auth.User) error) error {
	if m.callUpdateOnMissing {
		if _, err := m.MemoryStore.UserByID(ctx, id); err != nil {
			update(&auth.User{ID: id})
		}
	}
	if m.racyUpdate {
		u, err := m.MemoryStore.UserByID(ctx, id)
		if err != nil {
			return err
		}
		u = u.Clone() // the store's own is read-only
		if err := update(u); err != nil {
			return err
		}
		runtime.Gosched()
		return m.MemoryStore.UpdateUser(ctx, id, func(v *auth.User) error { *v = *u; return nil })
	}
	if m.inPlace {
		u, err := m.MemoryStore.UserByID(ctx, id)
		if err != nil {
			return err
		}
		return m.MemoryStore.UpdateUser(ctx, id, func(v *auth.User) error {
			if err := update(v); err != nil {
				return err
			}
			*u = *v.Clone() // into the user handed out
			return nil
		})
	}
	var updateErr error
	err := m.MemoryStore.UpdateUser(ctx, id, func(u *auth.User) error {
		updateErr = update(u)
		if updateErr != nil && !m.storeOnError {
			return updateErr
		}
		if m.swallowIDChange && u.ID != id {
			u.ID = id
		}
		m.mangle(u)
		return nil
	})
	if err != nil {
		return m.notFound(err)
	}
	return updateErr
}

func (m *mutant) CreateUser(ctx context.Context, u *auth.User) error {
	if m.noAssignedID && u.ID == "" {
		c := u.Clone()
		c.ID = "assigned"
		if _, err := m.MemoryStore.UserByID(ctx, "assigned"); err == nil {
			c.ID = "assigned-again"
		}
		m.mangle(c)
		return m.MemoryStore.CreateUser(ctx, c) // u.ID not written back
	}
	c := u.Clone()
	m.mangle(c)
	err := m.MemoryStore.CreateUser(ctx, c)
	u.ID = c.ID
	if m.swallowDupEmail && errors.Is(err, auth.ErrDuplicateEmail) ||
		m.swallowDupID && errors.Is(err, auth.ErrDuplicateID) {
		return nil
	}
	if err == nil && m.alias {
		m.kept[u.ID] = u
	}
	return err
}

func (m *mutant) ListUsers(ctx context.Context) ([]*auth.User, error) {
	users, err := m.MemoryStore.ListUsers(ctx)
	if m.shortList && len(users) > 1 {
		users = users[:len(users)-1]
	}
	return users, err
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// TestSessionMutantBase runs RunSessions against the session mutant with
// no defect switched on, so that the mutants fail for their defects only.
func TestSessionMutantBase(t *testing.T) {
	storetest.RunSessions(t, sessions(func(*sessionMutant) {}))
}

// sessionMutant is an auth.SessionStore of its own, so that its defects
// can reach what it stores, with defects switched on.
type sessionMutant struct {
	mu sync.Mutex
	m  map[string]*auth.DeviceSession

	leftover, dropUserAgent, minutes, round, swallowDupID, overwriteDupID bool
	bareNotFound, callUpdateOnMissing, storeOnError, inPlace              bool
	allowIDChange, unordered, allUsers, keepCaller, shareOut              bool
	shallowHash, deleteNothing, ignoreExcept, miscount, racyUpdate        bool
}

func sessions(defect func(*sessionMutant)) storetest.SessionOpener {
	return func(*testing.T) auth.SessionStore {
		m := &sessionMutant{m: map[string]*auth.DeviceSession{}}
		defect(m)
		if m.leftover {
			m.m["leftover"] = &auth.DeviceSession{ID: "leftover", UserID: "alice"}
		}
		return m
	}
}

// clone copies d, deeply unless shallowHash, and applies the defects that
// lose data.
func (m *sessionMutant) clone(d *auth.DeviceSession) *auth.DeviceSession {
	c := *d
	if !m.shallowHash {
		c.TokenHash = bytes.Clone(d.TokenHash)
	}
	if m.dropUserAgent {
		c.UserAgent = ""
	}
	if m.minutes {
		c.LastUsedAt = c.LastUsedAt.Truncate(time.Minute)
	}
	if m.round {
		c.CreatedAt = c.CreatedAt.Round(time.Second)
	}
	return &c
}

func (m *sessionMutant) notFound(id string) error {
	if m.bareNotFound {
		return errors.New("no such session")
	}
	return fmt.Errorf("%w: %q", auth.ErrTokenNotFound, id)
}

func (m *sessionMutant) CreateSession(_ context.Context, d *auth.DeviceSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[d.ID]; ok && !m.overwriteDupID {
		if m.swallowDupID {
			return nil
		}
		return fmt.Errorf("%w: %q", auth.ErrDuplicateID, d.ID)
	}
	if m.keepCaller {
		m.m[d.ID] = d
	} else {
		m.m[d.ID] = m.clone(d)
	}
	return nil
}

func (m *sessionMutant) UpdateSession(_ context.Context, id string, update func(*auth.DeviceSession) error) error {
	m.mu.Lock()
	cur, ok := m.m[id]
	if !ok {
		m.mu.Unlock()
		if m.callUpdateOnMissing {
			_ = update(&auth.DeviceSession{ID: id})
		}
		return m.notFound(id)
	}
	if m.inPlace {
		defer m.mu.Unlock()
		return update(cur)
	}
	next := m.clone(cur)
	if m.racyUpdate { // the update runs outside the lock
		m.mu.Unlock()
	}
	err := update(next)
	if m.racyUpdate {
		time.Sleep(time.Millisecond)
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	if err != nil && !m.storeOnError {
		return err
	}
	if (next.ID != id || next.UserID != cur.UserID) && !m.allowIDChange {
		return errors.New("the update changed the session's ID or user")
	}
	delete(m.m, id)
	m.m[next.ID] = m.clone(next)
	return err
}

func (m *sessionMutant) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[id]; !ok {
		return m.notFound(id)
	}
	if !m.deleteNothing {
		delete(m.m, id)
	}
	return nil
}

func (m *sessionMutant) UserSessions(_ context.Context, userID string) ([]*auth.DeviceSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*auth.DeviceSession
	for _, d := range m.m {
		if d.UserID != userID && !m.allUsers {
			continue
		}
		if m.shareOut {
			out = append(out, d)
		} else {
			out = append(out, m.clone(d))
		}
	}
	if !m.unordered {
		slices.SortFunc(out, func(a, b *auth.DeviceSession) int {
			if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return out, nil
}

func (m *sessionMutant) DeleteUserSessions(_ context.Context, userID, except string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, d := range m.m {
		if d.UserID == userID && (id != except || m.ignoreExcept) {
			delete(m.m, id)
			n++
		}
	}
	if m.miscount && n > 0 {
		n--
	}
	return n, nil
}

// TestPersonalTokenMutantBase runs RunPersonalTokens against the token
// mutant with no defect switched on, so that the mutants fail for their
// defects only.
func TestPersonalTokenMutantBase(t *testing.T) {
	storetest.RunPersonalTokens(t, tokens(func(*tokenMutant) {}))
}

// tokenMutant is an auth.PersonalTokenStore of its own, over the users of
// an auth.MemoryStore (so that it is an auth.UserAdmin and the suite
// checks its owners), with defects switched on.
type tokenMutant struct {
	auth.UserAdmin // a *auth.MemoryStore, users
	users          *auth.MemoryStore
	mu             sync.Mutex
	m              map[string]*auth.PersonalToken // by ID
	taken          map[string]bool                // hashes of deleted tokens, with keepHashTaken

	order string // "", "unordered", "oldest", "used" or "nulls first"

	leftover, dropName, dropExpiry, sortScopes, emptyScope, round, minutes        bool
	zeroAsEpoch, swallowDupID, overwriteDupID, allowDupHash, anyUser              bool
	bareNotFound, prefixHash, allUsers, keepCaller, shareOut, shallowScopes       bool
	shallowHash, touchBackwards, touchNothing, touchUnknown, deleteNothing        bool
	deleteUnknown, keepHashTaken, miscount, deleteAllUsers, racyCreate, racyTouch bool
}

func tokens(defect func(*tokenMutant)) storetest.PersonalTokenOpener {
	return func(*testing.T) auth.PersonalTokenStore {
		users := auth.NewMemoryStore()
		m := &tokenMutant{UserAdmin: users, users: users, m: map[string]*auth.PersonalToken{}, taken: map[string]bool{}}
		defect(m)
		if m.leftover {
			m.m["leftover"] = &auth.PersonalToken{ID: "leftover", UserID: "alice", Hash: []byte("leftover")}
		}
		return m
	}
}

// epoch is what zeroAsEpoch stores for a zero time.
var epoch = time.Unix(0, 0).UTC()

// clone copies p, deeply unless shallowScopes or shallowHash, and applies
// the defects that lose data.
func (m *tokenMutant) clone(p *auth.PersonalToken) *auth.PersonalToken {
	c := *p
	if !m.shallowScopes {
		c.Scopes = slices.Clone(p.Scopes)
	}
	if !m.shallowHash {
		c.Hash = bytes.Clone(p.Hash)
	}
	if m.dropName {
		c.Name = ""
	}
	if m.dropExpiry {
		c.ExpiresAt = time.Time{}
	}
	if m.sortScopes {
		c.Scopes = slices.Sorted(slices.Values(c.Scopes))
	}
	if m.emptyScope && len(c.Scopes) == 0 {
		c.Scopes = []string{""}
	}
	if m.round {
		c.CreatedAt = c.CreatedAt.Round(time.Second)
	}
	if m.minutes {
		c.LastUsedAt = c.LastUsedAt.Truncate(time.Minute)
	}
	if m.zeroAsEpoch {
		for _, t := range []*time.Time{&c.LastUsedAt, &c.ExpiresAt} {
			if t.IsZero() {
				*t = epoch
			}
		}
	}
	return &c
}

func (m *tokenMutant) notFound(what string) error {
	if m.bareNotFound {
		return errors.New("no such token")
	}
	return fmt.Errorf("%w: %s", auth.ErrTokenNotFound, what)
}

// hashInUse reports whether a stored token other than the one with the
// given ID has the hash.
func (m *tokenMutant) hashInUse(id string, hash []byte) bool {
	if m.taken[string(hash)] {
		return true
	}
	for _, p := range m.m {
		if p.ID != id && bytes.Equal(p.Hash, hash) {
			return true
		}
	}
	return false
}

func (m *tokenMutant) CreatePersonalToken(ctx context.Context, p *auth.PersonalToken) error {
	if _, err := m.users.UserByID(ctx, p.UserID); err != nil && !m.anyUser {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, idInUse := m.m[p.ID]
	hashInUse := m.hashInUse(p.ID, p.Hash) && !m.allowDupHash
	if m.racyCreate { // the check and the insert apart
		m.mu.Unlock()
		time.Sleep(time.Millisecond)
		m.mu.Lock()
	}
	switch {
	case idInUse && m.swallowDupID:
		return nil
	case idInUse && !m.overwriteDupID, hashInUse:
		return fmt.Errorf("%w: %q", auth.ErrDuplicateID, p.ID)
	}
	if m.keepCaller {
		m.m[p.ID] = p
	} else {
		m.m[p.ID] = m.clone(p)
	}
	return nil
}

func (m *tokenMutant) PersonalTokenByHash(_ context.Context, hash []byte) (*auth.PersonalToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.m {
		match := bytes.Equal(p.Hash, hash)
		if m.prefixHash {
			match = len(hash) >= 16 && len(p.Hash) >= 16 && bytes.Equal(p.Hash[:16], hash[:16])
		}
		if match {
			if m.shareOut {
				return p, nil
			}
			return m.clone(p), nil
		}
	}
	return nil, m.notFound(fmt.Sprintf("hash %x", hash))
}

func (m *tokenMutant) UserPersonalTokens(_ context.Context, userID string) ([]*auth.PersonalToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*auth.PersonalToken
	for _, p := range m.m {
		if p.UserID != userID && !m.allUsers {
			continue
		}
		if m.shareOut {
			out = append(out, p)
		} else {
			out = append(out, m.clone(p))
		}
	}
	byTime := func(a, b time.Time) int { return b.Compare(a) }
	switch m.order {
	case "unordered":
		return out, nil
	case "oldest":
		byTime = func(a, b time.Time) int { return a.Compare(b) }
	case "nulls first":
		byTime = func(a, b time.Time) int {
			if a.IsZero() != b.IsZero() {
				if a.IsZero() {
					return -1
				}
				return 1
			}
			return b.Compare(a)
		}
	}
	slices.SortFunc(out, func(a, b *auth.PersonalToken) int {
		if m.order == "used" {
			if c := byTime(a.LastUsedAt, b.LastUsedAt); c != 0 {
				return c
			}
		}
		if c := byTime(a.CreatedAt, b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (m *tokenMutant) TouchPersonalToken(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[id]
	if !ok {
		if m.touchUnknown {
			return nil
		}
		return m.notFound(fmt.Sprintf("%q", id))
	}
	last := p.LastUsedAt
	if m.racyTouch { // the read and the write apart
		m.mu.Unlock()
		time.Sleep(time.Millisecond)
		m.mu.Lock()
	}
	if m.touchNothing {
		return nil
	}
	if at.After(last) || m.touchBackwards {
		c := m.clone(p)
		c.LastUsedAt = at
		m.m[id] = c
	}
	return nil
}

func (m *tokenMutant) DeletePersonalToken(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[id]
	if !ok {
		if m.deleteUnknown {
			return nil
		}
		return m.notFound(fmt.Sprintf("%q", id))
	}
	if m.keepHashTaken {
		m.taken[string(p.Hash)] = true
	}
	if !m.deleteNothing {
		delete(m.m, id)
	}
	return nil
}

func (m *tokenMutant) DeleteUserPersonalTokens(_ context.Context, userID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, p := range m.m {
		if p.UserID == userID || m.deleteAllUsers {
			delete(m.m, id)
			n++
		}
	}
	if m.miscount && n > 0 {
		n--
	}
	return n, nil
}

// TestTwoFactorMutantBase runs RunTwoFactor against the second factor
// mutant with no defect switched on, so that the mutants fail for their
// defects only.
func TestTwoFactorMutantBase(t *testing.T) {
	storetest.RunTwoFactor(t, factors(func(*factorMutant) {}))
}

// factorMutant is an auth.TwoFactorStore of its own, over the users of an
// auth.MemoryStore (so that it is an auth.UserAdmin and the suite checks
// its owners), with defects switched on.
type factorMutant struct {
	auth.UserAdmin // a *auth.MemoryStore, users
	users          *auth.MemoryStore
	mu             sync.Mutex
	m              map[string]*auth.TwoFactor // by user ID
	codes          map[string][][]byte        // by user ID

	leftover, leftoverCodes, bareNotFound, dropEnabled, floatCounter, counter32   bool
	round, minutes, zeroAsEpoch, secretAsCString, firstWins, keepCounter, anyUser bool
	keepCaller, shareOut, shallowSecret, shallowCodes, acceptEqual                bool
	counterBackwards, counterNotStored, counterUnknownFalse, counterAllUsers      bool
	racyCounter, deleteNothing, deleteKeepsCodes, deleteUnknownFails              bool
	deleteAllUsers, appendCodes, setClearsAll, useKeeps, prefixCode               bool
	anyUsersCode, miscount, racyCode                                              bool
}

func factors(defect func(*factorMutant)) storetest.TwoFactorOpener {
	return func(*testing.T) auth.TwoFactorStore {
		users := auth.NewMemoryStore()
		m := &factorMutant{UserAdmin: users, users: users, m: map[string]*auth.TwoFactor{}, codes: map[string][][]byte{}}
		defect(m)
		if m.leftover {
			m.m["alice"] = &auth.TwoFactor{UserID: "alice", Secret: []byte("leftover")}
		}
		if m.leftoverCodes {
			m.codes["bob"] = [][]byte{[]byte("leftover")}
		}
		return m
	}
}

// clone copies tf, deeply unless shallowSecret, and applies the defects
// that lose data.
func (m *factorMutant) clone(tf *auth.TwoFactor) *auth.TwoFactor {
	c := *tf
	if !m.shallowSecret {
		c.Secret = bytes.Clone(tf.Secret)
	}
	if m.dropEnabled {
		c.Enabled = false
	}
	if m.floatCounter {
		c.LastCounter = uint64(float64(c.LastCounter))
	}
	if m.counter32 {
		c.LastCounter = uint64(uint32(c.LastCounter))
	}
	if m.round {
		c.CreatedAt = c.CreatedAt.Round(time.Second)
	}
	if m.minutes {
		c.EnabledAt = c.EnabledAt.Truncate(time.Minute)
	}
	if m.zeroAsEpoch {
		for _, t := range []*time.Time{&c.CreatedAt, &c.EnabledAt} {
			if t.IsZero() {
				*t = epoch
			}
		}
	}
	if m.secretAsCString {
		if i := bytes.IndexByte(c.Secret, 0); i >= 0 {
			c.Secret = c.Secret[:i]
		}
	}
	return &c
}

func (m *factorMutant) notFound(userID string) error {
	if m.bareNotFound {
		return errors.New("no second factor")
	}
	return fmt.Errorf("%w: second factor of %q", auth.ErrTokenNotFound, userID)
}

func (m *factorMutant) TwoFactor(_ context.Context, userID string) (*auth.TwoFactor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tf, ok := m.m[userID]
	if !ok {
		return nil, m.notFound(userID)
	}
	if m.shareOut {
		return tf, nil
	}
	return m.clone(tf), nil
}

func (m *factorMutant) SetTwoFactor(ctx context.Context, tf *auth.TwoFactor) error {
	if _, err := m.users.UserByID(ctx, tf.UserID); err != nil && !m.anyUser {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[tf.UserID]
	if ok && m.firstWins {
		return nil
	}
	c := tf
	if !m.keepCaller {
		c = m.clone(tf)
	}
	if ok && m.keepCounter && old.LastCounter > c.LastCounter {
		c.LastCounter = old.LastCounter
	}
	m.m[tf.UserID] = c
	return nil
}

func (m *factorMutant) UseTOTPCounter(_ context.Context, userID string, counter uint64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tf, ok := m.m[userID]
	if !ok {
		if m.counterUnknownFalse {
			return false, nil
		}
		return false, m.notFound(userID)
	}
	last := tf.LastCounter
	if m.racyCounter { // the read and the write apart
		m.mu.Unlock()
		time.Sleep(time.Millisecond)
		m.mu.Lock()
	}
	accept := counter > last || m.acceptEqual && counter == last
	if m.counterBackwards && !accept {
		tf.LastCounter = counter
	}
	if !accept {
		return false, nil
	}
	if m.counterNotStored {
		return true, nil
	}
	if m.counterAllUsers {
		for _, other := range m.m {
			other.LastCounter = counter
		}
	}
	tf.LastCounter = counter
	return true, nil
}

func (m *factorMutant) DeleteTwoFactor(_ context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[userID]; !ok && m.deleteUnknownFails {
		return m.notFound(userID)
	}
	if m.deleteNothing {
		return nil
	}
	if m.deleteAllUsers {
		clear(m.m)
		clear(m.codes)
		return nil
	}
	delete(m.m, userID)
	if !m.deleteKeepsCodes {
		delete(m.codes, userID)
	}
	return nil
}

func (m *factorMutant) SetRecoveryCodes(_ context.Context, userID string, hashes [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var codes [][]byte
	for _, h := range hashes {
		if !m.shallowCodes {
			h = bytes.Clone(h)
		}
		codes = append(codes, h)
	}
	if m.setClearsAll {
		clear(m.codes)
	}
	if m.appendCodes {
		codes = append(m.codes[userID], codes...)
	}
	m.codes[userID] = codes
	return nil
}

func (m *factorMutant) UseRecoveryCode(_ context.Context, userID string, hash []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	match := func(h []byte) bool {
		if m.prefixCode {
			return len(hash) >= 16 && len(h) >= 16 && bytes.Equal(h[:16], hash[:16])
		}
		return len(hash) > 0 && bytes.Equal(h, hash)
	}
	for user, codes := range m.codes {
		if user != userID && !m.anyUsersCode {
			continue
		}
		for i, h := range codes {
			if !match(h) {
				continue
			}
			if m.racyCode { // the find and the removal apart
				m.mu.Unlock()
				time.Sleep(time.Millisecond)
				m.mu.Lock()
				codes = m.codes[user]
				if i >= len(codes) || !match(codes[i]) {
					return true, nil // the code was there
				}
			}
			if !m.useKeeps {
				m.codes[user] = slices.Delete(slices.Clone(codes), i, i+1)
			}
			return true, nil
		}
	}
	return false, nil
}

func (m *factorMutant) RecoveryCodesLeft(_ context.Context, userID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.codes[userID])
	if m.miscount && n > 1 {
		n--
	}
	return n, nil
}

// TestPasskeyMutantBase runs RunPasskeys against the passkey mutant with
// no defect switched on, so that the mutants fail for their defects only.
func TestPasskeyMutantBase(t *testing.T) {
	storetest.RunPasskeys(t, passkeys(func(*passkeyMutant) {}))
}

// passkeyMutant is an auth.PasskeyStore of its own, over the users of an
// auth.MemoryStore (so that it is an auth.UserAdmin and the suite checks
// its owners), with auth.MemoryStore's semantics and defects switched on.
type passkeyMutant struct {
	auth.UserAdmin // a *auth.MemoryStore, users
	users          *auth.MemoryStore
	mu             sync.Mutex
	m              map[string]*auth.Passkey // by string(ID)
	taken          map[string]bool          // user ID and name of deleted passkeys, with keepNameTaken

	order string // "", "unordered", "newest", "name" or "used"

	leftover, bareNotFound, dropTransports, sortTransports, dropAAGUID, dropHandle  bool
	count31, swapBackup, dropDiscoverable, dropVerified, round, zeroAsEpoch         bool
	idAsCString, shortIDs, allUsers, keepCaller, shareOut, shallowTransports        bool
	shallowBytes, swallowDupID, overwriteDupID, allowDupName, globalNames           bool
	foldNames, storeDupName, anyUser, ignoreSince, sinceExclusive, neverUsedRefused bool
	acceptEqualCount, ignoreCount, refuseZeroCounts, acceptZeroCount, useStoresAll  bool
	useStoresNothing, useKeepsBackup, useStoresRefused, useAnyOwner                 bool
	useUnknownFalse, racyUse, deleteNothing, deleteAnyOwner, deleteUnknown          bool
	keepNameTaken                                                                   bool
}

func passkeys(defect func(*passkeyMutant)) storetest.PasskeyOpener {
	return func(*testing.T) auth.PasskeyStore {
		users := auth.NewMemoryStore()
		m := &passkeyMutant{UserAdmin: users, users: users, m: map[string]*auth.Passkey{}, taken: map[string]bool{}}
		defect(m)
		if m.leftover {
			m.m["leftover"] = &auth.Passkey{ID: []byte("leftover"), UserID: "alice", Name: "leftover", Usage: "first", PublicKey: []byte("k")}
		}
		return m
	}
}

// key is the map key of an ID, with the defects that lose bytes of it.
func (m *passkeyMutant) key(id []byte) string {
	if m.idAsCString {
		if i := bytes.IndexByte(id, 0); i >= 0 {
			id = id[:i]
		}
	}
	if m.shortIDs && len(id) > 255 {
		id = id[:255]
	}
	return string(id)
}

// clone copies p, deeply unless shallowTransports or shallowBytes, and
// applies the defects that lose data.
func (m *passkeyMutant) clone(p *auth.Passkey) *auth.Passkey {
	c := *p
	if !m.shallowTransports {
		c.Transports = slices.Clone(p.Transports)
	}
	if !m.shallowBytes {
		c.ID, c.UserHandle = bytes.Clone(p.ID), bytes.Clone(p.UserHandle)
		c.PublicKey, c.AAGUID = bytes.Clone(p.PublicKey), bytes.Clone(p.AAGUID)
	}
	if m.dropTransports {
		c.Transports = nil
	}
	if m.sortTransports {
		c.Transports = slices.Sorted(slices.Values(c.Transports))
	}
	if m.dropAAGUID {
		c.AAGUID = nil
	}
	if m.dropHandle {
		c.UserHandle = nil
	}
	if m.count31 {
		c.SignCount &= math.MaxInt32
	}
	if m.dropDiscoverable {
		c.Discoverable = false
	}
	if m.dropVerified {
		c.UserVerified = false
	}
	if m.round {
		c.CreatedAt = c.CreatedAt.Round(time.Second)
	}
	if m.zeroAsEpoch && c.LastUsedAt.IsZero() {
		c.LastUsedAt = epoch
	}
	if m.idAsCString || m.shortIDs {
		c.ID = []byte(m.key(c.ID))
	}
	return &c
}

// out returns what a read hands out of the stored p, with the defect
// that swaps the flags as they are read (swapped on the way in too, they
// would come back right).
func (m *passkeyMutant) out(p *auth.Passkey) *auth.Passkey {
	if m.shareOut {
		return p
	}
	c := m.clone(p)
	if m.swapBackup {
		c.BackupEligible, c.BackupState = c.BackupState, c.BackupEligible
	}
	return c
}

func (m *passkeyMutant) notFound() error {
	if m.bareNotFound {
		return errors.New("no such passkey")
	}
	return fmt.Errorf("%w: no such passkey", auth.ErrTokenNotFound)
}

// sameName reports whether the names conflict, as the defects have it.
func (m *passkeyMutant) sameName(a, b string) bool {
	if m.foldNames {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (m *passkeyMutant) Passkeys(_ context.Context, userID string) ([]auth.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []auth.Passkey
	for _, p := range m.m {
		if p.UserID == userID || m.allUsers {
			out = append(out, *m.out(p))
		}
	}
	if m.order == "unordered" {
		return out, nil
	}
	slices.SortFunc(out, func(a, b auth.Passkey) int {
		switch m.order {
		case "newest":
			return b.CreatedAt.Compare(a.CreatedAt)
		case "name":
			return strings.Compare(a.Name, b.Name)
		case "used":
			if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
				return c
			}
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (m *passkeyMutant) Passkey(_ context.Context, id []byte) (*auth.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[m.key(id)]
	if !ok {
		return nil, m.notFound()
	}
	return m.out(p), nil
}

func (m *passkeyMutant) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	if _, err := m.users.UserByID(ctx, p.UserID); err != nil && !m.anyUser {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.key(p.ID)
	_, idInUse := m.m[k]
	nameInUse := m.taken[p.UserID+"\x00"+p.Name] && !m.allowDupName
	for _, q := range m.m {
		if (q.UserID == p.UserID || m.globalNames) && m.sameName(q.Name, p.Name) && !m.allowDupName {
			nameInUse = true
		}
	}
	switch {
	case idInUse && m.swallowDupID:
		return nil
	case idInUse && !m.overwriteDupID:
		return fmt.Errorf("%w: passkey ID in use", auth.ErrDuplicateID)
	case nameInUse && m.storeDupName:
		m.m[k] = m.clone(p)
		return fmt.Errorf("%w: passkey name in use", auth.ErrDuplicateID)
	case nameInUse:
		return fmt.Errorf("%w: passkey name in use", auth.ErrDuplicateID)
	}
	if m.keepCaller {
		m.m[k] = p
	} else {
		m.m[k] = m.clone(p)
	}
	return nil
}

func (m *passkeyMutant) UsePasskey(_ context.Context, p *auth.Passkey, since time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.m[m.key(p.ID)]
	if !ok || q.UserID != p.UserID && !m.useAnyOwner {
		if m.useUnknownFalse {
			return false, nil
		}
		return false, m.notFound()
	}
	last, count := q.LastUsedAt, q.SignCount
	if m.racyUse { // the check and the write apart
		m.mu.Unlock()
		time.Sleep(time.Millisecond)
		m.mu.Lock()
	}
	usedSince := !last.IsZero() && !last.Before(since)
	switch {
	case m.ignoreSince:
		usedSince = false
	case m.sinceExclusive:
		usedSince = !last.IsZero() && last.After(since)
	case m.neverUsedRefused:
		usedSince = !last.Before(since)
	}
	grew := p.SignCount > count || p.SignCount == 0 && count == 0
	switch {
	case m.ignoreCount:
		grew = true
	case m.acceptEqualCount:
		grew = p.SignCount >= count
	case m.refuseZeroCounts:
		grew = p.SignCount > count
	case m.acceptZeroCount:
		grew = p.SignCount > count || p.SignCount == 0
	}
	accept := !usedSince && grew
	if !accept && !m.useStoresRefused || m.useStoresNothing {
		return accept, nil
	}
	switch {
	case m.useStoresAll:
		c := m.clone(p)
		c.ID = q.ID
		*q = *c
	case m.useKeepsBackup:
		q.SignCount, q.LastUsedAt = p.SignCount, p.LastUsedAt
	default:
		q.SignCount, q.BackupState, q.LastUsedAt = p.SignCount, p.BackupState, p.LastUsedAt
	}
	return accept, nil
}

func (m *passkeyMutant) DeletePasskey(_ context.Context, userID string, id []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.key(id)
	q, ok := m.m[k]
	if !ok || q.UserID != userID && !m.deleteAnyOwner {
		if m.deleteUnknown {
			return nil
		}
		return m.notFound()
	}
	if m.keepNameTaken {
		m.taken[q.UserID+"\x00"+q.Name] = true
	}
	if !m.deleteNothing {
		delete(m.m, k)
	}
	return nil
}

// PasskeyUserHandle keeps no handle apart, as MemoryStore.
func (m *passkeyMutant) PasskeyUserHandle(ctx context.Context, _ string) ([]byte, error) {
	return nil, ctx.Err()
}
