package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Authenticate checks an email and password and returns the active user
// they belong to. An unknown email, a wrong password and an inactive account
// all give [ErrInvalidCredentials] after the same hash work and time; a
// store failure gives [ErrStoreUnavailable]; too many recent failures for
// the account give a [*ThrottledError]; no free slot of the hashing pool in
// time gives [ErrOverloaded]. It does not record the login; see
// [Manager.Login].
func (m *Manager) Authenticate(ctx context.Context, email, password string) (*User, error) {
	u, _, err := m.authenticate(ctx, email, password, "", "")
	return u, err
}

// throttleKeys are the throttle keys an attempt was counted against; ""
// for one it was not.
type throttleKeys struct{ addr, account, device string }

// authenticate is Authenticate with the client address, which the
// throttle and the audit log use when it is known, and the device token
// the client presented ("" for none). It also reports whether the user's
// hash should be replaced.
//
// The attempt is counted before the password is checked, so concurrent
// attempts cannot all pass the throttle before any is counted; a success
// gives it back. With a valid device token for the account of email, it is
// counted against the device alone; without one, or from a device
// throttled itself, against the address and the account. All of this
// happens before the user is looked up, so it never depends on whether the
// account exists. A throttle store that fails refuses the attempt
// (ErrStoreUnavailable) without a check.
//
// Every password check takes a slot of the hashing pool, for a known email
// as for an unknown one, after the same steps; without one in time the
// attempt is refused (ErrOverloaded) and its counts are given back, since
// no password was checked. A failure is padded to the cost of the
// costliest hash checked so far (passwords.pad), so that it takes as long
// whatever the account's stored hash, or whether there is one.
func (m *Manager) authenticate(ctx context.Context, email, password, ip, device string) (_ *User, rehash bool, _ error) {
	now := m.now()
	var keys throttleKeys
	if id := m.devices.check(device, email, now); id != "" {
		key, err := m.throttle.reserveDevice(ctx, id, now)
		switch {
		case err == nil:
			keys.device = key
		case !errors.Is(err, ErrThrottled):
			return nil, false, err
		}
		// A device throttled itself is treated as unknown.
	}
	trusted := keys.device != ""
	if !trusted {
		addr, err := m.throttle.reserveAddr(ctx, ip, now)
		if err != nil {
			return nil, false, m.refused(ctx, ip, "", err)
		}
		keys.addr = addr
	}
	if email == "" || len(password) > m.passwords.maxBytes {
		// No password of the account is checked: the address's count
		// alone takes the failure.
		took, err := m.passwords.spend(ctx, password[:min(len(password), bcryptMaxBytes)])
		if err != nil {
			return nil, false, m.overloaded(ctx, keys)
		}
		m.passwords.pad(ctx, took)
		reason := reasonTooLong
		if email == "" {
			reason = reasonNoEmail
		}
		return nil, false, m.loginFailed(ctx, email, ip, nil, reason)
	}
	if !trusted {
		account, err := m.throttle.reserveAccount(ctx, email, now)
		if err != nil {
			m.refund(ctx, keys.addr)
			return nil, false, m.refused(ctx, ip, email, err)
		}
		keys.account = account
	}
	u, err := m.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound):
		u = nil
	case err != nil:
		m.giveBack(ctx, keys)
		return nil, false, storeError(err)
	}
	if u == nil {
		took, err := m.passwords.spend(ctx, password)
		if err != nil {
			return nil, false, m.overloaded(ctx, keys)
		}
		m.passwords.pad(ctx, took)
		return nil, false, m.loginFailed(ctx, email, ip, nil, reasonUnknownUser)
	}
	rehash, took, err := m.passwords.verify(ctx, u.PasswordHash, password)
	switch {
	case errors.Is(err, ErrOverloaded):
		return nil, false, m.overloaded(ctx, keys)
	case errors.Is(err, ErrUnsupportedHash):
		// Tell the operator, not the client, and spend the same work.
		m.log.ErrorContext(ctx, "auth: cannot verify password", "user_id", u.ID, "error", err.Error())
		spent, err := m.passwords.spend(ctx, password)
		if err != nil {
			return nil, false, m.overloaded(ctx, keys)
		}
		m.passwords.pad(ctx, took+spent)
		return nil, false, m.loginFailed(ctx, email, ip, u, reasonBadHash)
	case err != nil:
		m.passwords.pad(ctx, took)
		return nil, false, m.loginFailed(ctx, email, ip, u, reasonBadPassword)
	}
	if !u.Active {
		m.passwords.pad(ctx, took)
		return nil, false, m.loginFailed(ctx, email, ip, u, reasonInactive)
	}
	if err := m.throttle.succeeded(ctx, keys.addr, keys.account, keys.device); err != nil {
		m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
	}
	return u, rehash, nil
}

// overloaded gives back the attempts counted for keys of an attempt
// refused for want of a hashing slot, whose password was not checked, and
// returns ErrOverloaded.
func (m *Manager) overloaded(ctx context.Context, keys throttleKeys) error {
	m.giveBack(ctx, keys)
	return ErrOverloaded
}

// giveBack gives back the attempts counted for keys.
func (m *Manager) giveBack(ctx context.Context, keys throttleKeys) {
	for _, key := range []string{keys.addr, keys.account, keys.device} {
		m.refund(ctx, key)
	}
}

// refused audits an attempt the throttle refused (for the account of
// email, if not ""), and returns err, a *ThrottledError or a store failure.
func (m *Manager) refused(ctx context.Context, ip, email string, err error) error {
	var throttled *ThrottledError
	if !errors.As(err, &throttled) {
		return err
	}
	attrs := []slog.Attr{slog.String("ip", ip)}
	if email != "" {
		attrs = append(attrs, slog.String("email_hash", emailHash(email)))
	}
	m.audit(ctx, EventThrottled, append(attrs, slog.Duration("retry_after", throttled.RetryAfter))...)
	return err
}

// refund gives back the attempt counted for the key (of an address or an
// account; "" for none) when the password was not checked after all.
func (m *Manager) refund(ctx context.Context, key string) {
	if err := m.throttle.refund(ctx, key); err != nil {
		m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
	}
}

// loginFailed writes the audit event of a failed check, which the throttle
// counted when it admitted the attempt, and returns ErrInvalidCredentials.
func (m *Manager) loginFailed(ctx context.Context, email, ip string, u *User, reason string) error {
	attrs := []slog.Attr{slog.String("reason", reason), slog.String("ip", ip)}
	if u != nil {
		attrs = append(attrs, slog.String("user_id", u.ID))
	} else if email != "" {
		attrs = append(attrs, slog.String("email_hash", emailHash(email)))
	}
	m.audit(ctx, EventLoginFailed, attrs...)
	return ErrInvalidCredentials
}

// Login authenticates email and password like [Manager.Authenticate] and, if
// the store implements [UserUpdater], records the login in the trackable
// fields (with ip as the client address) and upgrades a hash weaker than
// the configured scheme, in one atomic update. It returns the updated user.
//
// Login does not take a device token, so its attempts are always
// throttled by address and account; [Manager.LoginHandler] and
// [Manager.TokenHandler] read the client's. For a user with a second
// factor on (see [TwoFactorConfig]) the password alone is no login: Login
// records nothing and returns an error matching [ErrTwoFactorRequired].
func (m *Manager) Login(ctx context.Context, email, password, ip string) (*User, error) {
	u, err := m.login(ctx, email, password, ip, "")
	if err != nil {
		return nil, err
	}
	return u, nil
}

// login is Login with the device token the client presented. For a user
// with a second factor (see TwoFactorConfig) it records nothing but a
// rehash and returns the user with an error matching ErrTwoFactorRequired.
func (m *Manager) login(ctx context.Context, email, password, ip, device string) (*User, error) {
	u, needsRehash, err := m.authenticate(ctx, email, password, ip, device)
	if err != nil {
		return nil, err
	}
	var rehash string
	if needsRehash && m.updater != nil {
		if h, err := m.passwords.hash(ctx, password); err == nil {
			rehash = h
		}
	}
	if err := m.secondFactorGate(ctx, u); err != nil {
		if rehash != "" {
			m.storeRehash(ctx, u, rehash)
		}
		return u, err
	}
	return m.recordLogin(ctx, u, ip, rehash)
}

// storeRehash replaces u's password hash by rehash, unless it changed
// meanwhile. A failure is logged: the old hash still works.
func (m *Manager) storeRehash(ctx context.Context, u *User, rehash string) {
	err := m.updater.UpdateUser(ctx, u.ID, func(v *User) error {
		if v.PasswordHash == u.PasswordHash {
			v.PasswordHash = rehash
		}
		return nil
	})
	if err != nil {
		m.log.ErrorContext(ctx, "auth: cannot store a rehashed password", "user_id", u.ID, "error", err.Error())
	}
}

// recordLogin audits the login of u from ip and records it in the
// trackable fields, with its password's new hash if rehash is not "", and
// returns the updated user.
func (m *Manager) recordLogin(ctx context.Context, u *User, ip, rehash string) (*User, error) {
	m.audit(ctx, EventLoginSucceeded, slog.String("user_id", u.ID), slog.String("ip", ip))
	if m.updater == nil {
		return u, nil
	}
	now := m.now().UTC()
	err := m.updater.UpdateUser(ctx, u.ID, func(v *User) error {
		v.LastLoginAt, v.CurrentLoginAt = v.CurrentLoginAt, now
		v.LastLoginIP, v.CurrentLoginIP = v.CurrentLoginIP, ip
		v.LoginCount++
		if rehash != "" && v.PasswordHash == u.PasswordHash {
			v.PasswordHash = rehash
		}
		u = v.Clone()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: recording login: %w", ErrStoreUnavailable, err)
	}
	return u, nil
}

// RevokeTokens gives the user a new uniquifier, so every token issued to
// the user so far stops verifying at once ("log out everywhere"), and every
// browser and device session ends. Personal access tokens, made for
// scripts, outlive it: they end one by one (DELETE /tokens/{id} of
// [Manager.AccountHandler]), when they expire, or with a new password.
func (m *Manager) RevokeTokens(ctx context.Context, id string) error {
	if m.updater == nil {
		return ErrReadOnlyStore
	}
	err := m.updater.UpdateUser(ctx, id, func(u *User) error {
		u.Uniquifier = NewUniquifier()
		return nil
	})
	m.ForgetUser(id)
	if err != nil {
		return storeError(err)
	}
	m.endUserSessions(ctx, id)
	m.audit(ctx, EventTokensRevoked, slog.String("user_id", id))
	return nil
}

// endUserSessions removes the device sessions of a user whose uniquifier
// changed, which can no longer be refreshed anyway (see rotate).
func (m *Manager) endUserSessions(ctx context.Context, id string) {
	if m.refresh == nil {
		return
	}
	if _, err := m.refresh.store.DeleteUserSessions(ctx, id, ""); err != nil {
		m.log.ErrorContext(ctx, "auth: session store failed", "error", err.Error())
	}
}
