package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authkit/auth"
)

// The Store keeps failed-login counts for auth's throttling, so that every
// instance of a service on one database counts the same failures: set
// Config.Throttle.Store to the Store.
var _ auth.ThrottleStore = (*Store)(nil)

// Failure times are stored as Unix nanoseconds, the same on both dialects.

// Failures implements [auth.ThrottleStore].
func (s *Store) Failures(ctx context.Context, key string, now time.Time, forget time.Duration) (int, time.Time, error) {
	var n, last int64
	err := s.db.QueryRowContext(ctx, s.dialect.rebind("SELECT failures, last_failure FROM throttle WHERE key = ?"), key).Scan(&n, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, fmt.Errorf("sqlstore: reading throttle %q: %w", key, err)
	}
	lastAt := time.Unix(0, last)
	if now.Sub(lastAt) > forget {
		return 0, time.Time{}, nil
	}
	return int(n), lastAt, nil
}

// AddFailure implements [auth.ThrottleStore] with one atomic upsert. Every
// 256th call also deletes the keys whose failures are forgotten, so the
// table does not grow without bound.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error) {
	cutoff := now.Add(-forget).UnixNano()
	var n int64
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(`INSERT INTO throttle (key, failures, last_failure) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN throttle.last_failure < ? THEN 1 ELSE throttle.failures + 1 END,
			last_failure = excluded.last_failure
		RETURNING failures`), key, now.UnixNano(), cutoff).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: counting a failure for %q: %w", key, err)
	}
	if s.throttleWrites.Add(1)%256 == 0 {
		if _, err := s.db.ExecContext(ctx, s.dialect.rebind("DELETE FROM throttle WHERE last_failure < ?"), cutoff); err != nil {
			return int(n), fmt.Errorf("sqlstore: pruning the throttle table: %w", err)
		}
	}
	return int(n), nil
}

// Reset implements [auth.ThrottleStore].
func (s *Store) Reset(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind("DELETE FROM throttle WHERE key = ?"), key); err != nil {
		return fmt.Errorf("sqlstore: resetting throttle %q: %w", key, err)
	}
	return nil
}
