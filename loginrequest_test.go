package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseLoginJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    credentials
		wantErr string // the client-safe message; "" for success
	}{
		{name: "minimal", body: `{"email":"a@example.com","password":"pw"}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "reversed", body: `{"password":"pw","email":"a@example.com"}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "whitespace", body: " \n\t{ \"email\" : \"a@example.com\" ,\r\n \"password\" : \"pw\" } \n", want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "other members ignored", body: `{"remember":true,"email":"a@example.com","n":null,"x":{"email":1},"y":[1,{"password":2}],"password":"pw"}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "escapes", body: `{"email":"a\u0040example.com","password":"p\"w\\\n\u00e9\ud83d\udd11"}`, want: credentials{Email: "a@example.com", Password: "p\"w\\\né🔑"}},
		{name: "raw UTF-8", body: `{"email":"jösé@exämple.com","password":"pässwörd"}`, want: credentials{Email: "jösé@exämple.com", Password: "pässwörd"}},
		{name: "keys are case-sensitive", body: `{"Email":"x","email":"a@example.com","PASSWORD":"y","password":"pw"}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "empty", body: ``, wantErr: textShape},
		{name: "whitespace only", body: "  \n", wantErr: textShape},
		{name: "array", body: `["a@example.com","pw"]`, wantErr: textShape},
		{name: "empty array", body: `[]`, wantErr: textShape},
		{name: "string", body: `"a@example.com"`, wantErr: textShape},
		{name: "number", body: `1`, wantErr: textShape},
		{name: "null", body: `null`, wantErr: textShape},
		{name: "bool", body: `true`, wantErr: textShape},
		{name: "not JSON", body: `email=a&password=b`, wantErr: textShape},
		{name: "closing brace first", body: `}`, wantErr: textShape},
		{name: "truncated after brace", body: `{`, wantErr: textInvalidJSON},
		{name: "truncated value", body: `{"email":"a@example.com","password":"pw`, wantErr: textInvalidJSON},
		{name: "missing value", body: `{"email":}`, wantErr: textInvalidJSON},
		{name: "missing colon", body: `{"email" "a"}`, wantErr: textInvalidJSON},
		{name: "trailing comma", body: `{"email":"a@example.com","password":"pw",}`, wantErr: textInvalidJSON},
		{name: "number key", body: `{1:"a"}`, wantErr: textInvalidJSON},
		{name: "single quotes", body: `{'email':'a'}`, wantErr: textInvalidJSON},
		{name: "duplicate email", body: `{"email":"a@example.com","email":"b@example.com","password":"pw"}`, wantErr: `The member "email" appears more than once.`},
		{name: "duplicate password", body: `{"password":"a","email":"a@example.com","password":"pw"}`, wantErr: `The member "password" appears more than once.`},
		{name: "duplicate other member", body: `{"x":1,"email":"a@example.com","password":"pw","x":2}`, wantErr: `The member "x" appears more than once.`},
		{name: "duplicate via escape", body: `{"email":"a@example.com","\u0065mail":"b@example.com","password":"pw"}`, wantErr: `The member "email" appears more than once.`},
		{
			name:    "duplicate long member name is shortened",
			body:    `{"` + strings.Repeat("k", 40) + `":1,"` + strings.Repeat("k", 40) + `":2}`,
			wantErr: `The member "` + strings.Repeat("k", 32) + `…" appears more than once.`,
		},
		{name: "duplicate member name is sanitized", body: `{"a\"b\n":1,"a\"b\n":2}`, wantErr: `The member "a?b?" appears more than once.`},
		{name: "email number", body: `{"email":1,"password":"pw"}`, wantErr: `"email" must be a string.`},
		{name: "email object", body: `{"email":{"a":"b"},"password":"pw"}`, wantErr: `"email" must be a string.`},
		{name: "email bool", body: `{"email":false,"password":"pw"}`, wantErr: `"email" must be a string.`},
		{name: "password array", body: `{"email":"a@example.com","password":["pw"]}`, wantErr: `"password" must be a string.`},
		{name: "password number", body: `{"email":"a@example.com","password":123456}`, wantErr: `"password" must be a string.`},
		{name: "remember true", body: `{"email":"a@example.com","password":"pw","remember":true}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "remember null", body: `{"email":"a@example.com","password":"pw","remember":null}`, want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "remember a string", body: `{"email":"a@example.com","password":"pw","remember":"yes"}`, wantErr: `"remember" must be true or false.`},
		{name: "email null", body: `{"email":null,"password":"pw"}`, wantErr: textRequired},
		{name: "missing email", body: `{"password":"pw"}`, wantErr: textRequired},
		{name: "missing password", body: `{"email":"a@example.com"}`, wantErr: textRequired},
		{name: "empty email", body: `{"email":"","password":"pw"}`, wantErr: textRequired},
		{name: "empty password", body: `{"email":"a@example.com","password":""}`, wantErr: textRequired},
		{name: "empty object", body: `{}`, wantErr: textRequired},
		{name: "trailing garbage", body: `{"email":"a@example.com","password":"pw"}x`, wantErr: "The request body has data after the JSON object."},
		{name: "trailing object", body: `{"email":"a@example.com","password":"pw"}{}`, wantErr: "The request body has data after the JSON object."},
		{name: "trailing value", body: `{"email":"a@example.com","password":"pw"} 1`, wantErr: "The request body has data after the JSON object."},
		{name: "trailing brace", body: `{"email":"a@example.com","password":"pw"}}`, wantErr: "The request body has data after the JSON object."},
		{name: "invalid UTF-8", body: "{\"email\":\"a@example.com\",\"password\":\"p\xc3\"}", wantErr: "The request body is not valid UTF-8."},
		{name: "invalid UTF-8 in ignored member", body: "{\"x\":\"\xff\",\"email\":\"a@example.com\",\"password\":\"pw\"}", wantErr: "The request body is not valid UTF-8."},
		{name: "NUL in email", body: `{"email":"a@example.com\u0000","password":"pw"}`, wantErr: "The credentials must not contain NUL characters."},
		{name: "NUL in password", body: `{"email":"a@example.com","password":"\u0000"}`, wantErr: "The credentials must not contain NUL characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseLoginJSON([]byte(tt.body))
			checkLoginParse(t, req.credentials, err, tt.want, tt.wantErr)
		})
	}
}

// checkLoginParse checks a parse result: the credentials on success, and on
// failure an ErrBadRequest with status 400 whose public text is wantErr.
func checkLoginParse(t *testing.T, got credentials, err error, want credentials, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || got != want {
			t.Errorf("got %+v, %v; want %+v", got, err, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("got %+v, want error %q", got, wantErr)
	}
	if !errors.Is(err, ErrBadRequest) || statusOf(err) != http.StatusBadRequest {
		t.Errorf("error %v: want ErrBadRequest with status 400, got %d", err, statusOf(err))
	}
	if msg := publicMessage(http.StatusBadRequest, err).defaultText(); msg != wantErr {
		t.Errorf("message %q, want %q", msg, wantErr)
	}
}

func TestParseLoginForm(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    credentials
		wantErr string
	}{
		{name: "plain", body: "email=a%40example.com&password=pw", want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "plus is space", body: "email=a%40example.com&password=p+w", want: credentials{Email: "a@example.com", Password: "p w"}},
		{name: "escaped UTF-8", body: "email=j%C3%B6s%C3%A9%40example.com&password=%F0%9F%94%91", want: credentials{Email: "jösé@example.com", Password: "🔑"}},
		{name: "other fields", body: "next=%2F&email=a%40example.com&remember=y&password=pw", want: credentials{Email: "a@example.com", Password: "pw"}},
		{name: "colons and ampersand", body: "email=a%40example.com&password=a%3Ab%26c", want: credentials{Email: "a@example.com", Password: "a:b&c"}},
		{name: "empty", body: "", wantErr: textRequired},
		{name: "missing password", body: "email=a%40example.com", wantErr: textRequired},
		{name: "empty password", body: "email=a%40example.com&password=", wantErr: textRequired},
		{name: "duplicate email", body: "email=a&email=b&password=pw", wantErr: "Each of email and password may appear only once."},
		{name: "duplicate password", body: "email=a&password=pw&password=pw", wantErr: "Each of email and password may appear only once."},
		{name: "bad escape", body: "email=%zz&password=pw", wantErr: "The form is not valid application/x-www-form-urlencoded data."},
		{name: "semicolon", body: "email=a;password=pw", wantErr: "The form is not valid application/x-www-form-urlencoded data."},
		{name: "invalid UTF-8", body: "email=a&password=%FF", wantErr: "The form is not valid UTF-8."},
		{name: "NUL", body: "email=a&password=p%00w", wantErr: "The credentials must not contain NUL characters."},
		{name: "JSON body", body: `{"email":"a","password":"pw"}`, wantErr: textRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseLoginForm([]byte(tt.body))
			checkLoginParse(t, req.credentials, err, tt.want, tt.wantErr)
		})
	}
}

func TestReadLoginRequest(t *testing.T) {
	const limit = 64
	jsonBody := `{"email":"a@example.com","password":"pw"}`
	formBody := "email=a%40example.com&password=pw"
	want := credentials{Email: "a@example.com", Password: "pw"}
	tests := []struct {
		name        string
		contentType string // "" for none
		body        string
		wantStatus  int // 0 for success
		wantMsg     string
	}{
		{name: "JSON", contentType: "application/json", body: jsonBody},
		{name: "JSON with parameters", contentType: `application/json; charset="utf-8"`, body: jsonBody},
		{name: "JSON in capitals", contentType: "APPLICATION/JSON", body: jsonBody},
		{name: "+json", contentType: "application/problem+json", body: jsonBody},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: formBody},
		{name: "form with charset", contentType: "application/x-www-form-urlencoded; charset=UTF-8", body: formBody},
		{name: "no content type", body: jsonBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "text/plain", contentType: "text/plain", body: jsonBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "text/json", contentType: "text/json", body: jsonBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "application/jsonx", contentType: "application/jsonx", body: jsonBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "multipart", contentType: "multipart/form-data; boundary=b", body: formBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "malformed", contentType: "application/json; charset", body: jsonBody, wantStatus: http.StatusUnsupportedMediaType, wantMsg: textUnsupportedType},
		{name: "JSON over the limit", contentType: "application/json", body: jsonBody + strings.Repeat(" ", limit), wantStatus: http.StatusRequestEntityTooLarge, wantMsg: textTooLarge},
		{name: "form over the limit", contentType: "application/x-www-form-urlencoded", body: formBody + "&x=" + strings.Repeat("x", limit), wantStatus: http.StatusRequestEntityTooLarge, wantMsg: textTooLarge},
		{name: "JSON sent as form", contentType: "application/x-www-form-urlencoded", body: jsonBody, wantStatus: http.StatusBadRequest, wantMsg: textRequired},
		{name: "form sent as JSON", contentType: "application/json", body: formBody, wantStatus: http.StatusBadRequest, wantMsg: textShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postLogin(tt.contentType, tt.body)
			req, err := readLogin(httptest.NewRecorder(), r, limit)
			got := req.credentials
			if tt.wantStatus == 0 {
				if err != nil || got != want {
					t.Errorf("got %+v, %v; want %+v", got, err, want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("got %+v, %v; want an ErrBadRequest", got, err)
			}
			if status := statusOf(err); status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			if msg := publicMessage(tt.wantStatus, err).defaultText(); msg != tt.wantMsg {
				t.Errorf("message %q, want %q", msg, tt.wantMsg)
			}
		})
	}
}
