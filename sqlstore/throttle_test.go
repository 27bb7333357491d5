package sqlstore_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/storetest"
)

// TestThrottleStore runs storetest's throttle checks on each dialect:
// Reserve's rule and concurrent attempts, alone and through a Manager's
// login handler.
func TestThrottleStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			storetest.RunThrottle(t, func(t *testing.T) auth.ThrottleStore { return b.fresh(t)(t) })
		})
	}
}

// TestThrottleSharedByInstances: failures made on one instance throttle the
// same address on another instance of the same database.
func TestThrottleSharedByInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			open := b.fresh(t)
			newInstance := func() *auth.Manager {
				s := open(t)
				m, err := auth.New(s, []byte("throttle shared signing key....."), auth.Config{

					Logger:   slog.New(slog.DiscardHandler),
					Throttle: auth.ThrottleConfig{Store: s, FreeAttempts: 3, BaseDelay: time.Minute}, Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
				})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			a, bInst := newInstance(), newInstance()
			login := func(m *auth.Manager) int {
				r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"nobody@example.com","password":"guess-guess"}`))
				r.Header.Set("Content-Type", "application/json")
				r.RemoteAddr = "203.0.113.50:4000"
				w := httptest.NewRecorder()
				m.LoginHandler().ServeHTTP(w, r)
				return w.Code
			}
			var codes []string
			for i := 0; i < 3; i++ {
				codes = append(codes, fmt.Sprint(login(a)))
			}
			codes = append(codes, fmt.Sprint(login(bInst)))
			if got := strings.Join(codes, ","); got != "400,400,400,429" {
				t.Fatalf("statuses A,A,A,B = %s, want 400,400,400,429", got)
			}
		})
	}
}
