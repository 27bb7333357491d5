package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth/passhash"
)

// PasswordHasher makes and checks a Manager's self-describing password
// hashes. passhash.Hasher is one; package github.com/authkit/auth/flask
// provides one with a Flask-Security application's rules. See
// [PasswordConfig].Hasher.
type PasswordHasher interface {
	// Hash returns a new hash of password, or an error matching
	// ErrPasswordTooLong for a password its scheme cannot hash whole.
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded: a nil error if it
	// does, one matching ErrPasswordMismatch if not, ErrUnsupportedHash
	// for a hash it cannot read; and, with a match, whether the hash
	// should be replaced by a new one (another scheme, weaker parameters).
	Verify(encoded, password string) (needsRehash bool, err error)
}

// bcryptMaxBytes is the number of password bytes bcrypt reads.
const bcryptMaxBytes = 72

// passwords is a Manager's password hashing and length policy.
type passwords struct {
	hasher    PasswordHasher
	maxBytes  int
	minLength int
	dummy     string    // a hash of the configured scheme, checked for unknown users
	pool      *hashPool // bounds the hashes computed at once
	overload  *overloadLog
	costs     *checkCosts // how long checks take, to pad failed logins
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration)
}

// newPasswords validates the password settings. The Manager's own hasher
// writes only argon2id (the default) or bcrypt hashes; it reads every
// scheme passhash reads.
func newPasswords(c PasswordConfig) (passwords, error) {
	p := passwords{
		hasher: c.Hasher, maxBytes: orDefault(c.MaxBytes, 1024), minLength: orDefault(c.MinLength, 8),
		pool: newHashPool(c), overload: &overloadLog{}, costs: newCheckCosts(), now: time.Now, sleep: sleepCtx,
	}
	switch {
	case p.hasher != nil && (c.Scheme != "" || c.BcryptCost != 0 || c.Argon2 != passhash.Argon2Params{}):
		return p, errors.New("auth: PasswordConfig.Hasher replaces Scheme, BcryptCost and Argon2: configure the Hasher instead")
	case p.hasher == nil:
		h := passhash.Hasher{Scheme: c.Scheme, BcryptCost: c.BcryptCost, Argon2: c.Argon2}
		if h.Scheme == "" {
			h.Scheme = passhash.Argon2id
		}
		if h.Scheme != passhash.Bcrypt && h.Scheme != passhash.Argon2id {
			return p, fmt.Errorf("auth: unknown password scheme %q (want bcrypt or argon2id)", string(h.Scheme))
		}
		if err := h.Validate(); err != nil {
			return p, fmt.Errorf("auth: %w", err)
		}
		p.hasher = h
	}
	// Hashing costs what checking does: the dummy's class starts at the
	// time its hash took.
	start := p.now()
	dummy, err := p.hasher.Hash("not a password: equalizes the work for unknown users")
	if err != nil {
		return p, fmt.Errorf("auth: password hasher: %w", err)
	}
	p.dummy = dummy
	p.costs.record(hashClass(dummy), p.now().Sub(start))
	return p, nil
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// hash returns a new hash of password, refusing one over the limit. It
// takes a slot of the pool, or fails with ErrOverloaded.
func (p *passwords) hash(ctx context.Context, password string) (string, error) {
	if len(password) > p.maxBytes {
		return "", fmt.Errorf("%w: over %d bytes", ErrPasswordTooLong, p.maxBytes)
	}
	release, err := p.pool.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return p.hasher.Hash(password)
}

// verify checks password against encoded (see check); a password over the
// limit never matches, and is not hashed.
func (p *passwords) verify(ctx context.Context, encoded, password string) (needsRehash bool, took time.Duration, err error) {
	if len(password) > p.maxBytes {
		return false, 0, ErrPasswordMismatch
	}
	return p.check(ctx, encoded, password)
}

// check checks password against encoded in a slot of the pool (or fails
// with ErrOverloaded) and reports how long the check took, which it also
// records as the cost of encoded's class.
func (p *passwords) check(ctx context.Context, encoded, password string) (needsRehash bool, took time.Duration, err error) {
	release, err := p.pool.acquire(ctx)
	if err != nil {
		return false, 0, err
	}
	defer release()
	start := p.now()
	needsRehash, err = p.hasher.Verify(encoded, password)
	took = p.now().Sub(start)
	if class := hashClass(encoded); class != "" && !errors.Is(err, ErrUnsupportedHash) {
		p.costs.record(class, took)
	}
	return needsRehash, took, err
}

// spend does the work of a password check whose answer is already known
// (an unknown user, say), so that it costs as much as a real one: a check
// against the dummy hash. It reports how long it took, or ErrOverloaded.
func (p *passwords) spend(ctx context.Context, password string) (time.Duration, error) {
	_, took, err := p.check(ctx, p.dummy, password)
	if errors.Is(err, ErrOverloaded) {
		return 0, err
	}
	return took, nil
}

// pad waits, after the failed checks of a login that took took, until the
// login has taken as long as a check of the costliest class of hash seen
// so far: a wrong password for a user whose stored hash is cheaper than
// the dummy (an old bcrypt cost, a Flask pbkdf2_sha512 hash) then takes as
// long as an unknown email, and an unknown email as long as a wrong
// password for a user whose hash is dearer. The wait is a sleep, outside
// the pool: it costs no CPU.
func (p *passwords) pad(ctx context.Context, took time.Duration) {
	if d := p.costs.max() - took; d > 0 {
		p.sleep(ctx, d)
	}
}

// checkNew applies the length policy to a password being set.
func (p *passwords) checkNew(password string) error {
	if n := utf8.RuneCountInString(password); n < p.minLength {
		return fmt.Errorf("%w: %d characters, at least %d needed", ErrPasswordTooShort, n, p.minLength)
	}
	if len(password) > p.maxBytes {
		return fmt.Errorf("%w: over %d bytes", ErrPasswordTooLong, p.maxBytes)
	}
	return nil
}

// HashPassword returns a self-describing hash of password in the configured
// scheme. It returns [ErrPasswordTooLong] for passwords over the limit, and
// [ErrOverloaded] if it finds no free slot of the hashing pool in time (see
// [PasswordConfig].Concurrency).
func (m *Manager) HashPassword(password string) (string, error) {
	return m.passwords.hash(context.Background(), password)
}

// CheckPassword reports whether password matches the stored hash: nil if it
// does, [ErrPasswordMismatch] if not, [ErrUnsupportedHash] for a hash in an
// unknown scheme, [ErrOverloaded] as [Manager.HashPassword] says.
func (m *Manager) CheckPassword(hash, password string) error {
	_, _, err := m.passwords.verify(context.Background(), hash, password)
	return err
}

// NewUser returns an active user with the given email, password (hashed)
// and roles and a fresh uniquifier, ready to be stored with
// [UserAdmin.CreateUser]. It does not store it. An email that is not a
// plain address gives an error wrapping [ErrInvalidEmail].
func (m *Manager) NewUser(email, password string, roles ...string) (*User, error) {
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if err := m.passwords.checkNew(password); err != nil {
		return nil, err
	}
	hash, err := m.passwords.hash(context.Background(), password)
	if err != nil {
		return nil, err
	}
	return &User{
		Email:        email,
		PasswordHash: hash,
		Active:       true,
		Roles:        append([]string(nil), roles...),
		Uniquifier:   NewUniquifier(),
	}, nil
}

// SetPassword stores a new hash of password for the user and rotates the
// uniquifier, so tokens issued before the change stop verifying; the
// user's device sessions and personal access tokens end too.
func (m *Manager) SetPassword(ctx context.Context, id, password string) error {
	if m.updater == nil {
		return ErrReadOnlyStore
	}
	if err := m.passwords.checkNew(password); err != nil {
		return err
	}
	hash, err := m.passwords.hash(ctx, password)
	if err != nil {
		return err
	}
	err = m.updater.UpdateUser(ctx, id, func(u *User) error {
		u.PasswordHash = hash
		u.Uniquifier = NewUniquifier()
		return nil
	})
	m.ForgetUser(id)
	if err != nil {
		return storeError(err)
	}
	m.endUserSessions(ctx, id)
	m.endPersonalTokens(ctx, id)
	m.audit(ctx, EventPasswordSet, slog.String("user_id", id))
	return nil
}
