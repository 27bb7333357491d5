package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseBasic feeds arbitrary header values to the Basic parser: it
// never panics, and what it accepts is exactly base64(user ":" password)
// with a UTF-8, control-free user.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		base64.StdEncoding.EncodeToString([]byte("test@example.com:test123")),
		base64.StdEncoding.EncodeToString([]byte("user:pa:ss:word")),
		base64.StdEncoding.EncodeToString([]byte("no-colon")),
		base64.StdEncoding.EncodeToString([]byte(":")),
		base64.StdEncoding.EncodeToString([]byte("\xff\xfe:x")),
		base64.StdEncoding.EncodeToString([]byte("ü:ß")),
		"!!!", "", "=", "dXNlcjpwYXNz====", " dXNlcjpwYXNz ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		user, password, err := parseBasic(header)
		if err != nil {
			if user != "" || password != "" {
				t.Fatalf("error %v but returned credentials", err)
			}
			return
		}
		if strings.Contains(user, ":") || hasControl(user) || !utf8.ValidString(user) || !utf8.ValidString(password) {
			t.Fatalf("accepted user %q password %q", user, password)
		}
		raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
		if derr != nil || string(raw) != user+":"+password {
			t.Fatalf("accepted %q as %q:%q", header, user, password)
		}
	})
}

// FuzzLoginBody feeds arbitrary bodies to the JSON login parser: it never
// panics, every error is a client error with a safe message, and what it
// accepts has non-empty, NUL-free email and password.
func FuzzLoginBody(f *testing.F) {
	for _, s := range []string{
		`{"email":"test@example.com","password":"test123"}`,
		`{"email":"a@b.c","password":"x","remember":true,"next":{"a":[1,2,{}]}}`,
		`{"email":"a","email":"b","password":"x"}`,
		`{"email":1,"password":"x"}`,
		`[]`, `null`, `"x"`, `{`, `{"email":"a","password":"b"} {}`,
		"{\"email\":\"\xff\",\"password\":\"x\"}",
		`{"email":"a\u0000","password":"x"}`,
		strings.Repeat("[", 200),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseLoginJSON(body)
		c := req.credentials
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status != 400 || re.msg == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if c.Email == "" || c.Password == "" || strings.ContainsRune(c.Email+c.Password, 0) {
			t.Fatalf("accepted %+v", c)
		}
	})
}
