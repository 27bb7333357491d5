package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAccountRequest feeds arbitrary bodies to the account handler's
// parsers, as JSON and as a form. They must never panic; a refusal is a
// client error with a message; an accepted JSON body gives exactly the
// string members encoding/json reads for the names asked for, and no field
// holds NUL.
func FuzzAccountRequest(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"x","password_confirm":"x"}`,
		`{"email":null,"password":1}`,
		`{"email":"a","email":"b"}`,
		`{"other":{"nested":[1,2,{}]},"email":"a@b.c"}`,
		`[]`, `{`, `{"email":"a"} {}`, "{\"email\":\"\xff\"}", `{"email":"a\u0000"}`,
		`email=a%40example.com&password=x&next=%2Fwelcome`,
		`email=a&email=b`, `email=%zz`, `password=%00`,
		strings.Repeat("[", 200),
	} {
		f.Add([]byte(s))
	}
	names := []string{"email", "password", "password_confirm"}
	f.Fuzz(func(t *testing.T, body []byte) {
		clientError := func(err error) {
			var re *requestError
			if !errors.As(err, &re) || re.status != 400 || re.msg.defaultText() == "" {
				t.Fatalf("error %v is not a client error", err)
			}
		}
		for _, form := range []bool{false, true} {
			var q accountRequest
			var err error
			if form {
				q, err = parseAccountForm(body, names)
			} else {
				q, err = parseAccountJSON(body, names)
			}
			if err != nil {
				clientError(err)
				continue
			}
			for k, v := range q.fields {
				if !contains(names, k) || strings.ContainsRune(v, 0) {
					t.Fatalf("field %q = %q accepted", k, v)
				}
			}
			if form {
				if _, perr := url.ParseQuery(string(body)); perr != nil {
					t.Fatalf("accepted a form url.ParseQuery refuses: %v", perr)
				}
				continue
			}
			if !utf8.Valid(body) {
				continue // readAccountRequest refuses it before parsing
			}
			var want map[string]any
			if json.Unmarshal(body, &want) != nil {
				t.Fatalf("accepted %q, which encoding/json refuses as an object", body)
			}
			for _, name := range names {
				w, _ := want[name].(string)
				if q.fields[name] != w {
					t.Fatalf("%s = %q, encoding/json reads %q", name, q.fields[name], w)
				}
			}
		}
	})
}

// FuzzReadLinkToken reads arbitrary strings as link tokens of each
// purpose, and signs arbitrary payloads with the link keys. It must never
// panic, and must accept a token only when it names a stored user, was
// made for that purpose and matches the user's state.
func FuzzReadLinkToken(f *testing.F) {
	store := NewMemoryStore()
	u := &User{ID: "1", Email: "fuzz@example.com", PasswordHash: "$2a$04$x", Active: true, Uniquifier: "u"}
	if err := store.CreateUser(context.Background(), u); err != nil {
		f.Fatal(err)
	}
	links, err := newNativeLinks(store, seededKey, nil, time.Now)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{purposeConfirm, purposeReset, purposeChangeEmail} {
		tok, _ := links.MakeLinkToken(context.Background(), p, u, "new@example.com")
		f.Add(tok, `["1","x"]`)
	}
	f.Add("not.a.token", `["1"]`)
	f.Add("", `["1","x","new@example.com"]`)
	f.Fuzz(func(t *testing.T, token, payload string) {
		for _, p := range []string{purposeConfirm, purposeReset, purposeChangeEmail} {
			for _, tok := range []string{token, signedPayload(links, p, payload)} {
				if tok == "" {
					continue
				}
				got, email, err := links.ReadLinkToken(context.Background(), p, tok, time.Hour)
				if err != nil {
					if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpiredToken) {
						t.Fatalf("%s: error %v matches no sentinel", p, err)
					}
					continue
				}
				if got.ID != "1" || (p == purposeChangeEmail) != (email != "") {
					t.Fatalf("%s: accepted %q as user %q, email %q", p, tok, got.ID, email)
				}
				want, _ := links.MakeLinkToken(context.Background(), p, u, email)
				if _, _, err := links.ReadLinkToken(context.Background(), p, want, time.Hour); err != nil {
					t.Fatalf("%s: a fresh token for the same state fails: %v", p, err)
				}
			}
		}
	})
}

// signedPayload signs payload, as JSON text, with the link key of purpose
// ("" if it is not JSON).
func signedPayload(l *nativeLinks, purpose, payload string) string {
	tok, err := l.codecs[purpose].EncodeJSON([]byte(payload))
	if err != nil {
		return ""
	}
	return tok
}

// FuzzTokenRequest feeds arbitrary bodies to the parser of POST /tokens,
// as JSON and as a form: it never panics; a refusal is a client error
// with a message; an accepted JSON body gives the name, scopes and
// lifetime encoding/json reads, and the name never holds NUL.
func FuzzTokenRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"ci","scopes":["posts:read","posts:write"],"expires_in":3600}`,
		`{"name":"ci","scopes":"posts:read posts:write","expires_in":null}`,
		`{"name":null,"scopes":null}`, `{"scopes":[1]}`, `{"expires_in":1.5}`, `{"expires_in":1e400}`,
		`{"expires_in":"60"}`, `{"name":"a","name":"b"}`, `{"name":"a\u0000"}`, `[]`, `{`,
		`name=ci&scopes=posts%3Aread+posts%3Awrite&scopes=admin&expires_in=60`,
		`name=a&name=b`, `expires_in=x`, `name=%00`, `scopes=%zz`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, isJSON := range []bool{true, false} {
			q, err := parseTokenRequest(body, isJSON)
			if err != nil {
				var re *requestError
				if !errors.As(err, &re) || re.status != 400 || re.msg.defaultText() == "" {
					t.Fatalf("error %v is not a client error", err)
				}
				continue
			}
			if strings.ContainsRune(q.name, 0) {
				t.Fatalf("name %q with NUL accepted", q.name)
			}
			if q.form == isJSON {
				t.Fatalf("form = %v for isJSON = %v", q.form, isJSON)
			}
			if !isJSON || !utf8.Valid(body) {
				continue
			}
			// Members by their exact names, as the parser reads them
			// (encoding/json's struct fields would match "nAme" too).
			var members map[string]json.RawMessage
			if err := json.Unmarshal(body, &members); err != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
			}
			var v struct {
				Name      *string
				Scopes    json.RawMessage
				ExpiresIn *json.Number
			}
			if raw, ok := members["name"]; ok && json.Unmarshal(raw, &v.Name) != nil {
				t.Fatalf("accepted a name %s that is not a string", raw)
			}
			v.Scopes = members["scopes"]
			if raw, ok := members["expires_in"]; ok && json.Unmarshal(raw, &v.ExpiresIn) != nil {
				t.Fatalf("accepted an expires_in %s that is not a number", raw)
			}
			if v.Name != nil && *v.Name != q.name || v.Name == nil && q.name != "" {
				t.Fatalf("name %q, encoding/json reads %v", q.name, v.Name)
			}
			var list []string
			var one string
			switch {
			case json.Unmarshal(v.Scopes, &list) == nil:
				if strings.Join(list, "\x00") != strings.Join(q.scopes, "\x00") {
					t.Fatalf("scopes %q, encoding/json reads %q", q.scopes, list)
				}
			case json.Unmarshal(v.Scopes, &one) == nil:
				if strings.Join(strings.Fields(one), " ") != strings.Join(q.scopes, " ") {
					t.Fatalf("scopes %q from the string %q", q.scopes, one)
				}
			}
			if (v.ExpiresIn == nil) != (q.expiresIn == nil) {
				t.Fatalf("expires_in %v, encoding/json reads %v", q.expiresIn, v.ExpiresIn)
			}
			if v.ExpiresIn != nil {
				n, err := v.ExpiresIn.Int64()
				if (err == nil) == q.badExpiry || err == nil && *q.expiresIn != n {
					t.Fatalf("expires_in %v (bad %v), encoding/json reads %v", *q.expiresIn, q.badExpiry, *v.ExpiresIn)
				}
			}
		}
	})
}
