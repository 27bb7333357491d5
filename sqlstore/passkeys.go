package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth"
)

// The Store keeps WebAuthn credentials in the table passkeys (migration
// 9), so that every instance of a service on one database sees the same
// passkeys and one ceremony signs in once whichever instance finishes it.
// Writing a passkey logs nothing in user_changes: no cache holds
// passkeys, the Manager reads them from the store when it needs them.
var _ auth.PasskeyStore = (*Store)(nil)

// passkeyColumns are the columns scanPasskey reads, in its order, and the
// columns passkeyQueries.insert writes.
const passkeyColumns = `id, user_id, user_handle, name, usage, public_key, sign_count,
	transports, aaguid, backup_eligible, backup_state, user_verified, discoverable,
	created_at, last_used_at` // #nosec G101 -- column names, not a credential

// passkeyQueries holds the passkey statements of one dialect, placeholders
// already rewritten.
type passkeyQueries struct {
	insert string // fails with a unique violation on a taken ID or name
	byID   string
	byUser string
	// use takes the new count, backup state and last use, then the ID and
	// the owner, since, and the new count twice: it affects no row of a
	// passkey used at or after since or whose count would not grow.
	use    string
	exists string // the ID and the owner
	del    string // the ID and the owner
}

// passkeyQueriesOf are the statements of each dialect, by Dialect.
var passkeyQueriesOf = [...]passkeyQueries{
	SQLite:   newPasskeyQueries(SQLite),
	Postgres: newPasskeyQueries(Postgres),
}

// newPasskeyQueries returns the passkey statements for d.
func newPasskeyQueries(d Dialect) passkeyQueries {
	sel := "SELECT " + passkeyColumns + " FROM passkeys"
	q := passkeyQueries{
		insert: `INSERT INTO passkeys (` + passkeyColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		byID:   sel + " WHERE id = ?",
		byUser: sel + " WHERE user_id = ?",
		// One statement, so that of concurrent uses of one passkey in one
		// ceremony exactly one is accepted: PostgreSQL re-checks the
		// conditions on the row a concurrent use left, and SQLite runs
		// one write at a time. A NULL since (the zero time) admits only
		// a passkey never used, as auth.MemoryStore does. The cast types
		// the parameter on PostgreSQL, where an untyped one compared with
		// 0 would be an int4, too small for a count past 2^31.
		use: `UPDATE passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?
			WHERE id = ? AND user_id = ?
				AND (last_used_at IS NULL OR last_used_at < ?)
				AND (sign_count < ? OR (sign_count = 0 AND CAST(? AS BIGINT) = 0))`,
		exists: "SELECT 1 FROM passkeys WHERE id = ? AND user_id = ?",
		del:    "DELETE FROM passkeys WHERE id = ? AND user_id = ?",
	}
	for _, p := range []*string{&q.insert, &q.byID, &q.byUser, &q.use, &q.exists, &q.del} {
		*p = d.rebind(*p)
	}
	return q
}

// kq returns the Store's passkey statements.
func (s *Store) kq() *passkeyQueries { return &passkeyQueriesOf[s.dialect] }

// checkTransports refuses the transports that the column transports,
// which holds them separated by spaces, cannot give back: an empty one,
// or one with a space.
func checkTransports(transports []string) error {
	for _, tr := range transports {
		if tr == "" || strings.Contains(tr, " ") {
			return fmt.Errorf("transport %q is empty or holds a space", tr)
		}
	}
	return nil
}

// blob returns b, or an empty slice for nil, which a driver may send as
// NULL: the columns of bytes that may be empty are NOT NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Passkeys implements [auth.PasskeyStore], through the index of the
// unique (user_id, name). Passkeys come oldest first, as
// auth.MemoryStore orders them: a passkey without CreatedAt first,
// passkeys made at the same moment by ID, bytewise.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]auth.Passkey, error) {
	rows, err := s.db.QueryContext(ctx, s.kq().byUser, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
	}
	defer rows.Close()
	var out []auth.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b auth.Passkey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Passkey implements [auth.PasskeyStore], through the primary key.
func (s *Store) Passkey(ctx context.Context, id []byte) (*auth.Passkey, error) {
	if len(id) == 0 {
		return nil, fmt.Errorf("sqlstore: passkey of an empty credential ID: %w", auth.ErrTokenNotFound)
	}
	p, err := scanPasskey(s.db.QueryRowContext(ctx, s.kq().byID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: no passkey has that credential ID: %w", auth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading a passkey: %w", err)
	}
	return p, nil
}

// AddPasskey implements [auth.PasskeyStore] with one INSERT, inside a
// transaction that first finds the owner ([auth.ErrUserNotFound] if the
// Store does not hold it). A credential ID in use, or a name the owner's
// other passkey has, gives an error wrapping [auth.ErrDuplicateID]. A nil
// passkey, an empty ID, public key or name, a Usage other than "first"
// and "secondary", and an empty transport or one with a space (the
// column keeps the transports separated by spaces) are refused.
func (s *Store) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	switch {
	case p == nil:
		return errors.New("sqlstore: AddPasskey: nil passkey")
	case len(p.ID) == 0 || len(p.PublicKey) == 0 || p.Name == "":
		return fmt.Errorf("sqlstore: AddPasskey of user %q: a passkey needs a credential ID, a public key and a name", p.UserID)
	case p.Usage != "first" && p.Usage != "secondary":
		return fmt.Errorf("sqlstore: AddPasskey %q of user %q: usage %q is neither \"first\" nor \"secondary\"", p.Name, p.UserID, p.Usage)
	}
	if err := checkTransports(p.Transports); err != nil {
		return fmt.Errorf("sqlstore: AddPasskey %q of user %q: %w", p.Name, p.UserID, err)
	}
	args := []any{
		p.ID, p.UserID, blob(p.UserHandle), p.Name, p.Usage, p.PublicKey, int64(p.SignCount),
		strings.Join(p.Transports, " "), blob(p.AAGUID), p.BackupEligible, p.BackupState, p.UserVerified, p.Discoverable,
		s.dialect.timeArg(p.CreatedAt), s.dialect.timeArg(p.LastUsedAt),
	}
	return s.inTx(ctx, func(q querier) error {
		owner, err := exists(ctx, q, s.sq().userExists, p.UserID)
		if err != nil {
			return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w", p.Name, p.UserID, err)
		}
		if !owner {
			return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w", p.Name, p.UserID, auth.ErrUserNotFound)
		}
		if _, err := q.ExecContext(ctx, s.kq().insert, args...); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w (a passkey with this credential ID, or one of the user's with this name)",
					p.Name, p.UserID, auth.ErrDuplicateID)
			}
			return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w", p.Name, p.UserID, err)
		}
		return nil
	})
}

// UsePasskey implements [auth.PasskeyStore] with one UPDATE whose WHERE
// clause holds every condition (the owner, since, a count that grows),
// queued with the Store's other writes; a passkey left as it was is then
// looked for, to tell a refused use from a passkey the owner does not
// hold. Times are compared as they are stored, to the microsecond.
func (s *Store) UsePasskey(ctx context.Context, p *auth.Passkey, since time.Time) (bool, error) {
	if p == nil {
		return false, errors.New("sqlstore: UsePasskey: nil passkey")
	}
	count := int64(p.SignCount)
	args := []any{
		count, p.BackupState, s.dialect.timeArg(p.LastUsedAt),
		p.ID, p.UserID, s.dialect.timeArg(since), count, count,
	}
	var n int64
	err := s.queued(ctx, func() error {
		res, err := s.db.ExecContext(ctx, s.kq().use, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: using a passkey of user %q: %w", p.UserID, err)
	}
	if n > 0 {
		return true, nil
	}
	found, err := exists(ctx, s.db, s.kq().exists, p.ID, p.UserID)
	if err != nil {
		return false, fmt.Errorf("sqlstore: using a passkey of user %q: %w", p.UserID, err)
	}
	if !found {
		return false, fmt.Errorf("sqlstore: no such passkey of user %q: %w", p.UserID, auth.ErrTokenNotFound)
	}
	return false, nil
}

// DeletePasskey implements [auth.PasskeyStore] with one DELETE, queued
// with the Store's other writes.
func (s *Store) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	n, err := s.deleteSessions(ctx, s.kq().del, id, userID)
	if err != nil {
		return fmt.Errorf("sqlstore: deleting a passkey of user %q: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: no such passkey of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	return nil
}

// scanPasskey reads a row selected with passkeyColumns into a passkey of
// its own (database/sql copies the bytes). A missing row gives
// sql.ErrNoRows, unwrapped.
func scanPasskey(r rowScanner) (*auth.Passkey, error) {
	var (
		p             auth.Passkey
		count         int64
		transports    string
		created, used nullTime
	)
	err := r.Scan(&p.ID, &p.UserID, &p.UserHandle, &p.Name, &p.Usage, &p.PublicKey, &count,
		&transports, &p.AAGUID, &p.BackupEligible, &p.BackupState, &p.UserVerified, &p.Discoverable,
		&created, &used)
	if err != nil {
		return nil, err
	}
	if count < 0 || count > math.MaxUint32 { // the column's CHECK forbids it
		return nil, fmt.Errorf("sqlstore: passkey %q of user %q: sign_count %d is no uint32", p.Name, p.UserID, count)
	}
	p.SignCount = uint32(count)
	if transports != "" {
		p.Transports = strings.Split(transports, " ")
	}
	p.CreatedAt, p.LastUsedAt = created.t, used.t
	return &p, nil
}

// PasskeyUserHandle implements [auth.PasskeyStore]: the Store keeps each
// passkey's user handle in its row alone, and returns nil, so that the
// Manager gives a new passkey the handle of the user's others.
func (s *Store) PasskeyUserHandle(ctx context.Context, userID string) ([]byte, error) {
	return nil, ctx.Err()
}
