package sqlstore_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/userkey"
	"github.com/authkit/auth/sqlstore"
)

// oddRoles are role names with the characters an encoding of a list could
// trip over, in an order that is not sorted.
var oddRoles = []string{
	"zeta", `quote"d`, `back\slash`, "a,b", "[x]", " spaced ", "tab\there", "line\nbreak",
	"&<>", "ünïcödé", "emoji 🎉", "sep\u2028arator", "", "admin",
}

// TestRolesRoundTrip checks that roles come back in the order given, once
// each, whatever their characters, from every read, and that user_roles
// holds the same roles as the users row.
func TestRolesRoundTrip(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			s, err := sqlstore.Open(ctx, db, b.dialect)
			if err != nil {
				t.Fatal(err)
			}
			u := &auth.User{ID: "odd", Email: "odd@example.com", Roles: append(slices.Clone(oddRoles), "zeta", "admin")}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			checkRoles(t, s, db, b.dialect, "odd", oddRoles)

			reversed := slices.Clone(oddRoles)
			slices.Reverse(reversed)
			reversed = append(reversed, "new,role")
			err = s.UpdateUser(ctx, "odd", func(u *auth.User) error { u.Roles = append(slices.Clone(reversed), reversed[0]); return nil })
			if err != nil {
				t.Fatal(err)
			}
			checkRoles(t, s, db, b.dialect, "odd", reversed)

			if err := s.UpdateUser(ctx, "odd", func(u *auth.User) error { u.Roles = nil; return nil }); err != nil {
				t.Fatal(err)
			}
			checkRoles(t, s, db, b.dialect, "odd", nil)
		})
	}
}

// TestRolesUpgrade checks that migration 3 fills the users.roles column from
// user_roles: a database at schema version 2, written as that release
// wrote it, reads back the same roles in the same order once opened.
func TestRolesUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			ctx := t.Context()
			db := openDB(t, b.driver, b.newDSN(t))
			if err := sqlstore.MigrateTo(ctx, db, b.dialect, 2); err != nil {
				t.Fatal(err)
			}
			exec := func(query string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, b.dialect.Rebind(query), args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			}
			for _, id := range []string{"1", "2", "3"} {
				email := "user" + id + "@example.com"
				exec("INSERT INTO users (id, email, email_key) VALUES (?, ?, ?)", id, email, userkey.Email(email))
			}
			for _, name := range slices.Sorted(slices.Values(oddRoles)) {
				exec("INSERT INTO roles (name) VALUES (?)", name)
			}
			link := "INSERT INTO user_roles (user_id, position, role_id) SELECT ?, ?, id FROM roles WHERE name = ?"
			// Rows inserted out of order: the position is what counts.
			for i := len(oddRoles) - 1; i >= 0; i-- {
				exec(link, "1", i, oddRoles[i])
			}
			exec(link, "3", 0, "admin")
			// User 2 has no roles.
			if _, err := db.ExecContext(ctx, "SELECT roles FROM users"); err == nil {
				t.Fatal("the database at schema version 2 has a roles column already")
			}

			s, err := sqlstore.Open(ctx, db, b.dialect)
			if err != nil {
				t.Fatal(err)
			}
			checkRoles(t, s, db, b.dialect, "1", oddRoles)
			checkRoles(t, s, db, b.dialect, "2", nil)
			checkRoles(t, s, db, b.dialect, "3", []string{"admin"})

			// Writes after the upgrade keep both in step.
			err = s.UpdateUser(ctx, "2", func(u *auth.User) error { u.Roles = []string{"admin", "a,b"}; return nil })
			if err != nil {
				t.Fatal(err)
			}
			checkRoles(t, s, db, b.dialect, "2", []string{"admin", "a,b"})
			checkRoles(t, s, db, b.dialect, "1", oddRoles)
		})
	}
}

// checkRoles checks that UserByID, UserByEmail and ListUsers give user id
// the roles want, in order, and that user_roles lists the same.
func checkRoles(t *testing.T, s *sqlstore.Store, db *sql.DB, dialect sqlstore.Dialect, id string, want []string) {
	t.Helper()
	ctx := t.Context()
	u, err := s.UserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	same := func(got []string) bool { return slices.Equal(got, want) && (got == nil) == (want == nil) }
	if !same(u.Roles) {
		t.Errorf("UserByID(%q).Roles = %q, want %q", id, u.Roles, want)
	}
	if byEmail, err := s.UserByEmail(ctx, u.Email); err != nil || !same(byEmail.Roles) {
		t.Errorf("UserByEmail(%q) = %v, %v; want roles %q", u.Email, byEmail, err, want)
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(u *auth.User) bool { return u.ID == id })
	if i < 0 || !same(users[i].Roles) {
		t.Errorf("ListUsers: user %q missing or roles not %q", id, want)
	}
	if got := tableRoles(ctx, t, db, dialect, id); !slices.Equal(got, want) {
		t.Errorf("user_roles of %q = %q, want %q", id, got, want)
	}
}

// tableRoles returns the roles user_roles gives user id, in order.
func tableRoles(ctx context.Context, t *testing.T, db *sql.DB, dialect sqlstore.Dialect, id string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, dialect.Rebind(`SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
		WHERE ur.user_id = ? ORDER BY ur.position`), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}
