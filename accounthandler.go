package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of AccountConfig.
const (
	defaultConfirmMaxAge     = 5 * 24 * time.Hour
	defaultResetMaxAge       = 24 * time.Hour
	defaultChangeEmailMaxAge = 2 * time.Hour
	defaultSendTimeout       = 30 * time.Second
)

// The limits of the account handler's sending endpoints, per target email
// and per client address: messages beyond them are refused with 429 and
// Retry-After, the same way whatever the email.
var (
	sendLimitTo   = ThrottleLimit{Free: 5, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
	sendLimitAddr = ThrottleLimit{Free: 20, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
)

// replies answers the account handler's requests: JSON, or a browser's
// form post with a redirect.
type replies struct{ m *Manager }

// accounts serves AccountHandler: see AccountConfig.
type accounts struct {
	replies
	admin       UserAdmin // nil: no registration
	links       LinkCodec
	post        *postman
	base        string // BaseURL without a trailing "/"
	skipConfirm bool
	roles       []string
	maxAge      map[string]time.Duration // by purpose
	redirect    map[string]string        // by purpose
	breached    BreachChecker
}

// newAccounts validates and copies c; without a Mailer it returns nil.
func newAccounts(m *Manager, key []byte, oldKeys [][]byte, c AccountConfig, breached BreachChecker) (*accounts, error) {
	if c.Mailer == nil {
		if c.BaseURL != "" || c.Links != nil || c.Templates != nil {
			return nil, errors.New("auth: AccountConfig without a Mailer: set Mailer to serve the account handler")
		}
		return nil, nil
	}
	base, err := url.Parse(c.BaseURL)
	if c.BaseURL == "" || err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fmt.Errorf("auth: AccountConfig.BaseURL %q: want an absolute http(s) URL such as https://example.com/auth", c.BaseURL)
	}
	if m.updater == nil {
		return nil, errors.New("auth: AccountConfig needs a store that implements UserUpdater")
	}
	templates, err := loadMailTemplates(c.Templates)
	if err != nil {
		return nil, err
	}
	a := &accounts{
		replies:     replies{m},
		links:       c.Links,
		base:        strings.TrimRight(c.BaseURL, "/"),
		skipConfirm: c.SkipConfirmation,
		roles:       append([]string(nil), c.Roles...),
		maxAge: map[string]time.Duration{
			purposeConfirm:     durationOr(c.ConfirmMaxAge, defaultConfirmMaxAge),
			purposeReset:       durationOr(c.ResetMaxAge, defaultResetMaxAge),
			purposeChangeEmail: durationOr(c.ChangeEmailMaxAge, defaultChangeEmailMaxAge),
		},
		redirect: map[string]string{
			purposeConfirm: c.ConfirmRedirect, purposeReset: c.ResetRedirect, purposeChangeEmail: c.ChangeEmailRedirect,
		},
		breached: breached,
		post: &postman{
			mailer: c.Mailer, templates: templates, timeout: durationOr(c.SendTimeout, defaultSendTimeout),
			pending: make(chan struct{}, maxPendingMail), log: m.log, audit: m.audit,
		},
	}
	a.admin, _ = m.store.(UserAdmin)
	if a.links == nil {
		if a.links, err = newNativeLinks(m.store, key, oldKeys, func() time.Time { return m.now() }); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// AccountHandler returns the handler of the account lifecycle, to mount
// under AccountConfig.BaseURL's path with http.StripPrefix:
//
//	POST /register             {email, password, password_confirm?}
//	POST /confirm              {email}: send the confirmation link again
//	GET  /confirm/{token}      the mailed confirmation link
//	POST /reset                {email}: mail a password reset link
//	GET  /reset/{token}        the mailed reset link: to the reset form
//	POST /reset/{token}        {password, password_confirm?}
//	POST /change               {password, new_password, new_password_confirm?}
//	POST /change-email         {email}: mail a link to the new address
//	GET  /change-email/{token} the mailed email change link
//	POST /verify               {password}: a fresh token (logged in; no Mailer needed)
//	POST /refresh-token        {refresh_token}, with RefreshConfig (no Mailer needed)
//	GET  /sessions             the user's device sessions, with RefreshConfig (logged in)
//	DELETE /sessions           ends all but the current one (logged in)
//	DELETE /sessions/{id}      ends one (logged in)
//	POST /tokens               {name, scopes, expires_in}, with TokenConfig.Scopes (fresh login)
//	GET  /tokens               the user's personal access tokens (logged in)
//	DELETE /tokens/{id}        revokes one (logged in)
//	POST /tf-setup             {setup: "authenticator"|"disable"}, with TwoFactorConfig (fresh login)
//	POST /tf-setup/{state}     {code}: the first code turns the authenticator on (logged in)
//	POST /tf-validate          {code, tf_state_token}: a login's second step
//	POST /mf-recovery          {code, tf_state_token}: the same with a recovery code
//	GET|POST /mf-recovery-codes how many are left; ten new ones, shown once (fresh login)
//
// Requests are JSON objects or url-encoded forms; answers are JSON in
// Flask-Security's envelope. A field that is wrong gets 400 with
// "errors" and "field_errors" ({"password":["…"]}), and their codes in
// "error_codes" and "field_error_codes" ({"password":
// ["PASSWORD_NOT_PROVIDED"]}). /change and /change-email need a token or
// a session (with its CSRF token).
//
// Nothing tells whether an email is registered: /register answers
// {"user":{}} for a new email and for a taken one (whose owner is mailed a
// notice instead), and /confirm and /reset answer {} whatever the email.
// Messages are sent after the answer. Each sending endpoint admits 5
// messages an hour per target email and 20 per client address before
// answering 429 with Retry-After. With AccountConfig.SkipConfirmation,
// /register answers a new user with a token, as a login does, and a
// taken email with a field error, since it cannot log that user in.
//
// A mailed link (GET) is answered JSON, {"status":"…","info":"…",
// "info_code":"…"} with 200 or an error with 400, unless its AccountConfig redirect is set: then the
// browser is sent there with "status" (confirmed, already-confirmed,
// valid, changed, expired, invalid) and Flask-Security's "info" or "error"
// message in the query; a valid reset link adds its "token", for the form
// to post back. An expired confirmation or reset link sends a fresh one.
// A password reset or change rotates the user's uniquifier, so every
// other token and session of the user ends, and answers with a new token
// ({"user":{"id":…,"authentication_token":…}}); the reset link then no
// longer works, being bound to the old password hash.
//
// A browser's form post (Accept preferring text/html) is redirected 303
// instead: on success to its "next" field, if it is a same-origin path,
// with "status" in the query; on failure back to the page it came from
// (its Referer, if same-origin) with "error" naming the field or problem.
// Form posts to the endpoints that need no login pass the same
// cross-origin checks as a login form (see LoginHandler).
//
// Without AccountConfig.Mailer every path answers 501 but /verify, and
// /refresh-token and /sessions when refresh tokens are on, /tf-setup and
// /tf-validate when second factors are, and /tokens when personal access
// tokens are (TokenConfig.Scopes, and a store that
// implements PersonalTokenStore). "Logged in" means a token or a session,
// never a personal access token: none of these routes accepts one. /refresh-token answers as a
// login does, {"user":{"id":…,"authentication_token":…,"refresh_token":…}},
// or 401 for a token that is not valid (see RefreshConfig). GET /sessions
// answers {"sessions":[{"id","created_at","last_used_at","last_ip",
// "user_agent","current"}]}, the sessions that can still be refreshed, most
// recently used first, never a token; "current" marks the one whose
// refresh cookie the request carries (RefreshConfig.Cookie). DELETE
// /sessions ends every other one and answers {"ended":N}; DELETE
// /sessions/{id} ends one of the user's (404 for any other ID). Ending a
// session stops its refreshes; its last access token stays valid until it
// expires (TokenConfig.MaxAge, 15 min by default with refresh tokens).
//
// POST /verify checks the logged-in user's password (throttled as a login
// is; a wrong one gets a field error) and answers a token that
// [Manager.RequireFresh] takes as just authenticated, as a login does; a
// session cookie that came with it is renewed as fresh too.
//
// POST /tokens needs a login (or /verify) within Config.Freshness, else
// it answers 401 with "reauth_required". It takes a "name" (at most 100
// characters), "scopes" (a list, or one space-separated string, of scopes
// TokenConfig.Scopes declares and the user's roles allow) and "expires_in"
// (seconds; 30 days if absent, at most TokenConfig.PersonalMaxAge), and
// answers {"id","name","scopes","created_at","last_used_at","expires_at",
// "token"}: "token" is the secret, shown this once and stored only as its
// SHA-256. A user holds at most 100 tokens. GET /tokens answers
// {"tokens":[…],"available_scopes":[…]}, the tokens without their
// secrets, newest first, and the scopes the user may grant. DELETE
// /tokens/{id} revokes one of the user's (404 for any other ID) at once,
// and in other processes within a second (see [PersonalTokenStore]).
//
// With second factors (see TwoFactorConfig), POST /tf-setup
// {"setup":"authenticator"} answers Flask-Security's {"tf_state":
// "validating_profile","tf_primary_method","tf_authr_key",
// "tf_authr_username","tf_authr_issuer"} with "tf_authr_uri" (the
// otpauth:// URI), "tf_authr_qrcode" (with TwoFactorConfig.QRCode) and a
// "tf_state_token" that carries the new key, sealed; nothing is stored
// until POST /tf-setup/{tf_state_token} {"code"} proves the app has it
// ({"tf_state":"ready"}). {"setup":"disable"} turns the factor off. A
// login of a user with the factor on answers {"tf_required":true,
// "tf_state":"ready","tf_method":"authenticator","tf_state_token":…} and
// no token; POST /tf-validate {"code","tf_state_token"} answers as a login
// does. A code works once and within one 30-second period of the server's
// clock; wrong codes are throttled per user as passwords are per account
// (429); a state token lasts TwoFactorConfig.StateMaxAge and dies with a
// logout everywhere or a new password. A password reset of such a user
// answers {"user":{"id"},"tf_required":true} without a token.
func (m *Manager) AccountHandler() http.Handler {
	loggedIn := m.Require(Token, Session)
	lifecycle := m.tokenLifecycle(loggedIn)
	a := m.accounts
	if a == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !lifecycle(w, r) {
				m.fail(w, r, http.StatusNotImplemented, ErrReadOnlyStore)
			}
		})
	}
	change := loggedIn(http.HandlerFunc(a.change))
	changeEmail := loggedIn(http.HandlerFunc(a.requestEmailChange))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lifecycle(w, r) {
			return
		}
		route, token, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if strings.Contains(token, "/") {
			route = ""
		}
		method, allow := http.MethodPost, http.MethodPost
		var h http.HandlerFunc
		switch {
		case route == "register" && token == "":
			h = a.anonymous(a.register)
		case route == "confirm" && token == "":
			h = a.anonymous(a.resendConfirmation)
		case route == "confirm":
			method, allow = http.MethodGet, http.MethodGet
			h = func(w http.ResponseWriter, r *http.Request) { a.confirm(w, r, token) }
		case route == "reset" && token == "":
			h = a.anonymous(a.forgot)
		case route == "reset" && r.Method == http.MethodGet:
			method, allow = http.MethodGet, "GET, POST"
			h = func(w http.ResponseWriter, r *http.Request) { a.openReset(w, r, token) }
		case route == "reset":
			allow = "GET, POST"
			h = a.anonymous(func(w http.ResponseWriter, r *http.Request) { a.reset(w, r, token) })
		case route == "change" && token == "":
			h = change.ServeHTTP
		case route == "change-email" && token == "":
			h = changeEmail.ServeHTTP
		case route == "change-email":
			method, allow = http.MethodGet, http.MethodGet
			h = func(w http.ResponseWriter, r *http.Request) { a.changeEmail(w, r, token) }
		default:
			m.fail(w, r, http.StatusNotFound, ErrBadRequest)
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", allow)
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
			return
		}
		r, after := withAfterAnswer(r)
		h(w, r)
		after.start(w)
	})
}

// tokenLifecycle returns the router of the routes that need no Mailer:
// /verify, /refresh-token and /sessions when refresh tokens are on, /tokens
// when personal access tokens are. It reports whether it answered the
// request.
func (m *Manager) tokenLifecycle(loggedIn func(http.Handler) http.Handler) func(w http.ResponseWriter, r *http.Request) bool {
	verify := loggedIn(http.HandlerFunc(m.serveVerify))
	var sessions, tokens http.Handler
	if m.refresh != nil {
		sessions = loggedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			m.serveSessions(w, r, id)
		}))
	}
	if m.personal.on() {
		tokens = loggedIn(m.personalTokenRoutes())
	}
	secondFactor := func(http.ResponseWriter, *http.Request, string, string) bool { return false }
	if m.tf != nil {
		secondFactor = m.twoFactorRoutes(loggedIn)
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
		route, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if secondFactor(w, r, route, id) {
			return true
		}
		leaf := id == "" && !strings.HasSuffix(r.URL.Path, "/")
		switch {
		case route == "verify" && leaf:
			verify.ServeHTTP(w, r)
		case m.refresh != nil && route == "refresh-token" && leaf:
			m.serveRefresh(w, r)
		case m.refresh != nil && route == "sessions" && !strings.Contains(id, "/"):
			sessions.ServeHTTP(w, r)
		case m.personal.on() && route == "tokens" && !strings.Contains(id, "/"):
			tokens.ServeHTTP(w, r)
		default:
			return false
		}
		return true
	}
}

// anonymous holds a form post to an endpoint that needs no login to the
// login form's cross-origin checks.
func (a *accounts) anonymous(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.loginCSRF(r); err != nil {
			a.m.fail(w, r, statusOf(err), err)
			return
		}
		h(w, r)
	}
}

// admitMessage counts a message to email from the client of r against the
// sending limits, or refuses it with a *ThrottledError (or a store
// failure). It runs before any lookup, so its answer never depends on
// whether the email is registered.
func (a *accounts) admitMessage(r *http.Request, email string) error {
	t := a.m.throttle
	if t == nil {
		return nil
	}
	now := a.m.now()
	if ip := a.m.proxies.clientAddr(r); ip != "" {
		if err := t.reserve(r.Context(), "mail-ip:"+t.hash("mail-ip", t.addrPrefix(ip)), now, sendLimitAddr); err != nil {
			return err
		}
	}
	return t.reserve(r.Context(), "mail-to:"+t.hash("mail-to", foldEmail(email)), now, sendLimitTo)
}

// link is the absolute URL of a mailed link.
func (a *accounts) link(route, token string) string {
	return a.base + "/" + route + "/" + url.PathEscape(token)
}

// sendLink makes a link for purpose about u and mails it with the named
// template to the address to, in the caller's goroutine (see
// postman.later for the background).
func (a *accounts) sendLink(ctx context.Context, purpose, template, to string, u *User, newEmail string) {
	tok, err := a.links.MakeLinkToken(ctx, purpose, u, newEmail)
	if err != nil {
		a.m.log.ErrorContext(ctx, "auth: cannot make link token", "purpose", purpose, "user_id", u.ID, "error", err.Error())
		return
	}
	a.post.deliver(ctx, template, to, u.ID, mailData{
		Email: u.Email, NewEmail: newEmail, Link: a.link(purpose, tok), ValidFor: validFor(a.maxAge[purpose]),
	})
}

// sendLinkLater is sendLink in the background.
func (a *accounts) sendLinkLater(ctx context.Context, purpose, template, to string, u *User, newEmail string) {
	a.post.later(ctx, func(ctx context.Context) { a.sendLink(ctx, purpose, template, to, u, newEmail) })
}

// mailUserLater finds, in the background, the user email names and, if
// there is one, calls mail with it; a store failure is logged. The caller
// answers at once, so its answer takes the same time whether or not email
// is registered.
func (a *accounts) mailUserLater(ctx context.Context, email string, mail func(ctx context.Context, u *User)) {
	a.post.later(ctx, func(ctx context.Context) {
		u, err := a.m.store.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, ErrUserNotFound):
		case err != nil:
			a.m.log.ErrorContext(ctx, "auth: user store failed", "error", err.Error())
		default:
			mail(ctx, u)
		}
	})
}

// checkEmailField adds a field error for a missing or malformed email.
func checkEmailField(f fieldErrors, field, email string) {
	switch {
	case email == "":
		f.add(field, msgEmailMissing)
	case checkEmail(email) != nil:
		f.add(field, msgEmailInvalid)
	}
}

// checkNewPassword adds field errors for a new password that is missing,
// breaks the length policy, differs from its confirmation (when given) or
// appears in known breaches.
func (a *accounts) checkNewPassword(ctx context.Context, f fieldErrors, field, password, confirmField, confirm string) {
	if password == "" {
		f.add(field, msgPasswordMissing)
		return
	}
	if err := a.m.passwords.checkNew(password); err != nil {
		if errors.Is(err, ErrPasswordTooShort) {
			f.add(field, msgPasswordShort, a.m.passwords.minLength)
		} else {
			f.add(field, msgPasswordLong)
		}
		return
	}
	if confirm != "" && confirm != password {
		f.add(confirmField, msgPasswordRetype)
		return
	}
	if a.breached == nil {
		return
	}
	bad, err := a.breached.Breached(ctx, password)
	switch {
	case err != nil:
		// Best effort: an unreachable breach service must not stop
		// every password change.
		a.m.log.WarnContext(ctx, "auth: breached-password check failed; password accepted", "error", err.Error())
	case bad:
		f.add(field, msgPasswordBreached)
	}
}

// ok answers a successful request: a browser's form post is redirected to
// its next with status; others get response in the envelope.
func (a replies) ok(w http.ResponseWriter, r *http.Request, q accountRequest, status string, response any) {
	if q.form && prefersHTML(r) {
		if next, safe := safeNext(q.next); safe {
			noStore(w)
			seeOther(w, withQuery(next, url.Values{"status": {status}}))
			return
		}
	}
	a.m.writeOK(w, r, response)
}

// refuse answers a request with field errors, or a browser's form post by
// sending it back to its page with the first field in error.
func (a replies) refuse(w http.ResponseWriter, r *http.Request, q accountRequest, f fieldErrors, order ...string) {
	for _, field := range order {
		if len(f[field]) > 0 && a.back(w, r, q, field) {
			return
		}
	}
	a.m.writeErrors(w, http.StatusBadRequest, errorReply{fields: f, order: order})
}

// fail answers an error, or a browser's form post by sending it back to
// its page with problem in "error".
func (a replies) fail(w http.ResponseWriter, r *http.Request, q accountRequest, err error) {
	problem := "invalid"
	switch statusOf(err) {
	case http.StatusTooManyRequests:
		problem = "throttled"
	case http.StatusServiceUnavailable:
		problem = "unavailable"
	}
	if statusOf(err) != http.StatusRequestEntityTooLarge && a.back(w, r, q, problem) {
		return
	}
	a.m.fail(w, r, statusOf(err), err)
}

// back redirects a browser's form post to the same-origin page it came
// from with error=problem, reporting whether it did.
func (a replies) back(w http.ResponseWriter, r *http.Request, q accountRequest, problem string) bool {
	if !q.form || !prefersHTML(r) {
		return false
	}
	ref, err := url.Parse(r.Referer())
	if err != nil || !sameOrigin(r, r.Referer()) {
		return false
	}
	page, safe := safeNext(ref.EscapedPath())
	if !safe {
		return false
	}
	// The page keeps its own query (a reset form's token, say), less the
	// outcome of an earlier attempt.
	v := ref.Query()
	v.Del("status")
	v.Set("error", problem)
	if n, ok := safeNext(q.next); ok {
		v.Set("next", n)
	}
	seeOther(w, withQuery(page, v))
	return true
}

// withQuery adds v to the query of the URL u, before its fragment.
func withQuery(u string, v url.Values) string {
	u, fragment, hasFragment := strings.Cut(u, "#")
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	u += sep + v.Encode()
	if hasFragment {
		u += "#" + fragment
	}
	return u
}

// linkOutcome answers a mailed link: JSON, or a redirect to the purpose's
// configured page with the outcome in the query.
func (a *accounts) linkOutcome(w http.ResponseWriter, r *http.Request, purpose, status string, id msgID, failed bool, extra url.Values) {
	msg := message{id: id}
	noStore(w)
	w.Header().Set("Referrer-Policy", "no-referrer")
	if to := a.redirect[purpose]; to != "" {
		v := url.Values{"status": {status}}
		if failed {
			v.Set("error", a.m.msgs.textOf(msg))
		} else {
			v.Set("info", a.m.msgs.textOf(msg))
		}
		for k, vs := range extra {
			v[k] = vs
		}
		seeOther(w, withQuery(to, v))
		return
	}
	if failed {
		a.m.writeErrors(w, http.StatusBadRequest, errorReply{lead: `"status":` + string(appendJSONString(nil, status)), msgs: []message{msg}})
		return
	}
	a.m.writeOK(w, r, struct {
		Status   string `json:"status"`
		Info     string `json:"info"`
		InfoCode string `json:"info_code"`
	}{status, a.m.msgs.textOf(msg), msg.code()})
}

// answerWithToken answers a request that (re)authenticated u with a new
// token, as a login does, and renews the session cookie if the request
// came with one, since the old one names the old uniquifier.
func (a *accounts) answerWithToken(w http.ResponseWriter, r *http.Request, q accountRequest, status string, u *User) {
	tok, err := a.m.IssueToken(u)
	if err != nil {
		a.m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	noStore(w)
	if hasCookie(r, a.m.sessions.name) {
		s := &a.m.sessions
		now := a.m.now().Unix()
		st := sessionState{UserID: u.ID, Uniq: u.Uniquifier, Issued: now, Seen: now, CSRF: newCSRFSecret()}
		if err := s.setCookie(w, s.name, st, 0); err != nil {
			a.m.fail(w, r, http.StatusInternalServerError, fmt.Errorf("auth: cannot encode session cookie: %w", err))
			return
		}
		if hasCookie(r, s.rememberName) {
			s.clearCookie(w, s.rememberName)
		}
		w.Header().Set(CSRFHeader, maskCSRF(st.CSRF))
	}
	a.ok(w, r, q, status, struct {
		User loginUser `json:"user"`
	}{loginUser{ID: u.ID, Token: tok}})
}

// auditUser writes an account event about u.
func (a *accounts) auditUser(r *http.Request, event string, u *User) {
	a.m.audit(r.Context(), event, slog.String("user_id", u.ID), slog.String("ip", a.m.proxies.clientAddr(r)))
}
