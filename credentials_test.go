package auth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseBasic(t *testing.T) {
	b64std := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name         string
		credentials  string
		wantUser     string
		wantPassword string
		wantErr      bool
	}{
		{name: "plain", credentials: b64std("user@example.com:secret"), wantUser: "user@example.com", wantPassword: "secret"},
		{name: "RFC 7617 example", credentials: "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", wantUser: "Aladdin", wantPassword: "open sesame"},
		{name: "colons in password", credentials: b64std("u:pa:ss:word:"), wantUser: "u", wantPassword: "pa:ss:word:"},
		{name: "empty password", credentials: b64std("token:"), wantUser: "token", wantPassword: ""},
		{name: "empty user", credentials: b64std(":secret"), wantUser: "", wantPassword: "secret"},
		{name: "both empty", credentials: b64std(":"), wantUser: "", wantPassword: ""},
		{name: "UTF-8", credentials: b64std("jösé@exämple.com:pässwörd-🔑"), wantUser: "jösé@exämple.com", wantPassword: "pässwörd-🔑"},
		{name: "RFC 7617 UTF-8 example", credentials: "dGVzdDoxMjPCow==", wantUser: "test", wantPassword: "123£"},
		{name: "surrounding spaces", credentials: "  " + b64std("u:p") + " ", wantUser: "u", wantPassword: "p"},
		{name: "tab in password", credentials: b64std("u:a\tb"), wantUser: "u", wantPassword: "a\tb"},
		{name: "spaces in user", credentials: b64std("a b:p"), wantUser: "a b", wantPassword: "p"},
		{name: "empty", credentials: "", wantErr: true},
		{name: "not base64", credentials: "!!!not base64!!!", wantErr: true},
		{name: "missing padding", credentials: strings.TrimRight(b64std("u:pas"), "="), wantErr: true},
		{name: "URL-safe alphabet", credentials: base64.URLEncoding.EncodeToString([]byte("u:~~~")), wantErr: true},
		{name: "no colon", credentials: b64std("userpassword"), wantErr: true},
		{name: "invalid UTF-8 in user", credentials: b64std("\xffuser:p"), wantErr: true},
		{name: "invalid UTF-8 in password", credentials: b64std("u:p\xff"), wantErr: true},
		{name: "Latin-1 password", credentials: b64std("test:123\xa3"), wantErr: true},
		{name: "control in user", credentials: b64std("us\x01er:p"), wantErr: true},
		{name: "newline in user", credentials: b64std("us\ner:p"), wantErr: true},
		{name: "DEL in user", credentials: b64std("us\x7fer:p"), wantErr: true},
		{name: "NUL in password", credentials: b64std("u:p\x00"), wantErr: true},
		{name: "too long", credentials: b64std("u:" + strings.Repeat("p", maxCredentialBytes)), wantErr: true},
		{name: "scheme included", credentials: "Basic " + b64std("u:p"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, password, err := parseBasic(tt.credentials)
			if tt.wantErr {
				if err == nil || user != "" || password != "" {
					t.Fatalf("parseBasic = %q, %q, %v; want an error", user, password, err)
				}
				if err != errMalformedBasic {
					t.Errorf("error %v, want errMalformedBasic (no credential text)", err)
				}
				return
			}
			if err != nil || user != tt.wantUser || password != tt.wantPassword {
				t.Errorf("parseBasic = %q, %q, %v; want %q, %q", user, password, err, tt.wantUser, tt.wantPassword)
			}
		})
	}
}

func TestAuthorizationScheme(t *testing.T) {
	tests := []struct {
		name   string
		header string // "" for none
		scheme string
		want   string
		wantOK bool
	}{
		{name: "basic", header: "Basic abc", scheme: "Basic", want: "abc", wantOK: true},
		{name: "lower case", header: "basic abc", scheme: "Basic", want: "abc", wantOK: true},
		{name: "upper case", header: "BEARER abc", scheme: "Bearer", want: "abc", wantOK: true},
		{name: "extra spaces", header: "Bearer    abc", scheme: "Bearer", want: "abc", wantOK: true},
		{name: "empty value", header: "Bearer ", scheme: "Bearer", want: "", wantOK: true},
		{name: "scheme alone", header: "Bearer", scheme: "Bearer"},
		{name: "no space", header: "Bearerabc", scheme: "Bearer"},
		{name: "tab", header: "Bearer\tabc", scheme: "Bearer"},
		{name: "other scheme", header: "Basic abc", scheme: "Bearer"},
		{name: "prefix of scheme", header: "Bear abc", scheme: "Bearer"},
		{name: "none", header: "", scheme: "Basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			got, ok := authorization(r, tt.scheme)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("authorization = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRequestToken(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		header map[string]string
		query  string
		want   string
		wantOK bool
	}{
		{name: "none"},
		{name: "header", header: map[string]string{"Authentication-Token": "h"}, want: "h", wantOK: true},
		{name: "bearer", header: map[string]string{"Authorization": "Bearer b"}, want: "b", wantOK: true},
		{name: "lower-case bearer", header: map[string]string{"Authorization": "bearer b"}, want: "b", wantOK: true},
		{name: "query", query: "auth_token=q", want: "q", wantOK: true},
		{name: "header before bearer", header: map[string]string{"Authentication-Token": "h", "Authorization": "Bearer b"}, want: "h", wantOK: true},
		{name: "header before query", header: map[string]string{"Authentication-Token": "h"}, query: "auth_token=q", want: "h", wantOK: true},
		{name: "bearer before query", header: map[string]string{"Authorization": "Bearer b"}, query: "auth_token=q", want: "b", wantOK: true},
		{name: "empty header falls through", header: map[string]string{"Authentication-Token": ""}, query: "auth_token=q", want: "q", wantOK: true},
		{name: "empty bearer falls through", header: map[string]string{"Authorization": "Bearer "}, query: "auth_token=q", want: "q", wantOK: true},
		{name: "empty query", query: "auth_token=", wantOK: false},
		{name: "escaped query", query: "auth_token=a%2Eb%2Ec", want: "a.b.c", wantOK: true},
		{name: "Basic is not a token", header: map[string]string{"Authorization": "Basic dTpw"}},
		{name: "other query parameter", query: "token=q"},
		{name: "header disabled", cfg: Config{Token: TokenConfig{DisableHeader: true}}, header: map[string]string{"Authentication-Token": "h"}, query: "auth_token=q", want: "q", wantOK: true},
		{name: "header disabled alone", cfg: Config{Token: TokenConfig{DisableHeader: true}}, header: map[string]string{"Authentication-Token": "h"}},
		{name: "bearer disabled", cfg: Config{Token: TokenConfig{DisableBearer: true}}, header: map[string]string{"Authorization": "Bearer b"}, query: "auth_token=q", want: "q", wantOK: true},
		{name: "bearer disabled alone", cfg: Config{Token: TokenConfig{DisableBearer: true}}, header: map[string]string{"Authorization": "Bearer b"}},
		{name: "query disabled", cfg: Config{Token: TokenConfig{DisableQuery: true}}, query: "auth_token=q"},
		{name: "custom header", cfg: Config{Token: TokenConfig{Header: "X-Api-Key"}}, header: map[string]string{"X-Api-Key": "c"}, want: "c", wantOK: true},
		{name: "custom header in any case", cfg: Config{Token: TokenConfig{Header: "x-API-key"}}, header: map[string]string{"x-api-KEY": "c"}, want: "c", wantOK: true},
		{name: "default header ignored when custom", cfg: Config{Token: TokenConfig{Header: "X-Api-Key"}}, header: map[string]string{"Authentication-Token": "h"}},
		{name: "custom query parameter", cfg: Config{Token: TokenConfig{QueryParam: "token"}}, query: "token=c", want: "c", wantOK: true},
		{name: "default parameter ignored when custom", cfg: Config{Token: TokenConfig{QueryParam: "token"}}, query: "auth_token=q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newSeeded(t, tt.cfg)
			r := httptest.NewRequest(http.MethodGet, "/?"+tt.query, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			got, _, ok := m.sources.find(r)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("requestToken = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestTokenSourceOrder checks through RequireToken that the first source
// present wins: a garbage token there is not rescued by a valid one later.
func TestTokenSourceOrder(t *testing.T) {
	const garbage = "garbage.token.value"
	tests := []struct {
		name       string
		cfg        Config
		header     string // Authentication-Token
		bearer     string
		query      string
		wantStatus int
		wantChall  string
	}{
		{name: "valid header, garbage query", header: "valid", query: garbage, wantStatus: http.StatusOK},
		{name: "garbage header, valid query", header: garbage, query: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid},
		{name: "valid header, garbage bearer", header: "valid", bearer: garbage, wantStatus: http.StatusOK},
		{name: "garbage header, valid bearer", header: garbage, bearer: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid},
		{name: "valid bearer, garbage query", bearer: "valid", query: garbage, wantStatus: http.StatusOK},
		{name: "garbage bearer, valid query", bearer: garbage, query: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeInvalid},
		{name: "header disabled: garbage header, valid query", cfg: Config{Token: TokenConfig{DisableHeader: true}}, header: garbage, query: "valid", wantStatus: http.StatusOK},
		{name: "bearer disabled: garbage bearer, valid query", cfg: Config{Token: TokenConfig{DisableBearer: true}}, bearer: garbage, query: "valid", wantStatus: http.StatusOK},
		{name: "header disabled: valid header only", cfg: Config{Token: TokenConfig{DisableHeader: true}}, header: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeBearer},
		{name: "bearer disabled: valid bearer only", cfg: Config{Token: TokenConfig{DisableBearer: true}}, bearer: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeBearer},
		{name: "query disabled: valid query only", cfg: Config{Token: TokenConfig{DisableQuery: true}}, query: "valid", wantStatus: http.StatusUnauthorized, wantChall: challengeBearer},
		{name: "query disabled: garbage query, valid header", cfg: Config{Token: TokenConfig{DisableQuery: true}}, header: "valid", query: garbage, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store := newSeeded(t, tt.cfg)
			tok := tokenOf(t, m, store, idUser)
			val := func(s string) string {
				if s == "valid" {
					return tok
				}
				return s
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authentication-Token", val(tt.header))
			}
			if tt.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+val(tt.bearer))
			}
			if tt.query != "" {
				r.URL.RawQuery = "auth_token=" + val(tt.query)
			}
			rec := serve(m.RequireToken(whoami), r)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == http.StatusOK {
				if rec.Body.String() != "user "+idUser {
					t.Errorf("body %q", rec.Body)
				}
				return
			}
			if got := rec.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != tt.wantChall {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChall)
			}
		})
	}
}
