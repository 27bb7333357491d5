package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth"
)

// The Store keeps personal access tokens in the table personal_tokens
// (migration 7), so that every instance of a service on one database sees
// the same tokens, and a trigger logs the owner of each deleted one in
// user_changes, so that every instance stops accepting it within a second.
var _ auth.PersonalTokenStore = (*Store)(nil)

// personalTokenColumns are the columns scanPersonalToken reads, in its
// order, and the columns personalTokenQueries.insert writes.
const personalTokenColumns = `id, user_id, name, scopes, token_hash,
	created_at, last_used_at, expires_at` // #nosec G101 -- column names, not a credential

// personalTokenQueries holds the personal token statements of one
// dialect, placeholders already rewritten.
type personalTokenQueries struct {
	insert  string // affects no row on a conflict of IDs or of hashes
	byHash  string
	owner   string // the token by hash, and its owner's userColumns
	byUser  string
	touch   string // last used, ID, last used again: affects no row unless later
	exists  string
	del     string
	delUser string
}

// personalTokenQueriesOf are the statements of each dialect, by Dialect.
var personalTokenQueriesOf = [...]personalTokenQueries{
	SQLite:   newPersonalTokenQueries(SQLite),
	Postgres: newPersonalTokenQueries(Postgres),
}

// newPersonalTokenQueries returns the personal token statements for d.
func newPersonalTokenQueries(d Dialect) personalTokenQueries {
	sel := "SELECT " + personalTokenColumns + " FROM personal_tokens"
	q := personalTokenQueries{
		// No conflict target: a conflict on the ID and one on the hash
		// are both a duplicate.
		insert: `INSERT INTO personal_tokens (` + personalTokenColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
		byHash: sel + " WHERE token_hash = ?",
		owner: "SELECT " + qualify("t", personalTokenColumns) + ", " + qualify("u", userColumns) +
			" FROM personal_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
		byUser: sel + " WHERE user_id = ?",
		// One statement, so that of concurrent touches the latest time
		// stays: PostgreSQL re-checks the condition on the row a
		// concurrent touch left, and SQLite runs one write at a time.
		touch: `UPDATE personal_tokens SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		exists:  "SELECT 1 FROM personal_tokens WHERE id = ?",
		del:     "DELETE FROM personal_tokens WHERE id = ?",
		delUser: "DELETE FROM personal_tokens WHERE user_id = ?",
	}
	for _, p := range []*string{&q.insert, &q.byHash, &q.owner, &q.byUser, &q.touch, &q.exists, &q.del, &q.delUser} {
		*p = d.rebind(*p)
	}
	return q
}

// pq returns the Store's personal token statements.
func (s *Store) pq() *personalTokenQueries { return &personalTokenQueriesOf[s.dialect] }

// checkScopes refuses the scopes that the column scopes, which holds them
// separated by spaces, cannot give back: an empty one, or one with a
// space.
func checkScopes(scopes []string) error {
	for _, sc := range scopes {
		if sc == "" || strings.Contains(sc, " ") {
			return fmt.Errorf("scope %q is empty or holds a space", sc)
		}
	}
	return nil
}

// CreatePersonalToken implements [auth.PersonalTokenStore]. A token ID or
// hash in use gives an error wrapping [auth.ErrDuplicateID]; a user the
// Store does not hold, one wrapping [auth.ErrUserNotFound]. An empty ID,
// an empty hash, and an empty scope or one with a space (the column keeps
// the scopes separated by spaces) are refused.
func (s *Store) CreatePersonalToken(ctx context.Context, t *auth.PersonalToken) error {
	switch {
	case t == nil:
		return errors.New("sqlstore: CreatePersonalToken: nil token")
	case t.ID == "":
		return errors.New("sqlstore: CreatePersonalToken: empty token ID")
	case len(t.Hash) == 0:
		return fmt.Errorf("sqlstore: CreatePersonalToken %q: empty token hash", t.ID)
	}
	if err := checkScopes(t.Scopes); err != nil {
		return fmt.Errorf("sqlstore: CreatePersonalToken %q: %w", t.ID, err)
	}
	args := []any{
		t.ID, t.UserID, t.Name, strings.Join(t.Scopes, " "), t.Hash,
		s.dialect.timeArg(t.CreatedAt), s.dialect.timeArg(t.LastUsedAt), s.dialect.timeArg(t.ExpiresAt),
	}
	return s.inTx(ctx, func(q querier) error {
		owner, err := exists(ctx, q, s.sq().userExists, t.UserID)
		if err != nil {
			return fmt.Errorf("sqlstore: creating personal token %q: %w", t.ID, err)
		}
		if !owner {
			return fmt.Errorf("sqlstore: creating personal token %q: user %q: %w", t.ID, t.UserID, auth.ErrUserNotFound)
		}
		res, err := q.ExecContext(ctx, s.pq().insert, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: creating personal token %q: %w", t.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: creating personal token %q: %w", t.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlstore: creating personal token %q: %w (by another token with this ID or this hash)", t.ID, auth.ErrDuplicateID)
		}
		return nil
	})
}

// PersonalTokenByHash implements [auth.PersonalTokenStore], through the
// unique index on token_hash.
func (s *Store) PersonalTokenByHash(ctx context.Context, hash []byte) (*auth.PersonalToken, error) {
	if len(hash) == 0 {
		return nil, fmt.Errorf("sqlstore: personal token of an empty hash: %w", auth.ErrTokenNotFound)
	}
	t, err := scanPersonalToken(s.db.QueryRowContext(ctx, s.pq().byHash, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: no personal token has that hash: %w", auth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading a personal token by hash: %w", err)
	}
	return t, nil
}

// UserPersonalTokens implements [auth.PersonalTokenStore], through the
// index on user_id. Tokens come newest first, as auth.MemoryStore orders
// them: a token without CreatedAt last, tokens made at the same moment by
// ID, bytewise.
func (s *Store) UserPersonalTokens(ctx context.Context, userID string) ([]*auth.PersonalToken, error) {
	rows, err := s.db.QueryContext(ctx, s.pq().byUser, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing the personal tokens of user %q: %w", userID, err)
	}
	defer rows.Close()
	var out []*auth.PersonalToken
	for rows.Next() {
		t, err := scanPersonalToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing the personal tokens of user %q: %w", userID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing the personal tokens of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b *auth.PersonalToken) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// TouchPersonalToken implements [auth.PersonalTokenStore] with one UPDATE
// that writes only a later time (stored to the microsecond, as every
// time), queued with the Store's other writes; a token left as it was is
// then looked for, to tell an earlier time from an unknown token. A zero
// at writes nothing.
func (s *Store) TouchPersonalToken(ctx context.Context, id string, at time.Time) error {
	var n int64
	if !at.IsZero() {
		v := s.dialect.timeArg(at)
		err := s.queued(ctx, func() error {
			res, err := s.db.ExecContext(ctx, s.pq().touch, v, id, v)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: touching personal token %q: %w", id, err)
		}
	}
	if n > 0 {
		return nil
	}
	found, err := exists(ctx, s.db, s.pq().exists, id)
	if err != nil {
		return fmt.Errorf("sqlstore: touching personal token %q: %w", id, err)
	}
	if !found {
		return fmt.Errorf("sqlstore: personal token %q: %w", id, auth.ErrTokenNotFound)
	}
	return nil
}

// DeletePersonalToken implements [auth.PersonalTokenStore]. The trigger
// personal_tokens_deleted logs the owner in user_changes.
func (s *Store) DeletePersonalToken(ctx context.Context, id string) error {
	n, err := s.deleteSessions(ctx, s.pq().del, id)
	if err != nil {
		return fmt.Errorf("sqlstore: deleting personal token %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: personal token %q: %w", id, auth.ErrTokenNotFound)
	}
	return nil
}

// DeleteUserPersonalTokens implements [auth.PersonalTokenStore], in one
// statement.
func (s *Store) DeleteUserPersonalTokens(ctx context.Context, userID string) (int, error) {
	n, err := s.deleteSessions(ctx, s.pq().delUser, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: deleting the personal tokens of user %q: %w", userID, err)
	}
	return int(n), nil
}

// scanPersonalToken reads a row selected with personalTokenColumns into a
// token of its own (database/sql copies the hash's bytes). A missing row
// gives sql.ErrNoRows, unwrapped.
func scanPersonalToken(r rowScanner) (*auth.PersonalToken, error) {
	row := new(personalTokenRow)
	if err := r.Scan(row.dests()...); err != nil {
		return nil, err
	}
	return row.token(), nil
}

// personalTokenRow is a row of personalTokenColumns being scanned.
type personalTokenRow struct {
	t                      auth.PersonalToken
	scopes                 string
	created, used, expires nullTime
}

func (row *personalTokenRow) dests() []any {
	t := &row.t
	return []any{&t.ID, &t.UserID, &t.Name, &row.scopes, &t.Hash, &row.created, &row.used, &row.expires}
}

func (row *personalTokenRow) token() *auth.PersonalToken {
	t := &row.t
	if row.scopes != "" {
		t.Scopes = strings.Split(row.scopes, " ")
	}
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = row.created.t, row.used.t, row.expires.t
	return t
}

// qualify prefixes each of the comma-separated columns with table and a dot.
func qualify(table, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// PersonalTokenAndOwner reads the personal token whose hash is hash and
// its owner in one query (a join), as PersonalTokenByHash and UserByID
// would in two: the Manager checks an uncached token with one lookup.
// Errors are PersonalTokenByHash's.
func (s *Store) PersonalTokenAndOwner(ctx context.Context, hash []byte) (*auth.PersonalToken, *auth.User, error) {
	if len(hash) == 0 {
		return nil, nil, fmt.Errorf("sqlstore: personal token of an empty hash: %w", auth.ErrTokenNotFound)
	}
	pt, ur := new(personalTokenRow), new(userRow)
	err := s.db.QueryRowContext(ctx, s.pq().owner, hash).Scan(append(pt.dests(), ur.dests()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("sqlstore: no personal token has that hash: %w", auth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: reading a personal token and its owner: %w", err)
	}
	u, err := ur.user()
	if err != nil {
		return nil, nil, err
	}
	return pt.token(), u, nil
}
