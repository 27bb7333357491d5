package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	dummy     string // a hash of the configured scheme, checked for unknown users
}

// newPasswords validates the password settings. The Manager's own hasher
// writes only argon2id (the default) or bcrypt hashes; it reads every
// scheme passhash reads.
func newPasswords(c PasswordConfig) (passwords, error) {
	p := passwords{hasher: c.Hasher, maxBytes: orDefault(c.MaxBytes, 1024), minLength: orDefault(c.MinLength, 8)}
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
	var err error
	if p.dummy, err = p.hasher.Hash("not a password: equalizes the work for unknown users"); err != nil {
		return p, fmt.Errorf("auth: password hasher: %w", err)
	}
	return p, nil
}

// hash returns a new hash of password, refusing one over the limit.
func (p *passwords) hash(password string) (string, error) {
	if len(password) > p.maxBytes {
		return "", fmt.Errorf("%w: over %d bytes", ErrPasswordTooLong, p.maxBytes)
	}
	return p.hasher.Hash(password)
}

// verify checks password against encoded; a password over the limit never
// matches.
func (p *passwords) verify(encoded, password string) (needsRehash bool, err error) {
	if len(password) > p.maxBytes {
		return false, ErrPasswordMismatch
	}
	return p.hasher.Verify(encoded, password)
}

// spend does the work of a password check whose answer is already known
// (an unknown user, say), so that it costs as much as a real one.
func (p *passwords) spend(password string) { _, _ = p.hasher.Verify(p.dummy, password) }

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
// scheme. It returns [ErrPasswordTooLong] for passwords over the limit.
func (m *Manager) HashPassword(password string) (string, error) {
	return m.passwords.hash(password)
}

// CheckPassword reports whether password matches the stored hash: nil if it
// does, [ErrPasswordMismatch] if not, [ErrUnsupportedHash] for a hash in an
// unknown scheme.
func (m *Manager) CheckPassword(hash, password string) error {
	_, err := m.passwords.verify(hash, password)
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
	hash, err := m.passwords.hash(password)
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
// uniquifier, so tokens issued before the change stop verifying.
func (m *Manager) SetPassword(ctx context.Context, id, password string) error {
	if m.updater == nil {
		return ErrReadOnlyStore
	}
	if err := m.passwords.checkNew(password); err != nil {
		return err
	}
	hash, err := m.passwords.hash(password)
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
	m.audit(ctx, EventPasswordSet, slog.String("user_id", id))
	return nil
}
