package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/authkit/auth"
)

// The Store keeps second factors in the tables two_factors and
// recovery_codes (migration 8), so that every instance of a service on one
// database sees the same factors, and triggers log the user of each
// factor set up, enabled, re-keyed or removed in user_changes, so that
// every instance's cache sees it within a second.
var _ auth.TwoFactorStore = (*Store)(nil)

// twoFactorQueries holds the second factor statements of one dialect,
// placeholders already rewritten.
type twoFactorQueries struct {
	byUser     string
	upsert     string // logs the user (trigger) whether it inserts or updates
	useCounter string // counter, user ID, counter again: affects no row unless greater
	exists     string
	del        string
	delCodes   string
	insertCode string // affects no row for a hash the user holds
	useCode    string
	countCodes string
}

// twoFactorQueriesOf are the statements of each dialect, by Dialect.
var twoFactorQueriesOf = [...]twoFactorQueries{
	SQLite:   newTwoFactorQueries(SQLite),
	Postgres: newTwoFactorQueries(Postgres),
}

// newTwoFactorQueries returns the second factor statements for d.
func newTwoFactorQueries(d Dialect) twoFactorQueries {
	q := twoFactorQueries{
		byUser: `SELECT user_id, secret, last_counter, enabled, created_at, enabled_at
			FROM two_factors WHERE user_id = ?`,
		upsert: `INSERT INTO two_factors (user_id, secret, last_counter, enabled, created_at, enabled_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
				last_counter = excluded.last_counter, enabled = excluded.enabled,
				created_at = excluded.created_at, enabled_at = excluded.enabled_at`,
		// One statement, so that of concurrent uses of one counter exactly
		// one is accepted: PostgreSQL re-checks the condition on the row a
		// concurrent use left, and SQLite runs one write at a time. It
		// sets last_counter alone, which the triggers do not log.
		useCounter: "UPDATE two_factors SET last_counter = ? WHERE user_id = ? AND last_counter < ?",
		exists:     "SELECT 1 FROM two_factors WHERE user_id = ?",
		del:        "DELETE FROM two_factors WHERE user_id = ?",
		delCodes:   "DELETE FROM recovery_codes WHERE user_id = ?",
		insertCode: "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?) ON CONFLICT DO NOTHING",
		useCode:    "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
		countCodes: "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?",
	}
	for _, p := range []*string{&q.byUser, &q.upsert, &q.useCounter, &q.exists, &q.del,
		&q.delCodes, &q.insertCode, &q.useCode, &q.countCodes} {
		*p = d.rebind(*p)
	}
	return q
}

// tq returns the Store's second factor statements.
func (s *Store) tq() *twoFactorQueries { return &twoFactorQueriesOf[s.dialect] }

// TwoFactor implements [auth.TwoFactorStore].
func (s *Store) TwoFactor(ctx context.Context, userID string) (*auth.TwoFactor, error) {
	var (
		tf               auth.TwoFactor
		counter          int64
		created, enabled nullTime
	)
	err := s.db.QueryRowContext(ctx, s.tq().byUser, userID).
		Scan(&tf.UserID, &tf.Secret, &counter, &tf.Enabled, &created, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: second factor of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading the second factor of user %q: %w", userID, err)
	}
	if counter < 0 { // the column's CHECK forbids it
		return nil, fmt.Errorf("sqlstore: second factor of user %q: negative last_counter %d", userID, counter)
	}
	tf.LastCounter = uint64(counter)
	tf.CreatedAt, tf.EnabledAt = created.t, enabled.t
	return &tf, nil
}

// SetTwoFactor implements [auth.TwoFactorStore] with one upsert, inside a
// transaction that first finds the user ([auth.ErrUserNotFound] if the
// Store does not hold it). A nil factor, an empty secret and a
// LastCounter beyond the range of an int64 are refused. The user's
// recovery codes stay as they are. A trigger logs the user in
// user_changes.
func (s *Store) SetTwoFactor(ctx context.Context, tf *auth.TwoFactor) error {
	switch {
	case tf == nil:
		return errors.New("sqlstore: SetTwoFactor: nil second factor")
	case len(tf.Secret) == 0:
		return fmt.Errorf("sqlstore: SetTwoFactor of user %q: empty secret", tf.UserID)
	case tf.LastCounter > math.MaxInt64:
		return fmt.Errorf("sqlstore: SetTwoFactor of user %q: LastCounter %d is beyond the range of an int64", tf.UserID, tf.LastCounter)
	}
	args := []any{tf.UserID, tf.Secret, int64(tf.LastCounter), tf.Enabled,
		s.dialect.timeArg(tf.CreatedAt), s.dialect.timeArg(tf.EnabledAt)}
	return s.inTx(ctx, func(q querier) error {
		owner, err := exists(ctx, q, s.sq().userExists, tf.UserID)
		if err != nil {
			return fmt.Errorf("sqlstore: setting the second factor of user %q: %w", tf.UserID, err)
		}
		if !owner {
			return fmt.Errorf("sqlstore: setting the second factor of user %q: %w", tf.UserID, auth.ErrUserNotFound)
		}
		if _, err := q.ExecContext(ctx, s.tq().upsert, args...); err != nil {
			return fmt.Errorf("sqlstore: setting the second factor of user %q: %w", tf.UserID, err)
		}
		return nil
	})
}

// UseTOTPCounter implements [auth.TwoFactorStore] with one UPDATE that
// writes only a greater counter, queued with the Store's other writes; a
// factor left as it was is then looked for, to tell a used counter from a
// user without a factor. A counter beyond the range of an int64 is
// refused.
func (s *Store) UseTOTPCounter(ctx context.Context, userID string, counter uint64) (bool, error) {
	if counter > math.MaxInt64 {
		return false, fmt.Errorf("sqlstore: UseTOTPCounter of user %q: counter %d is beyond the range of an int64", userID, counter)
	}
	v := int64(counter)
	var n int64
	err := s.queued(ctx, func() error {
		res, err := s.db.ExecContext(ctx, s.tq().useCounter, v, userID, v)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: using a TOTP counter of user %q: %w", userID, err)
	}
	if n > 0 {
		return true, nil
	}
	found, err := exists(ctx, s.db, s.tq().exists, userID)
	if err != nil {
		return false, fmt.Errorf("sqlstore: using a TOTP counter of user %q: %w", userID, err)
	}
	if !found {
		return false, fmt.Errorf("sqlstore: second factor of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	return false, nil
}

// DeleteTwoFactor implements [auth.TwoFactorStore]: the factor and the
// recovery codes go in one transaction. A trigger logs the user of a
// deleted factor in user_changes.
func (s *Store) DeleteTwoFactor(ctx context.Context, userID string) error {
	return s.inTx(ctx, func(q querier) error {
		for _, query := range []string{s.tq().delCodes, s.tq().del} {
			if _, err := q.ExecContext(ctx, query, userID); err != nil {
				return fmt.Errorf("sqlstore: deleting the second factor of user %q: %w", userID, err)
			}
		}
		return nil
	})
}

// SetRecoveryCodes implements [auth.TwoFactorStore] in one transaction
// that finds the user ([auth.ErrUserNotFound] if the Store does not hold
// it), deletes the user's codes and inserts the new ones. An empty hash is
// refused; a hash given twice is kept once.
func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	for _, h := range hashes {
		if len(h) == 0 {
			return fmt.Errorf("sqlstore: SetRecoveryCodes of user %q: empty recovery code hash", userID)
		}
	}
	return s.inTx(ctx, func(q querier) error {
		owner, err := exists(ctx, q, s.sq().userExists, userID)
		if err != nil {
			return fmt.Errorf("sqlstore: setting the recovery codes of user %q: %w", userID, err)
		}
		if !owner {
			return fmt.Errorf("sqlstore: setting the recovery codes of user %q: %w", userID, auth.ErrUserNotFound)
		}
		if _, err := q.ExecContext(ctx, s.tq().delCodes, userID); err != nil {
			return fmt.Errorf("sqlstore: setting the recovery codes of user %q: %w", userID, err)
		}
		for _, h := range hashes {
			if _, err := q.ExecContext(ctx, s.tq().insertCode, userID, h); err != nil {
				return fmt.Errorf("sqlstore: setting the recovery codes of user %q: %w", userID, err)
			}
		}
		return nil
	})
}

// UseRecoveryCode implements [auth.TwoFactorStore] with one DELETE,
// queued with the Store's other writes: of concurrent uses of one code,
// from any process, only one deletes the row. An empty hash is no code.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	if len(hash) == 0 {
		return false, nil
	}
	n, err := s.deleteSessions(ctx, s.tq().useCode, userID, hash)
	if err != nil {
		return false, fmt.Errorf("sqlstore: using a recovery code of user %q: %w", userID, err)
	}
	return n > 0, nil
}

// RecoveryCodesLeft implements [auth.TwoFactorStore].
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.tq().countCodes, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: counting the recovery codes of user %q: %w", userID, err)
	}
	return n, nil
}
