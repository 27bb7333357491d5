package dbopen

import (
	"context"
	"net/url"

	"github.com/authkit/auth/sqlstore"
)

// OpenFlask opens the existing Flask-Security database dsn names, as it
// is, with the tables schema names; see [sqlstore.OpenFlaskSecurity]. An
// SQLite file must exist, and is opened without WAL or any other setting
// that would stay with the file: only a busy timeout, foreign keys and
// immediate transactions, for this connection. The returned function
// closes the store and its pool.
func OpenFlask(ctx context.Context, dsn string, schema sqlstore.FlaskSchema) (*sqlstore.FlaskStore, func(), error) {
	db, dialect, err := pool(dsn, false, flaskSQLiteDSN)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.OpenFlaskSecurity(ctx, db, dialect, schema)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); _ = db.Close() }, nil
}

// flaskSQLiteDSN is the DSN of an SQLite file opened without WAL or any
// other setting that would stay with the file.
func flaskSQLiteDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
}
