package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/authkit/auth/internal/mailflags"
	"github.com/authkit/auth/pat"

	"github.com/authkit/auth"
)

// command is one authctl command.
type command struct {
	name string // group and subcommand, "users create"
	args string // synopsis of the arguments
	help string
	// pos names the positional arguments the command requires, opt the
	// ones that may follow them.
	pos, opt []string
	// flags defines the command's flags on fs, storing into o.
	flags func(fs *flag.FlagSet, o *options)
	run   func(ctx context.Context, a *app, o *options, args []string) error
}

// options holds the values of every command's flags.
type options struct {
	roles         stringList
	confirmed     bool
	passwordStdin bool
	noPassword    bool
	all           bool
	maxAge        time.Duration
	digest        string
	baseURL       string
	mail          mailflags.Flags
	name          string        // tokens create --name
	scopes        stringList    // tokens create --scope
	expires       time.Duration // tokens create --expires
	prefix        string        // tokens create --prefix
	passkey       string        // users passkeys --delete
	deletePasskey bool          // users passkeys --delete given
}

// linkFlags defines the flags of the commands that mail a link.
func linkFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.baseURL, "base-url", "", "the server's public origin, as its -base-url gives it (required): the link is `URL`/auth/…")
	o.mail.Define(fs, "the message")
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// commands lists every command, in the order of the usage text.
var commands = []command{
	{
		name: "users create", args: "EMAIL [--role ROLE]... [--confirmed] [--password-stdin | --no-password]",
		help: "Creates an active user with the given email, roles and password (asked for\ntwice on the terminal). The SQLite file is created if it does not exist.",
		pos:  []string{"EMAIL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.Var(&o.roles, "role", "give the user `ROLE` (repeatable)")
			fs.BoolVar(&o.confirmed, "confirmed", false, "mark the account as confirmed")
			fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
			fs.BoolVar(&o.noPassword, "no-password", false, "create the user without a password (no password login)")
		},
		run: usersCreate,
	},
	{
		name: "users list", help: "Lists every user.",
		run: usersList,
	},
	{
		name: "users duplicates", help: "Lists the users whose emails differ only in case (a Flask-Security\ndatabase may hold them; logins naming neither exact email are refused).",
		run: usersDuplicates,
	},
	{
		name: "users set-password", args: "EMAIL [--password-stdin]",
		help: "Sets a new password (asked for twice on the terminal), revokes the user's\ntokens and deletes the user's personal access tokens.",
		pos:  []string{"EMAIL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
		},
		run: usersSetPassword,
	},
	{
		name: "users activate", args: "EMAIL", help: "Lets the user log in and use tokens again.",
		pos: []string{"EMAIL"}, run: setter("active", func(u *auth.User) { u.Active = true }),
	},
	{
		name: "users deactivate", args: "EMAIL", help: "Stops the user from logging in and from using any token.",
		pos: []string{"EMAIL"}, run: setter("inactive", func(u *auth.User) { u.Active = false }),
	},
	{
		name: "users confirm", args: "EMAIL", help: "Marks the user's account as confirmed.",
		pos: []string{"EMAIL"}, run: setter("confirmed", func(u *auth.User) { u.Confirmed = true }),
	},
	{
		name: "users send-confirmation", args: "EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]",
		help: "Mails the user the link that confirms the address, as the server's POST\n/auth/confirm does, for an active user not yet confirmed. The link is the\none the server at -base-url mails, and works there: it is signed with the\nserver's key ($AUTH_SECRET, or the secret file beside an SQLite database).\nThe message goes where the flags say, as the server's: -smtp (with\n$MAIL_FROM, $SMTP_USERNAME, $SMTP_PASSWORD), -mail-dir, or else to stdout.",
		pos:  []string{"EMAIL"}, flags: linkFlags, run: usersSendConfirmation,
	},
	{
		name: "users send-reset", args: "EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]",
		help: "Mails an active user a password reset link, as the server's POST\n/auth/reset does; the link works once, at the server at -base-url, for a\nday. Key and mail as for users send-confirmation.",
		pos:  []string{"EMAIL"}, flags: linkFlags, run: usersSendReset,
	},
	{
		name: "users 2fa-reset", args: "EMAIL",
		help: "Turns the user's second factor off, for one who lost the phone and the\nrecovery codes: deletes the authenticator app's key and the recovery codes,\nso the password alone logs in until the user sets a factor up again.\nsqlstore's tables, or a Flask-Security database's tf_ columns.",
		pos:  []string{"EMAIL"}, run: usersTwoFactorReset,
	},
	{
		name: "users passkeys", args: "EMAIL [--delete NAME]",
		help: "Lists the user's passkeys (WebAuthn credentials), oldest first: name, usage\n(first: signs in alone; secondary: a second factor after the password),\ncreated and last used (UTC), sign count, device type (multi: may be synced\nto the user's other devices; single: bound to its authenticator) and\ncredential ID (base64url). --delete NAME deletes the passkey of that name,\nfor a lost security key or phone: it signs in no more. sqlstore's tables,\nor a Flask-Security database's WebAuthn table.",
		pos:  []string{"EMAIL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.Func("delete", "delete the user's passkey named `NAME` (exactly)", func(v string) error {
				if v == "" {
					return errors.New("want the passkey's name")
				}
				o.passkey, o.deletePasskey = v, true
				return nil
			})
		},
		run: usersPasskeys,
	},
	{
		name: "roles add", args: "EMAIL ROLE", help: "Gives the user a role.",
		pos: []string{"EMAIL", "ROLE"}, run: rolesAdd,
	},
	{
		name: "roles remove", args: "EMAIL ROLE", help: "Takes a role from the user.",
		pos: []string{"EMAIL", "ROLE"}, run: rolesRemove,
	},
	{
		name: "tokens revoke", args: "EMAIL",
		help: "Rotates the user's uniquifier, so every token issued to the user so far\nstops verifying at once. Personal access tokens outlive it: tokens revoke-id\nends one, users set-password all of them.",
		pos:  []string{"EMAIL"}, run: tokensRevoke,
	},
	{
		name: "tokens inspect", args: "TOKEN",
		help: "Decodes a token's payload and timestamp WITHOUT checking its signature or\nage. Needs no database and no key. TOKEN \"-\" is read from stdin; put \"--\"\nbefore a token that starts with \"-\".",
		pos:  []string{"TOKEN"}, run: tokensInspect,
	},
	{
		name: "tokens verify", args: "TOKEN [--max-age DURATION] [--digest sha1|sha256|sha512]",
		help: "Verifies a token as the service would, with the key in $AUTH_SECRET and the\nsalt in $AUTH_TOKEN_SALT, and shows whose it is. TOKEN \"-\" is read from\nstdin; put \"--\" before a token that starts with \"-\".",
		pos:  []string{"TOKEN"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.DurationVar(&o.maxAge, "max-age", 0, "maximum token age (default: the package default, 24h)")
			fs.StringVar(&o.digest, "digest", "", "token HMAC digest (default: the package default, sha256)")
		},
		run: tokensVerify,
	},
	{
		name: "tokens list", args: "EMAIL",
		help: "Lists the user's personal access tokens, newest first: ID, name, scopes,\ncreated, last used and expiry (UTC). Never a token's secret, which the store\ndoes not keep. Needs sqlstore's tables: a Flask-Security database keeps no\npersonal access tokens.",
		pos:  []string{"EMAIL"}, run: tokensList,
	},
	{
		name: "tokens create", args: "EMAIL --name NAME --scope SCOPE... [--expires DURATION] [--prefix PREFIX]",
		help: "Makes the user a personal access token with the given name (at most 100\ncharacters) and scopes and prints it once, with its ID: the store keeps only\nits SHA-256. A scope is 1 to 64 bytes of printable ASCII without spaces, '\"'\nor '\\'; the server grants only the scopes its configuration declares and\nthe user's roles allow. The token stops working when it expires (--expires\n0: never), when it is revoked (tokens revoke-id), when the user is\ndeactivated, and with a new password; it outlives tokens revoke and logout.\nA user has at most 100.",
		pos:  []string{"EMAIL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.name, "name", "", "the token's `NAME`, for the user's listing (required)")
			fs.Var(&o.scopes, "scope", "let the token do `SCOPE` (repeatable; at least one)")
			fs.DurationVar(&o.expires, "expires", defaultTokenLifetime, "the token's lifetime; 0: it never expires")
			fs.StringVar(&o.prefix, "prefix", pat.DefaultPrefix, "the token's `PREFIX`: 2 to 16 lowercase letters, digits and underscores, ending with an underscore")
		},
		run: tokensCreate,
	},
	{
		name: "tokens revoke-id", args: "ID",
		help: "Deletes the personal access token with the given ID (see tokens list): it\nstops working at once, on running servers within a second. Put \"--\" before\nan ID that starts with \"-\".",
		pos:  []string{"ID"}, run: tokensRevokeID,
	},
	{
		name: "sessions list", args: "EMAIL [--all]",
		help: "Lists the user's live device sessions (refresh tokens), as GET\n/auth/sessions does with the default lifetimes: of the user's current\nuniquifier, refreshed within 7 days and begun within 90. --all lists every\nstored one, with its state (live, revoked, idle, expired). Needs sqlstore's\ntables: a Flask-Security database keeps no sessions.",
		pos:  []string{"EMAIL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.all, "all", false, "list the sessions that can no longer be refreshed too")
		},
		run: sessionsList,
	},
	{
		name: "sessions revoke", args: "EMAIL [ID]",
		help: "Ends the user's device session ID, or with no ID every one of them, and\nsays how many ended: their refresh tokens stop working. The access token a\nsession last issued stays valid until it expires; tokens revoke ends those\ntoo.",
		pos:  []string{"EMAIL"}, opt: []string{"ID"}, run: sessionsRevoke,
	},
}

// runCommand parses the command's flags, which may come before, between
// or after its arguments, checks the number of arguments and runs it.
func (a *app) runCommand(ctx context.Context, c command, args []string) error {
	fs := flag.NewFlagSet("authctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {}
	var o options
	if c.flags != nil {
		c.flags(fs, &o)
	}
	var tail []string // everything after "--" is an argument
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				commandUsage(a.stdout, c, fs)
				return flag.ErrHelp
			}
			commandUsage(a.stderr, c, fs)
			return fmt.Errorf("%s: %w", c.name, errUsage)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	pos = append(pos, tail...)
	if len(pos) < len(c.pos) || len(pos) > len(c.pos)+len(c.opt) {
		commandUsage(a.stderr, c, fs)
		if len(pos) < len(c.pos) {
			return fmt.Errorf("%s: missing %s: %w", c.name, strings.Join(c.pos[len(pos):], " "), errUsage)
		}
		return fmt.Errorf("%s: unexpected argument %q: %w", c.name, pos[len(c.pos)+len(c.opt)], errUsage)
	}
	return c.run(ctx, a, &o, pos)
}

// commandUsage writes the usage of one command.
func commandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: authctl [-db DSN] %s %s\n\n%s\n", c.name, c.args, c.help)
	if c.flags != nil {
		fmt.Fprintf(w, "\nOptions:\n")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}
