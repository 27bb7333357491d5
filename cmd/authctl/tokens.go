package main

import (
	"context"
	"fmt"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
)

func tokensRevoke(ctx context.Context, a *app, _ *options, args []string) error {
	m, s, u, done, err := a.openUser(ctx, args[0], false)
	if err != nil {
		return err
	}
	defer done()
	if err := m.RevokeTokens(ctx, u.ID); err != nil {
		return err
	}
	kept := ""
	if _, ok := s.(auth.PersonalTokenStore); ok {
		kept = "; personal access tokens outlive this (tokens list, tokens revoke-id)"
	}
	fmt.Fprintf(a.stdout, "revoked every token of %s%s\n", u.Email, kept)
	return nil
}

func tokensInspect(_ context.Context, a *app, _ *options, args []string) error {
	token, err := a.readToken(args[0])
	if err != nil {
		return err
	}
	payload, issued, err := itsdangerous.Inspect(token)
	if err != nil {
		return fmt.Errorf("cannot decode the token: %w", err)
	}
	fmt.Fprintln(a.stdout, "UNVERIFIED: the signature and age of this token were NOT checked; do not trust what follows.")
	fmt.Fprintf(a.stdout, "payload (unverified): %s\n", payload)
	fmt.Fprintf(a.stdout, "issued  (unverified): %s (%s ago)\n",
		issued.UTC().Format(time.RFC3339), time.Since(issued).Round(time.Second))
	return nil
}

func tokensVerify(ctx context.Context, a *app, o *options, args []string) error {
	token, err := a.readToken(args[0])
	if err != nil {
		return err
	}
	s, done, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	m, err := a.manager(s, auth.Config{Token: auth.TokenConfig{MaxAge: o.maxAge, Digest: itsdangerous.Digest(o.digest)}}, true, false)
	if err != nil {
		return err
	}
	u, err := m.VerifyToken(ctx, token)
	if err != nil {
		return fmt.Errorf("the token is not valid: %w", err)
	}
	fmt.Fprintf(a.stdout, "VALID: token of user %s <%s>\n", u.ID, u.Email)
	if _, issued, err := itsdangerous.Inspect(token); err == nil {
		fmt.Fprintf(a.stdout, "issued:  %s\n", issued.UTC().Format(time.RFC3339))
		if age := tokenMaxAge(o.maxAge); age > 0 {
			fmt.Fprintf(a.stdout, "expires: %s\n", issued.Add(age).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// tokenMaxAge is the max age of the tokens the Manager verifies with
// TokenConfig.MaxAge set to maxAge: auth's default of 24 h for zero, none
// (0) for a negative one.
func tokenMaxAge(maxAge time.Duration) time.Duration {
	switch {
	case maxAge == 0:
		return 24 * time.Hour
	case maxAge < 0:
		return 0
	}
	return maxAge
}
