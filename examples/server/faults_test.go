package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth/internal/testpg"
)

// startServer runs the server with args and env until the test ends and
// returns its base URL and its log.
func startServer(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	stderr := new(syncBuffer)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, stderr, ready)
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("server: %v\n%s", err, stderr.String())
			}
		})
		return "http://" + addr, stderr
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, stderr.String())
	}
	return "", nil
}

// answer is one response a load generator got.
type answer struct {
	start  time.Time
	end    time.Time
	route  string
	status int // 0: the request itself failed
	body   string
	retry  string // Retry-After
}

// route is a kind of request a load generator sends, from as many
// goroutines as workers.
type route struct {
	name    string
	workers int
	request func() *http.Request
}

// load sends requests from goroutines of their own until stop is closed
// and returns every answer.
func load(client *http.Client, stop <-chan struct{}, routes []route) []answer {
	var (
		mu      sync.Mutex
		answers []answer
		wg      sync.WaitGroup
	)
	for _, r := range routes {
		for range r.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					a := answer{start: time.Now(), route: r.name}
					resp, err := client.Do(r.request())
					if err == nil {
						body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
						resp.Body.Close()
						a.status, a.body, a.retry = resp.StatusCode, string(body), resp.Header.Get("Retry-After")
					} else {
						a.body = err.Error()
					}
					a.end = time.Now()
					mu.Lock()
					answers = append(answers, a)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	return answers
}

// loginRequest makes the JSON login of the seeded test user.
func loginRequest(srv string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, srv+"/login", strings.NewReader(`{"email":"test@example.com","password":"test123"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

// TestPostgresStopped stops PostgreSQL, as the example server sees it,
// under load: a proxy between the server (its pool and its notification
// listener) and the database closes every connection and refuses new
// ones for 6.5 s, then lets them through again. Meanwhile token routes
// and logins are hammered from 16 goroutines. Every answer must be 200
// (403 on /admin/) or 503 with Retry-After, never 401 (a valid token
// refused), 500 or a failed request. From 1.5 s into the outage on, past
// the second in which the verified-user cache still trusts its last read
// of the change log, every answer must be 503: a cached user is not
// served from a cache that can no longer learn of revocations. Within 5 s
// of the database being back every route must answer as before and stay
// so, with the listener's LISTEN session re-established. The outage is
// long enough that the listener's reconnection backoff, under the old
// 10 s cap, left it away for 5.7 s after the database was back.
func TestPostgresStopped(t *testing.T) {
	const (
		outage  = 6500 * time.Millisecond
		trusted = 1500 * time.Millisecond // changeTrust (1 s), a poll (250 ms), margin
		recover = 5 * time.Second
	)
	base, schema := testpg.Schema(t, "faults_")
	direct := testpg.WithSearchPath(base, schema)
	proxy, dsn := testpg.NewProxy(t, direct)
	app := "faults_" + schema[len("faults_"):]
	dsn += "&application_name=" + app // tells the server's sessions apart
	admin, err := sql.Open("pgx", direct)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// listener returns the backend PID of the server's LISTEN session, 0
	// if there is none.
	listener := func() int {
		var pid int
		err := admin.QueryRow(`SELECT COALESCE(MAX(pid), 0) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN %'`, app).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}

	env := map[string]string{"AUTH_SECRET": "postgres outage test secret, 32b", "AUTH_BCRYPT_COST": "4"}
	srv, log := startServer(t, env, "-db", dsn)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(srv+"/login", "application/json", strings.NewReader(`{"email":"test@example.com","password":"test123"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := loginTokenOf(t, resp)
	var firstPID int
	for deadline := time.Now().Add(5 * time.Second); firstPID == 0; time.Sleep(20 * time.Millisecond) {
		if firstPID = listener(); firstPID == 0 && time.Now().After(deadline) {
			t.Fatal("the server's listener never LISTENed")
		}
	}

	withToken := func(path string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, srv+path, nil)
			req.Header.Set("Authentication-Token", tok)
			return req
		}
	}
	// Logins come from 4 goroutines, no more: the throttle counts every
	// attempt in flight from one address as a failure until its password
	// checks, and refuses a sixth (429).
	routes := []route{
		{"GET /protected", 4, withToken("/protected")},
		{"GET /dummy-api/", 4, withToken("/dummy-api/")},
		{"GET /admin/ (403)", 4, withToken("/admin/")},
		{"POST /login", 4, loginRequest(srv)},
	}
	stop := make(chan struct{})
	done := make(chan []answer)
	go func() { done <- load(client, stop, routes) }()

	time.Sleep(500 * time.Millisecond)
	cut := time.Now()
	proxy.Cut()
	time.Sleep(outage)
	back := time.Now()
	proxy.Restore()
	var relistened time.Duration
	for relistened == 0 && time.Since(back) < recover+time.Second {
		if pid := listener(); pid != 0 && pid != firstPID {
			relistened = time.Since(back)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if wait := time.Until(back.Add(recover + 500*time.Millisecond)); wait > 0 {
		time.Sleep(wait) // load past the recovery deadline
	}
	close(stop)
	answers := <-done

	if relistened == 0 {
		t.Errorf("no new LISTEN session %v after the database was back", recover+time.Second)
	} else {
		t.Logf("the listener LISTENed again %v after the database was back", relistened.Round(time.Millisecond))
		if relistened > recover {
			t.Errorf("the listener took %v, more than %v, to LISTEN again", relistened.Round(time.Millisecond), recover)
		}
	}
	// want is the status a route answers when it works: /admin/ refuses
	// the user, who has no admin role, with 403 once it knows the user.
	want := func(route string) int {
		if strings.Contains(route, "403") {
			return http.StatusForbidden
		}
		return http.StatusOK
	}
	counts := map[string]int{}
	lastFailure := map[string]time.Time{}
	bad := 0
	for _, a := range answers {
		ok := want(a.route)
		// An answer is of the phase it began and ended in; one that
		// spans the cut or the restore is only held to 200 or 503.
		phase := "across"
		switch {
		case a.end.Before(cut):
			phase = "before"
		case a.start.After(cut) && a.end.Before(back):
			phase = "during"
		case a.start.After(back):
			phase = "after"
		}
		counts[phase+" "+strconv.Itoa(a.status)]++
		var problem string
		switch {
		case a.status != ok && a.status != http.StatusServiceUnavailable:
			problem = "neither " + strconv.Itoa(ok) + " nor 503"
		case a.status == http.StatusServiceUnavailable && a.retry == "":
			problem = "503 without Retry-After"
		case phase == "before" && a.status != ok:
			problem = "before the outage"
		case phase == "during" && a.start.After(cut.Add(trusted)) && a.status != http.StatusServiceUnavailable:
			problem = "served " + trusted.String() + " into the outage, from a cache it can no longer trust"
		case phase == "after" && a.status != ok && a.start.After(back.Add(recover)):
			problem = "not recovered " + recover.String() + " after the database was back"
		}
		if a.status != ok && phase == "after" && a.start.After(lastFailure[a.route]) {
			lastFailure[a.route] = a.start
		}
		if problem != "" {
			if bad++; bad <= 10 {
				t.Errorf("%s at %+.3fs of the outage: %d %q: %s", a.route, a.start.Sub(cut).Seconds(), a.status, a.body, problem)
			}
		}
	}
	if bad > 10 {
		t.Errorf("… %d answers wrong in all", bad)
	}
	t.Logf("%d answers: %v", len(answers), counts)
	for route, at := range lastFailure {
		t.Logf("%s: last failure began %v after the database was back", route, at.Sub(back).Round(time.Millisecond))
	}
	for _, phase := range []string{"during 503", "after 200"} {
		if counts[phase] == 0 {
			t.Errorf("no answer %q: the load did not reach every phase", phase)
		}
	}
	if t.Failed() {
		var lines []string
		for _, line := range strings.Split(log.String(), "\n") {
			if !strings.Contains(line, "login.succeeded") && len(lines) < 100 {
				lines = append(lines, line)
			}
		}
		t.Logf("server log, without successful logins, first 100 lines:\n%s", strings.Join(lines, "\n"))
	}
}

// TestSQLiteServerAndAuthctl writes one SQLite file from the server and
// from authctl at once, for 5 s: 11 goroutines hammer the server's logins
// (each a write: the login's trackable fields), token routes and the
// token endpoint, while two loops run authctl (separate processes) to
// create users, give roles, revoke tokens and deactivate. "database is
// locked" must reach no one: every server answer is the route's success,
// never a 5xx or a body naming the lock, and every authctl command
// succeeds. It holds through WAL (readers never wait for the writer), a
// busy timeout of 5 s and write transactions that take the lock first
// (BEGIN IMMEDIATE), all of which sqlstore.SQLiteDSN sets.
func TestSQLiteServerAndAuthctl(t *testing.T) {
	const busy = 5 * time.Second
	dir := t.TempDir()
	authctl := filepath.Join(dir, "authctl")
	if out, err := exec.Command("go", "build", "-o", authctl, "../../cmd/authctl").CombinedOutput(); err != nil {
		t.Fatalf("building authctl: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "auth.db")
	env := map[string]string{"AUTH_SECRET": "sqlite locking test secret, 32 b", "AUTH_BCRYPT_COST": "4"}
	srv, log := startServer(t, env, "-db", db)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(srv+"/login", "application/json", strings.NewReader(`{"email":"test@example.com","password":"test123"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := loginTokenOf(t, resp)
	// Password checks come from 5 goroutines, no more (see
	// TestPostgresStopped).
	routes := []route{
		{"GET /protected", 6, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, srv+"/protected", nil)
			req.Header.Set("Authentication-Token", tok)
			return req
		}},
		{"POST /login", 3, loginRequest(srv)},
		{"POST /api/v1/tokens/", 2, func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, srv+"/api/v1/tokens/", nil)
			req.SetBasicAuth("admin@example.com", "admin123")
			return req
		}},
	}
	stop := make(chan struct{})
	done := make(chan []answer)
	go func() { done <- load(client, stop, routes) }()

	type run struct {
		args []string
		err  error
		out  string
	}
	var (
		mu   sync.Mutex
		runs []run
		wg   sync.WaitGroup
	)
	ctl := func(stdin string, args ...string) {
		cmd := exec.Command(authctl, append([]string{"-db", db, "-bcrypt-cost", "4"}, args...)...)
		cmd.Env = append(os.Environ(), "AUTH_SECRET="+env["AUTH_SECRET"])
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		mu.Lock()
		runs = append(runs, run{args: args, err: err, out: string(out)})
		mu.Unlock()
	}
	end := time.Now().Add(busy)
	for loop := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				email := fmt.Sprintf("ctl%d-%d@example.com", loop, i)
				ctl("authctl-made-password\n", "users", "create", email, "--password-stdin", "--confirmed")
				ctl("", "roles", "add", email, "editor")
				ctl("", "tokens", "revoke", email)
				ctl("", "users", "deactivate", email)
			}
		}()
	}
	wg.Wait()
	close(stop)
	answers := <-done

	for _, r := range runs {
		if r.err != nil || strings.Contains(r.out, "locked") {
			t.Errorf("authctl %s: %v\n%s", strings.Join(r.args, " "), r.err, r.out)
		}
	}
	counts := map[string]int{}
	bad := 0
	for _, a := range answers {
		counts[a.route+" "+strconv.Itoa(a.status)]++
		if a.status != http.StatusOK || strings.Contains(a.body, "locked") {
			if bad++; bad <= 10 {
				t.Errorf("%s: %d %q", a.route, a.status, a.body)
			}
		}
	}
	if bad > 10 {
		t.Errorf("… %d answers wrong in all", bad)
	}
	t.Logf("%d authctl commands; %d answers: %v", len(runs), len(answers), counts)
	if strings.Contains(log.String(), "locked") {
		t.Errorf("the server logged a lock:\n%s", log.String())
	}
	// No login was lost between the processes' writes either.
	for email, want := range map[string]int{
		"test@example.com":  1 + counts["POST /login 200"],
		"admin@example.com": counts["POST /api/v1/tokens/ 200"],
	} {
		if got := storedUser(t, db, email).LoginCount; got != want {
			t.Errorf("%s: login count %d after %d successful logins", email, got, want)
		}
	}
}
