package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"
)

// Device tokens, after OWASP's "Slow Down Online Guessing Attacks with
// Device Cookies". A client that logs in to an account with its password
// gets a token that names the account and the moment it was issued, signed
// with a key of its own, derived from the signing key. A later login to
// the same account that presents a valid one is counted against that
// device alone, not against the client's address nor the account, so an
// attacker's failures lock out neither the owner's address (a NAT, an
// office) nor the account. A device with too many failures of its own is
// treated as unknown: its attempts are throttled by address and account
// like any other. The token binds the folded email, so it is checked
// before the user is looked up, and the answer never depends on whether
// the account exists.

// DeviceTokenHeader is the header in which [Manager.LoginHandler] and
// [Manager.TokenHandler] give a client its device token after a successful
// login, and in which an API client sends it back with later logins
// (browsers get and send it as a cookie).
const DeviceTokenHeader = "Auth-Device-Token" // #nosec G101 -- a header name, not a credential

// deviceCookieName names the device token's cookie.
const deviceCookieName = "auth_device"

// defaultDeviceMaxAge is the default of ThrottleConfig.DeviceMaxAge.
const defaultDeviceMaxAge = 90 * 24 * time.Hour

// A device token is base64url(id || issued || mac): a random id of
// deviceIDBytes (the key of the device's own failure count), the issue
// time in Unix seconds (8 bytes, big-endian), and HMAC-SHA256 over the
// label, id, issue time and folded email.
const (
	deviceIDBytes    = 16
	deviceTokenBytes = deviceIDBytes + 8 + sha256.Size
	deviceLabel      = "authkit device token v1"
)

// devices signs and checks device tokens.
type devices struct {
	keys   [][]byte // derived from the signing key, then from each old key; the first signs
	maxAge time.Duration
}

// newDevices returns the device token settings of c, or nil when device
// tokens are off: without throttling they would exempt nothing.
func newDevices(c ThrottleConfig, key []byte, oldKeys [][]byte) *devices {
	if c.Disabled || c.DeviceMaxAge < 0 {
		return nil
	}
	d := &devices{maxAge: durationOr(c.DeviceMaxAge, defaultDeviceMaxAge)}
	for _, k := range append([][]byte{key}, oldKeys...) {
		d.keys = append(d.keys, deriveSessionKey(k, deviceLabel))
	}
	return d
}

// deviceMAC is the signature of a device token's id and issued bytes for the
// account of email under key.
func deviceMAC(key, idIssued []byte, email string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(deviceLabel))
	h.Write([]byte{0})
	h.Write(idIssued)
	h.Write([]byte(foldEmail(email)))
	return h.Sum(nil)
}

// issue returns a new device token for the account of email.
func (d *devices) issue(email string, now time.Time) string {
	buf := make([]byte, deviceIDBytes+8, deviceTokenBytes)
	// crypto/rand.Read never fails on supported platforms.
	_, _ = rand.Read(buf[:deviceIDBytes])
	binary.BigEndian.PutUint64(buf[deviceIDBytes:], uint64(now.Unix())) // #nosec G115 -- times after 1970
	return base64.RawURLEncoding.EncodeToString(append(buf, deviceMAC(d.keys[0], buf, email)...))
}

// check returns the id of token if it is a device token this Manager
// signed for the account of email and has not expired at now; "" if not.
func (d *devices) check(token, email string, now time.Time) string {
	if d == nil || token == "" || email == "" || len(token) != base64.RawURLEncoding.EncodedLen(deviceTokenBytes) {
		return ""
	}
	buf, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(buf) != deviceTokenBytes {
		return ""
	}
	body, mac := buf[:deviceIDBytes+8], buf[deviceIDBytes+8:]
	valid := false
	for _, k := range d.keys {
		if hmac.Equal(mac, deviceMAC(k, body, email)) {
			valid = true
			break
		}
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(body[deviceIDBytes:])), 0) // #nosec G115 -- signed by the Manager
	if !valid || issued.After(now.Add(clockSkew)) || now.Sub(issued) > d.maxAge {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(body[:deviceIDBytes])
}

// deviceToken returns the device token r carries: the DeviceTokenHeader,
// else the device cookie; "" for none.
func deviceToken(r *http.Request) string {
	if v := r.Header.Get(DeviceTokenHeader); v != "" {
		return v
	}
	if c, err := r.Cookie(deviceCookieName); err == nil {
		return c.Value
	}
	return ""
}

// issueDevice gives the client of a successful password login for the
// account of email a new device token: in the DeviceTokenHeader, and, for
// a client that gets session cookies (cookie), as an HttpOnly cookie with
// the session cookies' Path, Domain, Secure and SameSite, lasting as long
// as the token.
func (m *Manager) issueDevice(w http.ResponseWriter, email string, cookie bool) {
	if m.devices == nil {
		return
	}
	tok := m.devices.issue(email, m.now())
	w.Header().Set(DeviceTokenHeader, tok)
	if cookie {
		http.SetCookie(w, m.sessions.cookie(deviceCookieName, tok, int(m.devices.maxAge/time.Second)))
	}
}
