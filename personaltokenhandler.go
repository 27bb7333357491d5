package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authkit/auth/pat"
)

// maxUnlimitedSeconds bounds expires_in when TokenConfig.PersonalMaxAge
// sets no limit: 100 years, well inside a time.Duration.
const maxUnlimitedSeconds = 100 * 365 * 24 * 3600

// personalTokenView is a personal access token as /tokens shows it: never
// its secret (but once, at creation) or its hash.
type personalTokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Token      string     `json:"token,omitempty"` // the secret, in the answer to its creation only
}

func viewPersonalToken(t *PersonalToken) personalTokenView {
	v := personalTokenView{ID: t.ID, Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt.UTC()}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !t.LastUsedAt.IsZero() {
		at := t.LastUsedAt.UTC()
		v.LastUsedAt = &at
	}
	if !t.ExpiresAt.IsZero() {
		at := t.ExpiresAt.UTC()
		v.ExpiresAt = &at
	}
	return v
}

// personalTokenRoutes returns the handler of /tokens and /tokens/{id} for
// a logged-in user (see AccountHandler); creation also needs a fresh
// login (Config.Freshness).
func (m *Manager) personalTokenRoutes() http.Handler {
	var create http.Handler = http.HandlerFunc(m.createPersonalToken)
	if m.freshness >= 0 {
		create = m.RequireFresh(m.freshness)(create)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch {
		case id == "" && r.Method == http.MethodPost:
			create.ServeHTTP(w, r)
		case id == "" && r.Method == http.MethodGet:
			m.listPersonalTokens(w, r)
		case id != "" && r.Method == http.MethodDelete:
			m.deletePersonalToken(w, r, id)
		default:
			allow := "GET, POST"
			if id != "" {
				allow = http.MethodDelete
			}
			w.Header().Set("Allow", allow)
			m.fail(w, r, http.StatusMethodNotAllowed, ErrBadRequest)
		}
	})
}

// tokenRequest is the body of POST /tokens.
type tokenRequest struct {
	name      string
	scopes    []string
	expiresIn *int64 // seconds; nil: the default
	badExpiry bool   // expires_in was given but is not an integer
	form      bool
	next      string
}

// readTokenRequest reads {"name": …, "scopes": [… ] or "a b", "expires_in":
// seconds or null}, or the same as an url-encoded form (scopes repeated or
// space-separated).
func readTokenRequest(w http.ResponseWriter, r *http.Request, max int64) (tokenRequest, error) {
	body, isJSON, err := readAccountBody(w, r, max)
	if err != nil {
		return tokenRequest{form: !isJSON && body != nil}, err
	}
	return parseTokenRequest(body, isJSON)
}

// parseTokenRequest parses the body of POST /tokens, JSON or a form.
func parseTokenRequest(body []byte, isJSON bool) (tokenRequest, error) {
	var q tokenRequest
	var err error
	if !isJSON {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return tokenRequest{form: true}, badRequest(msgFormInvalid)
		}
		q = tokenRequest{form: true, next: form.Get("next"), name: form.Get("name")}
		if len(form["name"]) > 1 || len(form["expires_in"]) > 1 {
			return q, badRequest(msgTokenFieldsRepeated)
		}
		for _, v := range form["scopes"] {
			q.scopes = append(q.scopes, strings.Fields(v)...)
		}
		if v := form.Get("expires_in"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			q.expiresIn, q.badExpiry = &n, err != nil
		}
	} else {
		err = jsonMembers(body, msgBodyNotObject, func(key string, raw json.RawMessage) error {
			switch key {
			case "name":
				var v *string
				if json.Unmarshal(raw, &v) != nil {
					return badRequest(msgNotString, "name")
				}
				if v != nil {
					q.name = *v
				}
			case "scopes":
				var list []string
				var one *string
				if json.Unmarshal(raw, &list) == nil {
					q.scopes = list
				} else if json.Unmarshal(raw, &one) == nil {
					if one != nil {
						q.scopes = strings.Fields(*one)
					}
				} else {
					return badRequest(msgScopesNotList)
				}
			case "expires_in":
				var n *json.Number
				if json.Unmarshal(raw, &n) != nil {
					return badRequest(msgExpiresNotNumber)
				}
				if n != nil {
					v, err := n.Int64()
					q.expiresIn, q.badExpiry = &v, err != nil
				}
			}
			return nil
		})
		if err != nil {
			return tokenRequest{}, err
		}
	}
	if strings.ContainsRune(q.name, 0) {
		return q, badRequest(msgFieldsNUL)
	}
	return q, nil
}

// createPersonalToken serves POST /tokens: a new personal access token for
// the logged-in user, whose secret the answer carries once.
func (m *Manager) createPersonalToken(w http.ResponseWriter, r *http.Request) {
	p := m.personal
	rp := replies{m}
	q, err := readTokenRequest(w, r, m.maxBody)
	aq := accountRequest{form: q.form, next: q.next}
	if err != nil {
		rp.fail(w, r, aq, err)
		return
	}
	u, _ := FromContext(r.Context())
	f := fieldErrors{}
	switch name := strings.TrimSpace(q.name); {
	case name == "":
		f.add("name", msgTokenNameMissing)
	case utf8.RuneCountInString(name) > maxTokenNameRunes || strings.IndexFunc(name, unicode.IsControl) >= 0:
		f.add("name", msgTokenNameBad, maxTokenNameRunes)
	default:
		q.name = name
	}
	var scopes []string
	for _, s := range q.scopes {
		switch {
		case !validScope(s) || !m.declared(s):
			f.add("scopes", msgScopeUnknown, strconv.QuoteToASCII(s))
		case !p.allows(u, s):
			f.add("scopes", msgScopeDenied, s)
		case !slices.Contains(scopes, s):
			scopes = append(scopes, s)
		}
	}
	if len(q.scopes) == 0 {
		f.add("scopes", msgScopesMissing)
	}
	now := m.now().UTC().Truncate(time.Second)
	life := defaultPersonalAge
	if p.maxAge > 0 {
		life = min(life, p.maxAge)
	}
	if q.expiresIn != nil {
		maxSeconds := int64(p.maxAge / time.Second)
		switch n := *q.expiresIn; {
		case q.badExpiry, n < 0, n == 0 && p.maxAge > 0, p.maxAge > 0 && n > maxSeconds, n > maxUnlimitedSeconds:
			if maxSeconds <= 0 {
				maxSeconds = maxUnlimitedSeconds
			}
			f.add("expires_in", msgExpiresBad, maxSeconds)
		default:
			life = time.Duration(n) * time.Second // 0: never, allowed when PersonalMaxAge < 0
		}
	}
	order := []string{"name", "scopes", "expires_in"}
	if len(f) > 0 {
		rp.refuse(w, r, aq, f, order...)
		return
	}
	existing, err := p.store.UserPersonalTokens(r.Context(), u.ID)
	if err != nil {
		rp.fail(w, r, aq, storeError(err))
		return
	}
	if len(existing) >= maxPersonalTokens {
		rp.fail(w, r, aq, badRequest(msgTooManyTokens))
		return
	}
	secret, err := pat.New(p.prefix)
	if err != nil { // the prefix was validated by New
		rp.fail(w, r, aq, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
		return
	}
	hash := pat.Hash(secret)
	t := &PersonalToken{
		ID: newTokenID(), UserID: u.ID, Name: q.name, Scopes: scopes,
		Hash: hash[:], CreatedAt: now,
	}
	if life > 0 {
		t.ExpiresAt = now.Add(life)
	}
	if err := p.store.CreatePersonalToken(r.Context(), t); err != nil {
		if errors.Is(err, ErrUserNotFound) {
			m.fail(w, r, http.StatusUnauthorized, ErrInvalidToken)
			return
		}
		rp.fail(w, r, aq, storeError(err))
		return
	}
	m.auditPersonal(r, EventTokenCreated, t)
	v := viewPersonalToken(t)
	v.Token = secret
	noStore(w)
	// A browser's form post still gets the JSON: the secret must be shown
	// once, and a redirect cannot carry it safely.
	m.writeOK(w, r, v)
}

// newTokenID returns a random ID of 22 base64url characters.
func newTokenID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// listPersonalTokens serves GET /tokens: the logged-in user's personal
// access tokens, newest first, never a secret, and the scopes the user's
// roles allow a new one.
func (m *Manager) listPersonalTokens(w http.ResponseWriter, r *http.Request) {
	u, _ := FromContext(r.Context())
	list, err := m.personal.store.UserPersonalTokens(r.Context(), u.ID)
	if err != nil {
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	views := make([]personalTokenView, 0, len(list))
	for _, t := range list {
		views = append(views, viewPersonalToken(t))
	}
	noStore(w)
	m.writeOK(w, r, struct {
		Tokens []personalTokenView `json:"tokens"`
		// The scopes the user may grant a new token, for a form.
		Available []string `json:"available_scopes"`
	}{views, m.personal.allowedScopes(u)})
}

// deletePersonalToken serves DELETE /tokens/{id}: one of the logged-in
// user's tokens stops working, here at once and in other processes within
// a second (see PersonalTokenStore). Another user's ID is answered as an
// unknown one.
func (m *Manager) deletePersonalToken(w http.ResponseWriter, r *http.Request, id string) {
	u, _ := FromContext(r.Context())
	ctx := r.Context()
	owned, err := m.personal.store.UserPersonalTokens(ctx, u.ID)
	var gone *PersonalToken
	if err == nil {
		err = fmt.Errorf("%w: personal token %q", ErrTokenNotFound, id)
		for _, t := range owned {
			if t.ID == id {
				gone, err = t, m.personal.store.DeletePersonalToken(ctx, id)
				break
			}
		}
	}
	switch {
	case errors.Is(err, ErrTokenNotFound):
		m.fail(w, r, http.StatusNotFound, badRequest(msgNoSuchToken))
		return
	case err != nil:
		m.fail(w, r, http.StatusServiceUnavailable, storeError(err))
		return
	}
	m.ForgetUser(u.ID) // drops the cached tokens of the user
	m.auditPersonal(r, EventTokenRevoked, gone)
	m.writeOK(w, r, struct{}{})
}

// endPersonalTokens removes every personal access token of the user, as a
// new password does, if the store keeps them, whether or not this Manager
// declares scopes (another process sharing the store may).
func (m *Manager) endPersonalTokens(ctx context.Context, userID string) {
	ps, ok := m.store.(PersonalTokenStore)
	if !ok {
		return
	}
	if _, err := ps.DeleteUserPersonalTokens(ctx, userID); err != nil {
		m.log.ErrorContext(ctx, "auth: personal token store failed", "error", err.Error())
	}
	m.ForgetUser(userID)
}
