package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Dialect names the SQL database behind a *sql.DB. The zero value is not a
// dialect: [Open] rejects it.
type Dialect int

// The dialects the package supports.
const (
	// SQLite, through modernc.org/sqlite or another driver.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL, through github.com/jackc/pgx/v5/stdlib or
	// another driver.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// valid reports whether d is one of the supported dialects.
func (d Dialect) valid() bool {
	return d == SQLite || d == Postgres
}

// sqliteTimeLayout is how times are written to SQLite: UTC, fixed width, so
// that the text sorts as the times do.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg converts t to the value stored for it: NULL for the zero time,
// otherwise t in UTC truncated to the microsecond, as a time.Time for
// PostgreSQL's timestamptz and as text for SQLite.
func (d Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if d == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// rebind rewrites the ? placeholders of query into PostgreSQL's $1, $2, ….
// The package's queries contain no other question marks.
func (d Dialect) rebind(query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
