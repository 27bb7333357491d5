// Package pglisten carries the change notifications of a PostgreSQL
// sqlstore to the verified-user caches of every instance of a service.
//
// Every committed change of a user's row or roles in a PostgreSQL sqlstore
// (a logout, a password change, a deactivation, whoever makes it) sends a
// NOTIFY on [sqlstore.ChangeChannel] with the user's ID. [Run] LISTENs on
// that channel over a connection of its own and calls
// [Forgetter.ForgetUser] for each, so a revocation on one instance reaches
// the caches of the others within the notification's delivery time —
// milliseconds on a healthy network — rather than within the second that
// the store's change log (sqlstore's Store.UserChanges) guarantees without
// it, also while this listener is disconnected. Run it in a goroutine next
// to each Manager:
//
//	go pglisten.Run(ctx, dsn, manager, pglisten.Config{Logger: logger})
package pglisten

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authkit/auth/sqlstore"
)

// Forgetter drops users from a cache; *auth.Manager is one.
type Forgetter interface {
	ForgetUser(id string)
	ForgetAllUsers()
}

// Config holds Run's optional settings.
type Config struct {
	// Logger receives connection failures. Default slog.Default().
	Logger *slog.Logger
	// OnListen, if set, is called each time the listener is connected and
	// listening, after the cache was emptied.
	OnListen func()
	// MaxBackoff caps the wait between reconnection attempts. Default 2 s,
	// so that the listener is back within about 2 s of the database,
	// however long it was away.
	MaxBackoff time.Duration
}

// The waits between reconnection attempts: firstBackoff after a
// connection that was listening is lost, doubling after each failed
// attempt up to Config.MaxBackoff (default defaultMaxBackoff).
const (
	firstBackoff      = 100 * time.Millisecond
	defaultMaxBackoff = 2 * time.Second
	// connectTimeout bounds connecting and the LISTEN, so that an attempt
	// made while the network drops packets fails in time for the next.
	connectTimeout = 5 * time.Second
)

// Run listens for user changes on the PostgreSQL database dsn names and
// tells target to forget each changed user, until ctx ends; then it
// returns ctx's error. Notifications sent while the connection is down are
// lost, so each time it (re)connects it first empties target's cache. It
// reconnects after failures, waiting 100 ms after losing a connection that
// was listening and twice as long after each failed attempt, up to
// MaxBackoff.
func Run(ctx context.Context, dsn string, target Forgetter, cfg Config) error {
	if target == nil {
		return errors.New("pglisten: nil target")
	}
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return fmt.Errorf("pglisten: bad DSN: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	maxBackoff := cfg.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = defaultMaxBackoff
	}
	backoff := firstBackoff
	for {
		listened, err := listen(ctx, dsn, target, cfg.OnListen)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			backoff = firstBackoff // an outage starts; the last one is over
		}
		logger.WarnContext(ctx, "pglisten: connection lost; reconnecting", "error", err.Error(), "after", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// listen runs one connection until it fails or ctx ends, and reports
// whether it was listening.
func listen(ctx context.Context, dsn string, target Forgetter, onListen func()) (listened bool, _ error) {
	connectCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(connectCtx, dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(connectCtx, "LISTEN "+pgx.Identifier{sqlstore.ChangeChannel}.Sanitize()); err != nil {
		return false, err
	}
	cancel()
	target.ForgetAllUsers()
	if onListen != nil {
		onListen()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		target.ForgetUser(n.Payload)
	}
}
