package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authkit/auth"
)

// The change log's limits. Triggers prune entries older than
// changeRetention; a cursor is honoured for changeCursorAge, well within
// it, so that no entry after a valid cursor can have been pruned. Both are
// measured on the database's clock. A read returns at most maxChanges IDs;
// more means the reader had better forget every user.
const (
	changeRetention       = time.Hour
	changeRetentionSQL    = "1 hour" // changeRetention, as a PostgreSQL interval
	changeRetentionSQLite = "3600"   // changeRetention, in seconds
	changeCursorAge       = 30 * time.Minute
	maxChanges            = 10_000
)

// The Store's change log, checked at compile time.
var _ auth.UserChangeLog = (*Store)(nil)

// UserChanges implements [auth.UserChangeLog], so that a Manager's
// verified-user cache learns of changes that other processes (another
// instance, authctl, an operator's SQL) make to users, roles and role
// assignments: triggers log them in the user_changes table.
//
// A cursor is "position.time": the log position (on SQLite the last entry
// read; on PostgreSQL the oldest transaction then still running, whose
// entries and every later one are read again next time, since a later
// transaction may commit first) and the database's time when the cursor was
// made, in Unix seconds. A cursor older than 30 minutes, or more than
// 10,000 entries behind, gives [auth.ErrChangesLost].
func (s *Store) UserChanges(ctx context.Context, cursor string) (ids []string, next string, err error) {
	defer func() {
		if err != nil && !errors.Is(err, auth.ErrChangesLost) {
			err = fmt.Errorf("sqlstore: reading the user change log: %w", err)
		}
	}()
	var pos string
	var now int64
	if s.dialect == Postgres {
		// The position first: every transaction older than it has ended
		// and is visible to the read below.
		err = s.db.QueryRowContext(ctx,
			"SELECT pg_snapshot_xmin(pg_current_snapshot())::text, extract(epoch FROM now())::bigint").Scan(&pos, &now)
	} else {
		err = s.db.QueryRowContext(ctx,
			"SELECT unixepoch(), (SELECT COALESCE(MAX(rev), 0) FROM user_changes)").Scan(&now, &pos)
	}
	if err != nil {
		return nil, "", err
	}
	next = pos + "." + strconv.FormatInt(now, 10)
	if cursor == "" {
		return nil, next, nil
	}
	from, made, ok := parseChangeCursor(cursor)
	if !ok {
		return nil, "", fmt.Errorf("malformed cursor %q", cursor)
	}
	if now-made > int64(changeCursorAge/time.Second) {
		return nil, "", fmt.Errorf("sqlstore: change log cursor of %d s ago: %w", now-made, auth.ErrChangesLost)
	}
	query, args := "SELECT user_id FROM user_changes WHERE xid >= $1::xid8 LIMIT $2", []any{from, maxChanges + 1}
	if s.dialect == SQLite {
		// Parsed by parseChangeCursor and read from the database: both fit.
		a, _ := strconv.ParseInt(from, 10, 64)
		b, _ := strconv.ParseInt(pos, 10, 64)
		query, args = "SELECT user_id FROM user_changes WHERE rev > ? AND rev <= ? LIMIT ?", []any{a, b, maxChanges + 1}
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, "", err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(ids) > maxChanges {
		return nil, "", fmt.Errorf("sqlstore: more than %d user changes: %w", maxChanges, auth.ErrChangesLost)
	}
	return ids, next, nil
}

// parseChangeCursor splits a cursor made by UserChanges.
func parseChangeCursor(c string) (pos string, made int64, ok bool) {
	pos, t, ok := strings.Cut(c, ".")
	if !ok || pos == "" {
		return "", 0, false
	}
	if _, err := strconv.ParseUint(pos, 10, 64); err != nil {
		return "", 0, false
	}
	made, err := strconv.ParseInt(t, 10, 64)
	return pos, made, err == nil
}
