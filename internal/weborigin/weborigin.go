// Package weborigin checks the web origins that the example programs take
// on their command lines: the example server's -cors-origin and the
// single-page app's -api.
package weborigin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrNotOrigin is wrapped by every error of [Parse].
var ErrNotOrigin = errors.New("not a web origin")

// Parse checks that s is an origin exactly as a browser serializes it in
// an Origin header (RFC 6454 §6.2): scheme "http" or "https", "://", a
// host and an optional port, all in lower case, without a path (not even
// "/"), query, fragment, user information, wildcard or the scheme's
// default port; the literal "null" is no origin either. Browsers compare
// origins as strings, so a spelling that differs only in case, a default
// port or a trailing "/" is refused, with the spelling to use, rather
// than matched loosely. It returns s; its errors do not repeat s.
func Parse(s string) (string, error) {
	if strings.Contains(s, "*") {
		return "", fmt.Errorf("%w: a wildcard matches origins nobody listed; name each origin", ErrNotOrigin)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%w: want http:// or https://, a host and an optional port, such as http://localhost:5173", ErrNotOrigin)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%w: an origin is scheme://host[:port], without a path, query or user", ErrNotOrigin)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", fmt.Errorf("%w: the port must be a number from 1 to 65535", ErrNotOrigin)
		}
	}
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("%w: the origin has no host", ErrNotOrigin)
	}
	if !validHost(host) {
		return "", fmt.Errorf("%w: the host must be a name of letters, digits, '-', '_' and '.' (an international name in its xn-- form) or an IP address", ErrNotOrigin)
	}
	if canon := serialize(u); canon != s {
		return "", fmt.Errorf("%w: write it as a browser sends it, %s", ErrNotOrigin, canon)
	}
	return s, nil
}

// validHost reports whether host (without brackets) is an IP address or
// a DNS name as browsers serialize one.
func validHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return !strings.Contains(host, "%") // no IPv6 zone in an origin
	}
	for _, c := range host {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// serialize is the ASCII serialization of u's origin: lower-case scheme
// and host, the port unless it is the scheme's default.
func serialize(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
