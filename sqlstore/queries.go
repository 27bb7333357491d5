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

// userColumns are the columns scanUser reads, in its order, followed there
// by the user's roles as a JSON array.
const userColumns = `u.id, u.email, u.password_hash, u.active, u.confirmed, u.uniquifier,
	u.last_login_at, u.current_login_at, u.last_login_ip, u.current_login_ip, u.login_count`

// newQueries returns the statements for d.
func newQueries(d Dialect) queries {
	// The roles come along in the same row, so that a lookup is one query
	// using the primary key (or the email index) and user_roles' key.
	roles := `(SELECT json_group_array(r.name ORDER BY ur.position)
		FROM user_roles ur JOIN roles r ON r.id = ur.role_id
		WHERE ur.user_id = u.id)`
	lock := "" // SQLite already holds the write lock when it reads for update.
	if d == Postgres {
		roles = `(SELECT COALESCE(json_agg(r.name ORDER BY ur.position), '[]')::text
		FROM user_roles ur JOIN roles r ON r.id = ur.role_id
		WHERE ur.user_id = u.id)`
		lock = " FOR UPDATE OF u"
	}
	sel := "SELECT " + userColumns + ",\n\t" + roles + "\nFROM users u"
	q := queries{
		byID:       sel + " WHERE u.id = ?",
		byEmail:    sel + " WHERE u.email_key = ?",
		forUpdate:  sel + " WHERE u.id = ?" + lock,
		all:        sel,
		emailTaken: "SELECT 1 FROM users WHERE email_key = ?",
		insertUser: `INSERT INTO users (id, email, email_key, password_hash, active, confirmed, uniquifier,
			last_login_at, current_login_at, last_login_ip, current_login_ip, login_count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
		updateUser: `UPDATE users SET email = ?, email_key = ?, password_hash = ?, active = ?, confirmed = ?,
			uniquifier = ?, last_login_at = ?, current_login_at = ?, last_login_ip = ?,
			current_login_ip = ?, login_count = ?
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
