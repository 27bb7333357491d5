package dbopen

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// MinSecretBytes is the shortest signing secret auth.New accepts.
const MinSecretBytes = 16

// SecretPath returns the path of the signing secret's file kept beside the
// SQLite database dsn names: the file's path with ".secret" added, as in
// auth.db.secret.
func SecretPath(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path + ".secret"
}

// ErrNoSecretFile: the secret file beside the SQLite database does not
// exist and create was not set.
var ErrNoSecretFile = errors.New("no secret file")

// SecretFile returns the signing secret kept beside the SQLite database
// dsn names, in the file [SecretPath] names. The secret is the file's
// text as it is, trimmed of surrounding white space: the same text given
// in AUTH_SECRET (AUTH_SECRET="$(cat auth.db.secret)") is the same key,
// for the example server, authctl and a Python service alike. If the file
// does not exist and create is set, a new one is made with mode 0600,
// holding 64 random hexadecimal characters; created reports it. A file
// readable by group or others is refused, as is one shorter than
// MinSecretBytes.
func SecretFile(dsn string, create bool) (secret []byte, path string, created bool, err error) {
	if IsPostgres(dsn) {
		return nil, "", false, errors.New("no secret file with PostgreSQL: set AUTH_SECRET")
	}
	path = SecretPath(dsn)
	if create {
		raw := make([]byte, 32)
		rand.Read(raw)
		fresh := hex.EncodeToString(raw)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator chose the path with -db
		switch {
		case err == nil:
			_, werr := f.WriteString(fresh + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				_ = os.Remove(path)
				return nil, path, false, fmt.Errorf("writing the secret file: %w", werr)
			}
			return []byte(fresh), path, true, nil
		case !errors.Is(err, fs.ErrExist):
			return nil, path, false, fmt.Errorf("creating the secret file: %w", err)
		}
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, false, fmt.Errorf("%w at %s", ErrNoSecretFile, path)
	}
	if err != nil {
		return nil, path, false, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, path, false, fmt.Errorf("the secret file %s is readable by others (mode %v): chmod 600 it", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator chose the path with -db
	if err != nil {
		return nil, path, false, fmt.Errorf("reading the secret file: %w", err)
	}
	text := strings.TrimSpace(string(raw))
	if len(text) < MinSecretBytes {
		return nil, path, false, fmt.Errorf("the secret file %s holds %d bytes of text, not the %d a secret needs at least", path, len(text), MinSecretBytes)
	}
	return []byte(text), path, false, nil
}
