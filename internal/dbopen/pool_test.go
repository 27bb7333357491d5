package dbopen

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/internal/testpg"
)

// TestPoolKeepsIdleConnections runs waves of concurrent lookups through a
// store OpenNative opens, as bursts of requests do: the pool must stay
// bounded, and once the first wave has opened its connections the next
// ones must reuse them, not close them for want of idle room
// (DBStats.MaxIdleClosed) and open new ones.
func TestPoolKeepsIdleConnections(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testPoolChurn(t, filepath.Join(t.TempDir(), "auth.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testPoolChurn(t, testpg.WithSearchPath(testpg.Schema(t, "dbopen_pool_")))
	})
}

func testPoolChurn(t *testing.T, dsn string) {
	const (
		waves      = 6
		goroutines = 64
		lookups    = 20 // per goroutine and wave
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, done, err := OpenNative(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	u := &auth.User{Email: "pool@example.com", PasswordHash: "x", Active: true, Uniquifier: auth.NewUniquifier()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var warm sql.DBStats
	for wave := range waves {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, goroutines)
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range lookups {
					if _, err := s.UserByID(ctx, u.ID); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		st := s.Stats()
		t.Logf("wave %d: open %d, idle %d, max idle closed %d, wait count %d", wave, st.OpenConnections, st.Idle, st.MaxIdleClosed, st.WaitCount)
		if st.MaxOpenConnections <= 0 || st.OpenConnections > st.MaxOpenConnections {
			t.Errorf("wave %d: %d connections open, limit %d: want a bounded pool", wave, st.OpenConnections, st.MaxOpenConnections)
		}
		if wave == 0 {
			warm = st
			continue
		}
		if closed := st.MaxIdleClosed - warm.MaxIdleClosed; closed != 0 {
			t.Errorf("wave %d: %d connections closed for want of idle room since the first wave (MaxIdleClosed %d): idle connections must be kept up to the open limit", wave, closed, st.MaxIdleClosed)
		}
	}
}
