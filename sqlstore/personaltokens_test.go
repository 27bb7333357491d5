package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/pat"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// TestPersonalTokenStore runs storetest's personal token checks on each
// dialect.
func TestPersonalTokenStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunPersonalTokens(t, func(t *testing.T) auth.PersonalTokenStore { return b.fresh(t)(t) })
		})
	}
}

// TestPersonalTokenStoreTwoInstances runs the personal token checks
// against two Stores, each with a pool of its own, over one database, as
// two processes of a service have them: the calls alternate between the
// two, so each check reads through one Store what it wrote through the
// other, and the concurrent checks race the two.
func TestPersonalTokenStoreTwoInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunPersonalTokens(t, func(t *testing.T) auth.PersonalTokenStore {
				open := b.fresh(t)
				return alternatingTokens{&alternating{Store: open(t), other: open(t)}}
			})
		})
	}
}

// alternatingTokens is two Stores over one database; its personal token
// calls go to each in turn. Its user calls go to the first.
type alternatingTokens struct{ *alternating }

func (a alternatingTokens) CreatePersonalToken(ctx context.Context, t *auth.PersonalToken) error {
	return a.next().CreatePersonalToken(ctx, t)
}

func (a alternatingTokens) PersonalTokenByHash(ctx context.Context, hash []byte) (*auth.PersonalToken, error) {
	return a.next().PersonalTokenByHash(ctx, hash)
}

func (a alternatingTokens) UserPersonalTokens(ctx context.Context, userID string) ([]*auth.PersonalToken, error) {
	return a.next().UserPersonalTokens(ctx, userID)
}

func (a alternatingTokens) TouchPersonalToken(ctx context.Context, id string, at time.Time) error {
	return a.next().TouchPersonalToken(ctx, id, at)
}

func (a alternatingTokens) DeletePersonalToken(ctx context.Context, id string) error {
	return a.next().DeletePersonalToken(ctx, id)
}

func (a alternatingTokens) DeleteUserPersonalTokens(ctx context.Context, userID string) (int, error) {
	return a.next().DeleteUserPersonalTokens(ctx, userID)
}

// newPersonalToken stores a token of the user made as authctl makes one:
// a pat secret, its SHA-256 as the hash. It returns the token stored.
func newPersonalToken(tb testing.TB, s *sqlstore.Store, id string, u *auth.User, scopes ...string) *auth.PersonalToken {
	tb.Helper()
	secret, err := pat.New(pat.DefaultPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	h := pat.Hash(secret)
	p := &auth.PersonalToken{ID: id, UserID: u.ID, Name: "token " + id, Scopes: scopes,
		Hash: h[:], CreatedAt: time.Now()}
	if err := s.CreatePersonalToken(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestPersonalTokenChanges: deleting a personal token logs its owner in
// the change log, whichever way it goes (DeletePersonalToken,
// DeleteUserPersonalTokens, an operator's SQL, the owner's deletion),
// read through a second Store as another process would; creating and
// touching one log nothing (checked on SQLite, whose log a read does not
// repeat).
func TestPersonalTokenChanges(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := context.Background()
			dsn := b.newDSN(t)
			reader, writer := openStore(t, b.driver, dsn, b.dialect), openStore(t, b.driver, dsn, b.dialect)
			db := openDB(t, b.driver, dsn)
			u := newTestUser(t, writer, "owner@example.com")
			other := newTestUser(t, writer, "other@example.com")
			_, cursor, err := reader.UserChanges(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			read := func(what string) []string {
				t.Helper()
				ids, next, err := reader.UserChanges(ctx, cursor)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				cursor = next
				return ids
			}
			for i := range 4 {
				newPersonalToken(t, writer, fmt.Sprint("u-", i), u, "read")
			}
			otherToken := newPersonalToken(t, writer, "o-0", other, "read")
			if err := writer.TouchPersonalToken(ctx, "u-0", time.Now()); err != nil {
				t.Fatal(err)
			}
			if ids := read("created and touched"); len(ids) != 0 && b.dialect == sqlstore.SQLite {
				t.Fatalf("tokens created and touched, yet the log names %q", ids)
			}
			for _, tc := range []struct {
				name   string
				delete func() error
			}{
				{"DeletePersonalToken", func() error { return writer.DeletePersonalToken(ctx, "u-0") }},
				{"DeleteUserPersonalTokens", func() error {
					if err := writer.DeletePersonalToken(ctx, "u-1"); err != nil { // one less, so that two go here
						return err
					}
					read("u-1 deleted")
					n, err := writer.DeleteUserPersonalTokens(ctx, u.ID)
					if err == nil && n != 2 {
						err = fmt.Errorf("deleted %d tokens, want 2", n)
					}
					return err
				}},
				{"SQL delete", func() error {
					newPersonalToken(t, writer, "u-4", u)
					read("u-4 created")
					_, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM personal_tokens WHERE id = ?"), "u-4")
					return err
				}},
			} {
				if err := tc.delete(); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				ids := read(tc.name)
				if !slices.Contains(ids, u.ID) || slices.Contains(ids, other.ID) && b.dialect == sqlstore.SQLite {
					t.Fatalf("%s: the log names %q; want the owner %q and not %q", tc.name, ids, u.ID, other.ID)
				}
				if b.dialect == sqlstore.SQLite {
					if again := read(tc.name + ", read again"); len(again) != 0 {
						t.Fatalf("%s: a second read names %q again", tc.name, again)
					}
				}
			}
			// The owner's deletion deletes the owner's tokens, and the log
			// names the owner; the token's hash finds nothing afterwards.
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM users WHERE id = ?"), other.ID); err != nil {
				t.Fatal(err)
			}
			if ids := read("owner deleted"); !slices.Contains(ids, other.ID) {
				t.Fatalf("owner deleted: the log names %q; want %q", ids, other.ID)
			}
			if _, err := reader.PersonalTokenByHash(ctx, otherToken.Hash); !errors.Is(err, auth.ErrTokenNotFound) {
				t.Errorf("the token of a deleted user: error = %v; want auth.ErrTokenNotFound", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM personal_tokens").Scan(&n); err != nil || n != 0 {
				t.Errorf("personal tokens left: %d, %v; want none", n, err)
			}
		})
	}
}

// TestCacheForgetsOnTokenDeletion runs the property the change log's
// entry for a deleted token is for: a Manager with the verified-user cache
// on (the default) forgets, within a second, the owner of a personal token
// that another process deleted, and only the owner.
func TestCacheForgetsOnTokenDeletion(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			dsn := b.newDSN(t)
			server := &countingStore{Store: openStore(t, b.driver, dsn, b.dialect)}
			operator := openStore(t, b.driver, dsn, b.dialect)
			m, err := auth.New(server, []byte("token deletion test signing key."), auth.Config{
				Logger: slog.New(slog.DiscardHandler), Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
			})
			if err != nil {
				t.Fatal(err)
			}
			owner, bystander := newTestUser(t, operator, "owner@example.com"), newTestUser(t, operator, "bystander@example.com")
			newPersonalToken(t, operator, "doomed", owner, "read")
			newPersonalToken(t, operator, "kept", bystander, "read")
			var toks []string
			for _, u := range []*auth.User{owner, bystander} {
				tok, err := m.IssueToken(u)
				if err != nil {
					t.Fatal(err)
				}
				toks = append(toks, tok)
				cachedBy := time.Now().Add(5 * time.Second)
				for !server.cached(t, m, tok) {
					if time.Now().After(cachedBy) {
						t.Fatal("the cache never answered for the token")
					}
				}
			}
			if err := operator.DeletePersonalToken(ctx, "doomed"); err != nil {
				t.Fatal(err)
			}
			took := refusedWithin(t, time.Second, func() bool { return !server.cached(t, m, toks[0]) })
			t.Logf("the owner was looked up again %v after the deletion", took.Round(time.Millisecond))
			if !server.cached(t, m, toks[1]) {
				t.Error("the bystander was forgotten too; want only the owner of the deleted token")
			}
		})
	}
}

// TestPersonalTokenColumns checks how a token is stored: the scopes
// separated by spaces, the hash as the bytes given (pat.Hash's), zero
// times as NULL, so that an operator's SQL reads them plainly.
func TestPersonalTokenColumns(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			dsn := b.newDSN(t)
			s, db := openStore(t, b.driver, dsn, b.dialect), openDB(t, b.driver, dsn)
			u := newTestUser(t, s, "columns@example.com")
			p := newPersonalToken(t, s, "cols", u, "repo:read", "admin/users")
			var (
				scopes            string
				hash              []byte
				lastNull, expNull bool
			)
			err := db.QueryRowContext(ctx, b.dialect.Rebind(
				"SELECT scopes, token_hash, last_used_at IS NULL, expires_at IS NULL FROM personal_tokens WHERE id = ?"), "cols").
				Scan(&scopes, &hash, &lastNull, &expNull)
			if err != nil {
				t.Fatal(err)
			}
			if scopes != "repo:read admin/users" || !bytes.Equal(hash, p.Hash) || !lastNull || !expNull {
				t.Errorf("stored scopes %q, hash %x, last_used_at NULL %v, expires_at NULL %v; want %q, %x, true, true",
					scopes, hash, lastNull, expNull, "repo:read admin/users", p.Hash)
			}
			got, err := s.UserPersonalTokens(ctx, u.ID)
			if err != nil || len(got) != 1 || !slices.Equal(got[0].Scopes, p.Scopes) {
				t.Errorf("UserPersonalTokens = %v, %v; want the token with its scopes", got, err)
			}
		})
	}
}

// TestPersonalTokenErrors checks the errors' text and wrapping beyond what
// the suite asks, and the scopes that the column cannot keep.
func TestPersonalTokenErrors(t *testing.T) {
	s := backends[0].fresh(t)(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "p", UserID: "u", Hash: []byte("hash p")}); err != nil {
		t.Fatal(err)
	}
	tok := func(id string, scopes ...string) *auth.PersonalToken {
		return &auth.PersonalToken{ID: id, UserID: "u", Scopes: scopes, Hash: []byte("hash " + id)}
	}
	tests := []struct {
		name string
		err  error
		want error
		text string
	}{
		{name: "duplicate ID", err: s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "p", UserID: "u", Hash: []byte("other")}), want: auth.ErrDuplicateID,
			text: `sqlstore: creating personal token "p": auth: ID already in use (by another token with this ID or this hash)`},
		{name: "duplicate hash", err: s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "q", UserID: "u", Hash: []byte("hash p")}), want: auth.ErrDuplicateID,
			text: `sqlstore: creating personal token "q": auth: ID already in use (by another token with this ID or this hash)`},
		{name: "unknown user", err: s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "t", UserID: "v", Hash: []byte("t")}), want: auth.ErrUserNotFound,
			text: `sqlstore: creating personal token "t": user "v": auth: user not found`},
		{name: "nil token", err: s.CreatePersonalToken(ctx, nil), text: "sqlstore: CreatePersonalToken: nil token"},
		{name: "empty ID", err: s.CreatePersonalToken(ctx, &auth.PersonalToken{UserID: "u", Hash: []byte("h")}), text: "sqlstore: CreatePersonalToken: empty token ID"},
		{name: "empty hash", err: s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "t", UserID: "u"}), text: `sqlstore: CreatePersonalToken "t": empty token hash`},
		{name: "empty scope", err: s.CreatePersonalToken(ctx, tok("t", "read", "")), text: `sqlstore: CreatePersonalToken "t": scope "" is empty or holds a space`},
		{name: "scope with a space", err: s.CreatePersonalToken(ctx, tok("t", "read write")), text: `sqlstore: CreatePersonalToken "t": scope "read write" is empty or holds a space`},
		{name: "unknown hash", err: errOf(s.PersonalTokenByHash(ctx, []byte("x"))), want: auth.ErrTokenNotFound, text: "sqlstore: no personal token has that hash: auth: token not found"},
		{name: "empty hash lookup", err: errOf(s.PersonalTokenByHash(ctx, nil)), want: auth.ErrTokenNotFound, text: "sqlstore: personal token of an empty hash: auth: token not found"},
		{name: "touch unknown", err: s.TouchPersonalToken(ctx, "x", time.Now()), want: auth.ErrTokenNotFound, text: `sqlstore: personal token "x": auth: token not found`},
		{name: "touch unknown with a zero time", err: s.TouchPersonalToken(ctx, "x", time.Time{}), want: auth.ErrTokenNotFound, text: `sqlstore: personal token "x": auth: token not found`},
		{name: "delete unknown", err: s.DeletePersonalToken(ctx, "x"), want: auth.ErrTokenNotFound, text: `sqlstore: personal token "x": auth: token not found`},
		{name: "cancelled", err: s.CreatePersonalToken(cancelled(), tok("c")), want: context.Canceled}, // the text depends on where it stopped
		{name: "cancelled touch", err: s.TouchPersonalToken(cancelled(), "p", time.Now()), want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("error %v does not wrap %v", tt.err, tt.want)
			}
			if tt.text != "" && tt.err.Error() != tt.text {
				t.Errorf("error text = %q, want %q", tt.err.Error(), tt.text)
			}
		})
	}
	list, err := s.UserPersonalTokens(ctx, "u")
	if err != nil || len(list) != 1 || list[0].ID != "p" {
		t.Errorf("UserPersonalTokens(u) after the refusals = %v, %v; want only p", list, err)
	}
}

// errOf returns the error of a two-valued call.
func errOf[T any](_ T, err error) error { return err }

// TestPersonalTokensUpgrade: a database of schema version 6, with users
// and device sessions, gets personal_tokens when opened, and its users can
// have tokens, which a deletion logs.
func TestPersonalTokensUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			if err := sqlstore.MigrateTo(ctx, db, b.dialect, 6); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "SELECT 1 FROM personal_tokens"); err == nil {
				t.Fatal("the database at schema version 6 has personal_tokens already")
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_key) VALUES ('u', 'u@example.com', 'u@example.com')`); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.Open(ctx, db, b.dialect) // migrates to the latest version
			if err != nil {
				t.Fatal(err)
			}
			var version int
			if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil || version != sqlstore.LatestVersion() {
				t.Errorf("schema version after Open = %d, %v; want %d", version, err, sqlstore.LatestVersion())
			}
			u, err := s.UserByID(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			p := newPersonalToken(t, s, "p", u, "read")
			got, err := s.PersonalTokenByHash(ctx, p.Hash)
			if err != nil || got.ID != "p" || !slices.Equal(got.Scopes, []string{"read"}) {
				t.Errorf("PersonalTokenByHash = %v, %v; want the token created", got, err)
			}
			_, cursor, err := s.UserChanges(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.DeletePersonalToken(ctx, "p"); err != nil {
				t.Fatal(err)
			}
			if ids, _, err := s.UserChanges(ctx, cursor); err != nil || !slices.Contains(ids, "u") {
				t.Errorf("after the deletion the log names %q, %v; want the owner", ids, err)
			}
		})
	}
}

// TestFlaskStoreHasNoPersonalTokens: Flask-Security's schema has no table
// for personal access tokens, and FlaskStore adds none, as for device
// sessions, so it is no auth.PersonalTokenStore.
func TestFlaskStoreHasNoPersonalTokens(t *testing.T) {
	if _, ok := any((*sqlstore.FlaskStore)(nil)).(auth.PersonalTokenStore); ok {
		t.Error("FlaskStore implements auth.PersonalTokenStore; Flask-Security's schema has no table for it (see the package documentation)")
	}
}

// TestPersonalTokenAndOwner checks the one-query read of a token and its
// owner against the two reads it replaces, and its errors.
func TestPersonalTokenAndOwner(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			s := openStore(t, b.driver, b.newDSN(t), b.dialect)
			u := newTestUser(t, s, "owner@example.com", "editor", "admin")
			p := newPersonalToken(t, s, "own", u, "repo:read", "repo:write")
			tok, owner, err := s.PersonalTokenAndOwner(ctx, p.Hash)
			if err != nil {
				t.Fatal(err)
			}
			wantTok, _ := s.PersonalTokenByHash(ctx, p.Hash)
			wantUser, _ := s.UserByID(ctx, u.ID)
			if !reflect.DeepEqual(tok, wantTok) || !reflect.DeepEqual(owner, wantUser) {
				t.Errorf("PersonalTokenAndOwner = %+v, %+v; want %+v, %+v", tok, owner, wantTok, wantUser)
			}
			for _, hash := range [][]byte{nil, make([]byte, 32)} {
				if _, _, err := s.PersonalTokenAndOwner(ctx, hash); !errors.Is(err, auth.ErrTokenNotFound) {
					t.Errorf("PersonalTokenAndOwner(%x) = %v, want ErrTokenNotFound", hash, err)
				}
			}
		})
	}
}
