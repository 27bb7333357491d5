package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authkit/auth"
)

// FlaskSchema names the tables and columns of a Flask-Security(-Too)
// database for [OpenFlaskSecurity]. Its zero value names what
// Flask-Security's fsqla_v3 models create with FsModels.set_db_info's
// defaults; set only the names the application's models change. Names are
// those in the database (a model attribute declared Column("x", …) has
// column x), written without quotes.
type FlaskSchema struct {
	// UserTable holds the users. Default "user".
	UserTable string
	// RoleTable holds the roles. Default "role".
	RoleTable string
	// RolesUsersTable links users to roles. Default "roles_users".
	RolesUsersTable string

	// The required columns of UserTable; each defaults to its field's
	// name in Flask-Security: "id", "email", "password", "active",
	// "fs_uniquifier".
	ID, Email, Password, Active, FsUniquifier string

	// The optional columns of UserTable, each used when the table has it
	// and defaulting to Flask-Security's name ("fs_token_uniquifier",
	// "confirmed_at", "last_login_at", "current_login_at",
	// "last_login_ip", "current_login_ip", "login_count"). Without
	// FsTokenUniquifier, fs_uniquifier is the user's uniquifier; without
	// ConfirmedAt users read as unconfirmed and cannot be confirmed;
	// without a trackable column that field reads as zero and writes to
	// it are dropped, as Flask-Security drops them when
	// SECURITY_TRACKABLE is off.
	FsTokenUniquifier, ConfirmedAt                                       string
	LastLoginAt, CurrentLoginAt, LastLoginIP, CurrentLoginIP, LoginCount string

	// FsWebauthnUserHandle is the optional column of UserTable that holds
	// the user's WebAuthn user handle. Default "fs_webauthn_user_handle".
	// CreateUser fills it with a fresh value, as Flask-Security's
	// create_user does; passkeys need it (see WebAuthnTable).
	FsWebauthnUserHandle string

	// The optional columns of UserTable that hold second factors:
	// TfPrimaryMethod ("tf_primary_method"), TfTotpSecret
	// ("tf_totp_secret") and MfRecoveryCodes ("mf_recovery_codes"). With
	// the first two the FlaskStore reads and writes the users'
	// authenticator apps (see [FlaskStore.TwoFactor]).
	TfPrimaryMethod, TfTotpSecret, MfRecoveryCodes string

	// The columns of RoleTable: RoleID ("id") and RoleName ("name").
	RoleID, RoleName string
	// The columns of RolesUsersTable: RolesUsersUserID ("user_id") and
	// RolesUsersRoleID ("role_id").
	RolesUsersUserID, RolesUsersRoleID string

	// WebAuthnTable holds the WebAuthn credentials of the application's
	// WebAuthn model (fsqla_v3's FsWebAuthnMixin). Default "web_authn",
	// the table Flask-SQLAlchemy 3 names a model class WebAuthn after
	// (FsModels.set_db_info's webauthn_table_name names no table in
	// Flask-Security 5.1.2: the model's class name does). It
	// is optional: if the database has no table of the default name,
	// [FlaskStore.WithPasskeys] fails; a name set here must exist. With
	// it, UserTable must have the column FsWebauthnUserHandle.
	WebAuthnTable string
	// The columns of WebAuthnTable, all required when the table exists,
	// each defaulting to its field's name in FsWebAuthnMixin:
	// "credential_id", "public_key", "sign_count", "transports",
	// "backup_state", "device_type", "extensions", "create_datetime",
	// "lastuse_datetime", "name", "usage" and "user_id" (which refers to
	// UserTable's ID).
	WebAuthnCredentialID, WebAuthnPublicKey, WebAuthnSignCount, WebAuthnTransports string
	WebAuthnBackupState, WebAuthnDeviceType, WebAuthnExtensions                    string
	WebAuthnCreateDatetime, WebAuthnLastuseDatetime                                string
	WebAuthnName, WebAuthnUsage, WebAuthnUserID                                    string

	// Logger receives warnings about the data, such as a login that names
	// an email several users hold in different cases. Default
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults returns s with every empty name set to Flask-Security's.
func (s FlaskSchema) withDefaults() FlaskSchema {
	for _, f := range []struct {
		p   *string
		def string
	}{
		{&s.UserTable, "user"}, {&s.RoleTable, "role"}, {&s.RolesUsersTable, "roles_users"},
		{&s.ID, "id"}, {&s.Email, "email"}, {&s.Password, "password"}, {&s.Active, "active"},
		{&s.FsUniquifier, "fs_uniquifier"}, {&s.FsTokenUniquifier, "fs_token_uniquifier"},
		{&s.ConfirmedAt, "confirmed_at"}, {&s.LastLoginAt, "last_login_at"},
		{&s.CurrentLoginAt, "current_login_at"}, {&s.LastLoginIP, "last_login_ip"},
		{&s.CurrentLoginIP, "current_login_ip"}, {&s.LoginCount, "login_count"},
		{&s.RoleID, "id"}, {&s.RoleName, "name"},
		{&s.RolesUsersUserID, "user_id"}, {&s.RolesUsersRoleID, "role_id"},
		{&s.FsWebauthnUserHandle, "fs_webauthn_user_handle"},
		{&s.TfPrimaryMethod, "tf_primary_method"}, {&s.TfTotpSecret, "tf_totp_secret"},
		{&s.MfRecoveryCodes, "mf_recovery_codes"}, {&s.WebAuthnTable, "web_authn"},
		{&s.WebAuthnCredentialID, "credential_id"}, {&s.WebAuthnPublicKey, "public_key"},
		{&s.WebAuthnSignCount, "sign_count"}, {&s.WebAuthnTransports, "transports"},
		{&s.WebAuthnBackupState, "backup_state"}, {&s.WebAuthnDeviceType, "device_type"},
		{&s.WebAuthnExtensions, "extensions"}, {&s.WebAuthnCreateDatetime, "create_datetime"},
		{&s.WebAuthnLastuseDatetime, "lastuse_datetime"}, {&s.WebAuthnName, "name"},
		{&s.WebAuthnUsage, "usage"}, {&s.WebAuthnUserID, "user_id"},
	} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
	return s
}

// FlaskStore keeps the users of package auth in the tables of a
// Flask-Security(-Too) application, as they are: it adds no table, column
// or index. It implements [auth.UserStore], [auth.UserUpdater],
// [auth.UserAdmin] and [auth.UniquifierLookup], so the
// [github.com/authkit/auth/flask.Tokens] made over it let an [auth.Manager]
// accept the application's tokens, and
// [github.com/authkit/auth/flask.FsUniquifierLookup], so the
// [github.com/authkit/auth/flask.Links] made over it read and make the
// links the application mails. If the database has the table of the
// application's WebAuthn model (FlaskSchema.WebAuthnTable),
// [FlaskStore.WithPasskeys] returns it as a [FlaskPasskeyStore], which is
// an [auth.PasskeyStore] too, so that the passkeys registered on either
// side sign in on both; the FlaskStore itself is none, so that a Manager
// given passkeys over a database without the table fails at [auth.New].
// It does not implement [auth.SessionStore], [auth.PersonalTokenStore] or
// [auth.TwoFactorStore]: Flask-Security's schema has no table for device
// sessions or personal access tokens, and its own two-factor columns are
// not read (see the package documentation). It is safe for concurrent
// use, also alongside the Flask application. Make one with
// [OpenFlaskSecurity]; the package documentation tells how
// Flask-Security's fields become a [auth.User] and an [auth.Passkey].
type FlaskStore struct {
	tx     txRunner
	cols   flaskColumns
	q      flaskQueries
	byID   *sql.Stmt
	byUniq *sql.Stmt
	// blockers are the user table's NOT NULL columns without a default
	// that CreateUser does not write; if there are any it refuses.
	blockers []string
	// idSeq is the PostgreSQL sequence of the ID column, "" for none.
	idSeq string
	// wan is the WebAuthn table, nil when the database has none.
	wan *flaskWebAuthn
	// counters are the TOTP counters accepted in this process (see
	// UseTOTPCounter).
	counters flaskCounters
	now      func() time.Time
	log      *slog.Logger
}

// The FlaskStore's interfaces, checked at compile time.
var (
	_ auth.UserStore        = (*FlaskStore)(nil)
	_ auth.UserUpdater      = (*FlaskStore)(nil)
	_ auth.UserAdmin        = (*FlaskStore)(nil)
	_ auth.UniquifierLookup = (*FlaskStore)(nil)
)

// flaskColumn is a column the store uses: its quoted name, "" when the
// table lacks an optional one, and whether it takes NULL.
type flaskColumn struct {
	name     string // quoted
	nullable bool
}

func (c flaskColumn) present() bool { return c.name != "" }

// flaskColumns are the resolved tables and columns of a FlaskStore.
type flaskColumns struct {
	users, roles, links                          string // quoted table names
	id, email, password, active, fsUniq, tokUniq flaskColumn
	confirmedAt, lastAt, curAt, lastIP, curIP    flaskColumn
	loginCount                                   flaskColumn
	updateDatetime, webauthnHandle               flaskColumn // Flask-Security's own bookkeeping, when present
	tfMethod, tfSecret, recoveryCodes            flaskColumn // second factors, when present
	roleID, roleName, linkUser, linkRole         string      // quoted
	// uniq is the column of User.Uniquifier: tokUniq if present, else fsUniq.
	uniq flaskColumn
}

// OpenFlaskSecurity checks that db can be reached and holds the tables of a
// Flask-Security application as schema names them (its zero value: the
// defaults), and returns a store over them. It changes nothing in the
// database. The user table must have the columns id, email, password,
// active and fs_uniquifier (as named by schema); the role and link tables
// theirs; the WebAuthn table, if there is one, all of its columns, and then
// the user table fs_webauthn_user_handle too. An unreachable database, or
// a missing table or required column, gives an error that names what is
// missing.
func OpenFlaskSecurity(ctx context.Context, db *sql.DB, dialect Dialect, schema FlaskSchema) (*FlaskStore, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !dialect.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: connecting to the %v database: %w", dialect, err)
	}
	if dialect == SQLite {
		if err := checkSQLiteVersion(ctx, db); err != nil {
			return nil, err
		}
	}
	s := &FlaskStore{
		tx:  txRunner{db: db, dialect: dialect, writing: make(chan struct{}, 1)},
		now: time.Now,
		log: schema.Logger,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.inspect(ctx, schema.withDefaults()); err != nil {
		return nil, err
	}
	if err := s.inspectWebAuthn(ctx, schema.withDefaults(), schema.WebAuthnTable != ""); err != nil {
		return nil, err
	}
	s.q = newFlaskQueries(dialect, s.cols)
	var err error
	if s.byID, err = db.PrepareContext(ctx, s.q.byID); err != nil {
		return nil, fmt.Errorf("sqlstore: preparing the lookup by ID: %w", err)
	}
	if s.byUniq, err = db.PrepareContext(ctx, s.q.byUniq); err != nil {
		_ = s.byID.Close()
		return nil, fmt.Errorf("sqlstore: preparing the lookup by uniquifier: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements the store holds. It does not
// close the *sql.DB, which the store does not own.
func (s *FlaskStore) Close() error {
	return errors.Join(s.byID.Close(), s.byUniq.Close())
}

// tableColumn is a column as the database describes it.
type tableColumn struct {
	notNull, hasDefault bool
}

// tableColumns returns the columns of the table named name (unquoted),
// keyed by name, or an empty map if there is no such table.
func (s *FlaskStore) tableColumns(ctx context.Context, name string) (map[string]tableColumn, error) {
	query := `SELECT name, "notnull" <> 0, dflt_value IS NOT NULL OR (pk = 1 AND upper(type) = 'INTEGER')
		FROM pragma_table_info(?)`
	arg := name
	if s.tx.dialect == Postgres {
		query = `SELECT a.attname, a.attnotnull, a.atthasdef OR a.attidentity <> ''
			FROM pg_attribute a
			WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped`
		arg = quoteIdent(name)
	}
	rows, err := s.tx.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading the columns of table %q: %w", name, err)
	}
	defer rows.Close()
	cols := map[string]tableColumn{}
	for rows.Next() {
		var col string
		var c tableColumn
		if err := rows.Scan(&col, &c.notNull, &c.hasDefault); err != nil {
			return nil, fmt.Errorf("sqlstore: reading the columns of table %q: %w", name, err)
		}
		cols[col] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading the columns of table %q: %w", name, err)
	}
	return cols, nil
}

// inspect reads the three tables' columns, fails if a required one is
// missing and fills in s.cols, s.blockers and s.idSeq.
func (s *FlaskStore) inspect(ctx context.Context, sc FlaskSchema) error {
	type want struct {
		field, name string
		dst         *flaskColumn
		required    bool
	}
	var c flaskColumns
	var roleID, roleName, linkUser, linkRole flaskColumn
	tables := []struct {
		field, name string
		dst         *string
		cols        []want
	}{
		{field: "UserTable", name: sc.UserTable, dst: &c.users, cols: []want{
			{"ID", sc.ID, &c.id, true}, {"Email", sc.Email, &c.email, true},
			{"Password", sc.Password, &c.password, true}, {"Active", sc.Active, &c.active, true},
			{"FsUniquifier", sc.FsUniquifier, &c.fsUniq, true},
			{"FsTokenUniquifier", sc.FsTokenUniquifier, &c.tokUniq, false},
			{"ConfirmedAt", sc.ConfirmedAt, &c.confirmedAt, false},
			{"LastLoginAt", sc.LastLoginAt, &c.lastAt, false}, {"CurrentLoginAt", sc.CurrentLoginAt, &c.curAt, false},
			{"LastLoginIP", sc.LastLoginIP, &c.lastIP, false}, {"CurrentLoginIP", sc.CurrentLoginIP, &c.curIP, false},
			{"LoginCount", sc.LoginCount, &c.loginCount, false},
			{"", "update_datetime", &c.updateDatetime, false},
			{"FsWebauthnUserHandle", sc.FsWebauthnUserHandle, &c.webauthnHandle, false},
			{"TfPrimaryMethod", sc.TfPrimaryMethod, &c.tfMethod, false},
			{"TfTotpSecret", sc.TfTotpSecret, &c.tfSecret, false},
			{"MfRecoveryCodes", sc.MfRecoveryCodes, &c.recoveryCodes, false},
		}},
		{field: "RoleTable", name: sc.RoleTable, dst: &c.roles, cols: []want{
			{"RoleID", sc.RoleID, &roleID, true}, {"RoleName", sc.RoleName, &roleName, true},
		}},
		{field: "RolesUsersTable", name: sc.RolesUsersTable, dst: &c.links, cols: []want{
			{"RolesUsersUserID", sc.RolesUsersUserID, &linkUser, true},
			{"RolesUsersRoleID", sc.RolesUsersRoleID, &linkRole, true},
		}},
	}
	var userCols map[string]tableColumn
	for i, t := range tables {
		cols, err := s.tableColumns(ctx, t.name)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			return fmt.Errorf("sqlstore: the %v database has no table %q (FlaskSchema.%s): is this a Flask-Security database, and the right schema or file?", s.tx.dialect, t.name, t.field)
		}
		*t.dst = quoteIdent(t.name)
		var missing []string
		for _, w := range t.cols {
			name, tc, ok := s.lookupColumn(cols, w.name)
			switch {
			case ok:
				*w.dst = flaskColumn{name: quoteIdent(name), nullable: !tc.notNull}
			case w.required:
				missing = append(missing, fmt.Sprintf("%q (FlaskSchema.%s)", w.name, w.field))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("sqlstore: Flask-Security table %q lacks column %s", t.name, strings.Join(missing, ", "))
		}
		if i == 0 {
			userCols = cols
		}
	}
	c.roleID, c.roleName, c.linkUser, c.linkRole = roleID.name, roleName.name, linkUser.name, linkRole.name
	c.uniq = c.fsUniq
	if c.tokUniq.present() {
		c.uniq = c.tokUniq
	}
	s.cols = c

	written := map[string]bool{}
	for _, col := range s.insertColumns() {
		written[col.name] = true
	}
	for name, tc := range userCols {
		if tc.notNull && !tc.hasDefault && !written[quoteIdent(name)] {
			s.blockers = append(s.blockers, name)
		}
	}
	slices.Sort(s.blockers)

	if s.tx.dialect == Postgres {
		var seq sql.NullString
		err := s.tx.db.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1::text, $2::text)", c.users, sc.ID).Scan(&seq)
		if err != nil {
			return fmt.Errorf("sqlstore: finding the sequence of %s.%s: %w", c.users, c.id.name, err)
		}
		s.idSeq = seq.String
	}
	return nil
}

// lookupColumn finds a column by name, and returns its name as the table
// has it: exactly on PostgreSQL, ignoring ASCII case on SQLite, as each
// database resolves names.
func (s *FlaskStore) lookupColumn(cols map[string]tableColumn, name string) (string, tableColumn, bool) {
	if c, ok := cols[name]; ok || s.tx.dialect == Postgres {
		return name, c, ok
	}
	for n, c := range cols {
		if strings.EqualFold(n, name) {
			return n, c, true
		}
	}
	return "", tableColumn{}, false
}

// quoteIdent quotes an SQL identifier, for both dialects.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// flaskQueries are the FlaskStore's fixed statements, placeholders
// rewritten for the dialect. Updates are built for each call from the
// columns that changed.
type flaskQueries struct {
	byID, byEmail, byUniq, forUpdate, all string // rows scanned by scanFlaskUser
	byFsUniq, fsUniqByID                  string // see flasklinks.go
	emailCandidates                       string // IDs and emails matching emailPattern
	idTaken                               string
	insertRole, linkRole, unlinkRoles     string
	maxID                                 string
}

// flaskEmailLockKey is the pg_advisory_xact_lock key that serializes the
// FlaskStore's email checks on PostgreSQL, where no unique index can do
// it: "authflsk" read as a big-endian integer.
const flaskEmailLockKey int64 = 0x61757468666c736b

// newFlaskQueries returns the statements of a store over the columns c.
func newFlaskQueries(d Dialect, c flaskColumns) flaskQueries {
	opt := func(col flaskColumn) string {
		if col.present() {
			return "u." + col.name
		}
		return "NULL"
	}
	roles := `(SELECT json_group_array(r.` + c.roleName + `)
		FROM ` + c.links + ` ur JOIN ` + c.roles + ` r ON r.` + c.roleID + ` = ur.` + c.linkRole + `
		WHERE ur.` + c.linkUser + ` = u.` + c.id.name + `)`
	lock := ""
	// The candidates for an email: see emailPattern. SQLite's LIKE ignores
	// the case of ASCII letters, as PostgreSQL's ILIKE does.
	like := ` LIKE ? ESCAPE '\'`
	if d == Postgres {
		like = ` ILIKE ? ESCAPE '\'`
		roles = `(SELECT COALESCE(json_agg(r.` + c.roleName + `), '[]')::text
		FROM ` + c.links + ` ur JOIN ` + c.roles + ` r ON r.` + c.roleID + ` = ur.` + c.linkRole + `
		WHERE ur.` + c.linkUser + ` = u.` + c.id.name + `)`
		lock = " FOR UPDATE OF u"
	}
	sel := "SELECT u." + c.id.name + ", u." + c.email.name + ", u." + c.password.name + ", u." + c.active.name +
		", u." + c.uniq.name + ", " + opt(c.confirmedAt) + ", " + opt(c.lastAt) + ", " + opt(c.curAt) +
		", " + opt(c.lastIP) + ", " + opt(c.curIP) + ", " + opt(c.loginCount) + ",\n\t" + roles +
		"\nFROM " + c.users + " u"
	q := flaskQueries{
		byID:            sel + " WHERE u." + c.id.name + " = ?",
		byEmail:         sel + " WHERE u." + c.email.name + like,
		byUniq:          sel + " WHERE u." + c.uniq.name + " = ?",
		byFsUniq:        sel + " WHERE u." + c.fsUniq.name + " = ?",
		fsUniqByID:      "SELECT " + c.fsUniq.name + " FROM " + c.users + " WHERE " + c.id.name + " = ?",
		forUpdate:       sel + " WHERE u." + c.id.name + " = ?" + lock,
		all:             sel + " ORDER BY u." + c.id.name,
		emailCandidates: "SELECT " + c.id.name + ", " + c.email.name + " FROM " + c.users + " WHERE " + c.email.name + like,
		idTaken:         "SELECT 1 FROM " + c.users + " WHERE " + c.id.name + " = ?",
		insertRole: "INSERT INTO " + c.roles + " (" + c.roleName + ") SELECT ? WHERE NOT EXISTS (SELECT 1 FROM " +
			c.roles + " WHERE " + c.roleName + " = ?) ON CONFLICT DO NOTHING",
		linkRole: "INSERT INTO " + c.links + " (" + c.linkUser + ", " + c.linkRole + ") SELECT ?, " + c.roleID +
			" FROM " + c.roles + " WHERE " + c.roleName + " = ? ORDER BY " + c.roleID + " LIMIT 1",
		unlinkRoles: "DELETE FROM " + c.links + " WHERE " + c.linkUser + " = ?",
		maxID:       "SELECT MAX(" + c.id.name + ") FROM " + c.users,
	}
	for _, p := range []*string{
		&q.byID, &q.byEmail, &q.byUniq, &q.byFsUniq, &q.fsUniqByID, &q.forUpdate, &q.all, &q.emailCandidates, &q.idTaken,
		&q.insertRole, &q.linkRole, &q.unlinkRoles, &q.maxID,
	} {
		*p = d.rebind(*p)
	}
	return q
}

// flaskID parses a user ID: the decimal form of an integer, as
// strconv.FormatInt writes it. Anything else names no user.
func flaskID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == id
}

// scanFlaskUser reads a row of the FlaskStore's select. A missing row
// gives sql.ErrNoRows, unwrapped.
func scanFlaskUser(r rowScanner) (*auth.User, error) {
	var (
		u                 auth.User
		id                int64
		email, password   sql.NullString
		uniq, lastIP, cur sql.NullString
		active            sql.NullBool
		confirmed         notNull
		lastAt, curAt     flaskTime
		count             sql.NullInt64
		roles             []byte
	)
	err := r.Scan(&id, &email, &password, &active, &uniq, &confirmed, &lastAt, &curAt, &lastIP, &cur, &count, &roles)
	if err != nil {
		return nil, err
	}
	u.ID = strconv.FormatInt(id, 10)
	u.Email, u.PasswordHash, u.Active, u.Uniquifier = email.String, password.String, active.Bool, uniq.String
	u.Confirmed = bool(confirmed)
	u.LastLoginAt, u.CurrentLoginAt = lastAt.t, curAt.t
	u.LastLoginIP, u.CurrentLoginIP, u.LoginCount = lastIP.String, cur.String, int(count.Int64)
	if len(roles) > 0 {
		var names []*string // a role row's NULL name is no role
		if err := json.Unmarshal(roles, &names); err != nil {
			return nil, fmt.Errorf("sqlstore: decoding roles of user %q: %w", u.ID, err)
		}
		for _, n := range names {
			if n != nil {
				u.Roles = append(u.Roles, *n)
			}
		}
		slices.Sort(u.Roles)
		u.Roles = slices.Compact(u.Roles)
	}
	return &u, nil
}

// notNull scans whether a value is not NULL, whatever its type.
type notNull bool

// Scan implements [database/sql.Scanner].
func (n *notNull) Scan(v any) error {
	*n = v != nil
	return nil
}

// flaskTime scans a time as SQLAlchemy's DateTime keeps it: a naive UTC
// time, as "2006-01-02 15:04:05.999999" text on SQLite (which a driver may
// already have parsed) and a timestamp on PostgreSQL.
type flaskTime struct {
	t time.Time
}

// flaskTimeLayouts are the forms of stored times flaskTime reads.
var flaskTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02",
}

// Scan implements [database/sql.Scanner].
func (f *flaskTime) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case nil:
		f.t = time.Time{}
		return nil
	case time.Time:
		f.t = v.UTC()
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot read a time from %T", v)
	}
	for _, layout := range flaskTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: reading time %q: not in a form SQLAlchemy writes", s)
}

// timeArg converts t to the value stored for it: NULL for the zero time,
// otherwise t in UTC to the microsecond, as naive text in SQLAlchemy's
// form on SQLite and as a time.Time on PostgreSQL, whose driver sends its
// UTC wall clock for a timestamp column.
func (s *FlaskStore) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if s.tx.dialect == SQLite {
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return t
}

// UserByID implements [auth.UserStore]. IDs are the integer primary keys
// in decimal; any other string names no user.
func (s *FlaskStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	n, ok := flaskID(id)
	if !ok {
		return nil, fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	u, err := scanFlaskUser(s.byID.QueryRowContext(ctx, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: user %q: %w", id, auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user %q: %w", id, err)
	}
	return u, nil
}

// emailPattern is the LIKE pattern (escape character \) of the emails
// that may equal email under strings.EqualFold, for the database to find
// the candidates that Go then compares: every ASCII character stands for
// itself (LIKE and ILIKE ignore ASCII case), except the letters whose
// folding orbit leaves ASCII (k and the Kelvin sign, s and the long s),
// which, like every other character, become "_", any one character. So
// the pattern is never narrower than EqualFold, whatever the database's
// own case rules, and the store folds exactly as every other store.
func emailPattern(email string) string {
	var b strings.Builder
	for _, r := range email {
		switch {
		case r == '%' || r == '_' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < utf8.RuneSelf && asciiOrbit(r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// asciiOrbit reports whether every rune equal to r under simple case
// folding is ASCII.
func asciiOrbit(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// errEmailAmbiguous: several users' emails equal the one asked for
// case-insensitively, and none of them exactly. It matches
// auth.ErrUserNotFound, so that a login answers as for a wrong password.
var errEmailAmbiguous = fmt.Errorf("sqlstore: several users' emails differ from the one given only in case (list them with authctl users duplicates): %w", auth.ErrUserNotFound)

// UserByEmail implements [auth.UserStore], comparing emails as
// strings.EqualFold does (see the package documentation). Of several users
// whose emails match, which the application's own case-sensitive unique
// constraint allows, the one whose email equals email exactly is returned;
// without one, an error that wraps [auth.ErrUserNotFound], so that a login
// answers as for a wrong password and tells nobody the pair exists, and a
// warning in FlaskSchema.Logger. Neither repeats the email.
func (s *FlaskStore) UserByEmail(ctx context.Context, email string) (*auth.User, error) {
	rows, err := s.tx.db.QueryContext(ctx, s.q.byEmail, emailPattern(email))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user by email: %w", err)
	}
	defer rows.Close()
	var found []*auth.User
	for rows.Next() {
		u, err := scanFlaskUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: reading user by email: %w", err)
		}
		if u.Email == email {
			return u, nil
		}
		if strings.EqualFold(u.Email, email) {
			found = append(found, u)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading user by email: %w", err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("sqlstore: user by email: %w", auth.ErrUserNotFound)
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	s.log.WarnContext(ctx, "sqlstore: a login named an email that several Flask-Security users hold in different cases; it was refused",
		slog.Any("user_ids", ids))
	return nil, errEmailAmbiguous
}

// UserByUniquifier implements [auth.UniquifierLookup]: it looks the
// uniquifier up in fs_token_uniquifier if the table has that column, else
// in fs_uniquifier, as Flask-Security looks up a token's user.
func (s *FlaskStore) UserByUniquifier(ctx context.Context, uniq string) (*auth.User, error) {
	if uniq == "" {
		return nil, fmt.Errorf("sqlstore: user by uniquifier: %w", auth.ErrUserNotFound)
	}
	u, err := scanFlaskUser(s.byUniq.QueryRowContext(ctx, uniq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: user by uniquifier: %w", auth.ErrUserNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading user by uniquifier: %w", err)
	}
	return u, nil
}

// ListUsers implements [auth.UserAdmin]. Users come ordered by ID.
func (s *FlaskStore) ListUsers(ctx context.Context) ([]*auth.User, error) {
	rows, err := s.tx.db.QueryContext(ctx, s.q.all)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing users: %w", err)
	}
	defer rows.Close()
	var users []*auth.User
	for rows.Next() {
		u, err := scanFlaskUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing users: %w", err)
	}
	return users, nil
}
