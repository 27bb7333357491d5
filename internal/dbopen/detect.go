package dbopen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Schema names the tables a database holds.
type Schema string

// The schemas Detect tells apart.
const (
	// Native is package sqlstore's own schema, with its schema_migrations.
	Native Schema = "native"
	// FlaskSecurity is a Flask-Security application's: a user table with
	// fs_uniquifier and no schema_migrations.
	FlaskSecurity Schema = "flask-security"
)

// ErrEmptyDatabase: the database holds no tables at all.
var ErrEmptyDatabase = errors.New("the database has no tables")

// ErrForeignSchema: the database holds tables of neither sqlstore's schema
// nor Flask-Security's.
var ErrForeignSchema = errors.New("the database holds tables of another schema")

// Detect reports which schema the database dsn names holds, without
// creating, migrating or setting anything: an SQLite file is opened as
// [OpenFlask] opens it, with no setting that stays with the file. It
// returns an error matching [ErrNoDatabase] for a missing SQLite file,
// [ErrEmptyDatabase] for a database without tables (in PostgreSQL's current
// schema) and [ErrForeignSchema] for one that holds other tables only.
func Detect(ctx context.Context, dsn string) (Schema, error) {
	db, _, err := pool(dsn, false, flaskSQLiteDSN)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return "", fmt.Errorf("connecting to the database: %w", err)
	}
	tablesQ := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	columnsQ := `SELECT name FROM pragma_table_info('user')`
	if IsPostgres(dsn) {
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
		columnsQ = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'user'`
	}
	tables, err := names(ctx, db, tablesQ)
	if err != nil {
		return "", fmt.Errorf("reading the database's tables: %w", err)
	}
	switch {
	case len(tables) == 0:
		return "", ErrEmptyDatabase
	case slices.Contains(tables, "schema_migrations"):
		return Native, nil
	case slices.Contains(tables, "user"):
		cols, err := names(ctx, db, columnsQ)
		if err != nil {
			return "", fmt.Errorf("reading the columns of table user: %w", err)
		}
		if slices.Contains(cols, "fs_uniquifier") {
			return FlaskSecurity, nil
		}
	}
	slices.Sort(tables)
	return "", fmt.Errorf("%w (%d tables: %s), neither sqlstore's (no schema_migrations) nor Flask-Security's (no user table with fs_uniquifier)",
		ErrForeignSchema, len(tables), abbreviate(tables, 5))
}

// names runs a query of one text column and returns its values.
func names(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// abbreviate joins the first n of list, and says how many more there are.
func abbreviate(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:n], ", "), len(list)-n)
}
