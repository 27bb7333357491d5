package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/authkit/auth"
)

// CreateUser implements [auth.UserAdmin]. The user, its roles and, when
// u.ID is empty, the ID assigned from the counter are written in one
// transaction; u.ID is set only once it has committed. Of an email and an
// ID that are both taken, the email is reported.
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	if u == nil {
		return errors.New("sqlstore: CreateUser: nil user")
	}
	c := u.Clone()
	c.Roles = uniqueRoles(c.Roles)
	args, err := s.userArgs(c)
	if err != nil {
		return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, err)
	}
	auto := c.ID == ""
	err = s.inTx(ctx, func(q querier) error {
		for {
			if auto {
				var n int64
				if err := q.QueryRowContext(ctx, s.q.nextID).Scan(&n); err != nil {
					return fmt.Errorf("sqlstore: assigning a user ID: %w", err)
				}
				c.ID = strconv.FormatInt(n, 10)
				args[0] = c.ID
			}
			res, err := q.ExecContext(ctx, s.q.insertUser, args...)
			if err != nil {
				return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, err)
			} else if n == 1 {
				break
			}
			// The row conflicted with another on the email key or the ID.
			taken, err := exists(ctx, q, s.q.emailTaken, emailKey(c.Email))
			if err != nil {
				return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, err)
			}
			if taken {
				return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, auth.ErrDuplicateEmail)
			}
			if !auto {
				return fmt.Errorf("sqlstore: creating user %q: %w", c.ID, auth.ErrDuplicateID)
			}
			// An assigned ID someone had chosen by hand: take the next one.
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return s.writeRoles(ctx, q, c.ID, c.Roles, false)
	})
	if err != nil {
		return err
	}
	u.ID = c.ID
	return nil
}

// UpdateUser implements [auth.UserUpdater]. The row is read, changed and
// written back in one transaction that holds the row's lock
// (PostgreSQL's SELECT ... FOR UPDATE) or the database's write lock
// (SQLite's BEGIN IMMEDIATE) from before the read, so concurrent updates
// queue instead of losing each other's changes. Roles are rewritten only
// when they changed.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(*auth.User) error) error {
	if update == nil {
		return errors.New("sqlstore: UpdateUser: nil update function")
	}
	return s.inTx(ctx, func(q querier) error {
		old, u, err := applyUpdate(id, q.QueryRowContext(ctx, s.q.forUpdate, id), scanUser, update)
		if err != nil {
			return err
		}
		if key := emailKey(u.Email); key != emailKey(old.Email) {
			taken, err := exists(ctx, q, s.q.emailTaken, key)
			if err != nil {
				return fmt.Errorf("sqlstore: updating user %q: %w", id, err)
			}
			if taken {
				return fmt.Errorf("sqlstore: updating user %q: %w", id, auth.ErrDuplicateEmail)
			}
		}
		u.Roles = uniqueRoles(u.Roles)
		args, err := s.userArgs(u)
		if err != nil {
			return fmt.Errorf("sqlstore: updating user %q: %w", id, err)
		}
		args = append(args[1:], id)
		if _, err := q.ExecContext(ctx, s.q.updateUser, args...); err != nil {
			if isUniqueViolation(err) { // an email taken since the check above
				return fmt.Errorf("sqlstore: updating user %q: %w: %v", id, auth.ErrDuplicateEmail, err)
			}
			return fmt.Errorf("sqlstore: updating user %q: %w", id, err)
		}
		if !slices.Equal(u.Roles, old.Roles) {
			if err := s.writeRoles(ctx, q, id, u.Roles, true); err != nil {
				return err
			}
		}
		return nil
	})
}

// ChangeChannel is the PostgreSQL notification channel on which the
// change log's triggers announce, at commit, the ID of every user whose row
// or roles changed, whoever changed them, so that other instances can drop
// the user from their caches at once (see [auth.Manager.ForgetUser] and the
// pglisten package).
const ChangeChannel = "authkit_user_changed"

// userArgs returns the values of insertUser's placeholders for u; without
// the first (the ID) they start updateUser's. u.Roles must be free of
// repetitions (see uniqueRoles).
func (s *Store) userArgs(u *auth.User) ([]any, error) {
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return nil, fmt.Errorf("encoding roles: %w", err)
	}
	return []any{
		u.ID, u.Email, emailKey(u.Email), u.PasswordHash, u.Active, u.Confirmed, u.Uniquifier,
		s.dialect.timeArg(u.LastLoginAt), s.dialect.timeArg(u.CurrentLoginAt),
		u.LastLoginIP, u.CurrentLoginIP, int64(u.LoginCount), roles,
	}, nil
}

// writeRoles gives the user the roles, in order, in user_roles (the
// users.roles column is written with the row), creating the role rows it
// needs; with replace it first removes the roles the user had. Role
// rows are created in sorted order, so that two transactions adding the
// same new roles lock them in the same order and cannot deadlock.
func (s *Store) writeRoles(ctx context.Context, q querier, id string, roles []string, replace bool) error {
	if replace {
		if _, err := q.ExecContext(ctx, s.q.unlinkRoles, id); err != nil {
			return fmt.Errorf("sqlstore: removing roles of user %q: %w", id, err)
		}
	}
	for _, name := range slices.Sorted(slices.Values(roles)) {
		if _, err := q.ExecContext(ctx, s.q.insertRole, name); err != nil {
			return fmt.Errorf("sqlstore: creating role %q: %w", name, err)
		}
	}
	for i, name := range roles {
		if _, err := q.ExecContext(ctx, s.q.linkRole, id, i, name); err != nil {
			return fmt.Errorf("sqlstore: giving user %q role %q: %w", id, name, err)
		}
	}
	return nil
}

// exists reports whether query, a SELECT 1, returns a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
