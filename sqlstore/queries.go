package sqlstore

// queries holds the statements of one dialect, placeholders already
// rewritten, built once by [Open].
type queries struct {
	byID, byEmail, forUpdate, all string // reads, rows scanned by scanUser
	emailTaken                    string // 1 if a user holds the email key
	insertUser                    string // affects no row on any conflict
	updateUser                    string
	nextID                        string // advances and returns the ID counter
	insertRole                    string // no-op if the role exists
	linkRole                      string // user ID, position, role name
	unlinkRoles                   string
}

// userColumns are the columns scanUser reads, in its order: the whole row
// but email_key, the roles included (migration 3).
const userColumns = `id, email, password_hash, active, confirmed, uniquifier,
	last_login_at, current_login_at, last_login_ip, current_login_ip, login_count, roles`

// newQueries returns the statements for d.
func newQueries(d Dialect) queries {
	// A lookup reads one row through the primary key (or the email
	// index): the roles are a column of it, kept in step with user_roles
	// by the writes.
	lock := "" // SQLite already holds the write lock when it reads for update.
	if d == Postgres {
		lock = " FOR UPDATE"
	}
	sel := "SELECT " + userColumns + " FROM users"
	q := queries{
		byID:       sel + " WHERE id = ?",
		byEmail:    sel + " WHERE email_key = ?",
		forUpdate:  sel + " WHERE id = ?" + lock,
		all:        sel,
		emailTaken: "SELECT 1 FROM users WHERE email_key = ?",
		insertUser: `INSERT INTO users (id, email, email_key, password_hash, active, confirmed, uniquifier,
			last_login_at, current_login_at, last_login_ip, current_login_ip, login_count, roles)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
		updateUser: `UPDATE users SET email = ?, email_key = ?, password_hash = ?, active = ?, confirmed = ?,
			uniquifier = ?, last_login_at = ?, current_login_at = ?, last_login_ip = ?,
			current_login_ip = ?, login_count = ?, roles = ?
			WHERE id = ?`,
		nextID:      "UPDATE user_id_counter SET last_id = last_id + 1 RETURNING last_id",
		insertRole:  "INSERT INTO roles (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
		linkRole:    "INSERT INTO user_roles (user_id, position, role_id) SELECT ?, ?, id FROM roles WHERE name = ?",
		unlinkRoles: "DELETE FROM user_roles WHERE user_id = ?",
	}
	for _, p := range []*string{
		&q.byID, &q.byEmail, &q.forUpdate, &q.all, &q.emailTaken, &q.insertUser,
		&q.updateUser, &q.nextID, &q.insertRole, &q.linkRole, &q.unlinkRoles,
	} {
		*p = d.rebind(*p)
	}
	return q
}
