package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/userkey"
)

func usersCreate(ctx context.Context, a *app, o *options, args []string) error {
	email := args[0]
	if email == "" || strings.TrimSpace(email) != email {
		return fmt.Errorf("users create: EMAIL %q is empty or has surrounding spaces: %w", email, errUsage)
	}
	if err := checkEmail(email); err != nil {
		return fmt.Errorf("users create: %w: %w", err, errUsage)
	}
	if o.noPassword && o.passwordStdin {
		return fmt.Errorf("users create: --no-password and --password-stdin exclude each other: %w", errUsage)
	}
	for _, r := range o.roles {
		if r == "" {
			return fmt.Errorf("users create: empty --role: %w", errUsage)
		}
	}
	s, done, err := a.open(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	// Refuse a taken email before asking for a password; CreateUser
	// checks again.
	if _, err := s.UserByEmail(ctx, email); err == nil {
		return fmt.Errorf("a user with email %q already exists", email)
	} else if !errors.Is(err, auth.ErrUserNotFound) {
		return err
	}
	m, err := a.manager(s, auth.Config{}, false, !o.noPassword)
	if err != nil {
		return err
	}
	u := &auth.User{Email: email, Active: true, Roles: o.roles, Uniquifier: auth.NewUniquifier()}
	if !o.noPassword {
		pw, err := a.readPassword(o.passwordStdin, true)
		if err != nil {
			return err
		}
		if u, err = m.NewUser(email, pw, o.roles...); err != nil {
			return err
		}
	}
	u.Confirmed = o.confirmed
	if err := s.CreateUser(ctx, u); err != nil {
		if errors.Is(err, auth.ErrDuplicateEmail) {
			return fmt.Errorf("a user with email %q already exists", email)
		}
		return err
	}
	fmt.Fprintf(a.stdout, "created user %s <%s>\n", u.ID, u.Email)
	return nil
}

func usersList(ctx context.Context, a *app, _ *options, _ []string) error {
	users, err := allUsers(ctx, a)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tACTIVE\tCONFIRMED\tPASSWORD\tROLES\tLOGINS\tLAST LOGIN")
	for _, u := range users {
		roles := strings.Join(u.Roles, ",")
		if roles == "" {
			roles = "-"
		}
		last := "-"
		if !u.CurrentLoginAt.IsZero() {
			last = u.CurrentLoginAt.UTC().Format(time.RFC3339) + " " + u.CurrentLoginIP
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			u.ID, u.Email, yesNo(u.Active), yesNo(u.Confirmed), yesNo(u.PasswordHash != ""), roles, u.LoginCount, last)
	}
	return w.Flush()
}

// allUsers opens the store and lists its users.
func allUsers(ctx context.Context, a *app) ([]*auth.User, error) {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done()
	return s.ListUsers(ctx)
}

// usersDuplicates lists the groups of users whose emails are equal under
// the stores' comparison (strings.EqualFold), one line per user, groups
// apart by a blank line.
func usersDuplicates(ctx context.Context, a *app, _ *options, _ []string) error {
	users, err := allUsers(ctx, a)
	if err != nil {
		return err
	}
	groups := map[string][]*auth.User{}
	var keys []string
	for _, u := range users {
		k := userkey.Email(u.Email)
		if len(groups[k]) == 1 {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], u)
	}
	if len(keys) == 0 {
		fmt.Fprintln(a.stdout, "no two users' emails differ only in case")
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tACTIVE\tLOGINS")
	for i, k := range keys {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, u := range groups[k] {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", u.ID, u.Email, yesNo(u.Active), u.LoginCount)
		}
	}
	return w.Flush()
}

// checkEmail applies Manager.NewUser's rule, for the users made without a
// password too: a plain address, which net/mail parses into itself.
func checkEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil {
		return fmt.Errorf("%w %q: %v", auth.ErrInvalidEmail, email, err)
	}
	if a.Name != "" || a.Address != email {
		return fmt.Errorf("%w %q: want a plain address such as %q", auth.ErrInvalidEmail, email, a.Address)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func usersSetPassword(ctx context.Context, a *app, o *options, args []string) error {
	m, s, u, done, err := a.openUser(ctx, args[0], true)
	if err != nil {
		return err
	}
	defer done()
	pw, err := a.readPassword(o.passwordStdin, true)
	if err != nil {
		return err
	}
	// A new password ends the user's personal access tokens too (they
	// outlive the uniquifier's rotation): SetPassword deletes them; they
	// are counted first, for the report.
	ended := ""
	if ps, ok := s.(auth.PersonalTokenStore); ok {
		list, err := ps.UserPersonalTokens(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("reading the personal access tokens of %s: %w", u.Email, err)
		}
		n := len(list)
		ended = fmt.Sprintf(", and %d personal access %s deleted", n, plural(n, "token", "tokens"))
	}
	if err := m.SetPassword(ctx, u.ID, pw); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "password changed for %s; tokens issued before are revoked%s\n", u.Email, ended)
	return nil
}

// setter returns a command that changes one thing about a user and reports
// the user's new state.
func setter(state string, set func(*auth.User)) func(context.Context, *app, *options, []string) error {
	return func(ctx context.Context, a *app, _ *options, args []string) error {
		return updateUser(ctx, a, args[0], func(u *auth.User) (string, error) {
			set(u)
			return fmt.Sprintf("%s is now %s", u.Email, state), nil
		})
	}
}

func rolesAdd(ctx context.Context, a *app, _ *options, args []string) error {
	role := args[1]
	if role == "" {
		return fmt.Errorf("roles add: empty ROLE: %w", errUsage)
	}
	return updateUser(ctx, a, args[0], func(u *auth.User) (string, error) {
		if u.HasRole(role) {
			return fmt.Sprintf("%s already has role %q", u.Email, role), nil
		}
		u.Roles = append(u.Roles, role)
		return fmt.Sprintf("%s now has roles %s", u.Email, strings.Join(u.Roles, ",")), nil
	})
}

func rolesRemove(ctx context.Context, a *app, _ *options, args []string) error {
	role := args[1]
	return updateUser(ctx, a, args[0], func(u *auth.User) (string, error) {
		if !u.HasRole(role) {
			return fmt.Sprintf("%s does not have role %q", u.Email, role), nil
		}
		u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == role })
		if len(u.Roles) == 0 {
			return fmt.Sprintf("%s now has no roles", u.Email), nil
		}
		return fmt.Sprintf("%s now has roles %s", u.Email, strings.Join(u.Roles, ",")), nil
	})
}

// updateUser finds the user by email and applies change in one UpdateUser,
// then prints the message change returned.
func updateUser(ctx context.Context, a *app, email string, change func(*auth.User) (string, error)) error {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	u, err := findUser(ctx, s, email)
	if err != nil {
		return err
	}
	var msg string
	err = s.UpdateUser(ctx, u.ID, func(u *auth.User) error {
		var err error
		msg, err = change(u)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, msg)
	return nil
}

// usersTwoFactorReset turns the user's second factor off: DeleteTwoFactor
// removes the app's key and the recovery codes, which are counted first
// for the report.
func usersTwoFactorReset(ctx context.Context, a *app, _ *options, args []string) error {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	u, err := findUser(ctx, s, args[0])
	if err != nil {
		return err
	}
	ts, ok := s.(auth.TwoFactorStore)
	if !ok && a.flask {
		return errors.New("the Flask-Security database keeps no second factors (they need sqlstore's own tables)")
	}
	if !ok {
		return fmt.Errorf("the store of %s keeps no second factors (it is no auth.TwoFactorStore): %s has none to reset", a.dsn, u.Email)
	}
	had := ""
	f, err := ts.TwoFactor(ctx, u.ID)
	switch {
	case errors.Is(err, auth.ErrTokenNotFound):
	case err != nil:
		return fmt.Errorf("reading the second factor of %s: %w", u.Email, err)
	case f.Enabled:
		had = "its authenticator app"
	default:
		had = "a setup not finished"
	}
	left, err := ts.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("reading the recovery codes of %s: %w", u.Email, err)
	}
	// Passkeys that are second factors stay: users passkeys --delete
	// removes them.
	secondary := 0
	if ps, ok := s.(auth.PasskeyStore); ok {
		list, err := ps.Passkeys(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("reading the passkeys of %s: %w", u.Email, err)
		}
		for _, p := range list {
			if p.Usage == "secondary" {
				secondary++
			}
		}
	}
	after := "the password alone logs in now"
	if secondary > 0 {
		after = fmt.Sprintf("%d %s still a second factor (users passkeys %s)", secondary,
			plural(secondary, "passkey is", "passkeys are"), u.Email)
	}
	if had == "" && left == 0 {
		fmt.Fprintf(a.stdout, "%s has no authenticator app or recovery codes; nothing changed", u.Email)
		if secondary > 0 {
			fmt.Fprintf(a.stdout, "; %s", after)
		}
		fmt.Fprintln(a.stdout)
		return nil
	}
	if err := ts.DeleteTwoFactor(ctx, u.ID); err != nil {
		return fmt.Errorf("deleting the second factor of %s: %w", u.Email, err)
	}
	if had == "" {
		had = "no authenticator app"
	}
	fmt.Fprintf(a.stdout, "second factor of %s turned off: deleted %s and %d recovery %s; %s\n",
		u.Email, had, left, plural(left, "code", "codes"), after)
	return nil
}
