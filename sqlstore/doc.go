// Package sqlstore keeps the users of package auth in an SQL database, through
// database/sql, on SQLite or PostgreSQL. A [Store] implements
// [auth.UserStore], [auth.UserUpdater] and [auth.UserAdmin]; a
// [FlaskStore] does the same over an existing Flask-Security database,
// and a [FlaskPasskeyStore] keeps its WebAuthn credentials too (see the
// last two sections).
//
// The package imports no database driver; the program that uses it does,
// and hands [Open] a *sql.DB together with the [Dialect] of the database:
//
//	import _ "modernc.org/sqlite"            // SQLite, driver name "sqlite"
//	import _ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL, driver name "pgx"
//
// The Store does not own the *sql.DB: close it yourself when you are done
// ([Store.Close] only releases the Store's prepared statements).
//
// # SQLite
//
// Open the file with the DSN that [SQLiteDSN] builds for modernc.org/sqlite:
//
//	file:/var/lib/app/auth.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate
//
// busy_timeout makes a connection wait up to 5 s for another process's write
// to finish instead of failing at once with "database is locked"; WAL lets
// readers go on while one connection writes. The Store takes SQLite's write
// lock itself before it reads in a write (it runs BEGIN IMMEDIATE on a
// connection of its own), and queues its own writes in-process, so it is
// correct whatever the DSN; _txlock=immediate only makes the application's
// own db.BeginTx behave the same. With another driver, set the same pragmas
// in its own DSN syntax. Do not use ":memory:": each connection of the pool
// would see a database of its own. SQLite 3.44 or later is required.
//
// Bound the pool and keep its connections: database/sql keeps only 2 idle
// connections by default, so each burst of requests opens new ones and
// closes them again, and every new SQLite connection runs the DSN's
// pragmas and reads the schema anew. With WAL, readers run in parallel and
// one connection writes at a time (the Store queues its writes), so a few
// connections are enough:
//
//	db.SetMaxOpenConns(8)
//	db.SetMaxIdleConns(8) // as many as may be open
//
// # PostgreSQL
//
// Open the database with the pgx driver and a DSN such as
//
//	postgres://app:secret@db.example.com:5432/app?sslmode=verify-full
//
// The tables are created in the current schema, the first one of
// search_path. To keep them apart from the application's own tables give the
// store a schema of its own: create it and add search_path=auth to the DSN
// (pgx sends unknown DSN parameters as run-time settings). Bound the pool
// with db.SetMaxOpenConns below the server's max_connections (divided by
// the number of instances): a burst of logins otherwise opens a connection
// for each. Set db.SetMaxIdleConns to the same number: with database/sql's
// default of 2, connections beyond it are closed as soon as they are free
// and reopened by the next burst, each a new session (a server process) to
// start. db.SetConnMaxIdleTime (a few minutes) then gives the sessions back
// once the load is gone, and db.SetConnMaxLifetime (say 30 minutes) lets
// them spread again behind a proxy or after a failover. Neither makes a
// busy pool churn: the first never closes a connection in use, the second
// renews each one once in that time. Reads run outside
// transactions; every write is one transaction in which the row being
// changed is locked with SELECT ... FOR UPDATE before it is read.
//
// # Schema
//
// Open creates or upgrades the schema with numbered migrations recorded in
// the table schema_migrations (version, applied_at). All pending migrations
// run in one transaction, under PostgreSQL's pg_advisory_xact_lock or
// SQLite's write lock, so two processes opening a new database at once do
// not trip over each other and a failed migration leaves nothing behind.
// Open refuses a database whose schema is newer than the package knows.
//
// The tables are users (one row a user), roles (one row a role name),
// user_roles (which user holds which role, in order), user_id_counter
// (the last ID [Store.CreateUser] assigned) and throttle (recent failed
// logins by key, a keyed hash that names no email or address: a Store is
// also an auth.ThrottleStore, so that every instance on the database
// counts the same failures, each one atomic statement; set
// auth.Config.Throttle.Store to it) and user_changes (the change log: the
// IDs of users whose row or roles changed, one of whose personal
// access tokens was deleted, or whose second factor was set up, changed
// or removed, in the last hour, written by triggers
// whoever makes the change, and read by [Store.UserChanges] so that the
// verified-user cache of every process sees the change within a second;
// on PostgreSQL the triggers also send the notifications of
// [ChangeChannel]), device_sessions (the sessions of refresh tokens,
// below), personal_tokens (personal access tokens, below),
// two_factors and recovery_codes (second factors, below), and passkeys
// (WebAuthn credentials, below). Open fails
// if a table of one of these names already exists with another meaning;
// use a schema or file of its own then.
//
// The column users.roles holds the user's role names again, as a JSON
// array in order (migration 3 filled it from user_roles), so that a
// lookup reads one row. The Store reads roles from it alone and writes it
// and user_roles in the same transaction; user_roles stays for queries
// such as who holds a role, and triggers (migration 4) rewrite
// users.roles whenever user_roles or a role's name changes, so that a
// change made by hand is seen too.
//
// # Device sessions
//
// A Store is also an [auth.SessionStore]: migration 6 adds the table
// device_sessions, one row a login on a device (id, the primary key;
// user_id, referencing users (id) ON DELETE CASCADE, with an index of its
// own for [Store.UserSessions]; uniquifier; generation; token_hash, a
// BLOB or BYTEA holding the keyed hash of the current refresh token,
// never the token; rotated_at, created_at and last_used_at, stored as
// the users table's times are; last_ip and user_agent). The Store keeps
// what it is given: the columns are TEXT without a limit, and bounding a
// user agent is the Manager's business. [Store.UpdateSession] is atomic
// across processes as [Store.UpdateUser] is, SELECT ... FOR UPDATE inside
// a transaction on PostgreSQL and BEGIN IMMEDIATE on SQLite, so that of
// two refreshes racing with one token the second sees the generation the
// first stored. [Store.CreateSession] refuses a session of a user the
// Store does not hold (auth.ErrUserNotFound). Deleting a user's row
// deletes the user's sessions; on SQLite only with foreign_keys on, as
// [SQLiteDSN] sets it.
//
// # Personal access tokens
//
// A Store is also an [auth.PersonalTokenStore]: migration 7 adds the
// table personal_tokens, one row a token (id, the primary key; user_id,
// referencing users (id) ON DELETE CASCADE, with an index of its own for
// [Store.UserPersonalTokens]; name; scopes, the token's
// scopes separated by single spaces, in order; token_hash, a BLOB or
// BYTEA holding the SHA-256 of the secret (package
// github.com/authkit/auth/pat), never the secret, under a unique index by
// which [Store.PersonalTokenByHash] finds it; created_at, last_used_at and
// expires_at, stored as the users table's times are, NULL for none).
// [Store.CreatePersonalToken] refuses an ID or a hash in use
// (auth.ErrDuplicateID), a token of a user the Store does not hold
// (auth.ErrUserNotFound), and a scope that is empty or holds a space,
// which the column could not give back. [Store.TouchPersonalToken] is one
// UPDATE that writes only a later time, so that of concurrent touches,
// from any process, the latest stays. A trigger on the deletion of a row
// (personal_tokens_deleted, whoever deletes it: the Store, an operator's
// SQL, the cascade of the owner's deletion) logs the owner in
// user_changes, as a change of the user is logged, so that the
// verified-user cache of every process forgets the owner within a second.
// Creating and touching a token log nothing.
//
// # Second factors
//
// A Store is also an [auth.TwoFactorStore]: migration 8 adds the table
// two_factors, one row a user's authenticator-app factor (user_id, the
// primary key, referencing users (id) ON DELETE CASCADE; secret, a BLOB
// or BYTEA holding the TOTP key as the Manager sealed it, never the key;
// last_counter, the greatest TOTP counter accepted, an INTEGER or BIGINT
// that is never negative, so [auth.TwoFactor.LastCounter] must fit an
// int64; enabled; created_at and enabled_at, stored as the users table's
// times are, NULL for none), and the table recovery_codes, one row a
// code (user_id, referencing users (id) ON DELETE CASCADE; code_hash, a
// BLOB or BYTEA holding the Manager's keyed hash of the code, never the
// code; the primary key is both). [Store.SetTwoFactor] is one upsert
// after finding the user (auth.ErrUserNotFound); an empty secret is
// refused. [Store.UseTOTPCounter] is one UPDATE that writes only a
// greater counter, so that of two requests racing with one code, from
// any process, exactly one is accepted; [Store.UseRecoveryCode] is one
// DELETE, which only one of racing uses of a code gets a row from.
// [Store.SetRecoveryCodes] replaces the user's codes in one transaction
// and [Store.DeleteTwoFactor] removes factor and codes in one. Triggers
// on two_factors log the user in user_changes when a row is inserted or
// deleted (whoever does it: the Store, an operator's SQL, the cascade of
// the user's deletion) or when its user_id, secret or enabled is
// written, so that the verified-user cache of every process sees a
// factor set up, enabled, re-keyed or removed within a second; a write
// of last_counter alone, which every login with a code makes, and the
// recovery codes log nothing.
//
// # Passkeys
//
// A Store is also an [auth.PasskeyStore]: migration 9 adds the table
// passkeys, one row a WebAuthn credential (id, the primary key, a BLOB or
// BYTEA holding the credential ID the authenticator chose; user_id,
// referencing users (id) ON DELETE CASCADE; user_handle; name; usage,
// 'first' or 'secondary'; public_key, COSE-encoded, no secret;
// sign_count, an INTEGER or BIGINT between 0 and 4294967295, as a uint32
// holds it; transports, their names separated by single spaces, in
// order, empty for none; aaguid; backup_eligible, backup_state,
// user_verified and discoverable, 0 and 1 on SQLite, BOOLEAN on
// PostgreSQL; created_at and last_used_at, stored as the users table's
// times are, NULL for none). No user has two passkeys of one name
// (UNIQUE (user_id, name), compared exactly, whose index also lists a
// user's passkeys for [Store.Passkeys]); user_handle and aaguid hold
// empty bytes, not NULL, for none. [Store.AddPasskey] finds the user first
// (auth.ErrUserNotFound) and answers a taken credential ID or name with
// auth.ErrDuplicateID; it refuses a usage other than "first" and
// "secondary" and a transport that is empty or holds a space, which the
// column could not give back. [Store.UsePasskey] is one UPDATE whose
// WHERE clause holds every condition (the owner, no use at or after the
// ceremony's start, a count that grows unless both are 0), so that of
// two requests racing to finish one ceremony, from any process, exactly
// one is accepted; a use that changed nothing is then told from a
// passkey the user does not hold (auth.ErrTokenNotFound) by a second
// query. Passkeys log nothing in user_changes: the verified-user cache
// holds no passkey (the Manager reads them from the store at every
// ceremony and password login), so no process needs to forget a user
// when one is added, used or deleted.
//
// # Emails
//
// Emails are kept as given and compared as strings.EqualFold compares
// them, through the column email_key, which carries a unique index. It
// holds the email with each character replaced by the least member of its
// Unicode simple-folding orbit (see unicode.SimpleFold), computed in Go:
// two emails have the same key exactly when EqualFold reports them equal,
// the rule [auth.MemoryStore] follows. So "Alice@Example.com" and
// "alice@example.COM", or "Ärger@…" and "äRGER@…", are one address, while
// "ı@…" and "i@…" are two. SQL's lower() is not used: SQLite's folds ASCII
// letters only and PostgreSQL's depends on the database's locale.
//
// # Values
//
// Times are stored in UTC, truncated to the microsecond, and a zero
// time.Time is stored as NULL and read back as the zero time. Roles come
// back in the order they were given; a role listed twice is kept once.
// When [Store.CreateUser] gets a user without an ID it assigns the next
// decimal number from user_id_counter, skipping numbers already taken.
//
// # Flask-Security databases
//
// [OpenFlaskSecurity] returns a [FlaskStore] over the tables of an
// existing Flask-Security(-Too) application (user, role and roles_users,
// as its fsqla models make them, or as a [FlaskSchema] names them), for a
// service that takes over from the application or runs beside it. It
// creates, alters and migrates nothing. A [auth.User] maps onto a row so:
//
//   - ID is the integer id in decimal ("7"); other strings name no user.
//   - Email is email; PasswordHash is password (NULL reads as "" and ""
//     is written as NULL where the column allows it); Active is active.
//   - Uniquifier is fs_token_uniquifier if the table has that column,
//     else fs_uniquifier: the value Flask-Security's auth tokens carry, so
//     rotating it revokes the application's tokens too. An empty
//     Uniquifier is stored as NULL if the column allows it, else replaced
//     with a fresh one.
//   - Confirmed is confirmed_at IS NOT NULL; setting it writes the
//     current time, clearing it NULL.
//   - Roles are the names of the roles linked through roles_users, a set
//     read back sorted; missing role rows are created.
//   - The trackable fields are the columns of the same names, naive UTC
//     times as SQLAlchemy keeps them.
//
// Other columns (username, the two-factor ones, …) are left alone, except
// that CreateUser fills fs_uniquifier and
// fs_webauthn_user_handle with fresh values as Flask-Security's
// create_user does, and an update that changes the row sets
// update_datetime.
//
// Revocation: with fs_token_uniquifier, a change of Uniquifier (which
// [auth.Manager.SetPassword], [auth.Manager.RevokeTokens] and logout make)
// also gives fs_uniquifier a fresh value, so the application's sessions and
// remember cookies end as well, as its reset_user_access does. Note the
// difference from the application's own password change, which rotates
// fs_uniquifier only and so keeps the user's auth tokens valid when the
// table has fs_token_uniquifier; the Go side's revokes them. A hash
// upgraded on login rotates nothing, on either side.
//
// Emails are compared as strings.EqualFold compares them, as in every
// other store: the database finds the candidates with LIKE (ILIKE on
// PostgreSQL) and a pattern in which every character whose case folding
// leaves ASCII is a wildcard, since SQLite's lower() folds ASCII letters
// only and PostgreSQL's follows the database's LC_CTYPE, and Go compares
// them. (Flask-Security itself compares with lower(), so on SQLite it
// tells "Ärger@…" from "ärger@…"; the Go side does not.) Of several users
// whose emails match, which the table's case-sensitive unique constraint
// allows, the exact one wins; without one UserByEmail answers as for an
// unknown user and logs a warning (authctl users duplicates lists such
// users). The email's unique constraint is case-sensitive, so
// CreateUser and email changes check for case variants inside their
// transaction, on PostgreSQL under an advisory lock; writes made by the
// application itself are not serialized with those checks.
//
// Writes are atomic as [Store]'s are: BEGIN IMMEDIATE on SQLite, SELECT
// ... FOR UPDATE on PostgreSQL. On PostgreSQL, CreateUser moves the ID
// column's sequence past an explicitly given ID, so that the
// application's own inserts do not collide with it.
//
// A FlaskStore is not an [auth.SessionStore], an
// [auth.PersonalTokenStore] nor an [auth.TwoFactorStore]: Flask-Security's
// schema has no table for device sessions or personal access tokens, the
// FlaskStore adds no tables, and it does not read the application's
// authenticator-app keys (tf_totp_secret) or recovery codes
// (mf_recovery_codes; MIGRATING_FROM_FLASK.md says why), so a Manager
// over it serves tokens without refresh tokens, personal access tokens or
// second factors other than passkeys. Nor is it an [auth.PasskeyStore]:
// its [FlaskPasskeyStore] is, over the WebAuthn table (below).
//
// # Flask-Security's WebAuthn credentials
//
// If the database has the table of the application's WebAuthn model
// (web_authn, the table Flask-SQLAlchemy 3 derives from a model class
// named WebAuthn, with fsqla_v3's FsWebAuthnMixin; FlaskSchema names
// another table or other columns), [OpenFlaskSecurity] finds it and
// [FlaskStore.WithPasskeys] returns the store as a [FlaskPasskeyStore],
// an [auth.PasskeyStore], which a Manager with auth.Config.Passkeys takes
// in place of the FlaskStore; passkeys registered on either side then
// sign in on both. Without the table WithPasskeys fails, and auth.New
// refuses Config.Passkeys over the FlaskStore, which has no passkey
// methods. The table and the user table's fs_webauthn_user_handle, which
// the WebAuthn table needs beside it, are used as they are. A row maps
// onto an [auth.Passkey] so:
//
//   - ID is credential_id (Flask-Security's find_webauthn looks it up by
//     it); UserID is user_id in decimal, the owner's ID as the FlaskStore
//     gives it; Name is name, Usage usage ("first" or "secondary", the two
//     Flask-Security knows), PublicKey public_key (COSE), SignCount
//     sign_count (NULL reads as 0).
//   - UserHandle is the owner's fs_webauthn_user_handle as its UTF-8
//     bytes, which Flask-Security gives the browser (handle.encode()) and
//     compares an authenticator's user handle with: one handle a user,
//     kept in the user's row, not the credential's, and NULL or empty
//     reads as nil. The Manager's new handles are 64 hex digits, which
//     the String(64) column holds; a handle that is not text (valid UTF-8
//     without NUL, at most 64 bytes) is refused.
//   - Transports are transports, Flask-Security's AsaList: the names
//     separated by commas, in order.
//   - BackupEligible is device_type = "multi_device" (Flask-Security
//     writes "single_device" otherwise); BackupState is backup_state.
//   - Discoverable is credProps.rk of extensions, the JSON of the
//     browser's client extension results at registration; false when it
//     says nothing, is NULL or is not JSON.
//   - CreatedAt is create_datetime. LastUsedAt is lastuse_datetime, except
//     that a lastuse_datetime equal to create_datetime reads as never
//     used, the zero time: the column is NOT NULL, and AddPasskey writes a
//     passkey never used so. Flask-Security's create_webauthn writes the
//     registration time there (Python's clock, while create_datetime is
//     the database's now(), a moment later and on SQLite to the second),
//     so a passkey it registered reads as last used at its registration,
//     and a sign-in ceremony begun before that is refused. A use at the
//     very microsecond of the creation is written a microsecond later, so
//     that it does not read as never used. A zero CreatedAt, in a NOT
//     NULL column too, is written as 0001-01-01 00:00:00, which reads
//     back as the zero time. Times are naive UTC, as the user table's; on
//     PostgreSQL create_datetime written by Flask-Security's default is
//     in the server's TimeZone, read as UTC like every naive time.
//   - AAGUID and UserVerified have no columns: they read as nil and false
//     and are not written. Package passkey needs neither at sign-in: user
//     verification is checked on each assertion, and the AAGUID only by a
//     metadata service, which it does not use.
//
// [FlaskPasskeyStore.AddPasskey] writes a row as create_webauthn does:
// device_type from BackupEligible, extensions {"credProps":{"rk":true}}
// or {"credProps":{"rk":false}} as a browser reports them, the
// transports, the times. If the owner's fs_webauthn_user_handle is NULL
// (a user made before the application had WebAuthn; Flask-Security's
// create_user gives new users one, as CreateUser does, and its
// /wan-register sets a missing one), the same transaction sets it to the
// passkey's handle; a passkey whose handle differs from the one set is
// refused, since Flask-Security checks every sign-in against that. Names
// are unique per user in Flask-Security's code only, so AddPasskey checks
// them in its transaction, which holds the owner's row lock on PostgreSQL
// (SQLite's write lock on SQLite); the application's own inserts are not
// serialized with that check. Credential IDs carry a unique index as well.
// [FlaskPasskeyStore.UsePasskey] is one UPDATE with the credential ID,
// the owner, since and the count in its WHERE, writing sign_count,
// backup_state and lastuse_datetime (Flask-Security's sign-in also
// rewrites device_type; the Manager does not change it).
// [FlaskPasskeyStore.DeletePasskey] deletes the row and leaves the user's
// handle, as Flask-Security's delete_webauthn does. sign_count is
// Flask-Security's Integer, on PostgreSQL an integer, which holds counts
// up to 2^31-1: AddPasskey and UsePasskey refuse a greater count with an
// error (a bigint column holds every count, as SQLite's integers do).
package sqlstore
