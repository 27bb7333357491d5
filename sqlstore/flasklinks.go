package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authkit/auth"
)

// The links a Flask-Security application mails (email confirmation,
// password reset) name the user by fs_uniquifier, which is not the
// User.Uniquifier of a table with fs_token_uniquifier. These two methods
// make the FlaskStore a github.com/authkit/auth/flask.FsUniquifierLookup,
// so that the flask.Links made over it find users by fs_uniquifier and
// put it in the links they make, whatever the table.

// UserByFsUniquifier returns the user whose fs_uniquifier equals uniq,
// as Flask-Security's find_user(fs_uniquifier=…) finds a mailed link's
// user. If there is none, or uniq is empty, it returns an error that
// wraps [auth.ErrUserNotFound]. Without fs_token_uniquifier it is
// [FlaskStore.UserByUniquifier].
func (s *FlaskStore) UserByFsUniquifier(ctx context.Context, uniq string) (*auth.User, error) {
	if uniq == "" {
		return nil, fmt.Errorf("sqlstore: user by fs_uniquifier: %w", auth.ErrUserNotFound)
	}
	u, err := scanFlaskUser(s.tx.db.QueryRowContext(ctx, s.q.byFsUniq, uniq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: user by fs_uniquifier: %w", auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user by fs_uniquifier: %w", err)
	}
	return u, nil
}

// FsUniquifier returns the fs_uniquifier of the user whose ID is id, ""
// if it is NULL, or an error that wraps [auth.ErrUserNotFound] if there
// is no such user. Without fs_token_uniquifier it is the user's
// Uniquifier.
func (s *FlaskStore) FsUniquifier(ctx context.Context, id string) (string, error) {
	n, ok := flaskID(id)
	if !ok {
		return "", fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	var uniq sql.NullString
	err := s.tx.db.QueryRowContext(ctx, s.q.fsUniqByID, n).Scan(&uniq)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: reading the fs_uniquifier of user %q: %w", id, err)
	}
	return uniq.String, nil
}
