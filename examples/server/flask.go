package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/flask"
	"github.com/authkit/auth/internal/dbopen"
	"github.com/authkit/auth/sqlstore"
)

// flaskManager opens the existing Flask-Security database dsn names, as it
// is, and returns a Manager configured from the Flask app's settings, read
// from environment variables named as its config keys:
//
//   - SECRET_KEY (required): verifies the app's auth tokens and signs the
//     tokens /login issues; SECRET_KEY_FALLBACKS, comma-separated, are
//     earlier keys whose tokens still verify.
//   - SECURITY_PASSWORD_SALT, or SECURITY_PASSWORD_SINGLE_HASH (True, or
//     comma-separated passlib scheme names): one is required, as the app
//     needs one to hash passwords.
//   - SECURITY_PASSWORD_HASH: the passlib scheme of the hashes written back
//     (new passwords, upgrades on login). Unset: new hashes are bcrypt,
//     Flask-Security's default, and hashes in other schemes are left as
//     they are on login, since they may be what the app writes; give the
//     app's value so that new passwords are in its scheme too. Hashes are
//     written with Flask-Security's default parameters (bcrypt rounds 12,
//     argon2 t=10, m=102400, p=8): SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS
//     is not read, so an app that sets it gets hashes in its scheme with
//     these parameters, which it accepts without rewriting them.
//   - SECURITY_REMEMBER_SALT, SECURITY_CONFIRM_SALT, SECURITY_RESET_SALT,
//     SECURITY_TOKEN_MAX_AGE (whole seconds),
//     SECURITY_TOKEN_AUTHENTICATION_HEADER, SECURITY_TOKEN_AUTHENTICATION_KEY:
//     as in the app, with the app's defaults.
//   - SECURITY_TOTP_SECRETS (a JSON object of tags and secrets, as the app
//     has it) and SECURITY_TOTP_ISSUER: with them, authenticator apps are
//     on, kept as the app keeps them (flask.NewTOTPSecrets over the
//     FlaskStore's tf_ columns), so users who set one up in the app need
//     its code here too. Without them, a user with an app set up in the
//     Flask app logs in here with the password alone: give them whenever
//     the app has two-factor sign-in on.
//
// The Manager's own keys (session cookies, native tokens) are AUTH_SECRET
// if set, else derived from SECRET_KEY (and each fallback), so that every
// instance given the app's settings agrees. tokens is "flask" (or empty)
// to issue tokens the app accepts too (flask.Tokens as the Manager's
// Issuer as well as a verifier), or "native" for the Manager's own, once the
// app no longer needs to read them; the app's tokens are accepted either
// way. The demo users are not seeded.
//
// The account handler is configured by account. Its mailed links are the
// app's own (flask.Links, with SECURITY_CONFIRM_SALT and
// SECURITY_RESET_SALT from the environment), so a confirmation or reset
// link the Flask app mailed opens here, and ours there.
func flaskManager(ctx context.Context, dsn, tokens string, account auth.AccountConfig, getenv func(string) string, logger *slog.Logger) (*auth.Manager, func(), error) {
	fc, err := flaskConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	var issue bool
	switch tokens {
	case "", "flask":
		issue = true
	case "native":
	default:
		return nil, nil, fmt.Errorf("unknown -tokens %q: want flask or native", tokens)
	}
	hasher, err := flask.NewHasher(fc)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := serverConfig(getenv, logger)
	if err != nil {
		return nil, nil, err
	}
	cfg.Password.Hasher = hasher
	cfg.Account = account
	if len(fc.TOTPSecrets) > 0 {
		// The app's authenticator apps, in its columns and its form.
		secrets, err := flask.NewTOTPSecrets(fc)
		if err != nil {
			return nil, nil, err
		}
		cfg.TwoFactor = auth.TwoFactorConfig{Enabled: true, Issuer: stringOr(getenv("SECURITY_TOTP_ISSUER"), exampleIssuer),
			Secrets: secrets, QRCode: qrPNG}
	}
	cfg.Token.Header = getenv("SECURITY_TOKEN_AUTHENTICATION_HEADER")
	cfg.Token.QueryParam = getenv("SECURITY_TOKEN_AUTHENTICATION_KEY")
	key := []byte(getenv("AUTH_SECRET"))
	if len(key) == 0 {
		key = deriveKey(fc.SecretKey)
		for _, k := range fc.SecretKeyFallbacks {
			cfg.Token.OldKeys = append(cfg.Token.OldKeys, deriveKey(k))
		}
	}
	store, closeStore, err := dbopen.OpenFlask(ctx, dsn, sqlstore.FlaskSchema{})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the Flask-Security database: %w", err)
	}
	ft, err := flask.NewTokens(fc, store)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	if cfg.Account.Mailer != nil {
		if cfg.Account.Links, err = flask.NewLinks(fc, store); err != nil {
			closeStore()
			return nil, nil, err
		}
	}
	cfg.Token.Verifiers = append(cfg.Token.Verifiers, ft)
	if issue {
		cfg.Token.Issuer = ft
	}
	m, err := auth.New(store, key, cfg)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	logger.Info("using the Flask-Security database as it is", "tokens", stringOr(tokens, "flask"))
	return m, closeStore, nil
}

// flaskConfig reads the Flask app's settings from the environment; see
// flaskManager.
func flaskConfig(getenv func(string) string) (flask.Config, error) {
	fc := flask.Config{
		SecretKey:    []byte(getenv("SECRET_KEY")),
		PasswordSalt: getenv("SECURITY_PASSWORD_SALT"),
		RememberSalt: getenv("SECURITY_REMEMBER_SALT"),
		ConfirmSalt:  getenv("SECURITY_CONFIRM_SALT"),
		ResetSalt:    getenv("SECURITY_RESET_SALT"),
		PasswordHash: getenv("SECURITY_PASSWORD_HASH"), // empty: bcrypt, the app's default; see flaskManager
	}
	if len(fc.SecretKey) == 0 {
		return fc, errors.New("-schema flask-security needs SECRET_KEY: the Flask app's secret key")
	}
	for k := range strings.SplitSeq(getenv("SECRET_KEY_FALLBACKS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			fc.SecretKeyFallbacks = append(fc.SecretKeyFallbacks, []byte(k))
		}
	}
	switch single := getenv("SECURITY_PASSWORD_SINGLE_HASH"); strings.ToLower(single) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		fc.PasswordSingleHash = true
	default:
		for s := range strings.SplitSeq(single, ",") {
			fc.PasswordSingleHashSchemes = append(fc.PasswordSingleHashSchemes, strings.TrimSpace(s))
		}
	}
	if fc.PasswordSalt == "" && !fc.PasswordSingleHash {
		return fc, errors.New("-schema flask-security needs SECURITY_PASSWORD_SALT (or SECURITY_PASSWORD_SINGLE_HASH=True), as the Flask app has it")
	}
	if v := getenv("SECURITY_TOTP_SECRETS"); v != "" {
		if err := json.Unmarshal([]byte(v), &fc.TOTPSecrets); err != nil || len(fc.TOTPSecrets) == 0 {
			return fc, errors.New(`SECURITY_TOTP_SECRETS: want the app's setting as a JSON object, such as {"1": "a secret"}`)
		}
	}
	if v := getenv("SECURITY_TOKEN_MAX_AGE"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs <= 0 || secs > int64(1<<62/time.Second) {
			return fc, fmt.Errorf("SECURITY_TOKEN_MAX_AGE=%q is not a positive whole number of seconds", v)
		}
		fc.TokenMaxAge = time.Duration(secs) * time.Second
	}
	return fc, nil
}

// deriveKey turns a Flask SECRET_KEY, of any length, into a signing key
// of the Manager's own, distinct from what the app signs with.
func deriveKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("authkit examples/server: the Manager's own key"))
	return mac.Sum(nil)
}

func stringOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
