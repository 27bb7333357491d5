package sqlstore_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth"
	"github.com/authkit/auth/passhash"
	"github.com/authkit/auth/sqlstore"
)

// TestConcurrentLoginsCounted sends 200 logins of one user at once, with
// the right password, to a login handler over each backend, which also
// keeps the throttle's counts: the user's login count must rise by
// exactly 200, one for each 200 OK. Each login records itself through
// UpdateUser, whose read and write of the row are one transaction holding
// the row's lock (PostgreSQL's SELECT ... FOR UPDATE) or the write lock
// (SQLite's BEGIN IMMEDIATE); without it concurrent logins would overwrite
// each other's counts. No store call may fail meanwhile: on SQLite the
// throttle's writes and the logins' queue in the Store rather than in
// SQLite's busy handler, which let some wait past busy_timeout ("database
// is locked", 503). An answer of 503 or 429 with Retry-After (such as a
// full queue of password hashes) is retried and not counted.
func TestConcurrentLoginsCounted(t *testing.T) {
	const logins = 200
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.require(t)
			// A bounded pool, as internal/dbopen opens it: 200 SQLite
			// connections would each read the schema.
			db := openDB(t, b.driver, b.newDSN(t))
			db.SetMaxOpenConns(8)
			store, err := sqlstore.Open(context.Background(), db, b.dialect)
			if err != nil {
				t.Fatal(err)
			}
			var log lockedBuffer
			m, err := auth.New(store, []byte("concurrent logins test key, 32 b"), auth.Config{
				Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelError})),
				// Every login waits for its hash: this test is about the
				// store, not about the hashing pool's admission control.
				Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4, QueueSize: -1, QueueWait: -1},
				// The throttle counts each attempt in flight as a failure
				// until its password checks: by default a sixth concurrent
				// attempt from one address is refused.
				Throttle: auth.ThrottleConfig{Store: store, FreeAttempts: 10 * logins},
			})
			if err != nil {
				t.Fatal(err)
			}
			u, err := m.NewUser("many@example.com", "many-logins-password")
			if err != nil {
				t.Fatal(err)
			}
			if err := store.CreateUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.LoginHandler())
			defer srv.Close()
			client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: logins}}
			defer client.CloseIdleConnections()

			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				mu      sync.Mutex
				ok      int
				retries int
			)
			for range logins {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for attempt := 0; ; attempt++ {
						resp, err := client.Post(srv.URL, "application/json",
							strings.NewReader(`{"email":"many@example.com","password":"many-logins-password"}`))
						if err != nil {
							t.Error(err)
							return
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						retry := resp.Header.Get("Retry-After")
						switch {
						case resp.StatusCode == http.StatusOK:
							mu.Lock()
							ok++
							mu.Unlock()
							return
						case (resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests) &&
							retry != "" && attempt < 20:
							mu.Lock()
							retries++
							mu.Unlock()
							secs, _ := strconv.Atoi(retry)
							time.Sleep(min(time.Duration(secs)*time.Second, 200*time.Millisecond))
						default:
							t.Errorf("login: %d (Retry-After %q) %s", resp.StatusCode, retry, body)
							return
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			got, err := store.UserByID(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d logins answered 200 OK, after %d retries", ok, retries)
			if ok != logins || got.LoginCount != logins {
				t.Errorf("%d logins answered 200 OK; the login count is %d; want both %d", ok, got.LoginCount, logins)
			}
			if s := log.String(); strings.Contains(s, "store failed") {
				t.Errorf("the store failed under the load:\n%s", s)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSQLiteThrottleWritesQueue checks that on SQLite the throttle's
// writes wait for the Store's other writes in the Store's queue, not in
// SQLite's busy handler, whose polling let some of many concurrent logins
// wait past busy_timeout and fail with "database is locked". The database
// is opened with busy_timeout 0, so any write that reaches SQLite while a
// transaction of the Store holds the lock fails at once; the throttle's
// Reserve, Refund and Reset, called meanwhile, must all succeed once the
// transaction ends.
func TestSQLiteThrottleWritesQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_txlock=immediate"
	store := openStore(t, "sqlite", dsn, sqlstore.SQLite)
	u := newTestUser(t, store, "queue@example.com")
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	updated := make(chan error, 1)
	go func() {
		updated <- store.UpdateUser(ctx, u.ID, func(u *auth.User) error {
			close(inside)
			<-release
			u.LoginCount++
			return nil
		})
	}()
	<-inside
	limit := auth.ThrottleLimit{Free: 5, Base: time.Second, Max: time.Minute, Forget: time.Hour}
	calls := map[string]func() error{
		"Reserve": func() error { _, err := store.Reserve(ctx, "ip:a", time.Now(), limit); return err },
		"Refund":  func() error { return store.Refund(ctx, "ip:b") },
		"Reset":   func() error { return store.Reset(ctx, "ip:c") },
	}
	errs := make(chan string, len(calls))
	for name, call := range calls {
		go func() {
			if err := call(); err != nil {
				errs <- name + ": " + err.Error()
				return
			}
			errs <- ""
		}()
	}
	time.Sleep(100 * time.Millisecond) // the calls are waiting, or have failed
	close(release)
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	for range calls {
		if e := <-errs; e != "" {
			t.Errorf("%s, during a write of the Store", e)
		}
	}
}
