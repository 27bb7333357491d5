package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// TestPasskeyStore runs storetest's passkey checks on each dialect.
func TestPasskeyStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunPasskeys(t, func(t *testing.T) auth.PasskeyStore { return b.fresh(t)(t) })
		})
	}
}

// TestPasskeyStoreTwoInstances runs the passkey checks against two Stores,
// each with a pool of its own, over one database, as two processes of a
// service have them: the calls alternate between the two, so each check
// reads through one Store what it wrote through the other, and the
// concurrent uses race the two.
func TestPasskeyStoreTwoInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunPasskeys(t, func(t *testing.T) auth.PasskeyStore {
				open := b.fresh(t)
				return alternatingPasskeys{&alternating{Store: open(t), other: open(t)}}
			})
		})
	}
}

// alternatingPasskeys is two Stores over one database; its passkey calls
// go to each in turn. Its user calls go to the first.
type alternatingPasskeys struct{ *alternating }

func (a alternatingPasskeys) Passkeys(ctx context.Context, userID string) ([]auth.Passkey, error) {
	return a.next().Passkeys(ctx, userID)
}

func (a alternatingPasskeys) Passkey(ctx context.Context, id []byte) (*auth.Passkey, error) {
	return a.next().Passkey(ctx, id)
}

func (a alternatingPasskeys) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	return a.next().AddPasskey(ctx, p)
}

func (a alternatingPasskeys) UsePasskey(ctx context.Context, p *auth.Passkey, since time.Time) (bool, error) {
	return a.next().UsePasskey(ctx, p, since)
}

func (a alternatingPasskeys) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	return a.next().DeletePasskey(ctx, userID, id)
}

// testPasskey returns a passkey of the user with every field set.
func testPasskey(userID, name string, id []byte) *auth.Passkey {
	return &auth.Passkey{
		ID: id, UserID: userID, UserHandle: []byte{0, 'h'}, Name: name, Usage: "secondary",
		PublicKey: []byte{0xa5, 0x01, 0x02}, SignCount: math.MaxUint32 - 1, Transports: []string{"usb", "hybrid"},
		AAGUID: bytes.Repeat([]byte{0xee}, 16), BackupEligible: true, UserVerified: true, Discoverable: true,
		CreatedAt: time.Now(),
	}
}

// TestPasskeyColumns checks how a passkey is stored, so that an
// operator's SQL reads it plainly: the IDs and keys as the bytes given,
// the transports separated by spaces, the count as an integer, the flags
// as booleans, a zero LastUsedAt as NULL, no user handle as empty bytes;
// that the columns refuse what no passkey is (a count beyond a uint32, a
// negative one, another usage, a name the user has); that a user's
// deletion takes the passkeys along; and that nothing about passkeys is
// logged in user_changes, which only caches read.
func TestPasskeyColumns(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			dsn := b.newDSN(t)
			s, db := openStore(t, b.driver, dsn, b.dialect), openDB(t, b.driver, dsn)
			u := newTestUser(t, s, "columns@example.com")
			other := newTestUser(t, s, "other@example.com")
			logged := func() int {
				t.Helper()
				var n int
				if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM user_changes").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := logged()

			id := []byte{0, 0xff, 'i', 'd'}
			p := testPasskey(u.ID, "phone", id)
			if err := s.AddPasskey(ctx, p); err != nil {
				t.Fatal(err)
			}
			bare := &auth.Passkey{ID: []byte{1}, UserID: u.ID, Name: "bare", Usage: "first", PublicKey: []byte{2}}
			if err := s.AddPasskey(ctx, bare); err != nil {
				t.Fatal(err)
			}
			var (
				gotID, handle, key, aaguid []byte
				name, usage, transports    string
				count                      int64
				eligible, state, verified  bool
				discoverable, usedNull     bool
			)
			err := db.QueryRowContext(ctx, b.dialect.Rebind(`SELECT id, user_handle, name, usage, public_key, sign_count,
				transports, aaguid, backup_eligible, backup_state, user_verified, discoverable, last_used_at IS NULL
				FROM passkeys WHERE user_id = ? AND name = ?`), u.ID, "phone").
				Scan(&gotID, &handle, &name, &usage, &key, &count, &transports, &aaguid, &eligible, &state, &verified, &discoverable, &usedNull)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotID, id) || !bytes.Equal(handle, p.UserHandle) || name != "phone" || usage != "secondary" ||
				!bytes.Equal(key, p.PublicKey) || count != math.MaxUint32-1 || transports != "usb hybrid" || !bytes.Equal(aaguid, p.AAGUID) ||
				!eligible || state || !verified || !discoverable || !usedNull {
				t.Errorf("stored id %x, user_handle %x, name %q, usage %q, public_key %x, sign_count %d, transports %q, aaguid %x, flags %v %v %v %v, last_used_at NULL %v",
					gotID, handle, name, usage, key, count, transports, aaguid, eligible, state, verified, discoverable, usedNull)
			}
			var handleLen, aaguidLen int
			var bareTransports string
			if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT length(user_handle), length(aaguid), transports FROM passkeys WHERE id = ?"), bare.ID).
				Scan(&handleLen, &aaguidLen, &bareTransports); err != nil || handleLen != 0 || aaguidLen != 0 || bareTransports != "" {
				t.Errorf("a passkey without handle, AAGUID and transports: lengths %d, %d, transports %q, %v; want empty bytes and ''", handleLen, aaguidLen, bareTransports, err)
			}

			refused := []struct {
				what, query string
				args        []any
			}{
				{"a count beyond a uint32", "UPDATE passkeys SET sign_count = 4294967296 WHERE id = ?", []any{id}},
				{"a negative count", "UPDATE passkeys SET sign_count = -1 WHERE id = ?", []any{id}},
				{"another usage", "UPDATE passkeys SET usage = 'primary' WHERE id = ?", []any{id}},
				{"the user's other name", "UPDATE passkeys SET name = 'bare' WHERE id = ?", []any{id}},
				{"a taken ID", "UPDATE passkeys SET id = ? WHERE id = ?", []any{bare.ID, id}},
				{"an owner the store does not hold", "UPDATE passkeys SET user_id = 'nobody' WHERE id = ?", []any{id}},
			}
			for _, r := range refused {
				if _, err := db.ExecContext(ctx, b.dialect.Rebind(r.query), r.args...); err == nil {
					t.Errorf("passkeys took %s", r.what)
				}
			}
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("UPDATE passkeys SET sign_count = 4294967295 WHERE id = ?"), id); err != nil {
				t.Errorf("passkeys refused the greatest uint32: %v", err)
			}

			// Another user may use the name; the user's deletion takes the
			// user's passkeys alone.
			if err := s.AddPasskey(ctx, testPasskey(other.ID, "phone", []byte("other's"))); err != nil {
				t.Fatal(err)
			}
			use := *p
			use.SignCount, use.LastUsedAt = math.MaxUint32, time.Now()
			if ok, err := s.UsePasskey(ctx, &use, time.Now().Add(-time.Minute)); err != nil || ok {
				t.Errorf("UsePasskey with the count an operator set = %v, %v; want false (it did not grow)", ok, err)
			}
			if err := s.DeletePasskey(ctx, u.ID, bare.ID); err != nil {
				t.Fatal(err)
			}
			if n := logged(); n != before {
				t.Errorf("adding, using and deleting passkeys, and SQL writes of them, logged %d entries in user_changes; want none", n-before)
			}
			if _, err := db.ExecContext(ctx, b.dialect.Rebind("DELETE FROM users WHERE id = ?"), u.ID); err != nil {
				t.Fatal(err)
			}
			for user, want := range map[string]int{u.ID: 0, other.ID: 1} {
				var n int
				if err := db.QueryRowContext(ctx, b.dialect.Rebind("SELECT COUNT(*) FROM passkeys WHERE user_id = ?"), user).Scan(&n); err != nil || n != want {
					t.Errorf("passkeys of user %q after the first one's deletion: %d, %v; want %d", user, n, err, want)
				}
			}
			if _, err := s.Passkey(ctx, id); !errors.Is(err, auth.ErrTokenNotFound) {
				t.Errorf("the passkey of a deleted user: error = %v; want auth.ErrTokenNotFound", err)
			}
		})
	}
}

// TestPasskeyErrors checks the errors' text and wrapping beyond what the
// suite asks, and what the columns cannot keep: a passkey without an ID,
// key or name, an unknown usage, a transport the column could not give
// back.
func TestPasskeyErrors(t *testing.T) {
	s := backends[0].fresh(t)(t)
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	stored := testPasskey("u", "phone", []byte("id"))
	if err := s.AddPasskey(ctx, stored); err != nil {
		t.Fatal(err)
	}
	with := func(change func(*auth.Passkey)) *auth.Passkey {
		p := testPasskey("u", "laptop", []byte("other id"))
		change(p)
		return p
	}
	errOf2 := func(_ bool, err error) error { return err }
	tests := []struct {
		name string
		err  error
		want error
		text string
	}{
		{name: "nil passkey", err: s.AddPasskey(ctx, nil), text: "sqlstore: AddPasskey: nil passkey"},
		{name: "no ID", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.ID = nil })),
			text: `sqlstore: AddPasskey of user "u": a passkey needs a credential ID, a public key and a name`},
		{name: "no key", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.PublicKey = []byte{} })),
			text: `sqlstore: AddPasskey of user "u": a passkey needs a credential ID, a public key and a name`},
		{name: "no name", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.Name = "" })),
			text: `sqlstore: AddPasskey of user "u": a passkey needs a credential ID, a public key and a name`},
		{name: "usage", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.Usage = "primary" })),
			text: `sqlstore: AddPasskey "laptop" of user "u": usage "primary" is neither "first" nor "secondary"`},
		{name: "empty transport", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.Transports = []string{"usb", ""} })),
			text: `sqlstore: AddPasskey "laptop" of user "u": transport "" is empty or holds a space`},
		{name: "transport with a space", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.Transports = []string{"smart card"} })),
			text: `sqlstore: AddPasskey "laptop" of user "u": transport "smart card" is empty or holds a space`},
		{name: "unknown user", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.UserID = "v" })), want: auth.ErrUserNotFound,
			text: `sqlstore: adding passkey "laptop" of user "v": auth: user not found`},
		{name: "duplicate ID", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.ID = []byte("id") })), want: auth.ErrDuplicateID,
			text: `sqlstore: adding passkey "laptop" of user "u": auth: ID already in use (a passkey with this credential ID, or one of the user's with this name)`},
		{name: "duplicate name", err: s.AddPasskey(ctx, with(func(p *auth.Passkey) { p.Name = "phone" })), want: auth.ErrDuplicateID},
		{name: "no passkey", err: errOf(s.Passkey(ctx, []byte("none"))), want: auth.ErrTokenNotFound,
			text: "sqlstore: no passkey has that credential ID: auth: token not found"},
		{name: "empty ID", err: errOf(s.Passkey(ctx, nil)), want: auth.ErrTokenNotFound,
			text: "sqlstore: passkey of an empty credential ID: auth: token not found"},
		{name: "use of another user's", err: errOf2(s.UsePasskey(ctx, with(func(p *auth.Passkey) { p.ID, p.UserID = []byte("id"), "v" }), time.Now())),
			want: auth.ErrTokenNotFound, text: `sqlstore: no such passkey of user "v": auth: token not found`},
		{name: "nil use", err: errOf2(s.UsePasskey(ctx, nil, time.Now())), text: "sqlstore: UsePasskey: nil passkey"},
		{name: "delete of another user's", err: s.DeletePasskey(ctx, "v", []byte("id")), want: auth.ErrTokenNotFound,
			text: `sqlstore: no such passkey of user "v": auth: token not found`},
		{name: "cancelled add", err: s.AddPasskey(cancelled(), with(func(*auth.Passkey) {})), want: context.Canceled},
		{name: "cancelled list", err: errOf(s.Passkeys(cancelled(), "u")), want: context.Canceled},
		{name: "cancelled read", err: errOf(s.Passkey(cancelled(), []byte("id"))), want: context.Canceled},
		{name: "cancelled use", err: errOf2(s.UsePasskey(cancelled(), stored, time.Now())), want: context.Canceled},
		{name: "cancelled delete", err: s.DeletePasskey(cancelled(), "u", []byte("id")), want: context.Canceled},
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
	list, err := s.Passkeys(ctx, "u")
	if err != nil || len(list) != 1 || list[0].Name != "phone" || list[0].LastUsedAt != (time.Time{}) {
		t.Errorf("Passkeys(u) after the refusals = %+v, %v; want the passkey as added", list, err)
	}
}

// TestPasskeysUpgrade: a database of schema version 8, with a user, gets
// passkeys when opened, and its users can have passkeys.
func TestPasskeysUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			if err := sqlstore.MigrateTo(ctx, db, b.dialect, 8); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "SELECT 1 FROM passkeys"); err == nil {
				t.Fatal("the database at schema version 8 has passkeys already")
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_key) VALUES ('u', 'u@example.com', 'u@example.com')`); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.Open(ctx, db, b.dialect) // migrates to the latest version
			if err != nil {
				t.Fatal(err)
			}
			var version int
			if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil || version != 9 || sqlstore.LatestVersion() != 9 {
				t.Errorf("schema version after Open = %d, %v, latest %d; want 9", version, err, sqlstore.LatestVersion())
			}
			p := testPasskey("u", "phone", []byte("id"))
			if err := s.AddPasskey(ctx, p); err != nil {
				t.Fatal(err)
			}
			use := *p
			use.SignCount, use.LastUsedAt = math.MaxUint32, time.Now()
			if ok, err := s.UsePasskey(ctx, &use, time.Now().Add(-time.Second)); err != nil || !ok {
				t.Errorf("UsePasskey = %v, %v; want true", ok, err)
			}
			if list, err := s.Passkeys(ctx, "u"); err != nil || len(list) != 1 || list[0].SignCount != math.MaxUint32 {
				t.Errorf("Passkeys(u) = %+v, %v; want the passkey, used", list, err)
			}
		})
	}
}

// TestFlaskStoreHasNoPasskeys: the FlaskStore keeps no passkeys in tables
// of its own, as it keeps no second factors, so it is no
// auth.PasskeyStore.
func TestFlaskStoreHasNoPasskeys(t *testing.T) {
	if _, ok := any((*sqlstore.FlaskStore)(nil)).(auth.PasskeyStore); ok {
		t.Error("FlaskStore implements auth.PasskeyStore; it adds no tables to Flask-Security's schema (see the package documentation)")
	}
}
