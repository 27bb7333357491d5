package main

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth"
)

// TestFlaskTwoFactorEnv: -schema flask-security turns authenticator apps
// on with the app's SECURITY_TOTP_SECRETS, and refuses a malformed one.
func TestFlaskTwoFactorEnv(t *testing.T) {
	ctx := context.Background()
	routes := func(env map[string]string) (int, error) {
		m, closeStore, err := flaskManager(ctx, emptyFlaskDB(t), "", auth.AccountConfig{}, func(k string) string { return env[k] },
			slog.New(slog.DiscardHandler))
		if err != nil {
			return 0, err
		}
		defer closeStore()
		rec := httptest.NewRecorder()
		m.AccountHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/mf-recovery-codes", nil))
		return rec.Code, nil
	}
	if code, err := routes(flaskEnv); err != nil || code == http.StatusUnauthorized {
		t.Errorf("without SECURITY_TOTP_SECRETS: GET /mf-recovery-codes %d, %v (want no such route)", code, err)
	}
	env := maps.Clone(flaskEnv)
	env["SECURITY_TOTP_SECRETS"] = `{"1": "the app's totp secret"}`
	if code, err := routes(env); err != nil || code != http.StatusUnauthorized {
		t.Errorf("with SECURITY_TOTP_SECRETS: GET /mf-recovery-codes %d, %v (want 401: the route is there)", code, err)
	}
	for _, bad := range []string{`1: secret`, `{}`, `{"1": 2}`, `{"a b": "x"}`} {
		env["SECURITY_TOTP_SECRETS"] = bad
		if _, err := routes(env); err == nil || !strings.Contains(err.Error(), "SECURITY_TOTP_SECRETS") && !strings.Contains(err.Error(), "tag") {
			t.Errorf("SECURITY_TOTP_SECRETS=%s: %v", bad, err)
		}
	}
}
