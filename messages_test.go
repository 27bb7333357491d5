package auth

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// defaultTextMatches reports whether text is the default text of the
// message whose code is code, its verbs filled somehow.
func defaultTextMatches(code, text string) bool {
	id, ok := messageByCode(code)
	if !ok {
		return false
	}
	return textPattern(catalogue[id].text).MatchString(text)
}

// textPattern is a regular expression of the texts that the format f
// makes: %d any integer, another verb anything.
func textPattern(f string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteString(regexp.QuoteMeta(f[i : i+1]))
			continue
		}
		i++
		switch f[i] {
		case '%':
			b.WriteString(`%`)
		case 'd':
			b.WriteString(`-?[0-9]+`)
		default:
			b.WriteString(`.*`)
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// errorAnswer is the response object of an error answer.
type errorAnswer struct {
	Errors          []string            `json:"errors"`
	Codes           []string            `json:"error_codes"`
	FieldErrors     map[string][]string `json:"field_errors"`
	FieldErrorCodes map[string][]string `json:"field_error_codes"`
}

// checkErrorCodes checks the codes of an error answer: one for each
// entry of "errors", in the same order, and of "field_errors", by field,
// each the code of a message whose text is that entry; text maps codes to
// the texts expected (nil: the catalogue's defaults). It returns the
// codes.
func checkErrorCodes(t *testing.T, body []byte, text func(code, got string) bool) []string {
	t.Helper()
	if text == nil {
		text = defaultTextMatches
	}
	var v struct {
		Response errorAnswer `json:"response"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	e := v.Response
	if len(e.Errors) == 0 || len(e.Codes) != len(e.Errors) {
		t.Errorf("answer %s: %d errors, %d error_codes", body, len(e.Errors), len(e.Codes))
		return nil
	}
	for i, got := range e.Errors {
		if !text(e.Codes[i], got) {
			t.Errorf("answer %s: errors[%d] %q is not the text of error_codes[%d] %q", body, i, got, i, e.Codes[i])
		}
	}
	if len(e.FieldErrors) != len(e.FieldErrorCodes) {
		t.Errorf("answer %s: field_errors and field_error_codes name different fields", body)
	}
	var all []string
	for field, texts := range e.FieldErrors {
		codes := e.FieldErrorCodes[field]
		if len(codes) != len(texts) {
			t.Errorf("answer %s: field %q has %d texts, %d codes", body, field, len(texts), len(codes))
			continue
		}
		for i, got := range texts {
			if !text(codes[i], got) {
				t.Errorf("answer %s: field_errors[%q][%d] %q is not the text of %q", body, field, i, got, codes[i])
			}
			all = append(all, got)
		}
	}
	for _, got := range all {
		if !slices.Contains(e.Errors, got) {
			t.Errorf("answer %s: field error %q is not among errors", body, got)
		}
	}
	return e.Codes
}

// TestMessageCatalogue checks the catalogue itself: every message has a
// code of upper-case ASCII letters, digits and underscores, used once,
// and a text whose verbs New accepts.
func TestMessageCatalogue(t *testing.T) {
	code := regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)
	seen := map[string]bool{}
	for id := range numMessages {
		c := catalogue[id]
		if !code.MatchString(c.code) || c.text == "" {
			t.Errorf("message %d: code %q, text %q", id, c.code, c.text)
		}
		if seen[c.code] {
			t.Errorf("code %s given twice", c.code)
		}
		seen[c.code] = true
		if _, err := fmtVerbs(c.text); err != nil || strings.Contains(c.text, "%%") {
			t.Errorf("%s: text %q: %v", c.code, c.text, err)
		}
		if got, ok := messageByCode(c.code); !ok || got != id {
			t.Errorf("messageByCode(%q) = %d, %v", c.code, got, ok)
		}
	}
}

// TestMessagesDoc checks that docs/messages.md shows the catalogue as it
// is: each code once, in the catalogue's order, with its default text.
func TestMessagesDoc(t *testing.T) {
	f, err := os.Open(filepath.Join("docs", "messages.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([A-Z0-9_]+)` \\| (.*?) \\| .* \\|$")
	var codes []string
	texts := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			codes = append(codes, m[1])
			texts[m[1]] = strings.ReplaceAll(m[2], `\|`, `|`)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for id := range numMessages {
		c := catalogue[id]
		want = append(want, c.code)
		got, ok := texts[c.code]
		switch {
		case !ok:
			t.Errorf("docs/messages.md misses %s", c.code)
		case got != c.text:
			t.Errorf("docs/messages.md shows %s as %q, want %q", c.code, got, c.text)
		}
	}
	if !slices.Equal(codes, want) {
		t.Errorf("docs/messages.md lists the codes\n%v\nwant the catalogue's order\n%v", codes, want)
	}
}

// TestMessagesUsed checks that the package's code sends every message of
// the catalogue from somewhere: none is a dead entry.
func TestMessagesUsed(t *testing.T) {
	names := map[string]msgID{}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if name == "messages.go" && n.Tok == token.CONST {
					for _, s := range n.Specs {
						for _, id := range s.(*ast.ValueSpec).Names {
							names[id.Name] = msgID(len(names))
						}
					}
					return false // the declarations
				}
			case *ast.ValueSpec:
				if len(n.Names) == 1 && n.Names[0].Name == "catalogue" {
					return false // the catalogue's keys
				}
			case *ast.Ident:
				used[n.Name] = true
			}
			return true
		})
	}
	if len(names) != int(numMessages)+1 {
		t.Fatalf("found %d message names, want %d", len(names), numMessages+1)
	}
	for name, id := range names {
		if id < numMessages && !used[name] {
			t.Errorf("%s (%s) is sent nowhere", name, catalogue[id].code)
		}
	}
}

// TestMessagesConfig checks New's checks of Config.Messages.
func TestMessagesConfig(t *testing.T) {
	for _, tt := range []struct {
		name     string
		messages map[string]string
		wantErr  string // "": accepted
	}{
		{name: "none"},
		{name: "translations", messages: map[string]string{
			"GENERIC_AUTHN_FAILED":    "E-Mail oder Passwort ist falsch.",
			"PASSWORD_INVALID_LENGTH": "Das Passwort braucht mindestens %d Zeichen.",
			"SCOPE_UNKNOWN":           "Unbekannter Geltungsbereich %s.",
			"TOO_MANY_ATTEMPTS":       "100%% zu viele Versuche.",
			"PASSWORD_BREACHED":       "Ce mot de passe figure dans des fuites connues ; choisissez-en un autre.",
		}},
		{name: "width and flags", messages: map[string]string{"PASSWORD_INVALID_LENGTH": "At least %-3d characters."}},
		{name: "unknown code", messages: map[string]string{"INVALID_CREDENTIALS": "x"}, wantErr: `unknown code "INVALID_CREDENTIALS"`},
		{name: "code in lower case", messages: map[string]string{"unauthenticated": "x"}, wantErr: `unknown code "unauthenticated"`},
		{name: "empty", messages: map[string]string{"UNAUTHENTICATED": ""}, wantErr: `Config.Messages["UNAUTHENTICATED"] is empty`},
		{name: "not UTF-8", messages: map[string]string{"UNAUTHENTICATED": "\xff"}, wantErr: `Config.Messages["UNAUTHENTICATED"] is not valid UTF-8`},
		{name: "verb missing", messages: map[string]string{"PASSWORD_INVALID_LENGTH": "Too short."},
			wantErr: `Config.Messages["PASSWORD_INVALID_LENGTH"] has the verbs none, want %d`},
		{name: "verb added", messages: map[string]string{"UNAUTHENTICATED": "Log in, %s."},
			wantErr: `Config.Messages["UNAUTHENTICATED"] has the verbs %s, want none`},
		{name: "other verb", messages: map[string]string{"PASSWORD_INVALID_LENGTH": "At least %s characters."},
			wantErr: `has the verbs %s, want %d`},
		{name: "repeated verb", messages: map[string]string{"SCOPE_NOT_ALLOWED": "%s: not %s."}, wantErr: `has the verbs %s, %s, want %s`},
		{name: "lone percent", messages: map[string]string{"TOO_MANY_ATTEMPTS": "100% too many."},
			wantErr: `Config.Messages["TOO_MANY_ATTEMPTS"] has the verbs %t, want none`},
		{name: "percent at the end", messages: map[string]string{"TOO_MANY_ATTEMPTS": "Too many: 100%"}, wantErr: "a % ends the text"},
		{name: "argument index", messages: map[string]string{"PASSWORD_INVALID_LENGTH": "At least %[1]d characters."}, wantErr: "%[ is not supported"},
		{name: "star width", messages: map[string]string{"PASSWORD_INVALID_LENGTH": "At least %*d characters."}, wantErr: "%* is not supported"},
		{name: "the first bad code in order", messages: map[string]string{"ZZZ": "x", "AAA": "y"}, wantErr: `unknown code "AAA"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(NewMemoryStore(), []byte("0123456789abcdef0123456789abcdef"), Config{Messages: tt.messages})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestMessagesTranslated checks that Config.Messages' texts reach
// clients, with the same codes: a plain error, a 401 of Require, field
// errors and a text with a verb.
func TestMessagesTranslated(t *testing.T) {
	translations := map[string]string{
		"GENERIC_AUTHN_FAILED":    "E-Mail oder Passwort ist falsch.",
		"UNAUTHENTICATED":         "Bitte melden Sie sich an <hier> & dort.",
		"TOKEN_NAME_NOT_PROVIDED": "Kein Name angegeben.",
		"TOKEN_LIFETIME_INVALID":  "Die Lebensdauer ist 1 bis %d Sekunden (100%%).",
		"SCOPE_UNKNOWN":           "Unbekannter Bereich: %s.",
		"EMAIL_CONFIRMED":         "Danke. Ihre Adresse ist bestätigt.",
	}
	f := newPATFixture(t, func(c *Config) { c.Messages = translations })
	translated := func(code, got string) bool {
		if want, ok := translations[code]; ok {
			return textPattern(want).MatchString(got)
		}
		return defaultTextMatches(code, got)
	}
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/tokens", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authentication-Token", tokenOf(t, f.m, f.store, idUser))
		rec := httptest.NewRecorder()
		f.account.ServeHTTP(rec, r)
		return rec
	}
	for _, tt := range []struct {
		name string
		rec  *httptest.ResponseRecorder
		want string // the exact body
	}{
		{
			name: "login",
			rec: func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				f.m.LoginHandler().ServeHTTP(rec, postLogin("application/json", loginJSON("user@example.com", "wrong password")))
				return rec
			}(),
			want: `{"meta":{"code":400},"response":{"errors":["E-Mail oder Passwort ist falsch."],"error_codes":["GENERIC_AUTHN_FAILED"]}}`,
		},
		{
			name: "Require",
			rec: func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				f.m.RequireToken(whoami).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				return rec
			}(),
			want: `{"meta":{"code":401},"response":{"errors":["Bitte melden Sie sich an \u003chier\u003e \u0026 dort."],"error_codes":["UNAUTHENTICATED"]}}`,
		},
		{
			name: "field errors, one with a verb",
			rec:  post(`{"name":" ","scopes":["posts:read","nope"],"expires_in":-1}`),
			want: `{"meta":{"code":400},"response":{` +
				`"errors":["Kein Name angegeben.","Unbekannter Bereich: \"nope\".","Die Lebensdauer ist 1 bis 31536000 Sekunden (100%)."],` +
				`"error_codes":["TOKEN_NAME_NOT_PROVIDED","SCOPE_UNKNOWN","TOKEN_LIFETIME_INVALID"],` +
				`"field_errors":{"expires_in":["Die Lebensdauer ist 1 bis 31536000 Sekunden (100%)."],"name":["Kein Name angegeben."],"scopes":["Unbekannter Bereich: \"nope\"."]},` +
				`"field_error_codes":{"expires_in":["TOKEN_LIFETIME_INVALID"],"name":["TOKEN_NAME_NOT_PROVIDED"],"scopes":["SCOPE_UNKNOWN"]}}}`,
		},
		{
			name: "a default among translations",
			rec:  post(`{"name":"ci","scopes":"posts:read","expires_in":"soon"}`),
			want: `{"meta":{"code":400},"response":{"errors":["\"expires_in\" must be a number of seconds."],"error_codes":["EXPIRES_IN_NOT_NUMBER"]}}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.TrimSuffix(tt.rec.Body.String(), "\n"); got != tt.want {
				t.Errorf("body\n%s\nwant\n%s", got, tt.want)
			}
			checkErrorCodes(t, tt.rec.Body.Bytes(), translated)
		})
	}
}

// discardWriter is a ResponseWriter that keeps its header map between
// requests and drops the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestRefusalAllocs checks what a 401 of Require allocates, with the
// catalogue's texts and with translated ones alike: the body is written
// into one buffer, never through encoding/json. (It made 13 allocations
// before the catalogue, with encoding/json and no codes.)
func TestRefusalAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage counters and the race detector change allocations")
	}
	for _, messages := range []map[string]string{nil, {"UNAUTHENTICATED": "Bitte melden Sie sich an – mit „Token“."}} {
		m, _ := newSeeded(t, Config{Messages: messages})
		h := m.RequireToken(whoami)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := &discardWriter{h: http.Header{}}
		n := testing.AllocsPerRun(100, func() {
			clear(w.h)
			h.ServeHTTP(w, r)
		})
		if w.h.Get("Content-Type") != "application/json" {
			t.Fatalf("not an error answer: %v", w.h)
		}
		if n > 10 {
			t.Errorf("Messages %v: a 401 of Require makes %v allocations, want at most 10", messages, n)
		}
	}
}

// TestErrorCodes sends failing requests to each handler and middleware
// and checks the answers' codes: the ones expected, in order, each the
// code of the message whose text is beside it.
func TestErrorCodes(t *testing.T) {
	f := newAccountFixture(t, func(c *Config) {
		c.Token.Scopes = testScopes
		c.TwoFactor = TwoFactorConfig{Enabled: true}
		c.Refresh = RefreshConfig{Enabled: true}
		c.MaxBodyBytes = 4 << 10
		c.Throttle = ThrottleConfig{FreeAttempts: 8} // more than the table's failures
	})
	m := f.m
	clock := setClock(m, time.Now())
	tok := tokenOf(t, m, f.store, idUser)
	unconfirmed := tokenOf(t, m, f.store, idUnconfirmed)
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", m.AccountHandler()))
	mux.Handle("/login", m.LoginHandler())
	mux.Handle("/api/tokens/", m.TokenHandler())
	mux.Handle("/logout", m.LogoutHandler())
	mux.Handle("/admin", m.RequireToken(m.RequireRoles("admin")(whoami)))
	mux.Handle("/confirmed", m.RequireToken(m.RequireConfirmed(whoami)))
	mux.Handle("/scoped", m.Require(Token, PersonalAccess)(m.RequireScopes("admin:all")(whoami)))
	mux.Handle("/basic", m.RequireBasic(whoami))
	mux.Handle("/fresh", m.RequireToken(m.RequireFresh(time.Minute)(whoami)))
	const (
		js   = "application/json"
		form = "application/x-www-form-urlencoded"
	)
	for _, tt := range []struct {
		method, path, contentType, body, token string
		origin                                 string // of a form; default the request's own
		basic                                  [2]string
		status                                 int
		codes                                  []string
	}{
		{method: "GET", path: "/login", status: 405, codes: []string{"METHOD_NOT_ALLOWED"}},
		{method: "POST", path: "/login", contentType: "text/plain", body: "x", status: 415, codes: []string{"LOGIN_UNSUPPORTED_MEDIA_TYPE"}},
		{method: "POST", path: "/login", contentType: js, body: "[]", status: 400, codes: []string{"LOGIN_BODY_NOT_OBJECT"}},
		{method: "POST", path: "/login", contentType: js, body: `{"email":1}`, status: 400, codes: []string{"FIELD_NOT_STRING"}},
		{method: "POST", path: "/login", contentType: js, body: `{"email":"a","email":"b"}`, status: 400, codes: []string{"JSON_MEMBER_REPEATED"}},
		{method: "POST", path: "/login", contentType: js, body: `{"remember":3}`, status: 400, codes: []string{"REMEMBER_NOT_BOOLEAN"}},
		{method: "POST", path: "/login", contentType: js, body: `{"email":"a"`, status: 400, codes: []string{"BODY_INVALID_JSON"}},
		{method: "POST", path: "/login", contentType: js, body: `{} {}`, status: 400, codes: []string{"BODY_TRAILING_DATA"}},
		{method: "POST", path: "/login", contentType: js, body: "{\"email\":\"\xff\"}", status: 400, codes: []string{"BODY_NOT_UTF8"}},
		{method: "POST", path: "/login", contentType: js, body: `{}`, status: 400, codes: []string{"CREDENTIALS_NOT_PROVIDED"}},
		{method: "POST", path: "/login", contentType: js, body: `{"email":"a\u0000","password":"b"}`, status: 400, codes: []string{"CREDENTIALS_CONTAIN_NUL"}},
		{method: "POST", path: "/login", contentType: js, body: loginJSON("user@example.com", "wrong"), status: 400, codes: []string{"GENERIC_AUTHN_FAILED"}},
		{method: "POST", path: "/login", contentType: js, body: strings.Repeat(" ", 5<<10), status: 413, codes: []string{"REQUEST_TOO_LARGE"}},
		{method: "POST", path: "/login", contentType: form, body: "email=a&email=b&password=c", status: 400, codes: []string{"LOGIN_FIELD_REPEATED"}},
		{method: "POST", path: "/login", contentType: form, body: "email=%zz", status: 400, codes: []string{"FORM_INVALID"}},
		{method: "POST", path: "/login", contentType: form, origin: "none", body: "email=a&password=b", status: 403, codes: []string{"CSRF_TOKEN_INVALID"}},
		{method: "POST", path: "/login", contentType: form, origin: "https://evil.example", body: "email=a&password=b", status: 403, codes: []string{"CSRF_CROSS_ORIGIN"}},
		{method: "POST", path: "/login", contentType: form, body: "email=%ff&password=x", status: 400, codes: []string{"FORM_NOT_UTF8"}},
		{method: "POST", path: "/api/tokens/", status: 401, codes: []string{"UNAUTHENTICATED"}},
		{method: "POST", path: "/api/tokens/", basic: [2]string{"user@example.com", "wrong"}, status: 401, codes: []string{"GENERIC_AUTHN_FAILED"}},
		{method: "GET", path: "/basic", basic: [2]string{"user@example.com", "wrong"}, status: 401, codes: []string{"GENERIC_AUTHN_FAILED"}},
		{method: "POST", path: "/logout", status: 401, codes: []string{"UNAUTHENTICATED"}},
		{method: "GET", path: "/admin", token: tok, status: 403, codes: []string{"UNAUTHORIZED"}},
		{method: "GET", path: "/confirmed", token: unconfirmed, status: 403, codes: []string{"CONFIRMATION_REQUIRED"}},
		{method: "GET", path: "/scoped", token: tok, status: 403, codes: []string{"INSUFFICIENT_SCOPE"}},
		{method: "GET", path: "/auth/nowhere", status: 404, codes: []string{"NOT_FOUND"}},
		{method: "POST", path: "/auth/register", contentType: "text/plain", body: "x", status: 415, codes: []string{"UNSUPPORTED_MEDIA_TYPE"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `"x"`, status: 400, codes: []string{"BODY_NOT_OBJECT"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `{"email":true}`, status: 400, codes: []string{"FIELD_NOT_STRING"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `{}`, status: 400, codes: []string{"EMAIL_NOT_PROVIDED", "PASSWORD_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `{"email":"bad","password":"short"}`, status: 400,
			codes: []string{"INVALID_EMAIL_ADDRESS", "PASSWORD_INVALID_LENGTH"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `{"email":"new@example.com","password":"` + strings.Repeat("x", 1025) + `"}`, status: 400,
			codes: []string{"PASSWORD_TOO_LONG"}},
		{method: "POST", path: "/auth/register", contentType: js, body: `{"email":"new@example.com","password":"long enough","password_confirm":"other"}`, status: 400,
			codes: []string{"RETYPE_PASSWORD_MISMATCH"}},
		{method: "POST", path: "/auth/reset", contentType: form, body: "email=a&email=b", status: 400, codes: []string{"FORM_FIELD_REPEATED"}},
		{method: "POST", path: "/auth/reset", contentType: js, body: `{"email":"a\u0000"}`, status: 400, codes: []string{"FIELDS_CONTAIN_NUL"}},
		{method: "GET", path: "/auth/confirm/bogus", status: 400, codes: []string{"LINK_INVALID"}},
		{method: "GET", path: "/auth/reset/bogus", status: 400, codes: []string{"LINK_INVALID"}},
		{method: "POST", path: "/auth/reset/bogus", contentType: js, body: `{"password":"long enough"}`, status: 400, codes: []string{"LINK_INVALID"}},
		{method: "GET", path: "/auth/change-email/bogus", status: 400, codes: []string{"LINK_INVALID"}},
		{method: "POST", path: "/auth/change", token: tok, contentType: js, body: `{"new_password":"long enough"}`, status: 400, codes: []string{"PASSWORD_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/change", token: tok, contentType: js, body: `{"password":"wrong","new_password":"long enough"}`, status: 400, codes: []string{"INVALID_PASSWORD"}},
		{method: "POST", path: "/auth/change", token: tok, contentType: js, body: `{"password":"user-password","new_password":"user-password"}`, status: 400,
			codes: []string{"PASSWORD_IS_THE_SAME"}},
		{method: "POST", path: "/auth/change-email", token: tok, contentType: js, body: `{"email":"USER@example.com"}`, status: 400, codes: []string{"EMAIL_IS_THE_SAME"}},
		{method: "POST", path: "/auth/change-email", contentType: js, body: `{"email":"a@example.com"}`, status: 401, codes: []string{"UNAUTHENTICATED"}},
		{method: "POST", path: "/auth/verify", token: tok, contentType: js, body: `{}`, status: 400, codes: []string{"PASSWORD_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/verify", token: tok, contentType: js, body: `{"password":"wrong"}`, status: 400, codes: []string{"INVALID_PASSWORD"}},
		{method: "POST", path: "/auth/refresh-token", contentType: js, body: `{}`, status: 400, codes: []string{"REFRESH_TOKEN_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/refresh-token", contentType: js, body: `{"refresh_token":"bogus"}`, status: 401, codes: []string{"UNAUTHENTICATED"}},
		{method: "DELETE", path: "/auth/sessions/nope", token: tok, status: 404, codes: []string{"SESSION_NOT_FOUND"}},
		{method: "DELETE", path: "/auth/tokens/nope", token: tok, status: 404, codes: []string{"TOKEN_NOT_FOUND"}},
		{method: "PUT", path: "/auth/tokens", token: tok, status: 405, codes: []string{"METHOD_NOT_ALLOWED"}},
		{method: "POST", path: "/auth/tokens", token: tok, contentType: js, body: `{"name":" ","scopes":[]}`, status: 400,
			codes: []string{"TOKEN_NAME_NOT_PROVIDED", "SCOPES_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/tokens", token: tok, contentType: js, body: `{"name":"` + strings.Repeat("n", 101) + `","scopes":["nope","admin:all"],"expires_in":0}`, status: 400,
			codes: []string{"TOKEN_NAME_INVALID", "SCOPE_UNKNOWN", "SCOPE_NOT_ALLOWED", "TOKEN_LIFETIME_INVALID"}},
		{method: "POST", path: "/auth/tokens", token: tok, contentType: js, body: `{"scopes":5}`, status: 400, codes: []string{"SCOPES_NOT_LIST"}},
		{method: "POST", path: "/auth/tokens", token: tok, contentType: js, body: `{"expires_in":"x"}`, status: 400, codes: []string{"EXPIRES_IN_NOT_NUMBER"}},
		{method: "POST", path: "/auth/tokens", token: tok, contentType: form, body: "name=a&name=b", status: 400, codes: []string{"TOKEN_FIELDS_REPEATED"}},
		{method: "POST", path: "/auth/tf-setup", token: tok, contentType: js, body: `{"setup":"sms"}`, status: 400, codes: []string{"TWO_FACTOR_METHOD_NOT_AVAILABLE"}},
		{method: "POST", path: "/auth/tf-setup/bogus", token: tok, contentType: js, body: `{"code":"123456"}`, status: 400, codes: []string{"TWO_FACTOR_SETUP_EXPIRED"}},
		{method: "POST", path: "/auth/tf-validate", contentType: js, body: `{"code":"123456"}`, status: 400, codes: []string{"TWO_FACTOR_STATE_NOT_PROVIDED"}},
		{method: "POST", path: "/auth/tf-validate", contentType: js, body: `{"code":"123456","tf_state_token":"bogus"}`, status: 400, codes: []string{"TWO_FACTOR_STATE_INVALID"}},
		{method: "POST", path: "/auth/mf-recovery", contentType: js, body: `{"tf_state_token":"bogus"}`, status: 400, codes: []string{"TWO_FACTOR_STATE_INVALID"}},
		{method: "GET", path: "/auth/mf-recovery-codes", token: tok, status: 400, codes: []string{"TWO_FACTOR_NOT_SET_UP"}},
	} {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			switch {
			case tt.contentType == form && tt.origin == "":
				r.Header.Set("Origin", "http://"+r.Host)
			case tt.origin != "" && tt.origin != "none":
				r.Header.Set("Origin", tt.origin)
			}
			if tt.token != "" {
				r.Header.Set("Authentication-Token", tt.token)
			}
			if tt.basic[0] != "" {
				r.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			rec := serve(mux, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := checkErrorCodes(t, rec.Body.Bytes(), nil); !slices.Equal(got, tt.codes) {
				t.Errorf("error_codes %v, want %v: %s", got, tt.codes, rec.Body)
			}
			checkNoLeak(t, rec.Body.String())
		})
	}
	t.Run("reauthentication", func(t *testing.T) {
		clock.t = clock.t.Add(2 * time.Minute)
		r := httptest.NewRequest(http.MethodGet, "/fresh", nil)
		r.Header.Set("Authentication-Token", tok)
		rec := serve(mux, r)
		if codes := checkErrorCodes(t, rec.Body.Bytes(), nil); rec.Code != 401 || !slices.Equal(codes, []string{"REAUTHENTICATION_REQUIRED"}) ||
			!strings.Contains(rec.Body.String(), `"error_codes":["REAUTHENTICATION_REQUIRED"],"reauth_required":true}`) {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		for range 20 {
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginJSON("admin@example.com", "wrong")))
			r.Header.Set("Content-Type", js)
			rec := serve(mux, r)
			if rec.Code == http.StatusTooManyRequests {
				if codes := checkErrorCodes(t, rec.Body.Bytes(), nil); !slices.Equal(codes, []string{"TOO_MANY_ATTEMPTS"}) {
					t.Errorf("error_codes %v: %s", codes, rec.Body)
				}
				return
			}
		}
		t.Error("20 wrong passwords were not throttled")
	})
}

// TestFieldErrorsAllInErrors checks that "errors" lists the messages of
// every field: those of the fields given first in their order, then the
// others by name (the passkey registration's "usage" was missing when
// only "name" came first).
func TestFieldErrorsAllInErrors(t *testing.T) {
	m, _ := newSeeded(t, Config{})
	f := fieldErrors{}
	f.add("usage", msgPasskeyUsage)
	f.add("credential", msgPasskeyMissing)
	f.add("name", msgPasskeyNameTooLong, maxPasskeyName)
	rec := httptest.NewRecorder()
	m.writeErrors(rec, http.StatusBadRequest, errorReply{fields: f, order: []string{"name"}})
	want := `{"meta":{"code":400},"response":{` +
		`"errors":["A passkey's name is at most 64 characters.","Send the browser's credential as \"credential\".","Choose \"first\" or \"secondary\"."],` +
		`"error_codes":["WEBAUTHN_NAME_TOO_LONG","WEBAUTHN_CREDENTIAL_REQUIRED","WEBAUTHN_USAGE_INVALID"],` +
		`"field_errors":{"credential":["Send the browser's credential as \"credential\"."],"name":["A passkey's name is at most 64 characters."],"usage":["Choose \"first\" or \"secondary\"."]},` +
		`"field_error_codes":{"credential":["WEBAUTHN_CREDENTIAL_REQUIRED"],"name":["WEBAUTHN_NAME_TOO_LONG"],"usage":["WEBAUTHN_USAGE_INVALID"]}}}` + "\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	checkErrorCodes(t, rec.Body.Bytes(), nil)
}
