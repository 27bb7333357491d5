package pwned_test

import (
	"context"
	"crypto/sha1" // #nosec G505 -- the protocol's hash, computed independently of the package
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authkit/auth/pwned"
)

// breachChecker is package auth's BreachChecker, which this package must
// implement without importing it.
type breachChecker interface {
	Breached(ctx context.Context, password string) (bool, error)
}

var _ breachChecker = (*pwned.Client)(nil)

// breaches is the corpus the test server knows: password → times seen. A
// count of 0 is served as a padding entry.
var breaches = map[string]int{
	"password":      52256179,
	"123456":        209972844,
	"seen-3-times":  3,
	"padded-entry":  0,
	"Pässwörd-🔑":    17,
	"":              1,
	"qwerty\r\nfoo": 2,
}

// sha1Hex is the uppercase hex SHA-1 of s.
func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s)) // #nosec G401 -- the protocol's hash
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// rangeBody is the range the test server answers for prefix: the entries
// of breaches under prefix, and 20 padding entries, sorted, each line
// ended by eol.
func rangeBody(prefix, eol string) string {
	var lines []string
	for pw, n := range breaches {
		if h := sha1Hex(pw); h[:5] == prefix {
			lines = append(lines, fmt.Sprintf("%s:%d", h[5:], n))
		}
	}
	for i := range 20 {
		lines = append(lines, sha1Hex(fmt.Sprintf("padding %s %d", prefix, i))[5:]+":0")
	}
	sort.Strings(lines)
	return strings.Join(lines, eol) + eol
}

// rangePath is the only form of path the API serves.
var rangePath = regexp.MustCompile(`^/range/[0-9A-F]{5}$`)

// rangeServer is an httptest server that checks every request as the
// Pwned Passwords API would and records all it was sent, for the test to
// check that nothing but the prefix left the client.
type rangeServer struct {
	*httptest.Server
	t         *testing.T
	userAgent string // the User-Agent expected

	mu       sync.Mutex
	requests []string // each request's URI, headers and body
	paths    []string
}

// newRangeServer starts a rangeServer that answers valid requests with
// serve, or by the protocol when serve is nil.
func newRangeServer(t *testing.T, userAgent string, serve http.HandlerFunc) *rangeServer {
	t.Helper()
	s := &rangeServer{t: t, userAgent: userAgent}
	if serve == nil {
		serve = func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, rangeBody(strings.TrimPrefix(r.URL.Path, "/range/"), "\r\n"))
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var rec strings.Builder
		fmt.Fprintf(&rec, "%s %s\n", r.Method, r.RequestURI)
		for k, vs := range r.Header {
			fmt.Fprintf(&rec, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		rec.Write(body)
		s.mu.Lock()
		s.requests = append(s.requests, rec.String())
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()

		switch {
		case r.Method != http.MethodGet:
			t.Errorf("method %s, want GET", r.Method)
		case !rangePath.MatchString(r.URL.Path) || r.URL.RawQuery != "":
			t.Errorf("request URI %q, want /range/ and 5 uppercase hex digits", r.RequestURI)
		case r.Header.Get("Add-Padding") != "true":
			t.Errorf("Add-Padding = %q, want true", r.Header.Get("Add-Padding"))
		case r.Header.Get("User-Agent") != s.userAgent:
			t.Errorf("User-Agent = %q, want %q", r.Header.Get("User-Agent"), s.userAgent)
		case len(body) != 0:
			t.Errorf("request has a body of %d bytes", len(body))
		default:
			serve(w, r)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
	}))
	t.Cleanup(s.Close)
	return s
}

// checkLeaks fails t unless every request asked for exactly password's
// prefix and carried nothing else of password or its hash.
func (s *rangeServer) checkLeaks(password string) {
	s.t.Helper()
	h := sha1Hex(password)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.paths {
		if p != "/range/"+h[:5] {
			s.t.Errorf("request path %q, want /range/%s", p, h[:5])
		}
	}
	for _, rec := range s.requests {
		for _, secret := range []string{h, h[5:], strings.ToLower(h[5:]), h[5:12], strings.ToLower(h[5:12])} {
			if strings.Contains(rec, secret) {
				s.t.Errorf("request contains the hash beyond its prefix:\n%s", rec)
			}
		}
		if len(password) >= 4 && strings.Contains(rec, password) {
			s.t.Errorf("request contains the password:\n%s", rec)
		}
	}
}

func serveString(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// passwordPrefixLine is a valid entry under "password"'s prefix, which
// makes the malformed bodies below wrong in one way only.
var passwordPrefixLine = sha1Hex("password")[5:] + ":52256179\r\n"

func TestBreached(t *testing.T) {
	cancelled := func(ctx context.Context) context.Context {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx
	}
	tests := []struct {
		name      string
		password  string
		client    pwned.Client // BaseURL is set to the test server's
		baseURL   func(serverURL string) string
		serve     http.HandlerFunc // nil: the protocol
		closed    bool             // close the server before the call
		ctx       func(context.Context) context.Context
		want      bool
		wantErr   string // a substring of the error; "" for none
		wantErrIs error
	}{
		{name: "breached", password: "password", want: true},
		{name: "breached, another prefix", password: "123456", want: true},
		{name: "breached, non-ASCII", password: "Pässwörd-🔑", want: true},
		{name: "breached, empty password", password: "", want: true},
		{name: "breached, control characters", password: "qwerty\r\nfoo", want: true},
		{name: "unknown", password: "correct horse battery staple", want: false},
		{name: "padding entry (count 0)", password: "padded-entry", want: false},
		{name: "MinCount equal to the count", password: "seen-3-times", client: pwned.Client{MinCount: 3}, want: true},
		{name: "MinCount above the count", password: "seen-3-times", client: pwned.Client{MinCount: 4}, want: false},
		{name: "MinCount negative means 1", password: "seen-3-times", client: pwned.Client{MinCount: -5}, want: true},
		{name: "MinCount does not admit padding", password: "padded-entry", client: pwned.Client{MinCount: -1}, want: false},
		{name: "custom User-Agent", password: "password", client: pwned.Client{UserAgent: "my-app/1.0"}, want: true},
		{name: "custom HTTPClient", password: "password", client: pwned.Client{HTTPClient: &http.Client{Timeout: time.Second}}, want: true},
		{name: "BaseURL with a trailing slash", password: "password", baseURL: func(u string) string { return u + "/" }, want: true},
		{
			name: "LF line endings", password: "password", want: true,
			serve: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, rangeBody(strings.TrimPrefix(r.URL.Path, "/range/"), "\n"))
			},
		},
		{
			name: "no final line ending", password: "password", want: true,
			serve: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, strings.TrimSpace(rangeBody(strings.TrimPrefix(r.URL.Path, "/range/"), "\r\n")))
			},
		},
		{name: "server error", password: "password", serve: serveString(http.StatusInternalServerError, passwordPrefixLine), wantErr: "status 500"},
		{name: "rate limited", password: "password", serve: serveString(http.StatusTooManyRequests, ""), wantErr: "status 429"},
		{name: "not found", password: "password", serve: serveString(http.StatusNotFound, "not found"), wantErr: "status 404"},
		{name: "malformed body", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine+"<html>oops</html>\r\n"), wantErr: "line 2: no colon"},
		{name: "short suffix", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine[1:]), wantErr: "suffix has 34 characters, want 35"},
		{name: "long suffix", password: "password", serve: serveString(http.StatusOK, "0"+passwordPrefixLine), wantErr: "suffix has 36 characters"},
		{name: "non-hex suffix", password: "password", serve: serveString(http.StatusOK, "G"+passwordPrefixLine[1:]), wantErr: "not uppercase hex"},
		{name: "lowercase suffix", password: "password", serve: serveString(http.StatusOK, strings.ToLower(passwordPrefixLine)), wantErr: "not uppercase hex"},
		{name: "non-number count", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine[:36]+"many\r\n"), wantErr: "count is not a decimal number"},
		{name: "negative count", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine[:36]+"-1\r\n"), wantErr: "count is not a decimal number"},
		{name: "empty count", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine[:36]+"\r\n"), wantErr: "empty count"},
		{name: "count out of range", password: "password", serve: serveString(http.StatusOK, passwordPrefixLine[:36]+"99999999999999999999999\r\n"), wantErr: "count out of range"},
		{name: "empty body", password: "password", serve: serveString(http.StatusOK, ""), wantErr: "no entries"},
		{
			name: "oversize body", password: "password", wantErr: "exceeds 1048576 bytes",
			serve: func(w http.ResponseWriter, r *http.Request) {
				line := strings.Repeat("0", 35) + ":0\r\n"
				for range (1<<20)/len(line) + 1 {
					_, _ = io.WriteString(w, line)
				}
			},
		},
		{
			name: "endless body", password: "password", wantErr: "exceeds 1048576 bytes",
			serve: func(w http.ResponseWriter, r *http.Request) {
				line := []byte(strings.Repeat("0", 35) + ":0\r\n")
				for r.Context().Err() == nil {
					if _, err := w.Write(line); err != nil {
						return
					}
				}
			},
		},
		{name: "unreachable server", password: "password", closed: true, wantErr: "pwned: range request: "},
		{name: "context cancelled", password: "password", ctx: cancelled, wantErrIs: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ua := tc.client.UserAgent
			if ua == "" {
				ua = "authkit-auth"
			}
			srv := newRangeServer(t, ua, tc.serve)
			c := tc.client
			c.BaseURL = srv.URL
			if tc.baseURL != nil {
				c.BaseURL = tc.baseURL(srv.URL)
			}
			if tc.closed {
				srv.Close()
			}
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			got, err := c.Breached(ctx, tc.password)
			srv.checkLeaks(tc.password)
			if tc.wantErr == "" && tc.wantErrIs == nil {
				if err != nil {
					t.Fatalf("Breached: %v", err)
				}
				if got != tc.want {
					t.Fatalf("Breached = %v, want %v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Breached = %v, nil; want an error", got)
			}
			if got {
				t.Errorf("Breached = true with error %v", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
				t.Errorf("error %q does not match %v", err, tc.wantErrIs)
			}
			checkErrorSecret(t, err, tc.password)
		})
	}
}

// checkErrorSecret fails t if err's message names password, its hash or
// the prefix sent.
func checkErrorSecret(t *testing.T, err error, password string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "pwned: ") {
		t.Errorf("error %q does not start with \"pwned: \"", msg)
	}
	h := sha1Hex(password)
	if strings.Contains(msg, h[:5]) || strings.Contains(strings.ToUpper(msg), h[:5]) {
		t.Errorf("error %q names the hash prefix %s", msg, h[:5])
	}
	if len(password) >= 4 && strings.Contains(msg, password) {
		t.Errorf("error %q names the password", msg)
	}
}

// TestBreachedCancelInFlight cancels the context while the server holds
// the request.
func TestBreachedCancelInFlight(t *testing.T) {
	arrived := make(chan struct{})
	srv := newRangeServer(t, "authkit-auth", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()
	c := &pwned.Client{BaseURL: srv.URL}
	got, err := c.Breached(ctx, "password")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Breached = %v, %v; want an error matching context.Canceled", got, err)
	}
	checkErrorSecret(t, err, "password")
	srv.checkLeaks("password")
}

// TestBreachedCancelDuringBody cancels the context while the body is
// being read.
func TestBreachedCancelDuringBody(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := newRangeServer(t, "authkit-auth", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, passwordPrefixLine)
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
	})
	c := &pwned.Client{BaseURL: srv.URL}
	got, err := c.Breached(ctx, "password")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Breached = %v, %v; want an error matching context.Canceled", got, err)
	}
	checkErrorSecret(t, err, "password")
}

// TestBreachedTimeout checks that HTTPClient's timeout bounds a server
// that never answers.
func TestBreachedTimeout(t *testing.T) {
	srv := newRangeServer(t, "authkit-auth", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	c := &pwned.Client{BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}
	start := time.Now()
	got, err := c.Breached(t.Context(), "password")
	if err == nil {
		t.Fatalf("Breached = %v, nil; want a timeout error", got)
	}
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %q is not a timeout matching context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Breached took %v", d)
	}
	checkErrorSecret(t, err, "password")
}

// roundTripFunc is an http.RoundTripper that never touches the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestZeroClientDefaults checks the request a Client with only an
// HTTPClient set sends, without sending it.
func TestZeroClientDefaults(t *testing.T) {
	var got *http.Request
	c := pwned.Client{HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{
			StatusCode: http.StatusOK,
			Status:     "200 OK",
			Body:       io.NopCloser(strings.NewReader(passwordPrefixLine)),
			Header:     http.Header{},
			Request:    r,
		}, nil
	})}}
	breached, err := c.Breached(t.Context(), "password")
	if err != nil || !breached {
		t.Fatalf("Breached = %v, %v; want true, nil", breached, err)
	}
	if u := got.URL.String(); u != "https://api.pwnedpasswords.com/range/5BAA6" {
		t.Errorf("URL = %s", u)
	}
	if ua := got.Header.Get("User-Agent"); ua != "authkit-auth" {
		t.Errorf("User-Agent = %q", ua)
	}
	if p := got.Header.Get("Add-Padding"); p != "true" {
		t.Errorf("Add-Padding = %q", p)
	}
}

func TestBreachedInvalidBaseURL(t *testing.T) {
	c := &pwned.Client{BaseURL: "http://[::1"}
	_, err := c.Breached(t.Context(), "password")
	if err == nil || !strings.Contains(err.Error(), "missing ']' in host") {
		t.Fatalf("Breached: %v; want a parse error of BaseURL", err)
	}
	checkErrorSecret(t, err, "password")
}

// TestBreachedConcurrent uses one Client from many goroutines, for the
// race detector.
func TestBreachedConcurrent(t *testing.T) {
	srv := newRangeServer(t, "authkit-auth", nil)
	c := &pwned.Client{BaseURL: srv.URL}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw, want := "password", true
			if i%2 == 1 {
				pw, want = "padded-entry", false
			}
			if got, err := c.Breached(t.Context(), pw); err != nil || got != want {
				t.Errorf("Breached(%q) = %v, %v; want %v", pw, got, err, want)
			}
		}()
	}
	wg.Wait()
}
