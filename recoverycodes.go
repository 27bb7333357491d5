package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strings"
)

// Recovery codes: ten one-time codes a user with a second factor keeps on
// paper, each of which completes one login in place of an authenticator
// code. They are shown once, when made, and stored as keyed hashes.
const (
	recoveryCodeCount = 10
	// recoveryAlphabet has no 0/o, 1/l/i: 31 letters and digits that
	// cannot be misread, 12 of them (59 bits) to a code.
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	recoveryCodeLen  = 12
)

// newRecoveryCode returns a random code such as "k7m2-qx9d-pt3f".
func newRecoveryCode() string {
	var b strings.Builder
	var buf [64]byte
	n := 0
	for n < recoveryCodeLen {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
		for _, c := range buf {
			// 248 = 8 × 31: rejecting the bytes above keeps every
			// character equally likely.
			if c >= 248 || n == recoveryCodeLen {
				continue
			}
			if n > 0 && n%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[c%31])
			n++
		}
	}
	return b.String()
}

// normalizeRecoveryCode reads a code as people type it: case, spaces and
// hyphens do not matter. It reports false for anything that cannot be a
// code.
func normalizeRecoveryCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == recoveryCodeLen
}

// recoveryHashes returns the keyed hashes of a normalized code of the
// user, under the signing key and then each old key: a code made before a
// rotation still works.
func (tf *twoFactor) recoveryHashes(userID, code string) [][]byte {
	out := make([][]byte, 0, len(tf.recoveryKeys))
	for _, k := range tf.recoveryKeys {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(userID))
		h.Write([]byte{0})
		h.Write([]byte(code))
		out = append(out, h.Sum(nil))
	}
	return out
}

// serveRecoveryCodes serves /mf-recovery-codes for a logged-in user with
// a second factor: POST makes ten new codes, replacing the old ones, and
// answers them, this once, as {"recovery_codes":[…]}; GET answers
// {"recovery_codes_left":N}.
func (m *Manager) serveRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	u, _ := FromContext(r.Context())
	ctx := r.Context()
	methods, err := m.secondFactors(ctx, u)
	switch {
	case err != nil:
		m.fail(w, r, http.StatusServiceUnavailable, err)
		return
	case len(methods) == 0:
		m.fail(w, r, http.StatusBadRequest, badRequest(msgNoSecondFactor))
		return
	}
	if r.Method == http.MethodGet {
		n, err := m.tf.store.RecoveryCodesLeft(ctx, u.ID)
		if err != nil {
			m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
			return
		}
		m.writeOK(w, r, struct {
			Left int `json:"recovery_codes_left"`
		}{n})
		return
	}
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		norm, _ := normalizeRecoveryCode(codes[i])
		hashes[i] = m.tf.recoveryHashes(u.ID, norm)[0]
	}
	if err := m.tf.store.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	m.audit(ctx, EventRecoveryCodesMade, slog.String("user_id", u.ID), slog.String("ip", m.proxies.clientAddr(r)))
	noStore(w)
	m.writeOK(w, r, struct {
		Codes []string `json:"recovery_codes"`
	}{codes})
}

// useRecoveryCode checks a recovery code of the user, throttled as codes
// of the app are, and uses it up; it reports whether it was one.
func (m *Manager) useRecoveryCode(r *http.Request, userID, code string) (bool, error) {
	ctx := r.Context()
	if t := m.throttle; t != nil {
		if err := t.reserve(ctx, "tf:"+t.hash("tf", userID), m.now(), t.ip); err != nil {
			return false, err
		}
	}
	norm, ok := normalizeRecoveryCode(code)
	if ok {
		for _, h := range m.tf.recoveryHashes(userID, norm) {
			used, err := m.tf.store.UseRecoveryCode(ctx, userID, h)
			if err != nil {
				return false, storeError(err)
			}
			if used {
				if t := m.throttle; t != nil {
					if err := t.store.Reset(ctx, "tf:"+t.hash("tf", userID)); err != nil {
						m.log.ErrorContext(ctx, "auth: throttle store failed", "error", err.Error())
					}
				}
				m.audit(ctx, EventRecoveryCodeUsed, slog.String("user_id", userID), slog.String("ip", m.proxies.clientAddr(r)))
				return true, nil
			}
		}
	}
	m.audit(ctx, EventTwoFactorFailed, slog.String("user_id", userID), slog.String("kind", "recovery_code"))
	return false, nil
}

// serveRecovery serves POST /mf-recovery {"code","tf_state_token"}: a
// login's second step with a recovery code instead of the app's, answered
// as a login is, with "recovery_codes_left".
func (m *Manager) serveRecovery(w http.ResponseWriter, r *http.Request) {
	m.secondStep(w, r, msgRecoveryCodeInvalid, func(u *User, f *TwoFactor, code string) (bool, error) {
		return m.useRecoveryCode(r, u.ID, code)
	})
}
