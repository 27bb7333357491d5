package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authkit/auth"
)

const (
	spaOrigin   = "http://localhost:5173"
	otherOrigin = "http://evil.example"
)

// corsHeaders are the response headers of CORS, which a browser reads.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// TestCORS checks the -cors-origin handler as a browser sees it: the
// preflights and requests of the allowed origin get what they need, those
// of another origin (and everything, without the flag) no CORS header.
func TestCORS(t *testing.T) {
	m, _ := newTestManager(t)
	allowed := withCORS(routes(m), []string{spaOrigin})
	none := withCORS(routes(m), nil)
	token := corsLogin(t, allowed)

	tests := []struct {
		name    string
		noFlag  bool // served without -cors-origin
		method  string
		path    string
		header  map[string]string
		body    string
		status  int               // 0: any
		want    map[string]string // the CORS headers expected, the others absent
		wantOut string            // part of the body
	}{
		{
			name: "login preflight", method: http.MethodOptions, path: "/login",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			status: http.StatusNoContent,
			want: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600"},
		},
		{
			name: "API preflight with the token header", method: http.MethodOptions, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authentication-token"},
			status: http.StatusNoContent,
			want: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "authentication-token", "Access-Control-Max-Age": "600"},
		},
		{
			name: "DELETE preflight with every header a token client sends", method: http.MethodOptions, path: "/auth/sessions/1",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "DELETE",
				"Access-Control-Request-Headers": "auth-device-token,authentication-token,authorization,content-type,x-csrf-token"},
			status: http.StatusNoContent,
			want: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Allow-Methods": "DELETE",
				"Access-Control-Allow-Headers": "auth-device-token,authentication-token,authorization,content-type,x-csrf-token", "Access-Control-Max-Age": "600"},
		},
		{
			name: "preflight from another origin", method: http.MethodOptions, path: "/login",
			header: map[string]string{"Origin": otherOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			want:   map[string]string{},
		},
		{
			name: "preflight of a method the API does not use", method: http.MethodOptions, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "PUT"},
			want:   map[string]string{},
		},
		{
			name: "preflight of a header the library does not read", method: http.MethodOptions, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authentication-token,x-requested-with"},
			want:   map[string]string{},
		},
		{
			name: "GET with the token from the allowed origin", method: http.MethodGet, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Authentication-Token": token},
			status: http.StatusOK, wantOut: "Hello test@example.com",
			want: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Expose-Headers": auth.DeviceTokenHeader},
		},
		{
			// The page must read a 401 to refresh its token.
			name: "401 to the allowed origin", method: http.MethodGet, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Authentication-Token": "not a token"},
			status: http.StatusUnauthorized, wantOut: `"errors"`,
			want: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Expose-Headers": auth.DeviceTokenHeader},
		},
		{
			name: "GET from another origin", method: http.MethodGet, path: "/protected",
			header: map[string]string{"Origin": otherOrigin, "Authentication-Token": token},
			status: http.StatusOK, want: map[string]string{},
		},
		{
			name: "no -cors-origin: preflight", noFlag: true, method: http.MethodOptions, path: "/login",
			header: map[string]string{"Origin": spaOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			want:   map[string]string{},
		},
		{
			name: "no -cors-origin: GET", noFlag: true, method: http.MethodGet, path: "/protected",
			header: map[string]string{"Origin": spaOrigin, "Authentication-Token": token},
			status: http.StatusOK, want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h := allowed
			if tt.noFlag {
				h = none
			}
			h.ServeHTTP(w, r)
			if tt.status != 0 && w.Code != tt.status {
				t.Errorf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			for _, k := range corsHeaders {
				got, want := w.Header().Get(k), tt.want[k]
				if got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if !strings.Contains(w.Body.String(), tt.wantOut) {
				t.Errorf("body %s, want %q in it", w.Body, tt.wantOut)
			}
			if vary := strings.Join(w.Header().Values("Vary"), ", "); !tt.noFlag && !strings.Contains(vary, "Origin") {
				t.Errorf("Vary %q: want Origin, so that caches keep the answers of each origin apart", vary)
			}
		})
	}
}

// corsLogin logs test@example.com in with JSON from spaOrigin through h
// and returns the token, checking what a cross-origin page gets: the
// device token in an exposed header, and no cookie.
func corsLogin(t *testing.T, h http.Handler) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"test@example.com","password":"test123"}`))
	r.Header.Set("Origin", spaOrigin)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != spaOrigin {
		t.Errorf("login: Access-Control-Allow-Origin %q, want %q", got, spaOrigin)
	}
	if w.Header().Get(auth.DeviceTokenHeader) == "" || w.Header().Get("Access-Control-Expose-Headers") != auth.DeviceTokenHeader {
		t.Errorf("login: %s %q exposed as %q; want the device token, exposed", auth.DeviceTokenHeader,
			w.Header().Get(auth.DeviceTokenHeader), w.Header().Get("Access-Control-Expose-Headers"))
	}
	if c := w.Header().Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("a JSON login sets cookies %q", c)
	}
	if _, err := findRefreshToken(w.Body.Bytes()); err != nil {
		t.Errorf("login: %v in %s", err, w.Body)
	}
	tok, err := findToken(w.Body.Bytes())
	if err != nil {
		t.Fatalf("login: %v in %s", err, w.Body)
	}
	return tok
}

// TestRunCORSOrigin: run takes -cors-origin, repeated, and refuses what a
// browser never sends as an origin.
func TestRunCORSOrigin(t *testing.T) {
	bad := []struct{ value, want string }{
		{value: "*", want: "wildcard"},
		{value: "https://*.example.com", want: "wildcard"},
		{value: "http://localhost:5173/", want: "write it as a browser sends it, http://localhost:5173"},
		{value: "http://localhost:5173/app", want: "without a path"},
		{value: "localhost:5173", want: "want http:// or https://"},
		{value: "null", want: "want http:// or https://"},
	}
	for _, tt := range bad {
		t.Run(tt.value, func(t *testing.T) {
			var stderr syncBuffer
			err := run(context.Background(), []string{"-cors-origin", tt.value}, func(string) string { return "" }, &stderr, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("-cors-origin %q: %v, want an error saying %q", tt.value, err, tt.want)
			}
		})
	}

	app := startApp(t, "-cors-origin", otherOrigin, "-cors-origin", spaOrigin)
	for _, origin := range []string{otherOrigin, spaOrigin} {
		req, err := http.NewRequest(http.MethodOptions, app+"/login", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusNoContent || got != origin {
			t.Errorf("preflight from %s: %s, Access-Control-Allow-Origin %q", origin, resp.Status, got)
		}
	}
}
