// Package pwned checks passwords against Have I Been Pwned's Pwned
// Passwords, through the k-anonymity range API, without sending the
// password or its full hash anywhere.
//
// A [Client] hashes the password with SHA-1, sends only the first five
// hex digits of the hash (GET {BaseURL}/range/{prefix}) and looks for the
// remaining 35 among the few hundred suffixes the server answers with.
// It always asks for padding (the Add-Padding: true header), so that the
// size of the response tells an observer nothing about the prefix; the
// padding entries, whose count is 0, count as absent.
//
// A *Client implements the BreachChecker interface of package
// github.com/authkit/auth, and imports nothing of that module.
//
// # Errors
//
// Errors start with "pwned: " and wrap their cause with %w: a done
// context gives an error matching ctx.Err() (context.Canceled or
// context.DeadlineExceeded), and so does the HTTPClient's timeout
// (context.DeadlineExceeded). No error names the password, its hash or
// the prefix sent; a transport error is reported without the request's
// URL for that reason.
package pwned

import (
	"context"
	"crypto/sha1" // #nosec G505 -- the Pwned Passwords API indexes passwords by SHA-1; it protects nothing here
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the Client's fields.
const (
	defaultBaseURL   = "https://api.pwnedpasswords.com"
	defaultUserAgent = "authkit-auth"
	defaultTimeout   = 5 * time.Second
)

// defaultHTTPClient serves every Client whose HTTPClient is nil, so that
// they share its connections.
var defaultHTTPClient = &http.Client{Timeout: defaultTimeout}

// Client checks passwords against the Pwned Passwords range API. Its zero
// value is ready to use, with the defaults given on each field. A Client
// is safe for concurrent use as long as its fields are not changed.
type Client struct {
	// BaseURL is the API's root, without the trailing "/range".
	// Default "https://api.pwnedpasswords.com".
	BaseURL string
	// HTTPClient sends the requests. Default: an http.Client with a
	// 5-second timeout, shared by every Client that leaves this nil.
	HTTPClient *http.Client
	// MinCount is how many times a password must have been seen in
	// breaches to count as breached. Values below 1 mean 1, the default.
	MinCount int
	// UserAgent is sent as the User-Agent header, which the API
	// requires. Default "authkit-auth".
	UserAgent string
}

// Breached reports whether password appears in the Pwned Passwords
// corpus at least MinCount times. The password's bytes are hashed as
// they are (UTF-8, without normalization), and only the first five hex
// digits of their SHA-1 hash leave the process. It returns an error, and
// false, when the API cannot be reached, answers with a status other
// than 200 OK, or sends a response that is not a valid range (a malformed
// line, or more than 1 MiB).
func (c *Client) Breached(ctx context.Context, password string) (bool, error) {
	prefix, suffix := hashParts(password)
	base := c.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	endpoint := strings.TrimRight(base, "/") + "/range/" + prefix
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return false, fmt.Errorf("pwned: invalid range request: %w", withoutURL(err))
	}
	ua := c.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Add-Padding", "true")
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("pwned: range request: %w", withCtx(ctx, withoutURL(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Read a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return false, fmt.Errorf("pwned: range request: status %s", strings.TrimSpace(strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode)))
	}
	count, err := parseRange(resp.Body, suffix)
	if err != nil {
		return false, withCtx(ctx, err)
	}
	minCount := c.MinCount
	if minCount < 1 {
		minCount = 1
	}
	return count >= minCount, nil
}

// hashParts returns the uppercase hex SHA-1 hash of password split into
// the 5-character prefix sent to the API and the 35-character suffix
// looked for in its answer.
func hashParts(password string) (prefix, suffix string) {
	const digits = "0123456789ABCDEF"
	sum := sha1.Sum([]byte(password)) // #nosec G401 -- SHA-1 is the API's index, not a protection
	var h [2 * sha1.Size]byte
	for i, b := range sum {
		h[2*i] = digits[b>>4]
		h[2*i+1] = digits[b&0x0f]
	}
	return string(h[:prefixLen]), string(h[prefixLen:])
}

// withoutURL returns the cause inside a *url.Error, whose message would
// otherwise carry the request's URL and so the hash prefix.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// withCtx makes err match ctx.Err() when ctx is done, in case the
// transport reported the cancellation in its own words.
func withCtx(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}
