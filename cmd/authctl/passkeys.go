package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
)

// usersPasskeys lists the user's passkeys, or with --delete NAME deletes
// the one of that name (names are unique among a user's passkeys and
// compared exactly, as the account page compares them).
func usersPasskeys(ctx context.Context, a *app, o *options, args []string) error {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	ps, ok := s.(auth.PasskeyStore)
	if fs, isFlask := s.(*sqlstore.FlaskStore); isFlask {
		fps, err := fs.WithPasskeys()
		if err != nil {
			return errors.New("the Flask-Security database keeps no passkeys: it has no WebAuthn table (its app has no WebAuthn model)")
		}
		ps, ok = fps, true
	}
	if !ok {
		return fmt.Errorf("the store of %s keeps no passkeys (it is no auth.PasskeyStore)", a.dsn)
	}
	u, err := findUser(ctx, s, args[0])
	if err != nil {
		return err
	}
	list, err := ps.Passkeys(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("reading the passkeys of %s: %w", u.Email, err)
	}
	if o.deletePasskey {
		for _, p := range list {
			if p.Name != o.passkey {
				continue
			}
			if err := ps.DeletePasskey(ctx, u.ID, p.ID); err != nil {
				return fmt.Errorf("deleting passkey %q of %s: %w", printable(p.Name), u.Email, err)
			}
			fmt.Fprintf(a.stdout, "deleted passkey %q (%s) of %s: it signs in no more\n", printable(p.Name), printable(p.Usage), u.Email)
			return nil
		}
		return fmt.Errorf("%s has no passkey named %q", u.Email, printable(o.passkey))
	}
	if len(list) == 0 {
		fmt.Fprintf(a.stdout, "no passkeys of %s\n", u.Email)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tUSAGE\tCREATED\tLAST USED\tSIGN COUNT\tDEVICE\tCREDENTIAL ID")
	for _, p := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(printable(p.Name)), orDash(printable(p.Usage)),
			timeOrDash(p.CreatedAt), timeOrDash(p.LastUsedAt), strconv.FormatUint(uint64(p.SignCount), 10),
			deviceType(&p), base64.RawURLEncoding.EncodeToString(p.ID))
	}
	return w.Flush()
}

// deviceType is "multi" for a passkey that may be synced to the owner's
// other devices (backup eligible), "single" for one bound to its
// authenticator, as Flask-Security's device_type says.
func deviceType(p *auth.Passkey) string {
	if p.BackupEligible {
		return "multi"
	}
	return "single"
}
