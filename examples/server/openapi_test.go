package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/authkit/auth/docs"
)

// The tests keep docs/openapi.yaml true: every handler that routes builds
// in a test (httptest servers, and run's real server in the end-to-end and
// browser tests) is wrapped by openAPI.validate, which checks each request
// to a path the document describes, and each answer, against it. At the
// end TestMain fails the run for any answer that contradicts the document
// and, when the whole suite ran, for any operation of libraryOperations
// that the document lacks or no test exercised.

// libraryOperations are the operations the document must describe, and
// the suite exercise: every endpoint of the library's handlers as routes
// mounts them, and the example's routes that stand for the middlewares'
// challenges. A new endpoint belongs here and in docs/openapi.yaml.
var libraryOperations = []string{
	"GET /login", "POST /login",
	"POST /logout",
	"POST /api/v1/tokens/",
	"POST /auth/register",
	"POST /auth/confirm", "GET /auth/confirm/{token}",
	"POST /auth/reset", "GET /auth/reset/{token}", "POST /auth/reset/{token}",
	"POST /auth/change",
	"POST /auth/change-email", "GET /auth/change-email/{token}",
	"POST /auth/verify",
	"POST /auth/refresh-token",
	"GET /auth/sessions", "DELETE /auth/sessions", "DELETE /auth/sessions/{id}",
	"GET /auth/tokens", "POST /auth/tokens", "DELETE /auth/tokens/{id}",
	"POST /auth/tf-setup", "POST /auth/tf-setup/{state}",
	"POST /auth/tf-validate",
	"POST /auth/mf-recovery",
	"GET /auth/mf-recovery-codes", "POST /auth/mf-recovery-codes",
	"GET /auth/wan-register", "POST /auth/wan-register", "POST /auth/wan-register/{state}",
	"POST /auth/wan-delete",
	"POST /auth/wan-signin", "POST /auth/wan-signin/{state}",
	"POST /auth/wan-verify", "POST /auth/wan-verify/{state}",
	"GET /protected", "GET /basic-api/", "GET /api/v1/posts/", "GET /admin/",
	"GET /openapi.yaml",
}

// libraryPrefix is where routes mounts the account handler: a path under
// it that the document lacks must be answered 404, as an unknown route.
const libraryPrefix = accountPath + "/"

func TestMain(m *testing.M) {
	flag.Parse()
	if err := openAPI.load(); err != nil {
		fmt.Fprintln(os.Stderr, "docs/openapi.yaml:", err)
		os.Exit(1)
	}
	wrapRoutes = openAPI.validate
	code := m.Run()
	if n := openAPI.report(os.Stderr, wholeSuite()); n > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d contradictions of docs/openapi.yaml (openapi_test.go)\n", n)
		code = 1
	}
	os.Exit(code)
}

// wholeSuite reports whether every test ran: no -run, -skip or -short,
// so that every operation had its chance to be exercised.
func wholeSuite() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// openAPI is the document and what the suite did with it.
var openAPI validator

type validator struct {
	doc     *openapi3.T
	router  routers.Router
	options *openapi3filter.Options

	mu        sync.Mutex
	exercised map[string]map[int]bool // by "METHOD /path" of the document, the statuses seen
	failures  []string
}

// load reads, checks and routes the document.
func (v *validator) load() error {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return err
	}
	v.doc = doc
	// The tests' servers listen on other addresses than the document's:
	// route by path alone.
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "/"}}
	if v.router, err = gorillamux.NewRouter(&routed); err != nil {
		return err
	}
	v.options = &openapi3filter.Options{
		IncludeResponseStatus: true, // an answer's status must be documented
		MultiError:            true,
		AuthenticationFunc:    presentCredential,
	}
	v.exercised = map[string]map[int]bool{}
	return nil
}

// presentCredential is the security check of requests: a request
// satisfies a scheme when it carries that kind of credential, valid or
// not. A request that carries none of an operation's is one the document
// calls invalid, which must then be refused.
func presentCredential(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	s := in.SecurityScheme
	var ok bool
	switch {
	case s.Type == "http" && s.Scheme == "bearer":
		auth := r.Header.Get("Authorization")
		ok = len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ")
	case s.Type == "http" && s.Scheme == "basic":
		_, _, ok = r.BasicAuth()
	case s.Type == "apiKey" && s.In == "header" && s.Name == "X-CSRF-Token":
		ok = r.Header.Get("X-CSRF-Token") != "" || r.Header.Get("X-XSRF-Token") != "" || formField(r, "csrf_token")
	case s.Type == "apiKey" && s.In == "header":
		ok = r.Header.Get(s.Name) != ""
	case s.Type == "apiKey" && s.In == "query":
		ok = r.URL.Query().Get(s.Name) != ""
	case s.Type == "apiKey" && s.In == "cookie":
		_, err := r.Cookie(s.Name)
		ok = err == nil
	default:
		return fmt.Errorf("security scheme %q: unknown type %s", in.SecuritySchemeName, s.Type)
	}
	if !ok {
		return fmt.Errorf("no %s credential", in.SecuritySchemeName)
	}
	return nil
}

// formField reports whether r's url-encoded body has the field name. The
// body is read again from GetBody, which validate sets.
func formField(r *http.Request, name string) bool {
	if r.GetBody == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return false
	}
	body, err := r.GetBody()
	if err != nil {
		return false
	}
	data, _ := io.ReadAll(body)
	for pair := range strings.SplitSeq(string(data), "&") {
		if k, _, _ := strings.Cut(pair, "="); k == name {
			return true
		}
	}
	return false
}

// fail records a contradiction of the document.
func (v *validator) fail(r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf("%s %s → %d: %s", r.Method, r.URL.Path, status, fmt.Sprintf(format, args...))
	if len(msg) > 1500 {
		msg = msg[:1500] + " …"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failures = append(v.failures, msg)
}

// validate is the middleware of the tests' handlers (wrapRoutes).
func (v *validator) validate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead || r.Method == http.MethodOptions {
			// HEAD is GET without a body; OPTIONS is CORS's preflight,
			// answered before the library.
			next.ServeHTTP(w, r)
			return
		}
		route, params, err := v.router.FindRoute(r)
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			rec := serveRecorded(next, w, r)
			v.checkOtherMethod(r, rec)
			return
		case err != nil:
			rec := serveRecorded(next, w, r)
			// The account handler answers an unknown route 404, or 501
			// when it has no Mailer.
			if strings.HasPrefix(r.URL.Path, libraryPrefix) && rec.status != http.StatusNotFound && rec.status != http.StatusNotImplemented {
				v.fail(r, rec.status, "the library answers a path the document lacks (want 404 or 501)")
			}
			return
		}

		// The request's body, read once: for the validator and again for
		// the handler.
		body, readErr := io.ReadAll(r.Body)
		r.Body = replayBody{bytes.NewReader(body), readErr, r.Body}
		checked := r.Clone(r.Context())
		checked.Body = io.NopCloser(bytes.NewReader(body))
		checked.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		in := &openapi3filter.RequestValidationInput{Request: checked, PathParams: params, Route: route, Options: v.options}
		var reqErr error
		if readErr == nil {
			reqErr = openapi3filter.ValidateRequest(r.Context(), in)
		}

		rec := serveRecorded(next, w, r)
		v.mark(route, rec.status)
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.status, Header: rec.header, Options: v.options,
		}
		out.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			v.fail(r, rec.status, "the answer contradicts the document: %v\n\tbody: %.300s", err, rec.body.Bytes())
		}
		if reqErr != nil && rec.status < 400 && rec.status != http.StatusSeeOther {
			v.fail(r, rec.status, "a request the document calls invalid was accepted: %v", reqErr)
		}
		v.checkEnvelope(r, rec)
		if ref := route.Operation.Responses.Status(rec.status); ref != nil && ref.Value != nil {
			v.checkChallenges(r, rec, ref.Value)
		}
	})
}

// checkOtherMethod checks the answer to a method a documented path has no
// operation for: 405, with Allow naming only documented methods (and a
// body of the MethodNotAllowed response, but for the ServeMux's own); or,
// on a path whose operations need a login and check it first, a refusal.
func (v *validator) checkOtherMethod(r *http.Request, rec *recorded) {
	item := v.pathItem(r)
	if item == nil {
		v.fail(r, rec.status, "no path of the document, yet its router said the method was wrong")
		return
	}
	if rec.status != http.StatusMethodNotAllowed {
		needsLogin := false
		for _, op := range item.Operations() {
			needsLogin = needsLogin || op.Security != nil && len(*op.Security) > 0
		}
		switch rec.status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusSeeOther:
			if needsLogin {
				return
			}
		}
		v.fail(r, rec.status, "a method the path lists no operation for: want 405")
		return
	}
	documented := map[string]bool{}
	for method := range item.Operations() {
		documented[method] = true
	}
	if documented[http.MethodGet] {
		documented[http.MethodHead] = true
	}
	for m := range strings.SplitSeq(rec.header.Get("Allow"), ",") {
		if m = strings.TrimSpace(m); !documented[m] {
			v.fail(r, rec.status, "Allow %q names %s, which the document lacks for the path", rec.header.Get("Allow"), m)
		}
	}
	if rec.header.Get("Content-Type") != "application/json" {
		return // the ServeMux's plain text 405 (/login, /logout, /api/v1/tokens/)
	}
	resp := v.doc.Components.Responses["MethodNotAllowed"].Value
	var body any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		v.fail(r, rec.status, "405 body is not JSON: %v", err)
		return
	}
	if err := resp.Content.Get("application/json").Schema.Value.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
		v.fail(r, rec.status, "405 body contradicts the MethodNotAllowed response: %v", err)
	}
	v.checkEnvelope(r, rec)
}

// pathItem returns the document's path item of r's path, if any.
func (v *validator) pathItem(r *http.Request) *openapi3.PathItem {
	probe := r.Clone(r.Context())
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch} {
		probe.Method = method
		if route, _, err := v.router.FindRoute(probe); err == nil {
			return route.PathItem
		}
	}
	return nil
}

// checkEnvelope checks that a Flask-Security envelope's meta.code is the
// answer's status.
func (v *validator) checkEnvelope(r *http.Request, rec *recorded) {
	if rec.header.Get("Content-Type") != "application/json" {
		return
	}
	var body struct {
		Meta *struct {
			Code int `json:"code"`
		} `json:"meta"`
	}
	if json.Unmarshal(rec.body.Bytes(), &body) == nil && body.Meta != nil && body.Meta.Code != rec.status {
		v.fail(r, rec.status, "meta.code %d is not the status", body.Meta.Code)
	}
}

// checkChallenges checks every WWW-Authenticate value against the
// response's header schema: openapi3filter checks the first one only.
func (v *validator) checkChallenges(r *http.Request, rec *recorded, resp *openapi3.Response) {
	h := resp.Headers["WWW-Authenticate"]
	values := rec.header.Values("WWW-Authenticate")
	if h == nil || h.Value == nil || h.Value.Schema == nil {
		if len(values) > 0 {
			v.fail(r, rec.status, "WWW-Authenticate %q, which the document does not give this answer", values)
		}
		return
	}
	for _, value := range values {
		if err := h.Value.Schema.Value.VisitJSON(value, openapi3.EnableJSONSchema2020()); err != nil {
			v.fail(r, rec.status, "WWW-Authenticate %q contradicts the document: %v", value, err)
		}
	}
}

// mark records that the operation of route answered status.
func (v *validator) mark(route *routers.Route, status int) {
	key := route.Method + " " + route.Path
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.exercised[key] == nil {
		v.exercised[key] = map[int]bool{}
	}
	v.exercised[key][status] = true
}

// report writes the contradictions found and, after the whole suite, the
// operations of libraryOperations that the document lacks, that the
// document has beyond them, and that no test exercised. It returns how
// many problems it wrote.
func (v *validator) report(w io.Writer, whole bool) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	problems := slices.Clone(v.failures)
	documented := map[string]bool{}
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, op := range libraryOperations {
		if !documented[op] {
			problems = append(problems, op+": a library route the document lacks")
		}
	}
	for op := range documented {
		if !slices.Contains(libraryOperations, op) {
			problems = append(problems, op+": in the document but not in libraryOperations (openapi_test.go)")
		}
	}
	if whole {
		for _, op := range libraryOperations {
			if documented[op] && len(v.exercised[op]) == 0 {
				problems = append(problems, op+": no test exercised it")
			}
		}
	}
	if os.Getenv("OPENAPI_COVERAGE") != "" {
		ops := slices.Sorted(maps.Keys(v.exercised))
		for _, op := range ops {
			fmt.Fprintln(w, "exercised:", op, slices.Sorted(maps.Keys(v.exercised[op])))
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		fmt.Fprintln(w, "docs/openapi.yaml:", p)
	}
	return len(problems)
}

// replayBody is a request body read ahead: the bytes read, then the error
// the read ended with, if any; Close closes the original.
type replayBody struct {
	*bytes.Reader
	err  error
	orig io.Closer
}

func (b replayBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF && b.err != nil {
		err = b.err
	}
	return n, err
}

func (b replayBody) Close() error { return b.orig.Close() }

// recorded is an answer as it went to the client.
type recorded struct {
	status int
	header http.Header
	body   bytes.Buffer
}

// serveRecorded serves r with next, passing the answer through to w and
// keeping a copy.
func serveRecorded(next http.Handler, w http.ResponseWriter, r *http.Request) *recorded {
	rw := &recordingWriter{ResponseWriter: w}
	next.ServeHTTP(rw, r)
	if rw.rec.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.rec.header.Get("Content-Type") == "" && rw.rec.body.Len() > 0 {
		rw.rec.header.Set("Content-Type", http.DetectContentType(rw.rec.body.Bytes())) // as net/http sniffs it
	}
	return &rw.rec
}

type recordingWriter struct {
	http.ResponseWriter
	rec recorded
}

func (rw *recordingWriter) WriteHeader(code int) {
	if rw.rec.status == 0 && code >= 200 {
		rw.rec.status = code
		rw.rec.header = rw.ResponseWriter.Header().Clone()
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recordingWriter) Write(b []byte) (int, error) {
	if rw.rec.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	rw.rec.body.Write(b)
	return rw.ResponseWriter.Write(b)
}

func (rw *recordingWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// TestOpenAPIServed: the example serves the document it is checked
// against, as YAML.
func TestOpenAPIServed(t *testing.T) {
	srv, _ := newTestApp(t)
	resp, err := srv.Client().Get(srv.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml: %d, Content-Type %q; want 200 application/yaml", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, docs.OpenAPI) {
		t.Errorf("GET /openapi.yaml: %d bytes, not docs/openapi.yaml's %d", len(body), len(docs.OpenAPI))
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil || !doc.IsOpenAPI31OrLater() {
		t.Errorf("the served document does not load as OpenAPI 3.1: %v", err)
	}
}

// TestOpenAPIValidatorRefuses checks the checker: answers that contradict
// the document are caught.
func TestOpenAPIValidatorRefuses(t *testing.T) {
	var v validator
	if err := v.load(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, method, path string
		answer             http.HandlerFunc
	}{
		{name: "an undocumented member", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"t"},"extra":1}}`)
		}},
		{name: "an undocumented status", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		}},
		{name: "meta.code not the status", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"meta":{"code":200},"response":{"errors":["x"]}}`)
		}},
		{name: "a 401 without its challenge", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"meta":{"code":401},"response":{"errors":["x"]}}`)
		}},
		{name: "a token without no-store", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"t"}}}`)
		}},
		{name: "an unknown library path answered", method: "GET", path: "/auth/no-such-route", answer: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "an undocumented method accepted", method: "PUT", path: "/auth/register", answer: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "Allow names an undocumented method", method: "PUT", path: "/auth/register", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "POST, PUT")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			io.WriteString(w, `{"meta":{"code":405},"response":{"errors":["Method not allowed."]}}`)
		}},
		{name: "an invalid request accepted", method: "POST", path: "/auth/verify", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, `{"meta":{"code":200},"response":{"user":{"id":"1","authentication_token":"t"}}}`)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v.failures = nil
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"password":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.name != "an invalid request accepted" {
				req.Header.Set("Authentication-Token", "t")
			}
			v.validate(tt.answer).ServeHTTP(httptest.NewRecorder(), req)
			if len(v.failures) == 0 {
				t.Errorf("%s %s: the answer passed", tt.method, tt.path)
			}
		})
	}
}

// TestOpenAPIReport checks the end-of-suite check: an operation no test
// exercised, and a library route the document lacks, are reported.
func TestOpenAPIReport(t *testing.T) {
	var v validator
	if err := v.load(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n := v.report(&out, true); n != len(libraryOperations) {
		t.Errorf("a suite that exercised nothing: %d problems, want %d:\n%s", n, len(libraryOperations), &out)
	}
	if n := v.report(io.Discard, false); n != 0 {
		t.Errorf("a partial suite that exercised nothing: %d problems, want 0", n)
	}
	v.doc.Paths.Delete("/auth/verify")
	out.Reset()
	if n := v.report(&out, false); n != 1 || !strings.Contains(out.String(), "POST /auth/verify: a library route the document lacks") {
		t.Errorf("a document without /auth/verify: %d problems:\n%s", n, &out)
	}
}
