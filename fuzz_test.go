package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth/passhash"
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
			if !errors.As(err, &re) || re.status != 400 || re.msg.defaultText() == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if c.Email == "" || c.Password == "" || strings.ContainsRune(c.Email+c.Password, 0) {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// FuzzParseClaims signs arbitrary payloads with a Manager's key and parses
// the tokens, and parses arbitrary strings as tokens. It must never panic;
// a signed payload is accepted exactly when encoding/json reads it as two
// strings, with the same ID; every refusal matches the package's sentinels.
func FuzzParseClaims(f *testing.F) {
	m, err := New(NewMemoryStore(), seededKey, Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{
		`["1","0123456789abcdef"]`, `["a\"b","c"]`, `["",""]`, `[null,"x"]`, `["1","a","b"]`, `["1","u",1700000000]`, `["1","u",0]`, `["1","u",-5]`, `["1","u",1.5]`, `["1","u",017]`,
		`["1"]`, ` [ "1" , "u" ] `, "[\"\xff\",\"u\"]", `["\u00e9","x"]`, `{"id":"1"}`, `["` + strings.Repeat("x", 300) + `","u"]`,
	} {
		f.Add([]byte(p), "")
	}
	f.Add([]byte(nil), "not.a.token")
	f.Add([]byte(nil), "...")
	f.Fuzz(func(t *testing.T, payload []byte, token string) {
		check := func(tok string) {
			if len(tok) > 4096 { // refused before its payload is read
				return
			}
			id, err := parseTokenID(m, tok)
			wantID, ok := claimsOracle(payload)
			switch {
			case ok && (err != nil || id != wantID):
				t.Fatalf("parse(payload %q) = %q, %v; want %q", payload, id, err, wantID)
			case !ok && (err == nil || !errors.Is(err, ErrTokenPayload) || !errors.Is(err, ErrInvalidToken)):
				t.Fatalf("parse(payload %q) = %q, %v; want ErrTokenPayload", payload, id, err)
			}
		}
		check(m.tokens.Sign(payload))
		if tok, err := m.tokens.EncodeJSON(payload); err == nil {
			check(tok) // compressed, when that is shorter
		}
		if _, err := parseTokenID(m, token); err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpiredToken) {
			t.Fatalf("parse(%q): error %v matches no sentinel", token, err)
		}
	})
}

// FuzzDeviceToken: checking a device token from a client never panics,
// and accepts a token only for the account it was issued to (up to case):
// every token this key signs here is for owner@example.com (earlier runs'
// tokens, kept in the fuzz cache, are valid too: the key and clock are
// fixed). A token accepted for another email would be a forgery.
func FuzzDeviceToken(f *testing.F) {
	d := newDevices(ThrottleConfig{}, []byte("device fuzz signing key, 32 b..."), nil)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	issued := d.issue("owner@example.com", now)
	f.Add(issued, "owner@example.com")
	f.Add(issued, "OWNER@example.com")
	f.Add(issued, "other@example.com")
	f.Add(issued[:len(issued)-1]+"A", "owner@example.com")
	f.Add("", "owner@example.com")
	f.Add(strings.Repeat("A", len(issued)), "owner@example.com")
	f.Fuzz(func(t *testing.T, token, email string) {
		id := d.check(token, email, now)
		if id == "" {
			return
		}
		if foldEmail(email) != foldEmail("owner@example.com") {
			t.Fatalf("check accepted %q for %q; tokens were issued for owner@example.com only", token, email)
		}
	})
}

// claimsOracle says, by encoding/json, whether payload is a token's claims
// (["id","uniquifier"] or ["id","uniquifier",seconds>0]) and its ID.
func claimsOracle(payload []byte) (string, bool) {
	var claims []json.RawMessage
	if !utf8.Valid(payload) || json.Unmarshal(payload, &claims) != nil || len(claims) < 2 || len(claims) > 3 {
		return "", false
	}
	var id, uniq string
	if json.Unmarshal(claims[0], &id) != nil || json.Unmarshal(claims[1], &uniq) != nil {
		return "", false
	}
	if len(claims) == 3 {
		var at int64
		if json.Unmarshal(claims[2], &at) != nil || at <= 0 {
			return "", false
		}
	}
	return id, true
}
