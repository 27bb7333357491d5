package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth/itsdangerous"
)

// passkeyRoutes returns the passkey routes, for twoFactorRoutes:
// /wan-register (GET lists, POST begins with a fresh login),
// /wan-register/{state} and /wan-delete (fresh), /wan-verify and
// /wan-verify/{state} for a logged-in user, and /wan-signin and
// /wan-signin/{state} for anyone.
func (m *Manager) passkeyRoutes(loggedIn func(http.Handler) http.Handler) func(w http.ResponseWriter, r *http.Request, route, rest string) bool {
	fresh := func(h http.HandlerFunc) http.Handler {
		var f http.Handler = h
		if m.freshness >= 0 {
			f = m.RequireFresh(m.freshness)(f)
		}
		return loggedIn(f)
	}
	list, begin := loggedIn(http.HandlerFunc(m.servePasskeyList)), fresh(m.servePasskeyRegister)
	finish, del := loggedIn(http.HandlerFunc(m.servePasskeyRegistered)), fresh(m.servePasskeyDelete)
	verify, verified := loggedIn(http.HandlerFunc(m.servePasskeyVerify)), loggedIn(http.HandlerFunc(m.servePasskeyVerified))
	anonymous := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := m.loginCSRF(r); err != nil {
				m.fail(w, r, statusOf(err), err)
				return
			}
			h(w, r)
		})
	}
	signin, signedIn := anonymous(m.servePasskeySignIn), anonymous(m.servePasskeySignedIn)
	return func(w http.ResponseWriter, r *http.Request, route, rest string) bool {
		leaf := rest == "" && !strings.HasSuffix(r.URL.Path, "/")
		step := rest != "" && !strings.Contains(rest, "/")
		var h http.Handler
		switch {
		case route == "wan-register" && leaf:
			switch r.Method {
			case http.MethodGet, http.MethodHead:
				list.ServeHTTP(w, r)
			case http.MethodPost:
				begin.ServeHTTP(w, r)
			default:
				w.Header().Set("Allow", "GET, HEAD, POST")
				m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			}
			return true
		case route == "wan-register" && step:
			h = finish
		case route == "wan-delete" && leaf:
			h = del
		case route == "wan-signin" && leaf:
			h = signin
		case route == "wan-signin" && step:
			h = signedIn
		case route == "wan-verify" && leaf:
			h = verify
		case route == "wan-verify" && step:
			h = verified
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

// passkeyInfo describes a passkey in answers, in Flask-Security's
// registered_credentials shape.
type passkeyInfo struct {
	Name         string    `json:"name"`
	CredentialID string    `json:"credential_id"`
	Transports   []string  `json:"transports"`
	Usage        string    `json:"usage"`
	CreatedAt    time.Time `json:"created_at"`
	LastUse      *string   `json:"lastuse"`
	BackupState  bool      `json:"backup_state"`
	DeviceType   string    `json:"device_type"`
	Discoverable bool      `json:"discoverable"`
	SignCount    uint32    `json:"sign_count"`
}

func describePasskey(p *Passkey) passkeyInfo {
	d := passkeyInfo{
		Name: p.Name, CredentialID: base64.RawURLEncoding.EncodeToString(p.ID), Transports: p.Transports,
		Usage: p.Usage, CreatedAt: p.CreatedAt.UTC(), BackupState: p.BackupState,
		DeviceType: "single_device", Discoverable: p.Discoverable, SignCount: p.SignCount,
	}
	if d.Transports == nil {
		d.Transports = []string{}
	}
	if p.BackupEligible {
		d.DeviceType = "multi_device"
	}
	if !p.LastUsedAt.IsZero() {
		s := p.LastUsedAt.UTC().Format(time.RFC3339)
		d.LastUse = &s
	}
	return d
}

// servePasskeyList serves GET /wan-register:
// {"registered_credentials":[…]}.
func (m *Manager) servePasskeyList(w http.ResponseWriter, r *http.Request) {
	u, _ := FromContext(r.Context())
	list, err := m.passkeys.store.Passkeys(r.Context(), u.ID)
	if err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	out := make([]passkeyInfo, len(list))
	for i := range list {
		out[i] = describePasskey(&list[i])
	}
	noStore(w)
	m.writeOK(w, r, struct {
		Credentials []passkeyInfo `json:"registered_credentials"`
	}{out})
}

// checkPasskeyName adds a field error for a name that cannot be a
// passkey's.
func checkPasskeyName(f fieldErrors, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		f.add("name", msgPasskeyNameMissing)
	case utf8.RuneCountInString(name) > maxPasskeyName:
		f.add("name", msgPasskeyNameTooLong, maxPasskeyName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		f.add("name", msgPasskeyNameMissing)
	}
}

// servePasskeyRegister serves POST /wan-register {"name","usage"}: the
// options of navigator.credentials.create and the state token that POST
// /wan-register/{state} takes back, as {"credential_options","wan_state"}.
func (m *Manager) servePasskeyRegister(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "name", "usage")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	name, usage := strings.TrimSpace(q.get("name")), q.get("usage")
	f := fieldErrors{}
	checkPasskeyName(f, name)
	switch usage {
	case "":
		usage = passkeyUsageSecondary
	case passkeyUsageFirst, passkeyUsageSecondary:
	default:
		f.add("usage", msgPasskeyUsage)
	}
	if len(f) > 0 {
		rp.refuse(w, r, q, f, "name")
		return
	}
	existing, err := m.passkeys.store.Passkeys(r.Context(), u.ID)
	if err != nil {
		rp.fail(w, r, q, storeError(err))
		return
	}
	for _, p := range existing {
		if p.Name == name {
			f.add("name", msgPasskeyNameInUse)
			rp.refuse(w, r, q, f, "name")
			return
		}
	}
	if len(existing) >= maxPasskeysPerUser {
		f.add("name", msgPasskeyTooMany)
		rp.refuse(w, r, q, f, "name")
		return
	}
	handle, err := m.userHandle(r.Context(), u.ID, existing)
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	options, state, err := m.passkeys.rp.BeginRegistration(handle, u.Email, existing, usage == passkeyUsageFirst)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	tok, err := encodePasskeyState(m.passkeys.register, passkeyState{
		UserID: u.ID, Uniq: u.Uniquifier, Name: name, Usage: usage, Handle: handle,
		State: state, BegunAt: m.now().UnixMicro(),
	})
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	noStore(w)
	m.writeOK(w, r, struct {
		Options json.RawMessage `json:"credential_options"`
		State   string          `json:"wan_state"`
	}{options, tok})
}

// stateOf returns the state token in the path of a request to
// /{route}/{state}.
func stateOf(r *http.Request) string {
	_, state, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return state
}

// servePasskeyRegistered serves POST /wan-register/{state}
// {"credential"}: the browser's new credential, verified against the
// state, becomes the user's passkey.
func (m *Manager) servePasskeyRegistered(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "credential")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	c, err := decodePasskeyState(m.passkeys.register, stateOf(r))
	if err != nil || c.UserID != u.ID || c.Uniq != u.Uniquifier || c.Name == "" || len(c.Handle) == 0 {
		rp.fail(w, r, q, badRequest(msgPasskeyStateInvalid))
		return
	}
	cred := q.get("credential")
	f := fieldErrors{}
	if cred == "" {
		f.add("credential", msgPasskeyMissing)
		rp.refuse(w, r, q, f, "credential")
		return
	}
	p, err := m.passkeys.rp.FinishRegistration(c.Handle, c.State, []byte(cred))
	if err != nil {
		m.log.InfoContext(r.Context(), "auth: a passkey registration was refused", "user_id", u.ID, "error", err.Error())
		f.add("credential", msgPasskeyInvalid)
		rp.refuse(w, r, q, f, "credential")
		return
	}
	p.UserID, p.UserHandle, p.Name, p.Usage = u.ID, c.Handle, c.Name, c.Usage
	p.CreatedAt, p.LastUsedAt = m.now().UTC(), time.Time{}
	switch err := m.passkeys.store.AddPasskey(r.Context(), p); {
	case errors.Is(err, ErrDuplicateID):
		if _, e := m.passkeys.store.Passkey(r.Context(), p.ID); e == nil {
			f.add("credential", msgPasskeyRegistered)
		} else {
			f.add("name", msgPasskeyNameInUse)
		}
		rp.refuse(w, r, q, f, "credential")
		return
	case err != nil:
		rp.fail(w, r, q, storeError(err))
		return
	}
	m.audit(r.Context(), EventPasskeyAdded, slog.String("user_id", u.ID), slog.String("name", p.Name),
		slog.String("usage", p.Usage), slog.String("ip", m.proxies.clientAddr(r)))
	rp.ok(w, r, q, "passkey-added", describePasskey(p))
}

// servePasskeyDelete serves POST /wan-delete {"name"}.
func (m *Manager) servePasskeyDelete(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "name")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	name := strings.TrimSpace(q.get("name"))
	f := fieldErrors{}
	if name == "" {
		f.add("name", msgPasskeyNameMissing)
		rp.refuse(w, r, q, f, "name")
		return
	}
	list, err := m.passkeys.store.Passkeys(r.Context(), u.ID)
	if err != nil {
		rp.fail(w, r, q, storeError(err))
		return
	}
	for _, p := range list {
		if p.Name != name {
			continue
		}
		err := m.passkeys.store.DeletePasskey(r.Context(), u.ID, p.ID)
		if err != nil && !errors.Is(err, ErrTokenNotFound) {
			rp.fail(w, r, q, storeError(err))
			return
		}
		m.audit(r.Context(), EventPasskeyDeleted, slog.String("user_id", u.ID), slog.String("name", p.Name),
			slog.String("ip", m.proxies.clientAddr(r)))
		rp.ok(w, r, q, "passkey-deleted", struct{}{})
		return
	}
	f.add("name", msgPasskeyNameNotFound)
	rp.refuse(w, r, q, f, "name")
}

// servePasskeySignIn serves POST /wan-signin: with {"tf_state_token"}
// (or, from a form, the login form's cookie) the second step of a
// password login, for the user's passkeys; without it a passwordless
// sign-in with any discoverable passkey of usage "first", user verified.
// "identity" is ignored: naming the account's passkeys would tell who has
// an account. It answers
// {"credential_options","wan_state","is_secondary","remember"}.
func (m *Manager) servePasskeySignIn(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "tf_state_token", "remember", "identity")
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	ctx := r.Context()
	tfState := q.get("tf_state_token")
	if c, err := r.Cookie(tfCookie); tfState == "" && err == nil && q.form {
		tfState = c.Value // a browser's, from its login form
	}
	claims := passkeyState{BegunAt: m.now().UnixMicro(), Remember: parseBool(q.get("remember"))}
	var allow []Passkey
	if tfState != "" {
		u, sc, err := m.loginInProgress(ctx, tfState)
		if err != nil {
			rp.fail(w, r, q, err)
			return
		}
		if allow, err = m.passkeys.store.Passkeys(ctx, u.ID); err != nil {
			rp.fail(w, r, q, storeError(err))
			return
		}
		if len(allow) == 0 {
			rp.fail(w, r, q, badRequest(msgPasskeyNone))
			return
		}
		claims.UserID, claims.Uniq, claims.Secondary, claims.Remember = u.ID, u.Uniquifier, true, sc.Remember
	}
	options, state, err := m.passkeys.rp.BeginSignIn(allow, !claims.Secondary)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	claims.State = state
	tok, err := encodePasskeyState(m.passkeys.signin, claims)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	noStore(w)
	m.writeOK(w, r, struct {
		Options   json.RawMessage `json:"credential_options"`
		State     string          `json:"wan_state"`
		Secondary bool            `json:"is_secondary"`
		Remember  bool            `json:"remember"`
	}{options, tok, claims.Secondary, claims.Remember})
}

// parseBool reads a form's or JSON's yes: "true", "on", "1".
func parseBool(s string) bool { return s == "true" || s == "on" || s == "1" }

// loginInProgress returns the user whose password login is waiting for a
// second factor, from its state token, or a client error.
func (m *Manager) loginInProgress(ctx context.Context, tok string) (*User, stateClaims, error) {
	c, err := decodeState(m.tf.login, tok)
	if err != nil {
		return nil, c, badRequest(msgStateInvalid)
	}
	u, err := m.store.UserByID(ctx, c.UserID)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, c, badRequest(msgStateInvalid)
	case err != nil:
		return nil, c, storeError(err)
	case !u.Active || u.Uniquifier != c.Uniq:
		return nil, c, badRequest(msgStateInvalid)
	}
	return u, c, nil
}

// Refusals of an assertion, answered as field errors of "credential".
var (
	errPasskeyUnverified = &requestError{status: http.StatusBadRequest, msg: message{id: msgPasskeyInvalid}}
	errPasskeyReplayed   = &requestError{status: http.StatusBadRequest, msg: message{id: msgPasskeyReplayed}}
)

// finishAssertion verifies the authenticator's assertion cred against the
// ceremony c: with onlyUser not "", only that user's passkeys count. It
// returns the passkey used, with its new counter, and whether the user was
// verified; a refusal is errPasskeyUnverified (its cause logged and
// audited), a store failure a storeError.
func (m *Manager) finishAssertion(r *http.Request, c passkeyState, cred, onlyUser string) (*Passkey, bool, error) {
	ctx := r.Context()
	var storeErr error
	owner := func(id, handle []byte) ([]Passkey, error) {
		p, err := m.passkeys.store.Passkey(ctx, id)
		if err != nil {
			if !errors.Is(err, ErrTokenNotFound) {
				storeErr = err
			}
			return nil, err
		}
		if onlyUser != "" && p.UserID != onlyUser {
			return nil, errors.New("auth: the passkey is another user's")
		}
		list, err := m.passkeys.store.Passkeys(ctx, p.UserID)
		if err != nil {
			storeErr = err
		}
		return list, err
	}
	used, verified, err := m.passkeys.rp.FinishSignIn(c.State, []byte(cred), owner)
	switch {
	case storeErr != nil:
		return nil, false, storeError(storeErr)
	case err == nil && used == nil:
		err = errors.New("auth: the relying party verified no passkey")
	case err == nil && onlyUser != "" && used.UserID != onlyUser:
		err = errors.New("auth: the relying party verified another user's passkey")
	}
	if err != nil {
		m.log.InfoContext(ctx, "auth: a passkey assertion was refused", "error", err.Error())
		m.audit(ctx, EventPasskeyFailed, slog.String("ip", m.proxies.clientAddr(r)))
		return nil, false, errPasskeyUnverified
	}
	return used, verified, nil
}

// usePasskey records the sign-in with used, of the ceremony c: it is
// errPasskeyReplayed if the passkey signed in since c began, or its
// counter did not grow.
func (m *Manager) usePasskey(r *http.Request, used *Passkey, c passkeyState) error {
	used.LastUsedAt = m.now().UTC()
	ok, err := m.passkeys.store.UsePasskey(r.Context(), used, time.UnixMicro(c.BegunAt))
	switch {
	case err != nil:
		return storeError(err)
	case !ok:
		m.audit(r.Context(), EventPasskeyFailed, slog.String("user_id", used.UserID), slog.String("ip", m.proxies.clientAddr(r)))
		return errPasskeyReplayed
	}
	return nil
}

// refuseAssertion answers an error of finishAssertion or usePasskey.
func (rp replies) refuseAssertion(w http.ResponseWriter, r *http.Request, q accountRequest, err error) {
	var re *requestError
	if errors.As(err, &re) && (re == errPasskeyUnverified || re == errPasskeyReplayed) {
		f := fieldErrors{}
		f["credential"] = append(f["credential"], re.msg)
		rp.refuse(w, r, q, f, "credential")
		return
	}
	rp.fail(w, r, q, err)
}

// readAssertion reads the body of POST /wan-signin/{state} or
// /wan-verify/{state} and its state token of s: the request, the
// ceremony and the credential, or false when it answered.
func (m *Manager) readAssertion(w http.ResponseWriter, r *http.Request, s *itsdangerous.Serializer) (accountRequest, passkeyState, string, bool) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody, "credential", "remember")
	if err != nil {
		rp.fail(w, r, q, err)
		return q, passkeyState{}, "", false
	}
	c, err := decodePasskeyState(s, stateOf(r))
	if err != nil || (c.Secondary && (c.UserID == "" || c.Uniq == "")) {
		rp.fail(w, r, q, badRequest(msgPasskeyStateInvalid))
		return q, c, "", false
	}
	cred := q.get("credential")
	if cred == "" {
		f := fieldErrors{}
		f.add("credential", msgPasskeyMissing)
		rp.refuse(w, r, q, f, "credential")
		return q, c, "", false
	}
	return q, c, cred, true
}

// servePasskeySignedIn serves POST /wan-signin/{state} {"credential"}:
// the authenticator's assertion, verified against the state, logs its
// owner in as a login does (a browser's form post begins a session).
func (m *Manager) servePasskeySignedIn(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, c, cred, ok := m.readAssertion(w, r, m.passkeys.signin)
	if !ok {
		return
	}
	ctx := r.Context()
	onlyUser := ""
	if c.Secondary {
		onlyUser = c.UserID
	}
	used, verified, err := m.finishAssertion(r, c, cred, onlyUser)
	if err == nil && !c.Secondary && (used.Usage != passkeyUsageFirst || !verified) {
		m.log.InfoContext(ctx, "auth: a passkey that is a second factor, or one that did not verify the user, cannot sign in alone")
		m.audit(ctx, EventPasskeyFailed, slog.String("user_id", used.UserID), slog.String("ip", m.proxies.clientAddr(r)))
		err = errPasskeyUnverified
	}
	if err != nil {
		rp.refuseAssertion(w, r, q, err)
		return
	}
	u, err := m.store.UserByID(ctx, used.UserID)
	switch {
	case errors.Is(err, ErrUserNotFound):
		rp.refuseAssertion(w, r, q, errPasskeyUnverified)
		return
	case err != nil:
		rp.fail(w, r, q, storeError(err))
		return
	case !u.Active:
		rp.fail(w, r, q, ErrInvalidCredentials)
		return
	case c.Secondary && u.Uniquifier != c.Uniq:
		rp.fail(w, r, q, badRequest(msgStateInvalid))
		return
	}
	if err := m.usePasskey(r, used, c); err != nil {
		rp.refuseAssertion(w, r, q, err)
		return
	}
	if u, err = m.recordLogin(ctx, u, m.proxies.clientAddr(r), ""); err != nil {
		rp.fail(w, r, q, err)
		return
	}
	if hasCookie(r, tfCookie) {
		m.sessions.clearCookie(w, tfCookie)
	}
	if q.form && prefersHTML(r) {
		remember := c.Remember || parseBool(q.get("remember"))
		m.startSession(w, r, u, loginRequest{credentials: credentials{Email: u.Email}, remember: remember, form: true, next: q.next})
		return
	}
	m.answerLogin(w, r, u)
}

// servePasskeyVerify serves POST /wan-verify for a logged-in user: the
// options of navigator.credentials.get for the user's passkeys, of either
// usage, to re-authenticate as POST /verify does with the password.
func (m *Manager) servePasskeyVerify(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, err := readAccountRequest(w, r, m.maxBody)
	if err != nil {
		rp.fail(w, r, q, err)
		return
	}
	u, _ := FromContext(r.Context())
	allow, err := m.passkeys.store.Passkeys(r.Context(), u.ID)
	switch {
	case err != nil:
		rp.fail(w, r, q, storeError(err))
		return
	case len(allow) == 0:
		rp.fail(w, r, q, badRequest(msgPasskeyNone))
		return
	}
	options, state, err := m.passkeys.rp.BeginSignIn(allow, false)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	tok, err := encodePasskeyState(m.passkeys.verify, passkeyState{
		UserID: u.ID, Uniq: u.Uniquifier, State: state, BegunAt: m.now().UnixMicro(),
	})
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	noStore(w)
	m.writeOK(w, r, struct {
		Options json.RawMessage `json:"credential_options"`
		State   string          `json:"wan_state"`
	}{options, tok})
}

// servePasskeyVerified serves POST /wan-verify/{state} {"credential"}: an
// assertion of one of the user's passkeys makes the login fresh, answered
// as POST /verify is.
func (m *Manager) servePasskeyVerified(w http.ResponseWriter, r *http.Request) {
	rp := replies{m}
	q, c, cred, ok := m.readAssertion(w, r, m.passkeys.verify)
	if !ok {
		return
	}
	u, g, _ := grantFrom(r.Context())
	if c.UserID != u.ID || c.Uniq != u.Uniquifier {
		rp.fail(w, r, q, badRequest(msgPasskeyStateInvalid))
		return
	}
	used, _, err := m.finishAssertion(r, c, cred, u.ID)
	if err == nil {
		err = m.usePasskey(r, used, c)
	}
	if err != nil {
		rp.refuseAssertion(w, r, q, err)
		return
	}
	m.answerVerified(w, r, q, u, g)
}
