package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/authkit/auth"
)

// A FlaskStore keeps the users' authenticator apps where Flask-Security
// keeps them: tf_primary_method "authenticator" and the key in
// tf_totp_secret, as passlib's TOTP JSON encrypted under
// SECURITY_TOTP_SECRETS. A Manager over it needs
// TwoFactorConfig.Secrets from [github.com/authkit/auth/flask.NewTOTPSecrets],
// which seals and opens that form; then a user who set an app up in
// either application logs in with its codes in both, and no password
// alone logs in a user who has one.
var _ auth.TwoFactorStore = (*FlaskStore)(nil)

// flaskMethodAuthenticator is tf_primary_method for an authenticator app.
const flaskMethodAuthenticator = "authenticator"

// errFlaskRecoveryCodes is what the FlaskStore answers for recovery codes.
var errFlaskRecoveryCodes = fmt.Errorf("%w: Flask-Security's mf_recovery_codes hold the codes themselves, "+
	"and the Manager gives a store their keyed hashes alone: the Flask application makes and checks them", auth.ErrReadOnlyStore)

// flaskCounters are the last TOTP counters accepted, by user ID, in this
// process: Flask-Security keeps none.
type flaskCounters struct {
	mu   sync.Mutex
	last map[string]uint64
}

// maxFlaskCounters bounds flaskCounters: past it, the counters older than
// the newest by more than ten periods (five minutes), whose codes no
// longer validate anyway, are dropped.
const maxFlaskCounters = 10000

// use records counter for the user if it is greater than the last.
func (c *flaskCounters) use(userID string, counter uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if counter <= c.last[userID] {
		return false
	}
	if c.last == nil {
		c.last = map[string]uint64{}
	}
	if len(c.last) >= maxFlaskCounters {
		for id, n := range c.last {
			if n+10 < counter {
				delete(c.last, id)
			}
		}
	}
	c.last[userID] = counter
	return true
}

func (c *flaskCounters) get(userID string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[userID]
}

func (c *flaskCounters) set(userID string, counter uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]uint64{}
	}
	c.last[userID] = counter
}

func (c *flaskCounters) forget(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, userID)
}

// hasTwoFactorColumns reports whether the user table has
// tf_primary_method and tf_totp_secret.
func (s *FlaskStore) hasTwoFactorColumns() bool {
	return s.cols.tfMethod.present() && s.cols.tfSecret.present()
}

// TwoFactor implements [auth.TwoFactorStore]: a user whose
// tf_primary_method is set, with a tf_totp_secret, has a second factor
// that is on; the Secret is the column's text. Flask-Security's "email"
// and "sms" methods send codes of the same key by mail or SMS, which the
// Manager does not: such a user's login answers tf_required and completes
// only with the key's codes, so the password alone still logs no one in.
// LastCounter is the last accepted in this process (see UseTOTPCounter).
// Without the columns, no user has a factor.
func (s *FlaskStore) TwoFactor(ctx context.Context, userID string) (*auth.TwoFactor, error) {
	n, ok := flaskID(userID)
	if !ok || !s.hasTwoFactorColumns() {
		return nil, fmt.Errorf("sqlstore: second factor of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	var method, secret *string
	err := s.tx.db.QueryRowContext(ctx, s.tx.dialect.rebind(`SELECT `+s.cols.tfMethod.name+`, `+s.cols.tfSecret.name+
		` FROM `+s.cols.users+` WHERE `+s.cols.id.name+` = ?`), n).Scan(&method, &secret)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlstore: second factor of user %q: %w", userID, auth.ErrTokenNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlstore: reading the second factor of user %q: %w", userID, err)
	case method == nil || *method == "" || secret == nil || *secret == "":
		return nil, fmt.Errorf("sqlstore: second factor of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	return &auth.TwoFactor{UserID: userID, Secret: []byte(*secret), LastCounter: s.counters.get(userID), Enabled: true}, nil
}

// SetTwoFactor implements [auth.TwoFactorStore]: it writes tf.Secret to
// tf_totp_secret, which must be text (the form flask.NewTOTPSecrets
// seals), and tf_primary_method "authenticator" (NULL for a factor not
// Enabled). A user the store does not hold gives an error wrapping
// [auth.ErrUserNotFound]; a store without the columns refuses.
func (s *FlaskStore) SetTwoFactor(ctx context.Context, tf *auth.TwoFactor) error {
	switch {
	case tf == nil:
		return errors.New("sqlstore: SetTwoFactor: nil second factor")
	case !s.hasTwoFactorColumns():
		return fmt.Errorf("sqlstore: the Flask-Security user table has no tf_primary_method and tf_totp_secret (FlaskSchema.TfPrimaryMethod, TfTotpSecret): it keeps no second factors")
	case len(tf.Secret) == 0 || !utf8.Valid(tf.Secret):
		return errors.New("sqlstore: a FlaskStore keeps a TOTP key as Flask-Security does, in text: set auth.TwoFactorConfig.Secrets to flask.NewTOTPSecrets")
	}
	n, ok := flaskID(tf.UserID)
	if !ok {
		return fmt.Errorf("sqlstore: second factor of user %q: %w", tf.UserID, auth.ErrUserNotFound)
	}
	var method any
	if tf.Enabled {
		method = flaskMethodAuthenticator
	}
	query := `UPDATE ` + s.cols.users + ` SET ` + s.cols.tfMethod.name + ` = ?, ` + s.cols.tfSecret.name + ` = ?`
	args := []any{method, string(tf.Secret)}
	if s.cols.updateDatetime.present() {
		query += `, ` + s.cols.updateDatetime.name + ` = ?`
		args = append(args, s.timeArg(s.now()))
	}
	query += ` WHERE ` + s.cols.id.name + ` = ?`
	res, err := s.tx.db.ExecContext(ctx, s.tx.dialect.rebind(query), append(args, n)...)
	if err != nil {
		return fmt.Errorf("sqlstore: writing the second factor of user %q: %w", tf.UserID, err)
	}
	if k, err := res.RowsAffected(); err == nil && k == 0 {
		return fmt.Errorf("sqlstore: second factor of user %q: %w", tf.UserID, auth.ErrUserNotFound)
	}
	s.counters.set(tf.UserID, tf.LastCounter)
	return nil
}

// UseTOTPCounter implements [auth.TwoFactorStore] within this process:
// Flask-Security's tables keep no counter (nor does it refuse a code used
// twice), so several processes over one database each accept a code once.
func (s *FlaskStore) UseTOTPCounter(ctx context.Context, userID string, counter uint64) (bool, error) {
	if _, err := s.TwoFactor(ctx, userID); err != nil {
		return false, err
	}
	return s.counters.use(userID, counter), nil
}

// DeleteTwoFactor implements [auth.TwoFactorStore]: tf_primary_method,
// tf_totp_secret and mf_recovery_codes become NULL, as Flask-Security's
// tf_disable leaves them.
func (s *FlaskStore) DeleteTwoFactor(ctx context.Context, userID string) error {
	n, ok := flaskID(userID)
	if !ok || !s.hasTwoFactorColumns() {
		return nil
	}
	set := s.cols.tfMethod.name + ` = NULL, ` + s.cols.tfSecret.name + ` = NULL`
	if s.cols.recoveryCodes.present() {
		set += `, ` + s.cols.recoveryCodes.name + ` = NULL`
	}
	var args []any
	if s.cols.updateDatetime.present() {
		set += `, ` + s.cols.updateDatetime.name + ` = ?`
		args = append(args, s.timeArg(s.now()))
	}
	_, err := s.tx.db.ExecContext(ctx, s.tx.dialect.rebind(`UPDATE `+s.cols.users+` SET `+set+` WHERE `+s.cols.id.name+` = ?`),
		append(args, n)...)
	if err != nil {
		return fmt.Errorf("sqlstore: deleting the second factor of user %q: %w", userID, err)
	}
	s.counters.forget(userID)
	return nil
}

// SetRecoveryCodes implements [auth.TwoFactorStore] by refusing, with an
// error wrapping [auth.ErrReadOnlyStore]: Flask-Security keeps recovery
// codes themselves (or Fernet tokens of them), which it shows the user
// again, and the Manager hands a store keyed hashes alone.
func (s *FlaskStore) SetRecoveryCodes(context.Context, string, [][]byte) error {
	return errFlaskRecoveryCodes
}

// UseRecoveryCode implements [auth.TwoFactorStore]: no hash matches, for
// the reason SetRecoveryCodes gives.
func (s *FlaskStore) UseRecoveryCode(context.Context, string, []byte) (bool, error) {
	return false, nil
}

// RecoveryCodesLeft implements [auth.TwoFactorStore]: none that the
// Manager can check.
func (s *FlaskStore) RecoveryCodesLeft(context.Context, string) (int, error) {
	return 0, nil
}
