package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxies are the reverse proxies whose X-Forwarded-For header is believed
// (Config.TrustedProxies).
type proxies []netip.Prefix

// clientAddr returns the address of the client that sent r: the host of
// RemoteAddr, unless RemoteAddr is one of Config.TrustedProxies, in which
// case X-Forwarded-For is read from right to left and the first address
// that is not a trusted proxy is the client. A malformed forwarded entry
// stops the walk at the last trusted hop, so a client cannot forge its
// address by sending the header itself.
func (p proxies) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !p.trusted(addr) {
		return addr.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String()
			}
			addr = hop.Unmap()
			if !p.trusted(addr) {
				return addr.String()
			}
		}
	}
	return addr.String()
}

// trusted reports whether a is the address of a trusted proxy.
func (p proxies) trusted(a netip.Addr) bool {
	for _, prefix := range p {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}
