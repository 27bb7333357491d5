package sqlstore_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
)

func TestThrottleStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.fresh(t)(t)
			ctx := t.Context()
			now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			if n, last, err := s.Failures(ctx, "k", now, time.Hour); err != nil || n != 0 || !last.IsZero() {
				t.Fatalf("Failures of an unknown key = %d, %v, %v", n, last, err)
			}
			for want := 1; want <= 3; want++ {
				if n, err := s.AddFailure(ctx, "k", now, time.Hour); err != nil || n != want {
					t.Fatalf("AddFailure #%d = %d, %v", want, n, err)
				}
			}
			if n, last, err := s.Failures(ctx, "k", now.Add(time.Minute), time.Hour); err != nil || n != 3 || !last.Equal(now) {
				t.Fatalf("Failures = %d, %v, %v; want 3 at %v", n, last, err, now)
			}
			if n, _, _ := s.Failures(ctx, "k", now.Add(2*time.Hour), time.Hour); n != 0 {
				t.Errorf("Failures after forget = %d, want 0", n)
			}
			if n, _ := s.AddFailure(ctx, "k", now.Add(2*time.Hour), time.Hour); n != 1 {
				t.Errorf("AddFailure after forget = %d, want a fresh count of 1", n)
			}
			if err := s.Reset(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if n, _, _ := s.Failures(ctx, "k", now.Add(2*time.Hour), time.Hour); n != 0 {
				t.Errorf("Failures after Reset = %d", n)
			}

			// Concurrent failures are all counted.
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.AddFailure(ctx, "busy", now, time.Hour); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if n, _, _ := s.Failures(ctx, "busy", now, time.Hour); n != 50 {
				t.Errorf("50 concurrent failures counted as %d", n)
			}
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
					Throttle: auth.ThrottleConfig{Store: s, FreeAttempts: 3, BaseDelay: time.Minute}, Password: auth.PasswordConfig{BcryptCost: 4},
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
