// Command scale prepares and measures the example server at scale, for
// wrk.sh and the figures in BENCHMARKS.md:
//
//	scale seed -db auth.db -users 1000000 -tokens tokens.txt
//	scale revocation -url http://127.0.0.1:8080 -db auth.db -authctl ./authctl -trials 20
//
// seed adds N users (u1@scale.example … uN@scale.example, no password) to
// the SQLite database of a running or stopped examples/server and writes
// one token per user, signed as the server signs them ($AUTH_SECRET,
// $AUTH_TOKEN_SALT), one per line.
//
// soak runs mixed load against the server for a while: logins, token
// requests, HTTP Basic requests, logouts and requests with refused tokens,
// each checked against the one status it must get, and samples the
// server's resident memory (-pid) every 10 s. It prints the counts by kind
// and status, every unexpected answer, and RSS at the start, peak and end.
//
// revocation measures how long the server goes on accepting a token after
// `authctl tokens revoke` in another process has returned: each trial logs
// in as test@example.com and uses the token every 2 ms throughout; after a
// second (the verified-user cache answers for it by then) it runs authctl,
// watching the database every millisecond for the commit. It prints the
// time from the commit to the start of the first request refused with 401,
// for each trial, and their distribution.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/authkit/auth"
	"github.com/authkit/auth/sqlstore"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scale seed|revocation|soak [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seedCmd(os.Args[2:])
	case "revocation":
		err = revocationCmd(os.Args[2:])
	case "soak":
		err = soakCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func seedCmd(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dbPath := fs.String("db", "auth.db", "the server's SQLite file")
	n := fs.Int("users", 1000, "users to add")
	tokensPath := fs.String("tokens", "tokens.txt", "file to write the tokens to")
	_ = fs.Parse(args)
	secret := os.Getenv("AUTH_SECRET")
	if secret == "" {
		return errors.New("set AUTH_SECRET to the server's secret")
	}
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(*dbPath))
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := sqlstore.Open(ctx, db, sqlstore.SQLite)
	if err != nil {
		return err
	}
	m, err := auth.New(store, []byte(secret), auth.Config{
		Logger: slog.New(slog.DiscardHandler), Token: auth.TokenConfig{Salt: os.Getenv("AUTH_TOKEN_SALT")},
	})
	if err != nil {
		return err
	}
	out, err := os.Create(*tokensPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	const batch = 10_000
	for start := 1; start <= *n; start += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO users (id, email, email_key, active, confirmed, uniquifier)
			VALUES (?, ?, ?, 1, 1, ?)`)
		if err != nil {
			return err
		}
		for i := start; i < start+batch && i <= *n; i++ {
			// email_key: sqlstore folds each letter to its least case, upper for ASCII.
			u := &auth.User{ID: "u" + strconv.Itoa(i), Email: "u" + strconv.Itoa(i) + "@scale.example", Uniquifier: auth.NewUniquifier()}
			if _, err := stmt.ExecContext(ctx, u.ID, u.Email, strings.ToUpper(u.Email), u.Uniquifier); err != nil {
				return fmt.Errorf("user %s: %w", u.ID, err)
			}
			tok, err := m.IssueToken(u)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, tok)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

func revocationCmd(args []string) error {
	fs := flag.NewFlagSet("revocation", flag.ExitOnError)
	base := fs.String("url", "", "the server's base URL")
	dbPath := fs.String("db", "auth.db", "the server's database, for authctl")
	authctl := fs.String("authctl", "authctl", "the authctl binary")
	trials := fs.Int("trials", 20, "revocations to time")
	_ = fs.Parse(args)
	client := &http.Client{Timeout: 5 * time.Second}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(*dbPath))
	if err != nil {
		return err
	}
	defer db.Close()
	const uniqOf = "SELECT uniquifier FROM users WHERE email = 'test@example.com'"
	var lat []time.Duration
	for i := range *trials {
		tok, err := login(client, *base)
		if err != nil {
			return err
		}
		// The token is used every 2 ms throughout, as steady traffic
		// would: the server reads its change log only while it serves
		// token checks, so the first check after an idle spell would start
		// a read at once and flatter the figure.
		type answer struct {
			at   time.Time
			code int
		}
		answers := make(chan answer, 1<<16)
		stop := make(chan struct{})
		go func() {
			defer close(answers)
			for {
				select {
				case <-stop:
					return
				default:
				}
				at := time.Now()
				code, err := get(client, *base+"/dummy-api/", tok)
				if err != nil {
					code = 0
				}
				answers <- answer{at, code}
				time.Sleep(2 * time.Millisecond)
			}
		}()
		time.Sleep(time.Second) // the cache answers for the token by now
		// The commit is seen by polling the uniquifier every millisecond
		// from a connection of this process while authctl runs.
		var before string
		if err := db.QueryRow(uniqOf).Scan(&before); err != nil {
			return err
		}
		committed := make(chan time.Time, 1)
		go func() {
			for {
				var now string
				if err := db.QueryRow(uniqOf).Scan(&now); err == nil && now != before {
					committed <- time.Now()
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		cmd := exec.Command(*authctl, "-db", *dbPath, "tokens", "revoke", "test@example.com") // #nosec G204 -- the operator's own flags
		started := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("authctl: %v: %s", err, out)
		}
		returned := time.Now()
		var revoked time.Time
		select {
		case revoked = <-committed:
		case <-time.After(5 * time.Second):
			return errors.New("the revocation was not seen in the database")
		}
		// The first request begun after the commit that got 401; every
		// request before it must have been answered 200.
		var refused time.Time
		for a := range answers {
			if a.code != http.StatusOK && a.code != http.StatusUnauthorized {
				return fmt.Errorf("trial %d: the server answered %d", i+1, a.code)
			}
			if a.code == http.StatusUnauthorized {
				refused = a.at
				break
			}
			if a.at.Sub(revoked) > 30*time.Second {
				break
			}
		}
		close(stop)
		for range answers { // let the client goroutine end
		}
		if refused.IsZero() {
			return fmt.Errorf("trial %d: the revoked token is still accepted after 30 s", i+1)
		}
		d := refused.Sub(revoked)
		lat = append(lat, d)
		fmt.Printf("trial %2d: refused %6.1f ms after the commit (authctl ran %5.1f ms and returned %5.1f ms after it)\n",
			i+1, ms(d), ms(returned.Sub(started)), ms(returned.Sub(revoked)))
	}
	fmt.Printf("refused after the commit, over %d trials: %s\n", len(lat), distribution(lat))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// distribution describes durations by their minimum, median, 90th
// percentile and maximum.
func distribution(ds []time.Duration) string {
	ds = slices.Sorted(slices.Values(ds))
	q := func(p float64) float64 { return ms(ds[int(p*float64(len(ds)-1))]) }
	return fmt.Sprintf("min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms", q(0), q(0.5), q(0.9), q(1))
}

func login(c *http.Client, base string) (string, error) {
	return loginAs(c, base, "test@example.com", "test123")
}

// loginAs logs in with the given demo user's email and password and
// returns the token.
func loginAs(c *http.Client, base, email, password string) (string, error) {
	creds, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := c.Post(base+"/login", "application/json", strings.NewReader(string(creds)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Response struct {
			User struct {
				Token string `json:"authentication_token"`
			} `json:"user"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Response.User.Token == "" {
		return "", fmt.Errorf("login answered %d: %v", resp.StatusCode, err)
	}
	return body.Response.User.Token, nil
}

func get(c *http.Client, url, tok string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authentication-Token", tok)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func soakCmd(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	base := fs.String("url", "", "the server's base URL")
	duration := fs.Duration("duration", 10*time.Minute, "how long to run")
	pid := fs.Int("pid", 0, "the server's process ID, to sample its memory")
	_ = fs.Parse(args)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	end := time.Now().Add(*duration)
	type result struct {
		kind string
		code int
		ok   bool
	}
	results := make(chan result, 1024)
	do := func(kind string, want int, req *http.Request) {
		resp, err := client.Do(req)
		code := 0
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		}
		results <- result{kind, code, code == want}
	}
	withToken := func(method, path, tok string) *http.Request {
		req, _ := http.NewRequest(method, *base+path, nil)
		req.Header.Set("Authentication-Token", tok)
		return req
	}
	var workers sync.WaitGroup
	worker := func(f func()) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for time.Now().Before(end) {
				f()
			}
		}()
	}
	// Two login-and-logout loops, each with a demo user of its own (a
	// logout revokes every token of its user): a login, 50 token requests
	// with its token, a logout, the token refused. Fewer logins than the
	// throttle's free attempts run at once from this one address.
	for _, who := range [][2]string{{"test@example.com", "test123"}, {"unconfirmed@example.com", "test123"}} {
		worker(func() {
			tok, err := loginAs(client, *base, who[0], who[1])
			if err != nil {
				results <- result{"login", 0, false}
				time.Sleep(100 * time.Millisecond)
				return
			}
			results <- result{"login", http.StatusOK, true}
			for range 50 {
				do("token", http.StatusOK, withToken(http.MethodGet, "/dummy-api/", tok))
			}
			do("logout", http.StatusOK, withToken(http.MethodPost, "/logout", tok))
			do("logged-out token", http.StatusUnauthorized, withToken(http.MethodGet, "/dummy-api/", tok))
		})
	}
	// Token requests with a long-lived token of a third user, never
	// logged out, and forged tokens.
	steady, err := loginAs(client, *base, "admin@example.com", "admin123")
	if err != nil {
		return err
	}
	for range 4 {
		worker(func() { do("token", http.StatusOK, withToken(http.MethodGet, "/dummy-api/", steady)) })
	}
	worker(func() {
		do("forged token", http.StatusUnauthorized, withToken(http.MethodGet, "/dummy-api/", steady[:len(steady)-2]+"xx"))
	})
	// HTTP Basic, one at a time: each request hashes.
	worker(func() {
		req, _ := http.NewRequest(http.MethodGet, *base+"/basic-api/", nil)
		req.SetBasicAuth("admin@example.com", "admin123")
		do("basic", http.StatusOK, req)
	})
	// Memory, every 10 s.
	var rss []float64
	sample := func() {
		if *pid == 0 {
			return
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				rss = append(rss, kb/1024)
			}
		}
	}
	sample()
	done := make(chan struct{})
	go func() { workers.Wait(); close(results) }()
	counts := map[string]map[int]int{}
	unexpected := 0
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	for r := range results {
		if counts[r.kind] == nil {
			counts[r.kind] = map[int]int{}
		}
		counts[r.kind][r.code]++
		if !r.ok {
			unexpected++
		}
	}
	close(done)
	sample()
	kinds := slices.Sorted(maps.Keys(counts))
	total, fivexx := 0, 0
	for _, k := range kinds {
		codes := slices.Sorted(maps.Keys(counts[k]))
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", counts[k][c], c))
			total += counts[k][c]
			if c >= 500 {
				fivexx += counts[k][c]
			}
		}
		fmt.Printf("%-17s %s\n", k, strings.Join(parts, " "))
	}
	fmt.Printf("soak: %s, %d requests, %d unexpected statuses, %d 5xx\n", *duration, total, unexpected, fivexx)
	if len(rss) > 0 {
		fmt.Printf("RSS MiB: start %.1f, peak %.1f, end %.1f (%d samples)\n", rss[0], slices.Max(rss), rss[len(rss)-1], len(rss))
	}
	if unexpected > 0 {
		return fmt.Errorf("%d unexpected statuses", unexpected)
	}
	return nil
}
