// Command authctl manages the users of an auth store kept by package
// sqlstore, in SQLite or PostgreSQL, and inspects tokens.
//
// Usage:
//
//	authctl [-db DSN] [-schema native|flask-security] [-bcrypt-cost N] COMMAND [ARGS]
//
// The commands:
//
//	users create EMAIL [--role ROLE]... [--confirmed] [--password-stdin | --no-password]
//	users list
//	users duplicates
//	users set-password EMAIL [--password-stdin]
//	users activate EMAIL
//	users deactivate EMAIL
//	users confirm EMAIL
//	users send-confirmation EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]
//	users send-reset EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]
//	users 2fa-reset EMAIL
//	users passkeys EMAIL [--delete NAME]
//	roles add EMAIL ROLE
//	roles remove EMAIL ROLE
//	tokens revoke EMAIL
//	tokens inspect TOKEN
//	tokens verify TOKEN [--max-age DURATION] [--digest sha1|sha256|sha512]
//	tokens list EMAIL
//	tokens create EMAIL --name NAME --scope SCOPE... [--expires DURATION] [--prefix PREFIX]
//	tokens revoke-id ID
//	sessions list EMAIL [--all]
//	sessions revoke EMAIL [ID]
//
// DSN is a postgres:// or postgresql:// URL for PostgreSQL (through the pgx
// driver) or else the path of an SQLite file (modernc.org/sqlite), opened
// with [sqlstore.SQLiteDSN]; only "users create" makes a new file. Without
// -db the DSN comes from $AUTH_DB.
//
// authctl works on the tables it finds, or the ones -schema names:
// sqlstore's own, or an existing Flask-Security database's, used as they
// are (password hashes written with the app's $SECURITY_PASSWORD_SALT and
// $SECURITY_PASSWORD_HASH). It never adds tables to a database of another
// schema, and only "users create" makes sqlstore's tables in an empty one.
//
// Passwords are never taken from the command line: they are read from the
// terminal without echo, or with --password-stdin as the first line of the
// standard input. A TOKEN of "-" is read from the standard input too, which
// keeps it out of the shell's history.
//
// "tokens verify" checks a token as the service would, with the signing key
// in $AUTH_SECRET (unset: the secret file beside an SQLite database,
// DB.secret, as the example server keeps it) and the salt in $AUTH_TOKEN_SALT (default
// "authkit-token"). "tokens inspect" only decodes a token, without
// checking anything, and says so.
//
// "users send-confirmation" and "users send-reset" mail a link as the
// example server's account handler does, through the library's own
// handler served in-process: the link is signed with the server's key (as
// for "tokens verify") and made under -base-url, the server's own
// -base-url, so that it works there. The message goes where the server's
// mail flags would send it: -smtp HOST:PORT (with $MAIL_FROM,
// $SMTP_USERNAME, $SMTP_PASSWORD and -smtp-security starttls, tls or
// insecure), -mail-dir DIR, or else stdout.
//
// "sessions list" and "sessions revoke" show and end the device sessions
// that refresh tokens carry (see [auth.RefreshConfig]), on sqlstore's
// tables; a Flask-Security database keeps none. "sessions list" shows the
// live ones, as GET /sessions lists them with the default lifetimes (7 days
// idle, 90 days in all), or with --all every stored one and its state.
//
// "tokens list", "tokens create" and "tokens revoke-id" show, make and
// delete personal access tokens (see [auth.PersonalTokenStore]), on
// sqlstore's tables; a Flask-Security database keeps none. "tokens create"
// prints the new token once: the store keeps only its SHA-256 (package
// [github.com/authkit/auth/pat]). It lasts 30 days unless --expires says
// otherwise (0: never). Personal access tokens outlive "tokens revoke";
// "users set-password" deletes them, as a new password does on the server.
//
// "users 2fa-reset" turns a user's second factor off (see
// [auth.TwoFactorStore]) for one who lost the phone and the recovery
// codes: the authenticator app's key and the recovery codes are deleted,
// and the password alone logs in again, until the user sets a factor up
// anew. sqlstore's tables keep second factors; a Flask-Security database
// keeps none.
//
// "users passkeys" lists a user's passkeys (see [auth.PasskeyStore]): name,
// usage, when made and last used, sign count, device type and credential
// ID; with --delete NAME it deletes one, for a lost security key or phone,
// and the passkey signs in no more. "users 2fa-reset" leaves passkeys
// alone: one of usage "secondary" stays a second factor. sqlstore's tables
// keep passkeys; a Flask-Security database keeps none.
//
// Every command answers -h with its usage. Errors go to the standard
// error; the exit status is 0 on success, 1 on failure and 2 on a usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/authkit/auth/internal/mailflags"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usage is the text of authctl -h.
const usage = `usage: authctl [-db DSN] [-schema native|flask-security] [-bcrypt-cost N] COMMAND [ARGS]

Manages the users of an auth store in SQLite or PostgreSQL.

Commands:
  users create EMAIL [--role ROLE]... [--confirmed] [--password-stdin | --no-password]
  users list
  users duplicates
  users set-password EMAIL [--password-stdin]
  users activate EMAIL
  users deactivate EMAIL
  users confirm EMAIL
  users send-confirmation EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]
  users send-reset EMAIL -base-url URL [-mail-dir DIR | -smtp HOST:PORT [-smtp-security S]]
  users 2fa-reset EMAIL
  users passkeys EMAIL [--delete NAME]
  roles add EMAIL ROLE
  roles remove EMAIL ROLE
  tokens revoke EMAIL
  tokens inspect TOKEN
  tokens verify TOKEN [--max-age DURATION] [--digest sha1|sha256|sha512]
  tokens list EMAIL
  tokens create EMAIL --name NAME --scope SCOPE... [--expires DURATION] [--prefix PREFIX]
  tokens revoke-id ID
  sessions list EMAIL [--all]
  sessions revoke EMAIL [ID]

Options:
  -db DSN          postgres:// or postgresql:// URL, or an SQLite file path
                   (default $AUTH_DB)
  -schema S        native (sqlstore's tables) or flask-security (an existing
                   Flask-Security database; needs $SECURITY_PASSWORD_SALT to
                   write passwords); default: the tables found
  -bcrypt-cost N   write new password hashes with bcrypt at cost N
                   (default: argon2id, the library's default; with
                   flask-security, the Flask app's SECURITY_PASSWORD_HASH)

Passwords are read from the terminal without echo, or from the first line
of stdin with --password-stdin. A TOKEN of "-" is read from stdin.
"tokens verify" uses $AUTH_SECRET (else the file DB.secret beside an SQLite
DB) and $AUTH_TOKEN_SALT. "users send-confirmation" and "users send-reset"
sign the link with the same key, under -base-url (the server's public
origin, as its own -base-url), and mail it as the example server does:
-smtp with $MAIL_FROM, $SMTP_USERNAME, $SMTP_PASSWORD; -mail-dir; or stdout.
"sessions" works on the device sessions of refresh tokens, "tokens list",
"tokens create" and "tokens revoke-id" on personal access tokens,
"users 2fa-reset" on second factors and "users passkeys" on passkeys
(sqlstore's tables only).
Run "authctl COMMAND -h" for the usage of one command.
`

// errUsage marks an error as a usage error: exit status 2. It is the mail
// flags' own, which the server reads too.
var errUsage = mailflags.ErrUsage

// app is one invocation of authctl: its streams and global options.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dsn            string
	schema         string // -schema: "", native or flask-security
	bcryptCost     int
	flask          bool // the store opened is a Flask-Security database
}

// run runs authctl with the given arguments (without the program name)
// and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("authctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.StringVar(&a.dsn, "db", os.Getenv("AUTH_DB"), "database DSN")
	fs.StringVar(&a.schema, "schema", "", "the tables: native or flask-security (default: the ones found)")
	fs.IntVar(&a.bcryptCost, "bcrypt-cost", 0, "bcrypt cost")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	if a.schema != "" && a.schema != "native" && a.schema != "flask-security" {
		fmt.Fprintf(stderr, "authctl: unknown -schema %q: want native or flask-security\n", a.schema)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "authctl: no command")
		fmt.Fprint(stderr, usage)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := a.dispatch(ctx, rest)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "authctl: %v\n", strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	}
	fmt.Fprintf(stderr, "authctl: %v\n", err)
	return 1
}

// dispatch finds the command named by the first words of args and runs it
// with the remaining arguments.
func (a *app) dispatch(ctx context.Context, args []string) error {
	group := args[0]
	var names []string
	for _, c := range commands {
		g, name, _ := strings.Cut(c.name, " ")
		if g != group {
			continue
		}
		names = append(names, name)
		if len(args) > 1 && args[1] == name {
			return a.runCommand(ctx, c, args[2:])
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("unknown command %q; run authctl -h for the list: %w", group, errUsage)
	}
	if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
		a.groupUsage(a.stdout, group)
		return flag.ErrHelp
	}
	a.groupUsage(a.stderr, group)
	if len(args) == 1 {
		return fmt.Errorf("%s: missing subcommand (%s): %w", group, strings.Join(names, ", "), errUsage)
	}
	return fmt.Errorf("%s: unknown subcommand %q (%s): %w", group, args[1], strings.Join(names, ", "), errUsage)
}

// groupUsage lists the commands of a group.
func (a *app) groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "usage:\n")
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace("authctl "+c.name+" "+c.args))
		}
	}
}
