package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/authkit/auth"
)

// colValue is a column and the value written to it.
type colValue struct {
	col flaskColumn
	v   any
}

// orNull returns nil, for NULL, when v is empty and col takes NULL, as
// Flask-Security leaves unset strings; otherwise v.
func orNull(col flaskColumn, v string) any {
	if v == "" && col.nullable {
		return nil
	}
	return v
}

// uniqValue is what is stored for the uniquifier u: NULL for an empty one
// if the column takes NULL, else u or, when empty, a fresh one (the
// column is NOT NULL and unique), which it also returns.
func (s *FlaskStore) uniqValue(u string) (v any, generated string) {
	if u != "" {
		return u, ""
	}
	if s.cols.uniq.nullable {
		return nil, ""
	}
	g := auth.NewUniquifier()
	return g, g
}

// insertColumns are the columns CreateUser writes, besides the ID.
func (s *FlaskStore) insertColumns() []flaskColumn {
	vals, _, _ := s.createValues(&auth.User{})
	cols := make([]flaskColumn, len(vals))
	for i, v := range vals {
		cols[i] = v.col
	}
	return cols
}

// errNoConfirmedAt: the user table has no confirmed_at column to confirm
// a user in.
var errNoConfirmedAt = errors.New("sqlstore: the Flask-Security user table has no confirmed_at column (FlaskSchema.ConfirmedAt): users cannot be confirmed")

// createValues returns the columns and values of a new row for u, and a
// uniquifier it generated for u, if any.
func (s *FlaskStore) createValues(u *auth.User) ([]colValue, string, error) {
	c := s.cols
	vals := []colValue{
		{c.email, u.Email},
		{c.password, orNull(c.password, u.PasswordHash)},
		{c.active, u.Active},
	}
	uniq, generated := s.uniqValue(u.Uniquifier)
	if c.tokUniq.present() {
		// fs_uniquifier is Flask-Security's own; it gets a fresh value as
		// its create_user gives it.
		vals = append(vals, colValue{c.fsUniq, auth.NewUniquifier()}, colValue{c.tokUniq, uniq})
	} else {
		vals = append(vals, colValue{c.fsUniq, uniq})
	}
	switch {
	case c.confirmedAt.present():
		var at any
		if u.Confirmed {
			at = s.timeArg(s.now())
		}
		vals = append(vals, colValue{c.confirmedAt, at})
	case u.Confirmed:
		return nil, "", errNoConfirmedAt
	}
	vals = s.appendTrackable(vals, u, nil)
	if c.webauthnHandle.present() {
		vals = append(vals, colValue{c.webauthnHandle, auth.NewUniquifier()})
	}
	return vals, generated, nil
}

// appendTrackable appends the trackable fields of u that the table has
// columns for and that differ from old's (all of them if old is nil).
func (s *FlaskStore) appendTrackable(vals []colValue, u, old *auth.User) []colValue {
	c := s.cols
	if c.lastAt.present() && (old == nil || !u.LastLoginAt.Equal(old.LastLoginAt)) {
		vals = append(vals, colValue{c.lastAt, s.timeArg(u.LastLoginAt)})
	}
	if c.curAt.present() && (old == nil || !u.CurrentLoginAt.Equal(old.CurrentLoginAt)) {
		vals = append(vals, colValue{c.curAt, s.timeArg(u.CurrentLoginAt)})
	}
	if c.lastIP.present() && (old == nil || u.LastLoginIP != old.LastLoginIP) {
		vals = append(vals, colValue{c.lastIP, orNull(c.lastIP, u.LastLoginIP)})
	}
	if c.curIP.present() && (old == nil || u.CurrentLoginIP != old.CurrentLoginIP) {
		vals = append(vals, colValue{c.curIP, orNull(c.curIP, u.CurrentLoginIP)})
	}
	if c.loginCount.present() && (old == nil || u.LoginCount != old.LoginCount) {
		vals = append(vals, colValue{c.loginCount, int64(u.LoginCount)})
	}
	return vals
}

// CreateUser implements [auth.UserAdmin]. It writes the row as
// Flask-Security's create_user would: fresh fs_uniquifier (and
// fs_webauthn_user_handle, if the table has it) besides the user's
// uniquifier, confirmed_at set to the current time for a confirmed user,
// and the role rows it needs. An ID, if given, must be a positive integer
// in decimal; without one the database assigns the next (on PostgreSQL from
// the ID column's sequence, which an explicit ID moves past itself, so that
// the Flask application's own inserts do not collide with it). u.ID, and a
// uniquifier the store had to generate, are written back into u once the
// transaction has committed.
func (s *FlaskStore) CreateUser(ctx context.Context, u *auth.User) error {
	if u == nil {
		return errors.New("sqlstore: CreateUser: nil user")
	}
	if len(s.blockers) > 0 {
		return fmt.Errorf("sqlstore: cannot create users in %s: its columns %s are NOT NULL without a default, and the store does not know what to write there",
			s.cols.users, strings.Join(s.blockers, ", "))
	}
	explicit := int64(0)
	if u.ID != "" {
		n, ok := flaskID(u.ID)
		if !ok || n <= 0 {
			return fmt.Errorf("sqlstore: creating user %q: a Flask-Security user ID is a positive integer in decimal", u.ID)
		}
		explicit = n
	}
	vals, generated, err := s.createValues(u)
	if err != nil {
		return err
	}
	roles := flaskRoles(u.Roles)
	what := "sqlstore: creating a user"
	if u.ID != "" {
		what = fmt.Sprintf("sqlstore: creating user %q", u.ID)
	}
	var id int64
	err = s.tx.inTx(ctx, func(q querier) error {
		id = explicit // 0: the database assigns one
		if err := s.checkEmail(ctx, q, u.Email, 0); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if id != 0 {
			taken, err := exists(ctx, q, s.q.idTaken, id)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if taken {
				return fmt.Errorf("%s: %w", what, auth.ErrDuplicateID)
			}
		}
		if err := s.insert(ctx, q, vals, &id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return s.writeFlaskRoles(ctx, q, id, roles, false)
	})
	if err != nil {
		return err
	}
	u.ID = strconv.FormatInt(id, 10)
	if generated != "" {
		u.Uniquifier = generated
	}
	return nil
}

// insert writes a user row. With *id zero the database assigns the ID and
// insert stores it in *id. On PostgreSQL, an explicit ID moves the ID
// sequence past it, and an assigned ID that another row took (the
// sequence being behind) is retried after moving the sequence past the
// largest ID.
func (s *FlaskStore) insert(ctx context.Context, q querier, vals []colValue, id *int64) error {
	c := s.cols
	names := make([]string, 0, len(vals)+1)
	args := make([]any, 0, len(vals)+1)
	if *id != 0 {
		names, args = append(names, c.id.name), append(args, *id)
	}
	for _, v := range vals {
		names, args = append(names, v.col.name), append(args, v.v)
	}
	stmt := "INSERT INTO " + c.users + " (" + strings.Join(names, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	if *id != 0 {
		if _, err := q.ExecContext(ctx, s.tx.dialect.rebind(stmt), args...); err != nil {
			return flaskWriteError(err)
		}
		return s.moveSequence(ctx, q, *id)
	}
	if s.tx.dialect == Postgres {
		stmt += " ON CONFLICT (" + c.id.name + ") DO NOTHING"
	}
	stmt = s.tx.dialect.rebind(stmt + " RETURNING " + c.id.name)
	for {
		err := q.QueryRowContext(ctx, stmt, args...).Scan(id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return flaskWriteError(err)
		}
		// The sequence gave an ID a row already has.
		var highest sql.NullInt64
		if err := q.QueryRowContext(ctx, s.q.maxID).Scan(&highest); err != nil {
			return err
		}
		if err := s.moveSequence(ctx, q, highest.Int64); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// moveSequence sets the PostgreSQL sequence of the ID column to id if it
// is behind, so that its next value is past id. It never moves it back.
func (s *FlaskStore) moveSequence(ctx context.Context, q querier, id int64) error {
	if s.tx.dialect != Postgres || s.idSeq == "" {
		return nil
	}
	_, err := q.ExecContext(ctx, `SELECT setval($1::text::regclass, $2::bigint)
		WHERE $2::bigint > COALESCE((SELECT last_value FROM pg_sequences
			WHERE format('%I.%I', schemaname, sequencename)::regclass = $1::text::regclass), 0)`, s.idSeq, id)
	if err != nil {
		return fmt.Errorf("moving the ID sequence %s past %d: %w", s.idSeq, id, err)
	}
	return nil
}

// flaskWriteError wraps a failed write: a unique violation on a row
// written after checkEmail passed is an email that another writer (the
// Flask application, say) has just taken, or a uniquifier in use.
func flaskWriteError(err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("a unique value (email or uniquifier) is already in use: %w", err)
	}
	return err
}

// checkEmail fails with auth.ErrDuplicateEmail if a user other than the
// one with ID self holds email, compared as UserByEmail compares. On
// PostgreSQL it first takes a transaction-level advisory lock, so that
// two of the store's writers cannot both pass the check for emails that
// differ in case only; SQLite's write lock already does that.
func (s *FlaskStore) checkEmail(ctx context.Context, q querier, email string, self int64) error {
	if s.tx.dialect == Postgres {
		if _, err := q.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", flaskEmailLockKey); err != nil {
			return fmt.Errorf("taking the email lock: %w", err)
		}
	}
	rows, err := q.QueryContext(ctx, s.q.emailCandidates, emailPattern(email))
	if err != nil {
		return fmt.Errorf("checking the email: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var other sql.NullString
		if err := rows.Scan(&id, &other); err != nil {
			return fmt.Errorf("checking the email: %w", err)
		}
		if id != self && strings.EqualFold(other.String, email) {
			return auth.ErrDuplicateEmail
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking the email: %w", err)
	}
	return nil
}

// UpdateUser implements [auth.UserUpdater]. The row is read, changed and
// written back in one transaction holding the row's lock (PostgreSQL's
// SELECT ... FOR UPDATE) or the database's write lock (SQLite's BEGIN
// IMMEDIATE) from before the read; only the columns whose fields changed
// are written, and update_datetime if the table has it. A change of
// Uniquifier with fs_token_uniquifier present also gives fs_uniquifier a
// fresh value (see the package documentation); Confirmed set writes the
// current time to confirmed_at, cleared writes NULL.
func (s *FlaskStore) UpdateUser(ctx context.Context, id string, update func(*auth.User) error) error {
	if update == nil {
		return errors.New("sqlstore: UpdateUser: nil update function")
	}
	n, ok := flaskID(id)
	if !ok {
		return fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	return s.tx.inTx(ctx, func(q querier) error {
		old, u, err := applyUpdate(id, q.QueryRowContext(ctx, s.q.forUpdate, n), scanFlaskUser, update)
		if err != nil {
			return err
		}
		vals, err := s.changedValues(u, old)
		if err != nil {
			return fmt.Errorf("sqlstore: updating user %q: %w", id, err)
		}
		if u.Email != old.Email { // a change of case may meet a case variant, too
			if err := s.checkEmail(ctx, q, u.Email, n); err != nil {
				return fmt.Errorf("sqlstore: updating user %q: %w", id, err)
			}
		}
		if len(vals) > 0 {
			if s.cols.updateDatetime.present() {
				vals = append(vals, colValue{s.cols.updateDatetime, s.timeArg(s.now())})
			}
			sets := make([]string, len(vals))
			args := make([]any, len(vals), len(vals)+1)
			for i, v := range vals {
				sets[i], args[i] = v.col.name+" = ?", v.v
			}
			stmt := s.tx.dialect.rebind("UPDATE " + s.cols.users + " SET " + strings.Join(sets, ", ") + " WHERE " + s.cols.id.name + " = ?")
			if _, err := q.ExecContext(ctx, stmt, append(args, n)...); err != nil {
				return fmt.Errorf("sqlstore: updating user %q: %w", id, flaskWriteError(err))
			}
		}
		if roles := flaskRoles(u.Roles); !slices.Equal(roles, old.Roles) {
			return s.writeFlaskRoles(ctx, q, n, roles, true)
		}
		return nil
	})
}

// changedValues returns the columns and values to write for the fields
// in which u differs from old.
func (s *FlaskStore) changedValues(u, old *auth.User) ([]colValue, error) {
	c := s.cols
	var vals []colValue
	if u.Email != old.Email {
		vals = append(vals, colValue{c.email, u.Email})
	}
	if u.PasswordHash != old.PasswordHash {
		vals = append(vals, colValue{c.password, orNull(c.password, u.PasswordHash)})
	}
	if u.Active != old.Active {
		vals = append(vals, colValue{c.active, u.Active})
	}
	if u.Uniquifier != old.Uniquifier {
		v, _ := s.uniqValue(u.Uniquifier)
		vals = append(vals, colValue{c.uniq, v})
		if c.tokUniq.present() {
			vals = append(vals, colValue{c.fsUniq, auth.NewUniquifier()})
		}
	}
	if u.Confirmed != old.Confirmed {
		switch {
		case c.confirmedAt.present() && u.Confirmed:
			vals = append(vals, colValue{c.confirmedAt, s.timeArg(s.now())})
		case c.confirmedAt.present():
			vals = append(vals, colValue{c.confirmedAt, nil})
		default:
			return nil, errNoConfirmedAt
		}
	}
	return s.appendTrackable(vals, u, old), nil
}

// flaskRoles returns roles as the FlaskStore keeps them: a set, sorted,
// nil when empty.
func flaskRoles(roles []string) []string {
	out := slices.Clone(roles)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// writeFlaskRoles links the user to the roles, creating the role rows it
// needs, in sorted order so that two writers cannot deadlock; with replace
// it first removes the user's links.
func (s *FlaskStore) writeFlaskRoles(ctx context.Context, q querier, id int64, roles []string, replace bool) error {
	if replace {
		if _, err := q.ExecContext(ctx, s.q.unlinkRoles, id); err != nil {
			return fmt.Errorf("sqlstore: removing roles of user %d: %w", id, err)
		}
	}
	for _, name := range roles {
		if _, err := q.ExecContext(ctx, s.q.insertRole, name, name); err != nil {
			return fmt.Errorf("sqlstore: creating role %q: %w", name, err)
		}
		if _, err := q.ExecContext(ctx, s.q.linkRole, id, name); err != nil {
			return fmt.Errorf("sqlstore: giving user %d role %q: %w", id, name, err)
		}
	}
	return nil
}
