package passhash

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt's bounds.
const (
	bcryptMaxBytes = 72 // password bytes bcrypt reads
	bcryptMinCost  = bcrypt.MinCost
	bcryptMaxCost  = bcrypt.MaxCost
)

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$")
}

// hashBcrypt writes password as x/crypto/bcrypt does ("$2a$"), refusing a
// password longer than bcrypt reads rather than truncating it.
func hashBcrypt(password string, cost int) (string, error) {
	if len(password) > bcryptMaxBytes {
		return "", fmt.Errorf("%w: bcrypt reads at most %d bytes", ErrTooLong, bcryptMaxBytes)
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("passhash: bcrypt: %w", err)
	}
	return string(b), nil
}

// verifyBcrypt checks password against a bcrypt hash. A password over 72
// bytes never verifies: only a prefix could be compared, and no hash this
// package writes can have come from so long a password. The work is done
// all the same.
func verifyBcrypt(encoded, password string) error {
	err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil && len(password) > bcryptMaxBytes:
		return ErrMismatch
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrMismatch
	}
	return fmt.Errorf("%w: malformed bcrypt hash: %v", ErrUnsupported, err)
}

func bcryptCost(encoded string) (int, error) {
	return bcrypt.Cost([]byte(encoded))
}
