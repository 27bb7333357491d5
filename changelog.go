package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// UserChangeLog is implemented by stores that record which users changed,
// whichever process changed them, so that a [Manager]'s verified-user cache
// sees a change made elsewhere within a second (see [UserCacheConfig]).
// sqlstore's Store implements it.
type UserChangeLog interface {
	// UserChanges returns the IDs of the users changed since the position
	// cursor names, and a cursor for the position reached: every change
	// committed before the call began is reported by this call or an
	// earlier one. The empty cursor asks only for the current position.
	// IDs may repeat, and may name changes already reported. A cursor the
	// log no longer covers gives an error wrapping [ErrChangesLost].
	UserChanges(ctx context.Context, cursor string) (ids []string, next string, err error)
}

// The change log's timing: the Manager reads the log at most every
// changePoll while token checks come in, and uses the cache only while its
// last successful read began less than changeTrust ago, so that an entry
// is never more than changeTrust behind the store.
const (
	changePoll  = 250 * time.Millisecond
	changeTrust = time.Second
)

// changeFeed applies a store's change log to the verified-user cache. Token
// checks call due, which starts a read in the background when one is due;
// at most one read runs at a time, and the cursor belongs to it.
type changeFeed struct {
	log    UserChangeLog
	cache  *userCache
	logger *slog.Logger
	now    func() time.Time

	reading atomic.Bool
	next    atomic.Int64 // Unix nanoseconds: the next read is due
	trusted atomic.Int64 // Unix nanoseconds: the cache may be used until
	cursor  string       // "" before the first read and after a loss
	failing bool         // the last read failed: log only the first failure
}

func newChangeFeed(store UserStore, cache *userCache, logger *slog.Logger, now func() time.Time) *changeFeed {
	log, ok := store.(UserChangeLog)
	if !ok || cache == nil {
		return nil
	}
	return &changeFeed{log: log, cache: cache, logger: logger, now: now}
}

// usable reports whether the cache is up to date with the change log as of
// less than changeTrust ago, and starts a read of the log when one is due.
func (f *changeFeed) usable(now time.Time) bool {
	t := now.UnixNano()
	trusted := t < f.trusted.Load()
	if t >= f.next.Load() && f.reading.CompareAndSwap(false, true) {
		go f.read()
	}
	return trusted
}

// read reads the change log once and forgets the users it names. On the
// first read, and after the log lost track, it forgets every user: changes
// before the position it starts from are unknown.
func (f *changeFeed) read() {
	defer f.reading.Store(false)
	start := f.now()
	f.next.Store(start.Add(changePoll).UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), changeTrust)
	defer cancel()
	ids, next, err := f.log.UserChanges(ctx, f.cursor)
	if errors.Is(err, ErrChangesLost) {
		f.cursor = ""
		ids, next, err = f.log.UserChanges(ctx, "")
	}
	if err != nil {
		if !f.failing {
			f.logger.Warn("auth: reading the user change log failed; the user cache is unused until it succeeds",
				slog.String("error", err.Error()))
		}
		f.failing = true
		return
	}
	if f.failing {
		f.logger.Info("auth: reading the user change log again")
		f.failing = false
	}
	if f.cursor == "" {
		f.cache.forgetAll()
	}
	for _, id := range ids {
		f.cache.forget(id)
	}
	f.cursor = next
	f.trusted.Store(start.Add(changeTrust).UnixNano())
}
