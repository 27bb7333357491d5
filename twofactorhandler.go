package auth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authkit/auth/totp"
)

// tfSetupAnswer is the answer to POST /tf-setup {"setup":"authenticator"}:
// Flask-Security's members, with the URI, the QR code and the state token
// that carries the key until the first code.
type tfSetupAnswer struct {
	State      string `json:"tf_state"`
	Method     string `json:"tf_primary_method"`
	Key        string `json:"tf_authr_key"`
	Username   string `json:"tf_authr_username"`
	Issuer     string `json:"tf_authr_issuer"`
	URI        string `json:"tf_authr_uri"`
	QRCode     string `json:"tf_authr_qrcode,omitempty"`
	StateToken string `json:"tf_state_token"`
}

// tfRequired is the answer to a login whose password checked out for a
// user with a second factor: no token yet.
type tfRequired struct {
	Required   bool   `json:"tf_required"`
	State      string `json:"tf_state"`
	Method     string `json:"tf_primary_method"`
	MethodToo  string `json:"tf_method"`
	StateToken string `json:"tf_state_token"`
	// Methods are all the user's second factors, the first preferred:
	// "authenticator" (POST /tf-validate), "webauthn" (POST /wan-signin).
	Methods []string `json:"tf_methods"`
}

// answerTwoFactorRequired answers a login of u, who has a second factor,
// with the state token that POST /tf-validate takes with a code. A
// browser's form post gets it in the tfCookie instead, and is sent to the
// login page with tf=1 (and its next) for the code.
func (m *Manager) answerTwoFactorRequired(w http.ResponseWriter, r *http.Request, u *User, req loginRequest) {
	browser := req.form && prefersHTML(r)
	methods, err := m.secondFactors(r.Context(), u)
	if err != nil {
		m.fail(w, r, statusOf(err), err)
		return
	}
	if len(methods) == 0 { // turned off since the gate: no answer is right
		m.fail(w, r, http.StatusServiceUnavailable, fmt.Errorf("%w: second factors changed during a login", ErrStoreUnavailable))
		return
	}
	tok, err := encodeState(m.tf.login, stateClaims{UserID: u.ID, Uniq: u.Uniquifier, Remember: req.remember && browser})
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, fmt.Errorf("auth: cannot encode a state token: %w", err))
		return
	}
	noStore(w)
	if browser {
		http.SetCookie(w, m.sessions.cookie(tfCookie, tok, int(m.tf.maxAge/time.Second)))
		next := req.next
		if next == "" {
			next = r.URL.Query().Get("next")
		}
		seeOther(w, withQuery(m.sessions.loginPageURL(next, false), url.Values{"tf": {"1"}, "tf_methods": {strings.Join(methods, ",")}}))
		return
	}
	m.writeOK(w, r, tfRequired{Required: true, State: "ready", Method: methods[0], MethodToo: methods[0], Methods: methods, StateToken: tok})
}

// twoFactorRoutes returns the routes of second factors, for
// tokenLifecycle: /tf-setup and /tf-setup/{state} for a logged-in user
// (the first with a fresh login), /mf-recovery-codes likewise, and
// /tf-validate and /mf-recovery for a login in progress, when
// authenticator apps are on; and the passkey routes (passkeyRoutes) when
// passkeys are.
func (m *Manager) twoFactorRoutes(loggedIn func(http.Handler) http.Handler) func(w http.ResponseWriter, r *http.Request, route, rest string) bool {
	var setup http.Handler = http.HandlerFunc(m.serveTFSetup)
	if m.freshness >= 0 {
		setup = m.RequireFresh(m.freshness)(setup)
	}
	setup = loggedIn(setup)
	confirm := loggedIn(http.HandlerFunc(m.serveTFSetupCode))
	anonymous := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := m.loginCSRF(r); err != nil {
				m.fail(w, r, statusOf(err), err)
				return
			}
			h(w, r)
		})
	}
	validate, recovery := anonymous(m.serveTFValidate), anonymous(m.serveRecovery)
	// Counting the codes needs a login; making new ones a fresh one.
	var makeCodes http.Handler = http.HandlerFunc(m.serveRecoveryCodes)
	if m.freshness >= 0 {
		makeCodes = m.RequireFresh(m.freshness)(makeCodes)
	}
	countCodes, makeCodes := loggedIn(http.HandlerFunc(m.serveRecoveryCodes)), loggedIn(makeCodes)
	var wan func(w http.ResponseWriter, r *http.Request, route, rest string) bool
	if m.passkeys != nil {
		wan = m.passkeyRoutes(loggedIn)
	}
	return func(w http.ResponseWriter, r *http.Request, route, rest string) bool {
		if wan != nil && wan(w, r, route, rest) {
			return true
		}
		if m.tf.store == nil { // passkeys alone: no authenticator apps
			return false
		}
		var h http.Handler
		switch {
		case route == "tf-setup" && rest == "" && !strings.HasSuffix(r.URL.Path, "/"):
			h = setup
		case route == "tf-setup" && rest != "" && !strings.Contains(rest, "/"):
			h = confirm
		case route == "tf-validate" && rest == "" && !strings.HasSuffix(r.URL.Path, "/"):
			h = validate
		case route == "mf-recovery" && rest == "" && !strings.HasSuffix(r.URL.Path, "/"):
			h = recovery
		case route == "mf-recovery-codes" && rest == "" && !strings.HasSuffix(r.URL.Path, "/"):
			switch r.Method {
			case http.MethodGet:
				countCodes.ServeHTTP(w, r)
			case http.MethodPost:
				makeCodes.ServeHTTP(w, r)
			default:
				w.Header().Set("Allow", "GET, POST")
				m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			}
			return true
		default:
			return false
		}
		if !allowPost(w, r) {
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			return true
		}
		h.ServeHTTP(w, r)
		return true
	}
}

// serveTFSetup serves POST /tf-setup {"setup":"authenticator"|"disable"}.
// "authenticator" makes a new key and answers it, with its otpauth URI,
// and a state token that carries it, sealed, to POST /tf-setup/{state};
// nothing is stored until a code proves the app has it. "disable" removes
// the user's second factor and recovery codes.
func (m *Manager) serveTFSetup(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "setup")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	switch q.get("setup") {
	case methodAuthenticator:
	case "disable":
		if err := m.tf.store.DeleteTwoFactor(r.Context(), u.ID); err != nil {
			rp.fail(w, r, q, storeError(err))
			return
		}
		m.ForgetUser(u.ID)
		m.audit(r.Context(), EventTwoFactorDisabled, slog.String("user_id", u.ID), slog.String("ip", m.proxies.clientAddr(r)))
		rp.ok(w, r, q, "disabled", struct {
			State string `json:"tf_state"`
		}{"disabled"})
		return
	default:
		f := fieldErrors{}
		f.add("setup", msgSetupUnknown)
		rp.refuse(w, r, q, f, "setup")
		return
	}
	key := totp.NewKey()
	sealed, err := m.tf.sealSecret(u.ID, key)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	state, err := encodeState(m.tf.setup, stateClaims{UserID: u.ID, Uniq: u.Uniquifier, Sealed: sealed})
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, fmt.Errorf("auth: cannot encode a state token: %w", err))
		return
	}
	uri, err := m.tf.otp.URI(m.tf.issuer, u.Email, key)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	noStore(w)
	m.writeOK(w, r, tfSetupAnswer{
		State: "validating_profile", Method: methodAuthenticator, Key: totp.EncodeKey(key),
		Username: u.Email, Issuer: m.tf.issuer, URI: uri, QRCode: m.qrDataURI(r.Context(), uri), StateToken: state,
	})
}

// serveTFSetupCode serves POST /tf-setup/{state} {"code"}: a code of the
// key the state token carries turns the second factor on.
func (m *Manager) serveTFSetupCode(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	_, state, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q, err := readAccountRequest(w, r, m.maxBody, "code")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	c, err := decodeState(m.tf.setup, state)
	if err != nil || c.UserID != u.ID || c.Uniq != u.Uniquifier || len(c.Sealed) == 0 {
		rp.fail(w, r, q, badRequest(msgSetupInvalid))
		return
	}
	code := q.get("code")
	if code == "" {
		f := fieldErrors{}
		f.add("code", msgCodeMissing)
		rp.refuse(w, r, q, f, "code")
		return
	}
	counter, ok, err := m.checkCode(r.Context(), u.ID, c.Sealed, code, false)
	switch {
	case err != nil:
		rp.fail(w, r, q, err)
		return
	case !ok:
		f := fieldErrors{}
		f.add("code", msgCodeInvalid)
		rp.refuse(w, r, q, f, "code")
		return
	}
	now := m.now().UTC()
	// The code that proved the setup cannot log in too: its counter is
	// the last used.
	err = m.tf.store.SetTwoFactor(r.Context(), &TwoFactor{
		UserID: u.ID, Secret: c.Sealed, LastCounter: counter, Enabled: true, CreatedAt: now, EnabledAt: now,
	})
	if err != nil {
		rp.fail(w, r, q, storeError(err))
		return
	}
	m.ForgetUser(u.ID)
	m.audit(r.Context(), EventTwoFactorEnabled, slog.String("user_id", u.ID), slog.String("ip", m.proxies.clientAddr(r)))
	rp.ok(w, r, q, "enabled", struct {
		State  string `json:"tf_state"`
		Method string `json:"tf_primary_method"`
	}{"ready", methodAuthenticator})
}

// serveTFValidate serves POST /tf-validate {"code", "tf_state_token"}: the
// second step of a login, answered as a login is.
func (m *Manager) serveTFValidate(w http.ResponseWriter, r *http.Request) {
	m.secondStep(w, r, msgCodeInvalid, func(u *User, f *TwoFactor, code string) (bool, error) {
		if f == nil { // a passkey is the user's second factor, not an app
			return false, nil
		}
		_, ok, err := m.checkCode(r.Context(), u.ID, f.Secret, code, true)
		return ok, err
	})
}

// secondStep serves the second step of a login, {"code","tf_state_token"}:
// the state token names the user whose password checked out, and check
// tells whether code completes the login (f is the user's authenticator
// app, nil if the user has none); the answer is a login's, or the field
// error invalid for a code that is not right.
func (m *Manager) secondStep(w http.ResponseWriter, r *http.Request, invalid msgID, check func(u *User, f *TwoFactor, code string) (bool, error)) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "code", "tf_state_token")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	ctx := r.Context()
	state := q.get("tf_state_token")
	if c, err := r.Cookie(tfCookie); state == "" && err == nil && q.form {
		state = c.Value // a browser's, from its login form
	}
	if state == "" {
		rp.fail(w, r, q, badRequest(msgStateMissing))
		return
	}
	u, c, err := m.loginInProgress(ctx, state)
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	code := q.get("code")
	if code == "" {
		f := fieldErrors{}
		f.add("code", msgCodeMissing)
		rp.refuse(w, r, q, f, "code")
		return
	}
	methods, err := m.secondFactors(ctx, u)
	if err == nil && len(methods) == 0 { // turned off meanwhile: the password was the login
		err = badRequest(msgStateInvalid)
	}
	var f *TwoFactor
	if err == nil {
		f, err = m.enabledFor(ctx, u)
	}
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	ok, err := check(u, f, code)
	switch {
	case err != nil:
		rp.fail(w, r, q, err)
		return
	case !ok:
		fe := fieldErrors{}
		fe.add("code", invalid)
		rp.refuse(w, r, q, fe, "code")
		return
	}
	u, err = m.recordLogin(ctx, u, m.proxies.clientAddr(r), "")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	if hasCookie(r, tfCookie) {
		m.sessions.clearCookie(w, tfCookie)
	}
	if q.form && prefersHTML(r) {
		// A browser: its session begins, as at LoginHandler.
		m.startSession(w, r, u, loginRequest{credentials: credentials{Email: u.Email}, remember: c.Remember, form: true, next: q.next})
		return
	}
	m.answerLogin(w, r, u)
}
