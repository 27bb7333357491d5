package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authkit/auth"
	"github.com/authkit/auth/pat"
)

// defaultTokenLifetime is how long a personal access token that tokens
// create makes lasts without --expires: 30 days.
const defaultTokenLifetime = 30 * 24 * time.Hour

// The limits of tokens create, the server's (POST /tokens) own.
const (
	maxScopeLen       = 64  // bytes
	maxTokenNameRunes = 100 // characters
	maxUserTokens     = 100 // personal access tokens of one user
)

// openPersonalTokens opens the store for the personal token commands; a
// store that keeps no personal access tokens (a Flask-Security database)
// is refused. The returned function closes the store.
func (a *app) openPersonalTokens(ctx context.Context) (auth.PersonalTokenStore, store, func(), error) {
	s, done, err := a.open(ctx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	ps, ok := s.(auth.PersonalTokenStore)
	if !ok {
		done()
		if a.flask {
			return nil, nil, nil, errors.New("the Flask-Security database keeps no personal access tokens (they need sqlstore's own tables)")
		}
		return nil, nil, nil, fmt.Errorf("the store of %s keeps no personal access tokens (it is no auth.PersonalTokenStore)", a.dsn)
	}
	return ps, s, done, nil
}

// checkScope reports what is wrong with a scope that tokens create is
// given, or nil: a scope is 1 to 64 bytes of printable ASCII other than
// space, '"' and '\', so that it reads the same in a listing, in JSON and
// in the space-separated forms that carry scopes.
func checkScope(sc string) error {
	if sc == "" || len(sc) > maxScopeLen {
		return fmt.Errorf("--scope %q: want 1 to %d bytes", sc, maxScopeLen)
	}
	for i := 0; i < len(sc); i++ {
		if c := sc[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return fmt.Errorf("--scope %q: want printable ASCII without spaces, '\"' or '\\'", sc)
		}
	}
	return nil
}

// checkTokenName reports what is wrong with a token's name, its
// surrounding spaces trimmed, or nil: as POST /tokens has it, it must be
// 1 to 100 characters of UTF-8 without control characters, so that
// listings show it as it is.
func checkTokenName(name string) error {
	if name == "" {
		return errors.New("give the token a --name, such as \"deploy script\"")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxTokenNameRunes || strings.ContainsFunc(name, unicode.IsControl) {
		return fmt.Errorf("--name %q: want at most %d characters, without control characters", name, maxTokenNameRunes)
	}
	return nil
}

// newTokenID returns a random token ID as the server makes one: 16 bytes
// in base64url, 22 characters.
func newTokenID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokensCreate(ctx context.Context, a *app, o *options, args []string) error {
	o.name = strings.TrimSpace(o.name)
	if err := checkTokenName(o.name); err != nil {
		return fmt.Errorf("tokens create: %w: %w", err, errUsage)
	}
	if len(o.scopes) == 0 {
		return fmt.Errorf("tokens create: give at least one --scope: %w", errUsage)
	}
	for i, sc := range o.scopes {
		if err := checkScope(sc); err != nil {
			return fmt.Errorf("tokens create: %w: %w", err, errUsage)
		}
		if slices.Contains(o.scopes[:i], sc) {
			return fmt.Errorf("tokens create: --scope %q given twice: %w", sc, errUsage)
		}
	}
	if o.expires < 0 {
		return fmt.Errorf("tokens create: --expires %v is negative (0 is never): %w", o.expires, errUsage)
	}
	if !pat.ValidPrefix(o.prefix) {
		return fmt.Errorf("tokens create: --prefix %q: want 2 to 16 lowercase letters, digits and underscores, ending with an underscore: %w", o.prefix, errUsage)
	}
	ps, s, done, err := a.openPersonalTokens(ctx)
	if err != nil {
		return err
	}
	defer done()
	u, err := findUser(ctx, s, args[0])
	if err != nil {
		return err
	}
	existing, err := ps.UserPersonalTokens(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(existing) >= maxUserTokens {
		return fmt.Errorf("%s has %d personal access tokens, the most a user may have: revoke one first (tokens list, tokens revoke-id)", u.Email, len(existing))
	}
	secret, err := pat.New(o.prefix)
	if err != nil {
		return err
	}
	hash := pat.Hash(secret)
	now := time.Now().UTC().Truncate(time.Second)
	t := &auth.PersonalToken{
		ID:        newTokenID(),
		UserID:    u.ID,
		Name:      o.name,
		Scopes:    slices.Clone(o.scopes),
		Hash:      hash[:],
		CreatedAt: now,
	}
	expires := "never"
	if o.expires > 0 {
		t.ExpiresAt = now.Add(o.expires)
		expires = t.ExpiresAt.Format(time.RFC3339)
	}
	if err := ps.CreatePersonalToken(ctx, t); err != nil {
		return fmt.Errorf("storing the personal token: %w", err)
	}
	fmt.Fprintf(a.stdout, "created personal token %q of %s\n", o.name, u.Email)
	fmt.Fprintf(a.stdout, "id:      %s\n", t.ID)
	fmt.Fprintf(a.stdout, "scopes:  %s\n", strings.Join(t.Scopes, " "))
	fmt.Fprintf(a.stdout, "expires: %s\n", expires)
	fmt.Fprintf(a.stdout, "token:   %s\n", secret)
	fmt.Fprintln(a.stdout, "The token is shown only now: the store keeps its hash, not the token.")
	return nil
}

func tokensList(ctx context.Context, a *app, _ *options, args []string) error {
	ps, s, done, err := a.openPersonalTokens(ctx)
	if err != nil {
		return err
	}
	defer done()
	u, err := findUser(ctx, s, args[0])
	if err != nil {
		return err
	}
	list, err := ps.UserPersonalTokens(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(a.stdout, "no personal tokens of %s\n", u.Email)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tLAST USED\tEXPIRES")
	for _, t := range list {
		expires := "never"
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, orDash(printable(t.Name)), orDash(printable(strings.Join(t.Scopes, " "))),
			timeOrDash(t.CreatedAt), timeOrDash(t.LastUsedAt), expires)
	}
	return w.Flush()
}

func tokensRevokeID(ctx context.Context, a *app, _ *options, args []string) error {
	ps, _, done, err := a.openPersonalTokens(ctx)
	if err != nil {
		return err
	}
	defer done()
	id := args[0]
	err = ps.DeletePersonalToken(ctx, id)
	if errors.Is(err, auth.ErrTokenNotFound) {
		return fmt.Errorf("no personal token %q", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "revoked personal token %s\n", id)
	return nil
}

// timeOrDash formats t in UTC, or "-" for the zero time.
func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
