package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// querier runs the statements of a write: a *sql.Tx on PostgreSQL, a
// *sql.Conn inside BEGIN IMMEDIATE on SQLite.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one transaction and commits it if fn returns nil. The
// error fn returns is returned as it is, after the rollback.
func (s *Store) inTx(ctx context.Context, fn func(querier) error) error {
	return txRunner{db: s.db, dialect: s.dialect, writing: s.writing}.inTx(ctx, fn)
}

// txRunner runs the write transactions of a [Store] or [FlaskStore]: the
// pool, its dialect and, on SQLite, the semaphore that queues the store's
// writers.
type txRunner struct {
	db      *sql.DB
	dialect Dialect
	writing chan struct{}
}

// inTx is [Store.inTx].
func (s txRunner) inTx(ctx context.Context, fn func(querier) error) error {
	if s.dialect == SQLite {
		return s.inSQLiteTx(ctx, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: committing: %w", err)
	}
	return nil
}

// queued runs fn, a write of one statement outside inTx, after the writes
// of the Store queued before it: on SQLite it holds the semaphore that
// inSQLiteTx holds, so that the Store's writers wait for each other in Go
// and never in SQLite's busy handler, whose polling can starve a writer
// past busy_timeout (SQLITE_BUSY, "database is locked") when many write
// at once. On PostgreSQL it only calls fn.
func (s *Store) queued(ctx context.Context, fn func() error) error {
	if s.dialect != SQLite {
		return fn()
	}
	select {
	case s.writing <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sqlstore: waiting to write: %w", ctx.Err())
	}
	defer func() { <-s.writing }()
	return fn()
}

// inSQLiteTx runs fn in a transaction that holds SQLite's write lock from
// its first statement on. A deferred transaction (database/sql's BeginTx
// without _txlock=immediate) would read under a shared lock and then fail
// with SQLITE_BUSY, which busy_timeout does not retry, when it tried to
// write after another connection had. The semaphore queues the Store's own
// writers in Go rather than in SQLite's busy handler, which polls.
func (s txRunner) inSQLiteTx(ctx context.Context, fn func(querier) error) (err error) {
	select {
	case s.writing <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sqlstore: waiting to write: %w", ctx.Err())
	}
	defer func() { <-s.writing }()

	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: getting a connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlstore: taking the write lock: %w", err)
	}
	err = fn(conn)
	if err == nil {
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
		err = fmt.Errorf("sqlstore: committing: %w", err)
	}
	if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
		// The connection may still be inside the transaction; make the
		// pool discard it rather than hand it to the next caller.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}
