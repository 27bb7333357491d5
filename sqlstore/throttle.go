package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authkit/auth"
)

// The Store keeps failed-login counts for auth's throttling, so that every
// instance of a service on one database counts the same failures: set
// Config.Throttle.Store to the Store.
var _ auth.ThrottleStore = (*Store)(nil)

// Failure times are stored as Unix nanoseconds, the same on both dialects.

// reserveSQL is the statement of Reserve: one upsert that counts the
// attempt unless the key must still wait, and then returns no row. Its
// condition is ThrottleLimit.Wait: the failures are forgotten, or fewer
// than Free, or the last one is at least Delay(failures) before now (the
// shift is bounded by Doublings, so it cannot overflow). In PostgreSQL,
// ON CONFLICT DO UPDATE locks the row and evaluates the condition on its
// latest version; in SQLite the statement holds the write lock. Either
// way, concurrent calls for one key are serialized.
const reserveSQL = `INSERT INTO throttle (key, failures, last_failure) VALUES (?, 1, ?)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN throttle.last_failure < ? THEN 1 ELSE throttle.failures + 1 END,
		last_failure = excluded.last_failure
	WHERE throttle.last_failure < ?
		OR throttle.failures < ?
		OR throttle.last_failure <= ? - LEAST(CAST(? AS BIGINT),
			CAST(? AS BIGINT) << CAST(LEAST(GREATEST(throttle.failures - ?, 0), ?) AS INTEGER))
	RETURNING failures`

// Reserve implements [auth.ThrottleStore] with one atomic upsert. Every
// 256th call also deletes the keys whose failures are forgotten, so the
// table does not grow without bound. On SQLite the throttle's writes queue
// with the Store's other writes (see queued).
func (s *Store) Reserve(ctx context.Context, key string, now time.Time, limit auth.ThrottleLimit) (time.Duration, error) {
	at, cutoff := now.UnixNano(), now.Add(-limit.Forget).UnixNano()
	free, base, ceiling := int64(limit.Free), int64(max(limit.Base, 1)), int64(limit.Max)
	query := reserveSQL
	if s.dialect == SQLite {
		query = sqliteLeastGreatest.Replace(query)
	}
	var n int64
	err := s.queued(ctx, func() error {
		return s.db.QueryRowContext(ctx, s.dialect.rebind(query),
			key, at, cutoff, cutoff, free, at, ceiling, base, free, limit.Doublings()).Scan(&n)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.refusal(ctx, key, now, limit)
	case err != nil:
		return 0, fmt.Errorf("sqlstore: reserving a throttle attempt for %q: %w", key, err)
	}
	if s.throttleWrites.Add(1)%256 == 0 {
		if err := s.exec(ctx, "DELETE FROM throttle WHERE last_failure < ?", cutoff); err != nil {
			return 0, fmt.Errorf("sqlstore: pruning the throttle table: %w", err)
		}
	}
	return 0, nil
}

// sqliteLeastGreatest spells PostgreSQL's LEAST and GREATEST as SQLite's
// many-argument MIN and MAX.
var sqliteLeastGreatest = strings.NewReplacer("LEAST(", "MIN(", "GREATEST(", "MAX(")

// refusal is the wait of a key whose attempt Reserve refused. The count
// is read after the refusal, so it may have changed since: a key that no
// longer waits is told to retry in a second.
func (s *Store) refusal(ctx context.Context, key string, now time.Time, limit auth.ThrottleLimit) (time.Duration, error) {
	var n, last int64
	err := s.db.QueryRowContext(ctx, s.dialect.rebind("SELECT failures, last_failure FROM throttle WHERE key = ?"), key).Scan(&n, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlstore: reading throttle %q: %w", key, err)
	}
	if wait := limit.Wait(int(n), time.Unix(0, last), now); wait > 0 {
		return wait, nil
	}
	return time.Second, nil
}

// Refund implements [auth.ThrottleStore].
func (s *Store) Refund(ctx context.Context, key string) error {
	if err := s.exec(ctx, "UPDATE throttle SET failures = failures - 1 WHERE key = ? AND failures > 0", key); err != nil {
		return fmt.Errorf("sqlstore: refunding throttle %q: %w", key, err)
	}
	return nil
}

// Reset implements [auth.ThrottleStore].
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.exec(ctx, "DELETE FROM throttle WHERE key = ?", key); err != nil {
		return fmt.Errorf("sqlstore: resetting throttle %q: %w", key, err)
	}
	return nil
}

// exec runs one write statement, queued with the Store's other writes.
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	return s.queued(ctx, func() error {
		_, err := s.db.ExecContext(ctx, s.dialect.rebind(query), args...)
		return err
	})
}
