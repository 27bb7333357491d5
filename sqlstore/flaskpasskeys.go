package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth"
)

// FlaskPasskeyStore is a [FlaskStore] that is also an [auth.PasskeyStore]:
// it keeps passkeys in the table of the application's WebAuthn model
// (FlaskSchema.WebAuthnTable), one row a credential, as Flask-Security's
// create_webauthn writes them, and the user's WebAuthn user handle in
// fs_webauthn_user_handle, so that a passkey registered on either side
// signs in on both; the package documentation gives the mapping. Get one
// from [FlaskStore.WithPasskeys], which only a database with the WebAuthn
// table gives, and hand it to [auth.New] in place of the FlaskStore, with
// auth.Config.Passkeys set: it has the FlaskStore's methods too. It is
// safe for concurrent use, also alongside the Flask application.
type FlaskPasskeyStore struct {
	*FlaskStore
}

// The FlaskPasskeyStore's interface, checked at compile time; the
// FlaskStore's come with it.
var _ auth.PasskeyStore = (*FlaskPasskeyStore)(nil)

// Flask-Security's texts in the WebAuthn table.
const (
	flaskSingleDevice = "single_device"
	flaskMultiDevice  = "multi_device"
)

// flaskWebAuthn is the resolved WebAuthn table of a FlaskStore and its
// statements, placeholders rewritten for the dialect.
type flaskWebAuthn struct {
	// maxCount is the greatest sign count the sign_count column holds:
	// 2^31-1 for PostgreSQL's integer, which Flask-Security's Integer
	// makes, 2^32-1 for a bigint and on SQLite.
	maxCount int64
	byID     string // rows scanned by scanFlaskPasskey
	byUser   string
	owner    string // the user's handle, the row locked on PostgreSQL
	handle   string // the user's handle
	setOwner string // sets the user's handle (and update_datetime)
	nameUsed string // the user and a name
	idUsed   string // a credential ID
	insert   string
	// use takes the new count and backup state, the use's time three times
	// (the one to compare with create_datetime, the one written then, the
	// one written otherwise), the ID, the owner, since, and the new count
	// twice; useNever the same without the three times, for a use without
	// a time, which leaves the passkey never used.
	use, useNever string
	owned         string // the ID and the owner
	del           string // the ID and the owner
}

// inspectWebAuthn finds the WebAuthn table and its columns and fills in
// s.wan, or leaves it nil if there is no table and explicit is false. A
// table lacking a column, or beside a user table without
// fs_webauthn_user_handle, is an error.
func (s *FlaskStore) inspectWebAuthn(ctx context.Context, sc FlaskSchema, explicit bool) error {
	cols, err := s.tableColumns(ctx, sc.WebAuthnTable)
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		if explicit {
			return fmt.Errorf("sqlstore: the %v database has no table %q (FlaskSchema.WebAuthnTable)", s.tx.dialect, sc.WebAuthnTable)
		}
		return nil
	}
	var c struct {
		credID, publicKey, signCount, transports, backupState, deviceType string
		extensions, created, lastUse, name, usage, userID                 string
	}
	var missing []string
	signCount := sc.WebAuthnSignCount // as the table has it, unquoted
	for _, w := range []struct {
		field, name string
		dst         *string
	}{
		{"WebAuthnCredentialID", sc.WebAuthnCredentialID, &c.credID}, {"WebAuthnPublicKey", sc.WebAuthnPublicKey, &c.publicKey},
		{"WebAuthnSignCount", sc.WebAuthnSignCount, &c.signCount}, {"WebAuthnTransports", sc.WebAuthnTransports, &c.transports},
		{"WebAuthnBackupState", sc.WebAuthnBackupState, &c.backupState}, {"WebAuthnDeviceType", sc.WebAuthnDeviceType, &c.deviceType},
		{"WebAuthnExtensions", sc.WebAuthnExtensions, &c.extensions}, {"WebAuthnCreateDatetime", sc.WebAuthnCreateDatetime, &c.created},
		{"WebAuthnLastuseDatetime", sc.WebAuthnLastuseDatetime, &c.lastUse}, {"WebAuthnName", sc.WebAuthnName, &c.name},
		{"WebAuthnUsage", sc.WebAuthnUsage, &c.usage}, {"WebAuthnUserID", sc.WebAuthnUserID, &c.userID},
	} {
		name, _, ok := s.lookupColumn(cols, w.name)
		if !ok {
			missing = append(missing, fmt.Sprintf("%q (FlaskSchema.%s)", w.name, w.field))
			continue
		}
		*w.dst = quoteIdent(name)
		if w.dst == &c.signCount {
			signCount = name
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sqlstore: Flask-Security table %q lacks column %s", sc.WebAuthnTable, strings.Join(missing, ", "))
	}
	if !s.cols.webauthnHandle.present() {
		return fmt.Errorf("sqlstore: Flask-Security table %q lacks column %q (FlaskSchema.FsWebauthnUserHandle), which the WebAuthn table %q needs",
			sc.UserTable, sc.FsWebauthnUserHandle, sc.WebAuthnTable)
	}
	maxCount := int64(math.MaxUint32)
	if s.tx.dialect == Postgres {
		var typ sql.NullString
		err := s.tx.db.QueryRowContext(ctx, `SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
			WHERE a.attrelid = to_regclass($1::text) AND a.attname = $2::text AND NOT a.attisdropped`,
			quoteIdent(sc.WebAuthnTable), signCount).Scan(&typ)
		if err != nil {
			return fmt.Errorf("sqlstore: reading the type of %s.%s: %w", sc.WebAuthnTable, c.signCount, err)
		}
		switch typ.String {
		case "bigint", "numeric":
		case "smallint":
			maxCount = math.MaxInt16
		default:
			maxCount = math.MaxInt32
		}
	}

	t, u, d := quoteIdent(sc.WebAuthnTable), s.cols, s.tx.dialect
	ts := "?" // a time written by a CASE, typed on PostgreSQL
	lock := ""
	if d == Postgres {
		ts, lock = "CAST(? AS TIMESTAMP)", " FOR UPDATE"
	}
	sel := "SELECT w." + c.credID + ", w." + c.userID + ", u." + u.webauthnHandle.name + ", w." + c.name + ", w." + c.usage +
		", w." + c.publicKey + ", w." + c.signCount + ", w." + c.transports + ", w." + c.backupState + ", w." + c.deviceType +
		", w." + c.extensions + ", w." + c.created + ", w." + c.lastUse +
		", CASE WHEN w." + c.lastUse + " = w." + c.created + " THEN 1 ELSE 0 END" +
		"\nFROM " + t + " w LEFT JOIN " + u.users + " u ON u." + u.id.name + " = w." + c.userID
	setOwner := "UPDATE " + u.users + " SET " + u.webauthnHandle.name + " = ?"
	if u.updateDatetime.present() {
		setOwner += ", " + u.updateDatetime.name + " = ?"
	}
	useWhere := "\nWHERE " + c.credID + " = ? AND " + c.userID + " = ?" +
		"\n\tAND (" + c.lastUse + " = " + c.created + " OR " + c.lastUse + " < ?)" +
		"\n\tAND (COALESCE(" + c.signCount + ", 0) < CAST(? AS BIGINT) OR (COALESCE(" + c.signCount + ", 0) = 0 AND CAST(? AS BIGINT) = 0))"
	w := &flaskWebAuthn{
		maxCount: maxCount,
		byID:     sel + " WHERE w." + c.credID + " = ?",
		byUser:   sel + " WHERE w." + c.userID + " = ?",
		owner:    "SELECT " + u.webauthnHandle.name + " FROM " + u.users + " WHERE " + u.id.name + " = ?" + lock,
		handle:   "SELECT " + u.webauthnHandle.name + " FROM " + u.users + " WHERE " + u.id.name + " = ?",
		setOwner: setOwner + " WHERE " + u.id.name + " = ?",
		nameUsed: "SELECT 1 FROM " + t + " WHERE " + c.userID + " = ? AND " + c.name + " = ?",
		idUsed:   "SELECT 1 FROM " + t + " WHERE " + c.credID + " = ?",
		insert: "INSERT INTO " + t + " (" + strings.Join([]string{c.credID, c.publicKey, c.signCount, c.transports, c.backupState,
			c.deviceType, c.extensions, c.created, c.lastUse, c.name, c.usage, c.userID}, ", ") +
			") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		use: "UPDATE " + t + " SET " + c.signCount + " = ?, " + c.backupState + " = ?, " +
			c.lastUse + " = CASE WHEN " + c.created + " = ? THEN " + ts + " ELSE " + ts + " END" + useWhere,
		useNever: "UPDATE " + t + " SET " + c.signCount + " = ?, " + c.backupState + " = ?, " +
			c.lastUse + " = " + c.created + useWhere,
		owned: "SELECT 1 FROM " + t + " WHERE " + c.credID + " = ? AND " + c.userID + " = ?",
		del:   "DELETE FROM " + t + " WHERE " + c.credID + " = ? AND " + c.userID + " = ?",
	}
	for _, p := range []*string{&w.byID, &w.byUser, &w.owner, &w.handle, &w.setOwner, &w.nameUsed, &w.idUsed,
		&w.insert, &w.use, &w.useNever, &w.owned, &w.del} {
		*p = d.rebind(*p)
	}
	s.wan = w
	return nil
}

// WithPasskeys returns the store as a [FlaskPasskeyStore], which also
// keeps passkeys, if the database has the WebAuthn table
// (FlaskSchema.WebAuthnTable; [OpenFlaskSecurity] looked for it), and
// otherwise an error that says it has none. The two share everything: a
// FlaskStore has no passkey methods, so that an [auth.Manager] given
// passkeys over a database without the table fails in [auth.New], not
// at the first registration.
func (s *FlaskStore) WithPasskeys() (*FlaskPasskeyStore, error) {
	if s.wan == nil {
		return nil, fmt.Errorf("sqlstore: the %v database has no Flask-Security WebAuthn table (FlaskSchema.WebAuthnTable): it keeps no passkeys", s.tx.dialect)
	}
	return &FlaskPasskeyStore{s}, nil
}

// flaskExtensions is what FlaskStore reads of the extensions column: the
// JSON of the browser's client extension results at registration.
type flaskExtensions struct {
	CredProps *struct {
		RK *bool `json:"rk"`
	} `json:"credProps"`
}

// discoverable reports whether extensions, as the column holds them,
// say the credential is discoverable (credProps.rk true).
func discoverable(extensions string) bool {
	var e flaskExtensions
	if json.Unmarshal([]byte(extensions), &e) != nil || e.CredProps == nil || e.CredProps.RK == nil {
		return false
	}
	return *e.CredProps.RK
}

// extensionsOf returns what the extensions column holds for p: the
// client extension results a browser reports, credProps with rk.
func extensionsOf(p *auth.Passkey) string {
	if p.Discoverable {
		return `{"credProps":{"rk":true}}`
	}
	return `{"credProps":{"rk":false}}`
}

// scanFlaskPasskey reads a row of flaskWebAuthn's select. A missing row
// gives sql.ErrNoRows, unwrapped.
func scanFlaskPasskey(r rowScanner) (*auth.Passkey, error) {
	var (
		p                              auth.Passkey
		userID                         int64
		handle, name, usage            sql.NullString
		transports, device, extensions sql.NullString
		count                          sql.NullInt64
		backup                         sql.NullBool
		created, used                  flaskTime
		never                          int64
	)
	err := r.Scan(&p.ID, &userID, &handle, &name, &usage, &p.PublicKey, &count, &transports, &backup, &device,
		&extensions, &created, &used, &never)
	if err != nil {
		return nil, err
	}
	p.UserID, p.Name, p.Usage = strconv.FormatInt(userID, 10), name.String, usage.String
	if count.Int64 < 0 || count.Int64 > math.MaxUint32 {
		return nil, fmt.Errorf("passkey %q of user %s: sign_count %d is no WebAuthn signature counter", p.Name, p.UserID, count.Int64)
	}
	p.SignCount = uint32(count.Int64)
	if handle.String != "" {
		p.UserHandle = []byte(handle.String)
	}
	if transports.String != "" {
		p.Transports = strings.Split(transports.String, ",")
	}
	p.BackupEligible, p.BackupState = device.String == flaskMultiDevice, backup.Bool
	p.Discoverable = discoverable(extensions.String)
	p.CreatedAt = created.t
	if never == 0 {
		p.LastUsedAt = used.t
	}
	return &p, nil
}

// timeArgNotNull is timeArg for a NOT NULL column: the zero time is
// written as itself, 0001-01-01 00:00:00, which reads back as the zero
// time.
func (s *FlaskStore) timeArgNotNull(t time.Time) any {
	if t.IsZero() {
		t = time.Time{}
	}
	t = t.UTC().Truncate(time.Microsecond)
	if s.tx.dialect == SQLite {
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return t
}

// lastUseOf returns the lastuse_datetime written for a use at used of a
// passkey created at created: used to the microsecond, or a microsecond
// later if that is created, which would read as never used.
func lastUseOf(used, created time.Time) time.Time {
	used = used.UTC().Truncate(time.Microsecond)
	if used.Equal(created.UTC().Truncate(time.Microsecond)) {
		used = used.Add(time.Microsecond)
	}
	return used
}

// Passkeys implements [auth.PasskeyStore]: the rows of the user's
// credentials, oldest first (by create_datetime, then by credential ID).
// For an ID that is not a decimal integer there are none.
func (s *FlaskPasskeyStore) Passkeys(ctx context.Context, userID string) ([]auth.Passkey, error) {
	n, ok := flaskID(userID)
	if !ok {
		return nil, ctx.Err()
	}
	rows, err := s.tx.db.QueryContext(ctx, s.wan.byUser, n)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
	}
	defer rows.Close()
	var out []auth.Passkey
	for rows.Next() {
		p, err := scanFlaskPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing the passkeys of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b auth.Passkey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Passkey implements [auth.PasskeyStore], as Flask-Security's
// find_webauthn finds a credential: by credential_id.
func (s *FlaskPasskeyStore) Passkey(ctx context.Context, id []byte) (*auth.Passkey, error) {
	if len(id) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("sqlstore: no passkey has that credential ID: %w", auth.ErrTokenNotFound)
	}
	p, err := scanFlaskPasskey(s.tx.db.QueryRowContext(ctx, s.wan.byID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: no passkey has that credential ID: %w", auth.ErrTokenNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading a passkey: %w", err)
	}
	return p, nil
}

// checkFlaskPasskey refuses what the WebAuthn table cannot give back as
// it was given, or Flask-Security could not use.
func (s *FlaskPasskeyStore) checkFlaskPasskey(p *auth.Passkey) error {
	switch {
	case len(p.ID) == 0 || len(p.PublicKey) == 0 || p.Name == "":
		return errors.New("a passkey needs a credential ID, a public key and a name")
	case p.Usage != "first" && p.Usage != "secondary":
		return fmt.Errorf("usage %q is neither \"first\" nor \"secondary\"", p.Usage)
	case int64(p.SignCount) > s.wan.maxCount:
		return fmt.Errorf("sign count %d does not fit the sign_count column (at most %d)", p.SignCount, s.wan.maxCount)
	case len(p.UserHandle) > 64 || !utf8.Valid(p.UserHandle) || bytes.IndexByte(p.UserHandle, 0) >= 0:
		return errors.New("the user handle is not text of at most 64 bytes without NUL, which fs_webauthn_user_handle (String(64), compared by Flask-Security as its UTF-8) holds")
	}
	for _, tr := range p.Transports {
		if tr == "" || strings.Contains(tr, ",") {
			return fmt.Errorf("transport %q is empty or holds a comma (the transports column separates them by commas)", tr)
		}
	}
	return nil
}

// AddPasskey implements [auth.PasskeyStore]: it writes a row as
// Flask-Security's create_webauthn does (see the package documentation),
// in one transaction that first reads the owner's row, locking it on
// PostgreSQL (BEGIN IMMEDIATE on SQLite), and checks that the owner has no
// passkey of that name and that no passkey has the credential ID
// ([auth.ErrDuplicateID]; Flask-Security keeps the names unique per user
// in its code only, the credential IDs under a unique index too). If the
// owner's fs_webauthn_user_handle is NULL it is set to p.UserHandle in the
// same transaction; if it is set, a non-empty p.UserHandle must equal it,
// since Flask-Security checks every sign-in against it. A Usage other
// than "first" and "secondary", a transport that is empty or holds a
// comma, a user handle that is not text, and a sign count past what the
// column holds (2^31-1 for PostgreSQL's integer) are refused.
func (s *FlaskPasskeyStore) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	if p == nil {
		return errors.New("sqlstore: AddPasskey: nil passkey")
	}
	if err := s.checkFlaskPasskey(p); err != nil {
		return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w", p.Name, p.UserID, err)
	}
	n, ok := flaskID(p.UserID)
	if !ok {
		return fmt.Errorf("sqlstore: adding passkey %q of user %q: %w", p.Name, p.UserID, auth.ErrUserNotFound)
	}
	created := s.timeArgNotNull(p.CreatedAt)
	lastUse := created // never used: Flask-Security's column is NOT NULL
	if !p.LastUsedAt.IsZero() {
		lastUse = s.timeArgNotNull(lastUseOf(p.LastUsedAt, p.CreatedAt))
	}
	device := flaskSingleDevice
	if p.BackupEligible {
		device = flaskMultiDevice
	}
	args := []any{p.ID, p.PublicKey, int64(p.SignCount), strings.Join(p.Transports, ","), p.BackupState,
		device, extensionsOf(p), created, lastUse, p.Name, p.Usage, n}
	what := fmt.Sprintf("sqlstore: adding passkey %q of user %q", p.Name, p.UserID)
	return s.tx.inTx(ctx, func(q querier) error {
		var handle sql.NullString
		err := q.QueryRowContext(ctx, s.wan.owner, n).Scan(&handle)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: %w", what, auth.ErrUserNotFound)
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case handle.String == "" && len(p.UserHandle) > 0:
			set := []any{string(p.UserHandle)}
			if s.cols.updateDatetime.present() {
				set = append(set, s.timeArg(s.now()))
			}
			if _, err := q.ExecContext(ctx, s.wan.setOwner, append(set, n)...); err != nil {
				if isUniqueViolation(err) {
					return fmt.Errorf("%s: another user's fs_webauthn_user_handle is the passkey's user handle: %w", what, err)
				}
				return fmt.Errorf("%s: setting fs_webauthn_user_handle: %w", what, err)
			}
		case handle.String != "" && len(p.UserHandle) > 0 && handle.String != string(p.UserHandle):
			return fmt.Errorf("%s: its user handle is not the user's fs_webauthn_user_handle, which Flask-Security checks every sign-in against", what)
		}
		if taken, err := exists(ctx, q, s.wan.nameUsed, n, p.Name); err != nil || taken {
			if err == nil {
				err = fmt.Errorf("the user has a passkey of that name: %w", auth.ErrDuplicateID)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if taken, err := exists(ctx, q, s.wan.idUsed, p.ID); err != nil || taken {
			if err == nil {
				err = fmt.Errorf("a passkey has that credential ID: %w", auth.ErrDuplicateID)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := q.ExecContext(ctx, s.wan.insert, args...); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%s: %w (a passkey with this credential ID, written meanwhile)", what, auth.ErrDuplicateID)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// UsePasskey implements [auth.PasskeyStore] with one UPDATE whose WHERE
// clause holds every condition (the credential ID and the owner, since,
// a count that grows), in a transaction that then tells a refused use
// from a passkey the owner does not hold. A passkey whose
// lastuse_datetime equals its create_datetime is never used and takes
// any since; otherwise lastuse_datetime must be before since. The use
// writes sign_count, backup_state and lastuse_datetime (p.LastUsedAt, a
// microsecond later if that equals create_datetime; create_datetime
// itself for a zero p.LastUsedAt). A count past what the column holds
// is an error.
func (s *FlaskPasskeyStore) UsePasskey(ctx context.Context, p *auth.Passkey, since time.Time) (bool, error) {
	if p == nil {
		return false, errors.New("sqlstore: UsePasskey: nil passkey")
	}
	n, ok := flaskID(p.UserID)
	if !ok || len(p.ID) == 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return false, fmt.Errorf("sqlstore: no such passkey of user %q: %w", p.UserID, auth.ErrTokenNotFound)
	}
	count := int64(p.SignCount)
	stmt, args := s.wan.useNever, []any{count, p.BackupState}
	if !p.LastUsedAt.IsZero() {
		at := p.LastUsedAt.UTC().Truncate(time.Microsecond)
		stmt = s.wan.use
		args = append(args, s.timeArgNotNull(at), s.timeArgNotNull(at.Add(time.Microsecond)), s.timeArgNotNull(at))
	}
	args = append(args, p.ID, n, s.timeArgNotNull(since), count, count)
	what := fmt.Sprintf("sqlstore: using a passkey of user %q", p.UserID)
	var used bool
	err := s.tx.inTx(ctx, func(q querier) error {
		if count > s.wan.maxCount {
			found, err := exists(ctx, q, s.wan.owned, p.ID, n)
			switch {
			case err != nil:
				return fmt.Errorf("%s: %w", what, err)
			case !found:
				return fmt.Errorf("sqlstore: no such passkey of user %q: %w", p.UserID, auth.ErrTokenNotFound)
			}
			return fmt.Errorf("%s: sign count %d does not fit the sign_count column (at most %d)", what, count, s.wan.maxCount)
		}
		res, err := q.ExecContext(ctx, stmt, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if used = rows > 0; used {
			return nil
		}
		found, err := exists(ctx, q, s.wan.owned, p.ID, n)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case !found:
			return fmt.Errorf("sqlstore: no such passkey of user %q: %w", p.UserID, auth.ErrTokenNotFound)
		}
		return nil
	})
	return used, err
}

// DeletePasskey implements [auth.PasskeyStore] with one DELETE, as
// Flask-Security's delete_webauthn removes the row; the user's
// fs_webauthn_user_handle stays, as it does there.
func (s *FlaskPasskeyStore) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	n, ok := flaskID(userID)
	if !ok || len(id) == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("sqlstore: no such passkey of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	var deleted int64
	err := s.tx.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, s.wan.del, id, n)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: deleting a passkey of user %q: %w", userID, err)
	}
	if deleted == 0 {
		return fmt.Errorf("sqlstore: no such passkey of user %q: %w", userID, auth.ErrTokenNotFound)
	}
	return nil
}

// PasskeyUserHandle implements [auth.PasskeyStore]: the user's
// fs_webauthn_user_handle as bytes (its UTF-8, as Flask-Security gives
// it to the browser), or nil if it is NULL or empty or there is no such
// user.
func (s *FlaskPasskeyStore) PasskeyUserHandle(ctx context.Context, userID string) ([]byte, error) {
	n, ok := flaskID(userID)
	if !ok {
		return nil, ctx.Err()
	}
	var h sql.NullString
	err := s.tx.db.QueryRowContext(ctx, s.wan.handle, n).Scan(&h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("sqlstore: reading the fs_webauthn_user_handle of user %q: %w", userID, err)
	case h.String == "":
		return nil, nil
	}
	return []byte(h.String), nil
}
