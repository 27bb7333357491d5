package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
	"github.com/authkit/auth/storetest"
)

// flaskPasskeys runs storetest.RunPasskeys over a FlaskStore, translating
// what the suite assumes and Flask-Security's schema cannot hold, each
// part of which the other tests here check on the FlaskStore itself:
//
//   - User IDs: the suite's owners "alice", "bob" and "carol" are created
//     through CreateUser, which gives them integer IDs; the adapter maps
//     the names to the IDs and back. Other names pass through as they
//     are, naming no Flask user.
//   - User handles: the suite's are binary, Flask-Security's are text
//     (fs_webauthn_user_handle, String(64)), one a user. The owners'
//     handles are cleared after creation (NULL, as for a user made before
//     the app had WebAuthn), so that their first passkey sets them; the
//     adapter sends the suite's handles as base64url text and decodes
//     what comes back.
//   - AAGUID and UserVerified, which the table has no columns for: the
//     adapter fails the test unless the store reads them empty and false,
//     and keeps the suite's values beside the store, by credential ID, so
//     that the suite compares the rest of each passkey as it does.
type flaskPasskeys struct {
	t     *testing.T
	s     *sqlstore.FlaskPasskeyStore
	db    *sql.DB
	clear string // the statement that clears a user's handle
	mu    sync.Mutex
	ids   map[string]string    // the suite's user → the Flask ID
	names map[string]string    // the Flask ID → the suite's user
	extra map[string]flaskLost // by credential ID
}

// flaskLost are the fields of a passkey the WebAuthn table does not keep.
type flaskLost struct {
	aaguid   []byte
	verified bool
}

var (
	_ auth.PasskeyStore = (*flaskPasskeys)(nil)
	_ auth.UserAdmin    = (*flaskPasskeys)(nil)
)

// openFlaskPasskeys opens a FlaskStore on dsn, closed at cleanup, and
// returns it WithPasskeys.
func openFlaskPasskeys(tb testing.TB, b backend, dsn string, schema sqlstore.FlaskSchema) *sqlstore.FlaskPasskeyStore {
	tb.Helper()
	s, err := openFlask(tb, b, dsn, schema).WithPasskeys()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// newFlaskPasskeys returns the adapter over a FlaskStore on dsn.
func newFlaskPasskeys(t *testing.T, b backend, dsn string) *flaskPasskeys {
	clear := `UPDATE "user" SET fs_webauthn_user_handle = NULL WHERE id = ?`
	if b.dialect == sqlstore.Postgres {
		clear = strings.Replace(clear, "?", "$1", 1)
	}
	return &flaskPasskeys{
		t: t, s: openFlaskPasskeys(t, b, dsn, sqlstore.FlaskSchema{}), db: openDB(t, b.driver, dsn), clear: clear,
		ids: map[string]string{}, names: map[string]string{}, extra: map[string]flaskLost{},
	}
}

// CreateUser creates the suite's user under a Flask ID, without a handle.
func (a *flaskPasskeys) CreateUser(ctx context.Context, u *auth.User) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.ids[u.ID]; ok {
		return auth.ErrDuplicateID
	}
	c := u.Clone()
	c.ID = ""
	if err := a.s.CreateUser(ctx, c); err != nil {
		return err
	}
	if _, err := a.db.ExecContext(ctx, a.clear, c.ID); err != nil {
		return err
	}
	a.ids[u.ID], a.names[c.ID] = c.ID, u.ID
	return nil
}

// ListUsers lists the Flask users.
func (a *flaskPasskeys) ListUsers(ctx context.Context) ([]*auth.User, error) {
	return a.s.ListUsers(ctx)
}

func (a *flaskPasskeys) flaskID(user string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id, ok := a.ids[user]; ok {
		return id
	}
	return user
}

// toFlask returns the passkey as the FlaskStore is given it.
func (a *flaskPasskeys) toFlask(p *auth.Passkey) *auth.Passkey {
	if p == nil {
		return nil
	}
	c := *p
	c.UserID = a.flaskID(p.UserID)
	c.UserHandle = nil
	if len(p.UserHandle) > 0 {
		c.UserHandle = []byte(base64.RawURLEncoding.EncodeToString(p.UserHandle))
	}
	return &c
}

// fromFlask returns the passkey the FlaskStore read as the suite wants it.
func (a *flaskPasskeys) fromFlask(p *auth.Passkey) {
	a.t.Helper()
	if len(p.AAGUID) != 0 || p.UserVerified {
		a.t.Errorf("the FlaskStore read passkey %q with AAGUID %x and UserVerified %v: the table keeps neither", p.Name, p.AAGUID, p.UserVerified)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if name, ok := a.names[p.UserID]; ok {
		p.UserID = name
	}
	if len(p.UserHandle) > 0 {
		h, err := base64.RawURLEncoding.DecodeString(string(p.UserHandle))
		if err != nil {
			a.t.Errorf("passkey %q: user handle %q is not one the adapter wrote: %v", p.Name, p.UserHandle, err)
		}
		p.UserHandle = h
	}
	lost := a.extra[string(p.ID)]
	p.AAGUID, p.UserVerified = bytes.Clone(lost.aaguid), lost.verified
}

// Passkeys implements auth.PasskeyStore.
func (a *flaskPasskeys) Passkeys(ctx context.Context, userID string) ([]auth.Passkey, error) {
	list, err := a.s.Passkeys(ctx, a.flaskID(userID))
	for i := range list {
		a.fromFlask(&list[i])
	}
	return list, err
}

// Passkey implements auth.PasskeyStore.
func (a *flaskPasskeys) Passkey(ctx context.Context, id []byte) (*auth.Passkey, error) {
	p, err := a.s.Passkey(ctx, id)
	if p != nil {
		a.fromFlask(p)
	}
	return p, err
}

// AddPasskey implements auth.PasskeyStore.
func (a *flaskPasskeys) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	err := a.s.AddPasskey(ctx, a.toFlask(p))
	if err == nil {
		a.mu.Lock()
		a.extra[string(p.ID)] = flaskLost{bytes.Clone(p.AAGUID), p.UserVerified}
		a.mu.Unlock()
	}
	return err
}

// UsePasskey implements auth.PasskeyStore.
func (a *flaskPasskeys) UsePasskey(ctx context.Context, p *auth.Passkey, since time.Time) (bool, error) {
	return a.s.UsePasskey(ctx, a.toFlask(p), since)
}

// DeletePasskey implements auth.PasskeyStore.
func (a *flaskPasskeys) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	err := a.s.DeletePasskey(ctx, a.flaskID(userID), id)
	if err == nil {
		a.mu.Lock()
		delete(a.extra, string(id))
		a.mu.Unlock()
	}
	return err
}

// PasskeyUserHandle implements auth.PasskeyStore.
func (a *flaskPasskeys) PasskeyUserHandle(ctx context.Context, userID string) ([]byte, error) {
	h, err := a.s.PasskeyUserHandle(ctx, a.flaskID(userID))
	if len(h) == 0 {
		return h, err
	}
	d, derr := base64.RawURLEncoding.DecodeString(string(h))
	return d, errors.Join(err, derr)
}

// bigSignCount returns, for PostgreSQL, an edit of the Flask app's DDL
// that declares sign_count BIGINT (an app's model may override the
// column so), since the suite uses counts past 2^31 and Flask-Security's
// Integer is PostgreSQL's int4 (TestFlaskPasskeySignCountRange checks
// that); nil for SQLite, whose integers have 64 bits.
func bigSignCount(b backend) func(string) string {
	if b.dialect != sqlstore.Postgres {
		return nil
	}
	return func(s string) string { return strings.Replace(s, "\tsign_count INTEGER,", "\tsign_count BIGINT,", 1) }
}

// TestFlaskPasskeysConformance runs storetest.RunPasskeys on the tables
// the Flask app with a WebAuthn model creates, through flaskPasskeys.
func TestFlaskPasskeysConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunPasskeys(t, func(t *testing.T) auth.PasskeyStore {
				return newFlaskPasskeys(t, b, newFlaskDB(t, b, flaskWebAuthnVariant, bigSignCount(b)))
			})
		})
	}
}

// newFlaskPasskeyUser creates a user in s and returns its ID.
func newFlaskPasskeyUser(t *testing.T, s auth.UserAdmin, email string) string {
	t.Helper()
	u := &auth.User{Email: email, Active: true}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// rawColumn reads one value, placeholders written as ? for both dialects.
func rawColumn(t *testing.T, b backend, db *sql.DB, query string, args ...any) sql.NullString {
	t.Helper()
	if b.dialect == sqlstore.Postgres {
		for i := range args {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i+1), 1)
		}
	}
	var v sql.NullString
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// TestFlaskPasskeyRows checks what AddPasskey and UsePasskey write, as
// Flask-Security writes it, and the rules of the user handle and of a
// passkey never used.
func TestFlaskPasskeyRows(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			dsn := newFlaskDB(t, b, flaskWebAuthnVariant, nil)
			s, db := openFlaskPasskeys(t, b, dsn, sqlstore.FlaskSchema{}), openDB(t, b.driver, dsn)
			ctx := t.Context()
			alice := newFlaskPasskeyUser(t, s, "alice@example.com")
			bob := newFlaskPasskeyUser(t, s, "bob@example.com")
			handleOf := func(id string) sql.NullString {
				return rawColumn(t, b, db, `SELECT fs_webauthn_user_handle FROM "user" WHERE id = ?`, id)
			}
			aliceHandle := handleOf(alice)
			if got, err := s.PasskeyUserHandle(ctx, alice); err != nil || string(got) != aliceHandle.String || len(got) != 32 {
				t.Fatalf("PasskeyUserHandle(alice) = %q, %v; want the 32 hex digits CreateUser wrote, %q", got, err, aliceHandle.String)
			}
			if _, err := db.ExecContext(ctx, `UPDATE "user" SET fs_webauthn_user_handle = NULL WHERE id = `+bob); err != nil {
				t.Fatal(err)
			}
			if got, err := s.PasskeyUserHandle(ctx, bob); err != nil || got != nil {
				t.Errorf("PasskeyUserHandle of a NULL handle = %q, %v; want nil", got, err)
			}
			for _, id := range []string{"999", "x", ""} {
				if got, err := s.PasskeyUserHandle(ctx, id); err != nil || got != nil {
					t.Errorf("PasskeyUserHandle(%q), no such user = %q, %v; want nil, nil", id, got, err)
				}
			}

			created := time.Date(2025, 5, 1, 10, 0, 0, 123456789, time.UTC)
			key := &auth.Passkey{
				ID: []byte{0, 0xff, 1}, UserID: alice, UserHandle: []byte(aliceHandle.String), Name: "YubiKey", Usage: "secondary",
				PublicKey: []byte{0xa5, 1, 2}, SignCount: 7, Transports: []string{"usb", "nfc"}, AAGUID: make([]byte, 16),
				BackupEligible: false, BackupState: false, UserVerified: true, Discoverable: false, CreatedAt: created,
			}
			if err := s.AddPasskey(ctx, key); err != nil {
				t.Fatal(err)
			}
			credential := func(id []byte, col string) sql.NullString {
				return rawColumn(t, b, db, "SELECT CAST("+col+" AS TEXT) FROM web_authn WHERE credential_id = ?", id)
			}
			row := func(id []byte) map[string]string {
				out := map[string]string{}
				for _, col := range []string{"sign_count", "transports", "device_type", "extensions", "name", "usage", "user_id",
					"CASE WHEN lastuse_datetime = create_datetime THEN 'never' ELSE 'used' END", "CASE WHEN backup_state THEN 'backed up' ELSE 'not backed up' END"} {
					out[col] = credential(id, col).String
				}
				return out
			}
			want := map[string]string{
				"sign_count": "7", "transports": "usb,nfc", "device_type": "single_device", "extensions": `{"credProps":{"rk":false}}`,
				"name": "YubiKey", "usage": "secondary", "user_id": alice,
				"CASE WHEN lastuse_datetime = create_datetime THEN 'never' ELSE 'used' END": "never",
				"CASE WHEN backup_state THEN 'backed up' ELSE 'not backed up' END":          "not backed up",
			}
			if got := row(key.ID); !mapsEqual(got, want) {
				t.Errorf("the row AddPasskey wrote: %v\nwant %v", got, want)
			}
			p, err := s.Passkey(ctx, key.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !p.LastUsedAt.IsZero() || !p.CreatedAt.Equal(created.Truncate(time.Microsecond)) || p.AAGUID != nil || p.UserVerified {
				t.Errorf("read back: created %v, last used %v, AAGUID %x, user verified %v; want %v, zero, none, false",
					p.CreatedAt, p.LastUsedAt, p.AAGUID, p.UserVerified, created)
			}

			// A handle other than the user's is refused; none takes the user's.
			other := &auth.Passkey{ID: []byte("other"), UserID: alice, UserHandle: []byte("another handle"), Name: "Other",
				Usage: "first", PublicKey: []byte{1}}
			if err := s.AddPasskey(ctx, other); err == nil || errors.Is(err, auth.ErrDuplicateID) || !strings.Contains(err.Error(), "fs_webauthn_user_handle") {
				t.Errorf("AddPasskey with another handle than the user's: error = %v; want one naming fs_webauthn_user_handle", err)
			}
			other.UserHandle = nil
			if err := s.AddPasskey(ctx, other); err != nil {
				t.Fatal(err)
			}
			if p, err := s.Passkey(ctx, other.ID); err != nil || string(p.UserHandle) != aliceHandle.String {
				t.Errorf("a passkey added without a handle reads with %q, %v; want the user's %q", p.UserHandle, err, aliceHandle.String)
			}

			// Bob's NULL handle is set by his first passkey, in its
			// transaction: a refused passkey leaves it NULL.
			bobHandle := []byte(strings.Repeat("0123456789abcdef", 4))
			dup := &auth.Passkey{ID: key.ID, UserID: bob, UserHandle: bobHandle, Name: "Phone", Usage: "first", PublicKey: []byte{2}}
			if err := s.AddPasskey(ctx, dup); !errors.Is(err, auth.ErrDuplicateID) {
				t.Errorf("AddPasskey of a credential ID in use: error = %v; want ErrDuplicateID", err)
			}
			if h := handleOf(bob); h.Valid {
				t.Errorf("a refused passkey left bob's handle %q; want NULL", h.String)
			}
			for _, bad := range [][]byte{{0xff, 0xfe}, []byte("nul\x00"), bytes.Repeat([]byte("h"), 65)} {
				p := &auth.Passkey{ID: []byte("bad handle"), UserID: bob, UserHandle: bad, Name: "Bad", Usage: "first", PublicKey: []byte{2}}
				if err := s.AddPasskey(ctx, p); err == nil || !strings.Contains(err.Error(), "user handle") {
					t.Errorf("AddPasskey with handle %q: error = %v; want one about the user handle", bad, err)
				}
			}
			for _, p := range []*auth.Passkey{
				{ID: []byte("u"), UserID: bob, Name: "Usage", Usage: "both", PublicKey: []byte{2}},
				{ID: []byte("t"), UserID: bob, Name: "Comma", Usage: "first", PublicKey: []byte{2}, Transports: []string{"usb,nfc"}},
				{ID: []byte("e"), UserID: bob, Name: "Empty", Usage: "first", PublicKey: []byte{2}, Transports: []string{""}},
			} {
				if err := s.AddPasskey(ctx, p); err == nil || errors.Is(err, auth.ErrDuplicateID) {
					t.Errorf("AddPasskey %q: error = %v; want a refusal", p.Name, err)
				}
			}
			phone := &auth.Passkey{ID: []byte("phone"), UserID: bob, UserHandle: bobHandle, Name: "Phone", Usage: "first",
				PublicKey: []byte{2}, BackupEligible: true, BackupState: true, Discoverable: true, Transports: []string{"internal"},
				CreatedAt: created, LastUsedAt: created} // used as it was made: kept a microsecond later
			if err := s.AddPasskey(ctx, phone); err != nil {
				t.Fatal(err)
			}
			if h := handleOf(bob); h.String != string(bobHandle) {
				t.Errorf("bob's handle after his first passkey = %q; want %q", h.String, bobHandle)
			}
			if got, err := s.PasskeyUserHandle(ctx, bob); err != nil || !bytes.Equal(got, bobHandle) {
				t.Errorf("PasskeyUserHandle(bob) = %q, %v", got, err)
			}
			if got := row(phone.ID); got["device_type"] != "multi_device" || got["extensions"] != `{"credProps":{"rk":true}}` ||
				got["CASE WHEN lastuse_datetime = create_datetime THEN 'never' ELSE 'used' END"] != "used" {
				t.Errorf("the row of a backed-up discoverable passkey used at its creation: %v", got)
			}
			if p, err := s.Passkey(ctx, phone.ID); err != nil || !p.LastUsedAt.Equal(created.Truncate(time.Microsecond).Add(time.Microsecond)) {
				t.Errorf("a passkey used at its creation reads as last used at %v, %v; want a microsecond after it", p.LastUsedAt, err)
			}

			// A use without a time leaves the passkey never used; a use at
			// its creation time is kept a microsecond later.
			use := *key
			use.SignCount, use.LastUsedAt = 8, time.Time{}
			if ok, err := s.UsePasskey(ctx, &use, created.Add(time.Hour)); !ok || err != nil {
				t.Fatalf("UsePasskey without a time = %v, %v", ok, err)
			}
			if p, _ := s.Passkey(ctx, key.ID); p.SignCount != 8 || !p.LastUsedAt.IsZero() {
				t.Errorf("after a use without a time: count %d, last used %v; want 8, never", p.SignCount, p.LastUsedAt)
			}
			use.SignCount, use.LastUsedAt = 9, created
			if ok, err := s.UsePasskey(ctx, &use, time.Time{}); !ok || err != nil {
				t.Fatalf("UsePasskey at the creation time = %v, %v", ok, err)
			}
			if p, _ := s.Passkey(ctx, key.ID); !p.LastUsedAt.Equal(created.Truncate(time.Microsecond).Add(time.Microsecond)) {
				t.Errorf("a use at the creation time reads as %v; want a microsecond after it", p.LastUsedAt)
			}
			use.SignCount, use.LastUsedAt = 10, created.Add(time.Minute)
			if ok, err := s.UsePasskey(ctx, &use, time.Time{}); ok || err != nil {
				t.Errorf("UsePasskey since the zero time of a used passkey = %v, %v; want false", ok, err)
			}
			// Another user's use of it, which would otherwise be accepted,
			// finds nothing and changes nothing.
			stolen := use
			stolen.UserID, stolen.SignCount, stolen.LastUsedAt = bob, 100, created.Add(2*time.Hour)
			if ok, err := s.UsePasskey(ctx, &stolen, created.Add(time.Hour)); ok || !errors.Is(err, auth.ErrTokenNotFound) {
				t.Errorf("bob's use of alice's passkey = %v, %v; want ErrTokenNotFound", ok, err)
			}
			if p, _ := s.Passkey(ctx, key.ID); p.SignCount != 9 {
				t.Errorf("after bob's use of alice's passkey its count is %d; want 9", p.SignCount)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestFlaskPasskeySignCountRange checks PostgreSQL's sign_count column as
// Flask-Security declares it (Integer: int4): a count up to 2^31-1 is
// stored, a greater one refused by AddPasskey and UsePasskey with an
// error that says so, changing nothing; a use of a passkey the user does
// not hold stays auth.ErrTokenNotFound whatever the count.
func TestFlaskPasskeySignCountRange(t *testing.T) {
	b := backends[1]
	b.require(t)
	s := openFlaskPasskeys(t, b, newFlaskDB(t, b, flaskWebAuthnVariant, nil), sqlstore.FlaskSchema{})
	ctx := t.Context()
	alice := newFlaskPasskeyUser(t, s, "alice@example.com")
	p := &auth.Passkey{ID: []byte("key"), UserID: alice, Name: "Key", Usage: "first", PublicKey: []byte{1},
		SignCount: math.MaxInt32 + 1, CreatedAt: time.Now()}
	if err := s.AddPasskey(ctx, p); err == nil || !strings.Contains(err.Error(), "does not fit the sign_count column (at most 2147483647)") {
		t.Errorf("AddPasskey with count 2^31: error = %v; want one saying the column holds at most 2147483647", err)
	}
	p.SignCount = math.MaxInt32 - 1
	if err := s.AddPasskey(ctx, p); err != nil {
		t.Fatal(err)
	}
	use := *p
	use.SignCount, use.LastUsedAt = math.MaxInt32, time.Now()
	if ok, err := s.UsePasskey(ctx, &use, time.Time{}); !ok || err != nil {
		t.Errorf("UsePasskey to 2^31-1 = %v, %v; want true", ok, err)
	}
	use.SignCount, use.LastUsedAt = math.MaxUint32, time.Now().Add(time.Second)
	if ok, err := s.UsePasskey(ctx, &use, time.Now()); ok || err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("UsePasskey to 2^32-1 = %v, %v; want false and an error saying it does not fit", ok, err)
	}
	if got, err := s.Passkey(ctx, p.ID); err != nil || got.SignCount != math.MaxInt32 {
		t.Errorf("after the refused use: count %d, %v; want 2147483647", got.SignCount, err)
	}
	use.UserID = "999"
	if ok, err := s.UsePasskey(ctx, &use, time.Now()); ok || !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("UsePasskey with count 2^32-1 of another user's passkey = %v, %v; want ErrTokenNotFound", ok, err)
	}
}

// TestFlaskWithoutWebAuthn checks a database without the WebAuthn
// table: WithPasskeys says so, and a Manager given passkeys over the
// FlaskStore fails at New. A WebAuthn table named in FlaskSchema must
// exist; one that lacks a column, or beside a user table without
// fs_webauthn_user_handle, makes OpenFlaskSecurity fail.
func TestFlaskWithoutWebAuthn(t *testing.T) {
	sqlite := backends[0]
	s := openFlask(t, sqlite, newFlaskDB(t, sqlite, flaskVariants[0], nil), sqlstore.FlaskSchema{})
	if ps, err := s.WithPasskeys(); ps != nil || err == nil || !strings.Contains(err.Error(), "no Flask-Security WebAuthn table (FlaskSchema.WebAuthnTable)") {
		t.Errorf("WithPasskeys without the table = %v, %v; want an error saying there is none", ps, err)
	}
	if _, err := auth.New(s, []byte("flask passkeys test key, 32 byte"), auth.Config{Passkeys: &fakePasskeys{}}); err == nil ||
		!strings.Contains(err.Error(), "PasskeyStore") {
		t.Errorf("auth.New with Config.Passkeys over a FlaskStore: error = %v; want one saying it needs a PasskeyStore", err)
	}
	if ps, err := openFlask(t, sqlite, newFlaskDB(t, sqlite, flaskWebAuthnVariant, nil), sqlstore.FlaskSchema{}).WithPasskeys(); ps == nil || err != nil {
		t.Errorf("WithPasskeys with the table = %v, %v", ps, err)
	}

	tests := []struct {
		name   string
		v      flaskVariant
		edit   func(string) string
		schema sqlstore.FlaskSchema
		want   string
	}{
		{"named table missing", flaskVariants[0], nil, sqlstore.FlaskSchema{WebAuthnTable: "web_authn"},
			`sqlstore: the sqlite database has no table "web_authn" (FlaskSchema.WebAuthnTable)`},
		{"column missing", flaskWebAuthnVariant, func(s string) string { return strings.Replace(s, "\tdevice_type VARCHAR(64) NOT NULL, \n", "", 1) },
			sqlstore.FlaskSchema{}, `sqlstore: Flask-Security table "web_authn" lacks column "device_type" (FlaskSchema.WebAuthnDeviceType)`},
		{"renamed column not configured", flaskWebAuthnVariant, nil, sqlstore.FlaskSchema{WebAuthnUsage: "purpose"},
			`lacks column "purpose" (FlaskSchema.WebAuthnUsage)`},
		{"no handle column", flaskWebAuthnVariant, func(s string) string {
			s = strings.Replace(s, "\tfs_webauthn_user_handle VARCHAR(64), \n", "", 1)
			return strings.Replace(s, "\tUNIQUE (fs_webauthn_user_handle), \n", "", 1)
		}, sqlstore.FlaskSchema{}, `lacks column "fs_webauthn_user_handle" (FlaskSchema.FsWebauthnUserHandle), which the WebAuthn table "web_authn" needs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "sqlite", newFlaskDB(t, sqlite, tt.v, tt.edit))
			s, err := sqlstore.OpenFlaskSecurity(t.Context(), db, sqlstore.SQLite, tt.schema)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenFlaskSecurity = %v, %v; want an error containing %q", s, err, tt.want)
			}
		})
	}
}

// TestFlaskWebAuthnRenamed checks a WebAuthn table and columns named as
// the application's model names them.
func TestFlaskWebAuthnRenamed(t *testing.T) {
	sqlite := backends[0]
	r := strings.NewReplacer("TABLE web_authn (", "TABLE credentials (", "ON web_authn (", "ON credentials (",
		"\tusage VARCHAR", "\tpurpose VARCHAR", "fs_webauthn_user_handle", "wan_handle")
	dsn := newFlaskDB(t, sqlite, flaskWebAuthnVariant, r.Replace)
	s := openFlaskPasskeys(t, sqlite, dsn, sqlstore.FlaskSchema{WebAuthnTable: "credentials", WebAuthnUsage: "purpose", FsWebauthnUserHandle: "wan_handle"})
	ctx := t.Context()
	id := newFlaskPasskeyUser(t, s, "alice@example.com")
	h, err := s.PasskeyUserHandle(ctx, id)
	if err != nil || len(h) != 32 {
		t.Fatalf("PasskeyUserHandle = %q, %v", h, err)
	}
	p := &auth.Passkey{ID: []byte("key"), UserID: id, UserHandle: h, Name: "Key", Usage: "first", PublicKey: []byte{1}}
	if err := s.AddPasskey(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Passkey(ctx, p.ID); err != nil || got.Usage != "first" || !bytes.Equal(got.UserHandle, h) {
		t.Errorf("Passkey = %+v, %v", got, err)
	}
	if got := rawColumn(t, sqlite, openDB(t, "sqlite", dsn), "SELECT purpose FROM credentials WHERE credential_id = ?", p.ID); got.String != "first" {
		t.Errorf("purpose = %q", got.String)
	}
}

// flaskAppDB returns the DSN of a new database for the Flask app and the
// script's arguments that name it.
func flaskAppDB(t *testing.T, b backend) (dsn string, where []string) {
	t.Helper()
	if b.dialect == sqlstore.SQLite {
		path := filepath.Join(t.TempDir(), "app.db")
		return sqlstore.SQLiteDSN(path), []string{"--db", path}
	}
	dsn = freshPostgres(t)
	return dsn, []string{"--db", postgresDSN(t), "--pg-schema", searchPathOf(t, dsn)}
}

// runFlaskScriptInput is runFlaskScript with input on stdin.
func runFlaskScriptInput(tb testing.TB, py string, input []byte, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(py, append([]string{flaskScript}, args...)...)
	cmd.Env = append(os.Environ(), "SECURITY_PASSWORD_SALT=flask app password salt")
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", py, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// pyCredential is a WebAuthn row as the script reads and prints it.
type pyCredential struct {
	UserID       int64    `json:"user_id"`
	CredentialID string   `json:"credential_id"`
	PublicKey    string   `json:"public_key"`
	Name         string   `json:"name"`
	SignCount    int64    `json:"sign_count"`
	Usage        string   `json:"usage"`
	DeviceType   string   `json:"device_type"`
	BackupState  bool     `json:"backup_state"`
	Transports   []string `json:"transports"`
	Extensions   *string  `json:"extensions"`
	Created      string   `json:"create_datetime,omitempty"`
	LastUse      string   `json:"lastuse_datetime,omitempty"`
}

// pyWebAuthnUser is a user as webauthn-dump prints it.
type pyWebAuthnUser struct {
	ID         int64   `json:"id"`
	Handle     *string `json:"fs_webauthn_user_handle"`
	UserHandle *string `json:"user_handle"`
	Registered []struct {
		Name         string   `json:"name"`
		CredentialID string   `json:"credential_id"`
		Transports   []string `json:"transports"`
		LastUse      string   `json:"lastuse"`
		Usage        string   `json:"usage"`
		BackupState  bool     `json:"backup_state"`
		DeviceType   string   `json:"device_type"`
		Discoverable any      `json:"discoverable"`
	} `json:"registered_credentials"`
	Credentials []pyCredential `json:"credentials"`
	Found       []struct {
		CredentialID *string `json:"credential_id"`
		Name         *string `json:"name"`
		UserID       *int64  `json:"user_id"`
	} `json:"found"`
}

// webauthnDump parses the script's webauthn output.
func webauthnDump(t *testing.T, out []byte) map[int64]pyWebAuthnUser {
	t.Helper()
	var d struct{ Users []pyWebAuthnUser }
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	users := map[int64]pyWebAuthnUser{}
	for _, u := range d.Users {
		users[u.ID] = u
	}
	return users
}

// pyTime parses a naive UTC datetime's isoformat().
func pyTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02T15:04:05.999999", s)
	if err != nil {
		t.Fatalf("a Python datetime %q: %v", s, err)
	}
	return at
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFlaskPasskeysFromPython has the real Flask-Security register
// credentials through its datastore, as its /wan-register views do, and
// reads them back from Go field by field; then Go records a sign-in and
// Flask-Security reads it.
func TestFlaskPasskeysFromPython(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			b.require(t)
			py := pythonFlask(t, b.dialect == sqlstore.Postgres)
			dsn, where := flaskAppDB(t, b)
			env := []string{"SECURITY_PASSWORD_SALT=flask app password salt"}
			runFlaskScript(t, py, env, append(append([]string{"create"}, where...), "--webauthn")...)
			db := openDB(t, b.driver, dsn)
			// Bob predates the app's WebAuthn: his handle is set by his
			// first registration (set_webauthn_user_handle).
			if _, err := db.Exec(`UPDATE "user" SET fs_webauthn_user_handle = NULL WHERE id = 2`); err != nil {
				t.Fatal(err)
			}
			rk := func(v bool) *string { s := fmt.Sprintf(`{"credProps": {"rk": %v}}`, v); return &s }
			long := bytes.Repeat([]byte{0x80, 0x00, 0xc3}, 100)
			creds := []pyCredential{
				{UserID: 1, CredentialID: b64([]byte{0, 0xff, 0x10, 0x20}), PublicKey: b64([]byte{0xa5, 1, 2, 3, 0x26, 0, 0xfe}),
					Name: "YubiKey", SignCount: 7, Usage: "secondary", DeviceType: "single_device", Transports: []string{"usb", "nfc"}, Extensions: rk(false)},
				{UserID: 1, CredentialID: b64(long), PublicKey: b64([]byte("phone key")),
					Name: "Phone", SignCount: 0, Usage: "first", DeviceType: "multi_device", BackupState: true,
					Transports: []string{"internal", "hybrid"}, Extensions: rk(true)},
				{UserID: 2, CredentialID: b64([]byte("bob's laptop")), PublicKey: b64([]byte("laptop key")),
					Name: "Laptop", SignCount: math.MaxInt32, Usage: "first", DeviceType: "single_device", Transports: []string{}},
			}
			input, err := json.Marshal(map[string]any{"credentials": creds})
			if err != nil {
				t.Fatal(err)
			}
			users := webauthnDump(t, runFlaskScriptInput(t, py, input, append([]string{"webauthn-add"}, where...)...))
			if h := users[2].Handle; h == nil || len(*h) != 32 {
				t.Fatalf("bob's handle after his registration in Flask = %v; want uuid4().hex", h)
			}

			s := openFlaskPasskeys(t, b, dsn, sqlstore.FlaskSchema{})
			ctx := t.Context()
			for id, u := range users {
				for _, c := range u.Credentials {
					want := &auth.Passkey{
						ID: unb64(t, c.CredentialID), UserID: strconv.FormatInt(id, 10), UserHandle: []byte(*u.Handle),
						Name: c.Name, Usage: c.Usage, PublicKey: unb64(t, c.PublicKey), SignCount: uint32(c.SignCount),
						Transports: c.Transports, BackupEligible: c.DeviceType == "multi_device", BackupState: c.BackupState,
						Discoverable: c.Extensions != nil && strings.Contains(*c.Extensions, "true"),
						CreatedAt:    pyTime(t, c.Created), LastUsedAt: pyTime(t, c.LastUse),
					}
					if len(want.Transports) == 0 {
						want.Transports = nil
					}
					got, err := s.Passkey(ctx, want.ID)
					if err != nil {
						t.Fatalf("Passkey(%q): %v", c.Name, err)
					}
					if d := passkeyDiff(got, want); d != "" {
						t.Errorf("Flask's %q reads as: %s", c.Name, d)
					}
					list, err := s.Passkeys(ctx, want.UserID)
					if err != nil || !slices.ContainsFunc(list, func(p auth.Passkey) bool { return passkeyDiff(&p, want) == "" }) {
						t.Errorf("Passkeys(%s) = %+v, %v; want %q among them", want.UserID, list, err, c.Name)
					}
				}
				if h, err := s.PasskeyUserHandle(ctx, strconv.FormatInt(id, 10)); err != nil || string(h) != *u.Handle {
					t.Errorf("PasskeyUserHandle(%d) = %q, %v; want %q", id, h, err, *u.Handle)
				}
			}
			if list, _ := s.Passkeys(ctx, "1"); len(list) != 2 || !slices.IsSortedFunc(list, func(a, b auth.Passkey) int {
				return a.CreatedAt.Compare(b.CreatedAt)
			}) {
				t.Errorf("alice's passkeys: %+v; want two, oldest first", list)
			}

			// Flask wrote the registration time as the last use: a sign-in
			// begun before it is refused, one begun after it accepted.
			key, err := s.Passkey(ctx, unb64(t, creds[0].CredentialID))
			if err != nil {
				t.Fatal(err)
			}
			use := *key
			use.SignCount, use.BackupState, use.LastUsedAt = 8, false, time.Now().UTC().Truncate(time.Microsecond)
			if ok, err := s.UsePasskey(ctx, &use, key.LastUsedAt.Add(-time.Second)); ok || err != nil {
				t.Errorf("UsePasskey begun before Flask's registration = %v, %v; want false", ok, err)
			}
			if ok, err := s.UsePasskey(ctx, &use, key.LastUsedAt.Add(time.Microsecond)); !ok || err != nil {
				t.Fatalf("UsePasskey begun after Flask's registration = %v, %v; want true", ok, err)
			}
			after := webauthnDump(t, runFlaskScript(t, py, env, append([]string{"webauthn-dump"}, where...)...))
			for _, c := range after[1].Credentials {
				if c.Name == "YubiKey" && (c.SignCount != 8 || !pyTime(t, c.LastUse).Equal(use.LastUsedAt)) {
					t.Errorf("Flask reads the Go side's sign-in as count %d at %s; want 8 at %s", c.SignCount, c.LastUse, use.LastUsedAt)
				}
			}
		})
	}
}

// passkeyDiff describes how got differs from want, times to the
// microsecond.
func passkeyDiff(got, want *auth.Passkey) string {
	var d []string
	check := func(name string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	check("ID", bytes.Equal(got.ID, want.ID), got.ID, want.ID)
	check("UserID", got.UserID == want.UserID, got.UserID, want.UserID)
	check("UserHandle", bytes.Equal(got.UserHandle, want.UserHandle), string(got.UserHandle), string(want.UserHandle))
	check("Name", got.Name == want.Name, got.Name, want.Name)
	check("Usage", got.Usage == want.Usage, got.Usage, want.Usage)
	check("PublicKey", bytes.Equal(got.PublicKey, want.PublicKey), got.PublicKey, want.PublicKey)
	check("SignCount", got.SignCount == want.SignCount, got.SignCount, want.SignCount)
	check("Transports", slices.Equal(got.Transports, want.Transports), got.Transports, want.Transports)
	check("AAGUID", bytes.Equal(got.AAGUID, want.AAGUID), got.AAGUID, want.AAGUID)
	check("BackupEligible", got.BackupEligible == want.BackupEligible, got.BackupEligible, want.BackupEligible)
	check("BackupState", got.BackupState == want.BackupState, got.BackupState, want.BackupState)
	check("UserVerified", got.UserVerified == want.UserVerified, got.UserVerified, want.UserVerified)
	check("Discoverable", got.Discoverable == want.Discoverable, got.Discoverable, want.Discoverable)
	check("CreatedAt", got.CreatedAt.Equal(want.CreatedAt), got.CreatedAt, want.CreatedAt)
	check("LastUsedAt", got.LastUsedAt.Equal(want.LastUsedAt), got.LastUsedAt, want.LastUsedAt)
	return strings.Join(d, "; ")
}

// TestFlaskPasskeysToPython has Go add passkeys and record a sign-in,
// and the real Flask-Security read them as its views and its sign-in
// check do: user.webauthn and GET /wan-register's listing,
// find_webauthn and find_user_from_webauthn, and the user handle it
// compares an authenticator's with.
func TestFlaskPasskeysToPython(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			b.require(t)
			py := pythonFlask(t, b.dialect == sqlstore.Postgres)
			dsn, where := flaskAppDB(t, b)
			env := []string{"SECURITY_PASSWORD_SALT=flask app password salt"}
			runFlaskScript(t, py, env, append(append([]string{"create"}, where...), "--webauthn")...)
			s := openFlaskPasskeys(t, b, dsn, sqlstore.FlaskSchema{})
			db := openDB(t, b.driver, dsn)
			ctx := t.Context()
			carol := newFlaskPasskeyUser(t, s, "carol@example.com") // made on the Go side, before WebAuthn:
			if _, err := db.Exec(`UPDATE "user" SET fs_webauthn_user_handle = NULL WHERE id = ` + carol); err != nil {
				t.Fatal(err)
			}
			aliceHandle, err := s.PasskeyUserHandle(ctx, "1")
			if err != nil || len(aliceHandle) != 32 {
				t.Fatalf("alice's handle, made by Flask's create_user: %q, %v", aliceHandle, err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			carolHandle := []byte(strings.Repeat("89abcdef", 8)) // as the Manager makes them: 64 hex digits
			key := &auth.Passkey{ID: []byte{0, 0xff, 0xfe, 1}, UserID: "1", UserHandle: aliceHandle, Name: "Go key", Usage: "secondary",
				PublicKey: []byte{0xa5, 1, 2, 0}, SignCount: 3, Transports: []string{"usb"}, AAGUID: make([]byte, 16), UserVerified: true,
				CreatedAt: now.Add(-time.Hour)}
			phone := &auth.Passkey{ID: bytes.Repeat([]byte{0xc3, 0x28}, 200), UserID: carol, UserHandle: carolHandle, Name: "Go phone",
				Usage: "first", PublicKey: []byte("phone key"), Transports: []string{"internal", "hybrid"},
				BackupEligible: true, BackupState: true, Discoverable: true, CreatedAt: now.Add(-30 * time.Minute)}
			for _, p := range []*auth.Passkey{key, phone} {
				if err := s.AddPasskey(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			use := *key
			use.SignCount, use.BackupState, use.LastUsedAt = 4, false, now.Add(-10*time.Minute)
			if ok, err := s.UsePasskey(ctx, &use, now.Add(-11*time.Minute)); !ok || err != nil {
				t.Fatalf("UsePasskey = %v, %v", ok, err)
			}

			users := webauthnDump(t, runFlaskScript(t, py, env, append([]string{"webauthn-dump"}, where...)...))
			carolID, _ := strconv.ParseInt(carol, 10, 64)
			for _, tc := range []struct {
				user    int64
				handle  []byte
				p       *auth.Passkey
				count   uint32
				lastUse time.Time
				device  string
				disc    bool
			}{
				{1, aliceHandle, key, 4, use.LastUsedAt, "single_device", false},
				{carolID, carolHandle, phone, 0, phone.CreatedAt, "multi_device", true},
			} {
				u := users[tc.user]
				if u.Handle == nil || *u.Handle != string(tc.handle) || u.UserHandle == nil || *u.UserHandle != b64(tc.handle) {
					t.Errorf("user %d: Flask reads fs_webauthn_user_handle %v (UTF-8 %v); want %q, which the Go side registered the passkey with",
						tc.user, u.Handle, u.UserHandle, tc.handle)
				}
				if len(u.Registered) != 1 || len(u.Credentials) != 1 || len(u.Found) != 1 {
					t.Fatalf("user %d: Flask lists %+v; want the one passkey", tc.user, u)
				}
				r, c, f := u.Registered[0], u.Credentials[0], u.Found[0]
				if r.Name != tc.p.Name || r.CredentialID != b64(tc.p.ID) || !slices.Equal(r.Transports, tc.p.Transports) ||
					r.Usage != tc.p.Usage || r.DeviceType != tc.device || r.Discoverable != tc.disc ||
					r.BackupState != (tc.p == phone) || !pyTime(t, r.LastUse).Equal(tc.lastUse) {
					t.Errorf("user %d: GET /wan-register would list %+v; want %q, device %s, discoverable %v, last used %v",
						tc.user, r, tc.p.Name, tc.device, tc.disc, tc.lastUse)
				}
				if c.PublicKey != b64(tc.p.PublicKey) || c.SignCount != int64(tc.count) || !pyTime(t, c.Created).Equal(tc.p.CreatedAt) ||
					c.UserID != tc.user || c.Extensions == nil || !json.Valid([]byte(*c.Extensions)) {
					t.Errorf("user %d: Flask reads the row as %+v", tc.user, c)
				}
				if f.CredentialID == nil || *f.CredentialID != b64(tc.p.ID) || f.UserID == nil || *f.UserID != tc.user {
					t.Errorf("user %d: find_webauthn and find_user_from_webauthn give %+v", tc.user, f)
				}
			}
			if u := users[2]; len(u.Credentials) != 0 || u.Handle == nil {
				t.Errorf("bob: %+v; want no passkeys and his handle", u)
			}
		})
	}
}

// fakePasskeys is an auth.Passkeys that verifies nothing: its credentials
// are fakeCredential JSON, so that a test drives the Manager's passkey
// routes over a store without an authenticator. It checks the user
// handle and the counter as a relying party does.
type fakePasskeys struct {
	mu      sync.Mutex
	handles [][]byte // the handles registrations began with
}

// fakeCredential is the credential JSON fakePasskeys reads.
type fakeCredential struct {
	ID         []byte `json:"id"`
	UserHandle []byte `json:"userHandle,omitempty"`
	Count      uint32 `json:"count"`
}

func (f *fakePasskeys) BeginRegistration(handle []byte, _ string, _ []auth.Passkey, _ bool) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handles = append(f.handles, bytes.Clone(handle))
	return []byte(`{}`), []byte("registration"), nil
}

func (f *fakePasskeys) FinishRegistration(_, _, credential []byte) (*auth.Passkey, error) {
	var c fakeCredential
	if err := json.Unmarshal(credential, &c); err != nil || len(c.ID) == 0 {
		return nil, fmt.Errorf("fake credential %q: %v", credential, err)
	}
	return &auth.Passkey{ID: c.ID, PublicKey: []byte("public key"), SignCount: c.Count, Transports: []string{"internal"},
		AAGUID: make([]byte, 16), BackupEligible: true, BackupState: true, UserVerified: true, Discoverable: true}, nil
}

func (f *fakePasskeys) BeginSignIn([]auth.Passkey, bool) ([]byte, []byte, error) {
	return []byte(`{}`), []byte("sign-in"), nil
}

func (f *fakePasskeys) FinishSignIn(_, credential []byte, owner func(id, userHandle []byte) ([]auth.Passkey, error)) (*auth.Passkey, bool, error) {
	var c fakeCredential
	if err := json.Unmarshal(credential, &c); err != nil {
		return nil, false, err
	}
	list, err := owner(c.ID, c.UserHandle)
	if err != nil {
		return nil, false, err
	}
	for _, p := range list {
		if !bytes.Equal(p.ID, c.ID) {
			continue
		}
		if c.UserHandle != nil && !bytes.Equal(p.UserHandle, c.UserHandle) {
			return nil, false, errors.New("fake: the user handle is not the credential's")
		}
		if c.Count <= p.SignCount && (c.Count != 0 || p.SignCount != 0) {
			return nil, false, errors.New("fake: the counter did not grow")
		}
		p.SignCount = c.Count
		return &p, true, nil
	}
	return nil, false, errors.New("fake: an unknown credential")
}

// TestFlaskPasskeysManager drives the Manager's passkey routes over a
// FlaskStore: a registration takes the user's fs_webauthn_user_handle
// (made by create_user) or, for a user without one, gives it the
// Manager's new handle; the listing shows a passkey never used; a
// passwordless sign-in works once per ceremony; a user with a secondary
// passkey needs it after the password.
func TestFlaskPasskeysManager(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			dsn := newFlaskDB(t, b, flaskWebAuthnVariant, nil)
			s, db := openFlaskPasskeys(t, b, dsn, sqlstore.FlaskSchema{}), openDB(t, b.driver, dsn)
			ctx := t.Context()
			rp := &fakePasskeys{}
			m, err := auth.New(s, []byte("flask passkeys test key, 32 byte"), auth.Config{
				Passkeys:    rp,
				Password:    auth.PasswordConfig{Scheme: "bcrypt", BcryptCost: 4},
				UserCache:   auth.UserCacheConfig{Size: -1},
				Logger:      slog.New(slog.DiscardHandler),
				AuditLogger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/auth/", http.StripPrefix("/auth", m.AccountHandler()))
			mux.Handle("/login", m.LoginHandler())
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			call := func(method, path, body, token string) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("Authentication-Token", token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var env struct{ Response map[string]any }
				_ = json.NewDecoder(resp.Body).Decode(&env)
				return resp.StatusCode, env.Response
			}
			credential := func(c fakeCredential) string {
				j, _ := json.Marshal(c)
				body, _ := json.Marshal(map[string]string{"credential": string(j)})
				return string(body)
			}
			users := map[string]string{}
			for _, email := range []string{"alice@example.com", "bob@example.com"} {
				u, err := m.NewUser(email, email+" password")
				if err != nil {
					t.Fatal(err)
				}
				if err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				users[email] = u.ID
			}
			if _, err := db.ExecContext(ctx, `UPDATE "user" SET fs_webauthn_user_handle = NULL WHERE id = `+users["bob@example.com"]); err != nil {
				t.Fatal(err)
			}
			login := func(email string) (int, map[string]any) {
				return call("POST", "/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, email+" password"), "")
			}
			token := func(email string) string {
				code, resp := login(email)
				user, _ := resp["user"].(map[string]any)
				tok, _ := user["authentication_token"].(string)
				if code != 200 || tok == "" {
					t.Fatalf("login of %s: %d %v", email, code, resp)
				}
				return tok
			}
			register := func(email, name, usage string, id []byte) {
				t.Helper()
				tok := token(email)
				code, resp := call("POST", "/auth/wan-register", fmt.Sprintf(`{"name":%q,"usage":%q}`, name, usage), tok)
				state, _ := resp["wan_state"].(string)
				if code != 200 || state == "" {
					t.Fatalf("POST /wan-register for %s: %d %v", email, code, resp)
				}
				if code, resp := call("POST", "/auth/wan-register/"+state, credential(fakeCredential{ID: id}), tok); code != 200 {
					t.Fatalf("POST /wan-register/{state} for %s: %d %v", email, code, resp)
				}
			}

			aliceHandle, err := s.PasskeyUserHandle(ctx, users["alice@example.com"])
			if err != nil || len(aliceHandle) == 0 {
				t.Fatalf("alice's handle: %q, %v", aliceHandle, err)
			}
			register("alice@example.com", "Phone", "first", []byte("alice's phone"))
			if got := rp.handles[len(rp.handles)-1]; !bytes.Equal(got, aliceHandle) {
				t.Errorf("alice's registration began with handle %q; want her fs_webauthn_user_handle %q", got, aliceHandle)
			}
			register("bob@example.com", "Key", "secondary", []byte("bob's key"))
			bobHandle := rp.handles[len(rp.handles)-1]
			if got := rawColumn(t, b, db, `SELECT fs_webauthn_user_handle FROM "user" WHERE id = ?`, users["bob@example.com"]); len(bobHandle) != 64 || got.String != string(bobHandle) {
				t.Errorf("bob's fs_webauthn_user_handle after his first passkey = %q; want the handle his registration began with, %q", got.String, bobHandle)
			}

			code, resp := call("GET", "/auth/wan-register", "", token("alice@example.com"))
			list, _ := resp["registered_credentials"].([]any)
			if code != 200 || len(list) != 1 {
				t.Fatalf("GET /wan-register: %d %v", code, resp)
			}
			if c := list[0].(map[string]any); c["name"] != "Phone" || c["lastuse"] != nil || c["device_type"] != "multi_device" ||
				c["discoverable"] != true || c["backup_state"] != true || c["usage"] != "first" {
				t.Errorf("GET /wan-register lists %v; want Phone, never used, multi_device, discoverable, backed up", c)
			}

			// A passwordless sign-in, once per ceremony.
			code, resp = call("POST", "/auth/wan-signin", `{}`, "")
			state, _ := resp["wan_state"].(string)
			if code != 200 || state == "" {
				t.Fatalf("POST /wan-signin: %d %v", code, resp)
			}
			signIn := fakeCredential{ID: []byte("alice's phone"), UserHandle: aliceHandle, Count: 5}
			if code, resp := call("POST", "/auth/wan-signin/"+state, credential(signIn), ""); code != 200 || resp["user"] == nil {
				t.Fatalf("POST /wan-signin/{state}: %d %v", code, resp)
			}
			signIn.Count = 6
			if code, _ := call("POST", "/auth/wan-signin/"+state, credential(signIn), ""); code == 200 {
				t.Error("a second sign-in with one ceremony's state was accepted")
			}
			p, err := s.Passkey(ctx, []byte("alice's phone"))
			if err != nil || p.SignCount != 5 || p.LastUsedAt.IsZero() {
				t.Errorf("alice's phone after the sign-in: %+v, %v; want count 5 and a last use", p, err)
			}

			// Bob's secondary passkey is a second factor after his password.
			if code, resp := login("bob@example.com"); code != 200 || resp["tf_required"] != true {
				t.Errorf("bob's password login: %d %v; want tf_required", code, resp)
			}
		})
	}
}
