package sqlstore

import "net/url"

// sqlitePragmas are the DSN parameters SQLiteDSN adds, in modernc.org/sqlite's
// syntax. See the package documentation for what each is for.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// SQLiteDSN returns the data source name with which modernc.org/sqlite
// (driver name "sqlite") opens, and creates if needed, the SQLite database
// file at path configured as the package documentation recommends:
//
//	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN("/var/lib/app/auth.db"))
//
// The path is escaped into a "file:" URI, so it may contain any character.
// It does not import the driver; other drivers take other DSNs.
func SQLiteDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqlitePragmas
}
