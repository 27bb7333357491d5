package flask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authkit/auth"
	"github.com/authkit/auth/itsdangerous"
	"github.com/authkit/auth/passhash"
)

const (
	// linksSecret is the SECRET_KEY of the links under test.
	linksSecret = "flask-links-secret"
	// linksNow is when the links under test are made, in Unix seconds.
	linksNow = int64(1700000000)
	// linksHash is the stored password hash of user 1 (which need not
	// verify: links hash the hash itself).
	linksHash = "$pbkdf2-sha512$25000$c2FsdHNhbHRzYWx0c2FsdA$Zm9vYmFyYmF6"
	// linksNewEmail is the new address of the change-email links.
	linksNewEmail = "new@example.com"
	// cheapRounds replaces passlib's default rounds in most tests.
	cheapRounds = 1000
)

// linkPurposes are the purposes of auth.LinkCodec.
var linkPurposes = []string{purposeConfirm, purposeReset, purposeChangeEmail}

// newEmailFor is the email MakeLinkToken takes for purpose.
func newEmailFor(purpose string) string {
	if purpose == purposeChangeEmail {
		return linksNewEmail
	}
	return ""
}

// newLinksStore returns a MemoryStore holding user 1 (flaskUniq, with
// linksHash) and user 2 (no password).
func newLinksStore(t testing.TB) *auth.MemoryStore {
	t.Helper()
	store := auth.NewMemoryStore()
	for _, u := range []*auth.User{
		{ID: "1", Email: "flask@example.com", PasswordHash: linksHash, Active: true, Uniquifier: flaskUniq},
		{ID: "2", Email: "nopass@example.com", Active: true, Uniquifier: "nopass-uniquifier"},
	} {
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// testClock is a settable clock, in Unix seconds.
type testClock struct{ atomic.Int64 }

func newTestClock(now int64) *testClock {
	c := new(testClock)
	c.Store(now)
	return c
}

func (c *testClock) now() time.Time { return time.Unix(c.Load(), 0) }

// newTestLinks returns the Links of fc (SecretKey linksSecret if unset)
// over store, with clock as its clock and new hashes at cheapRounds.
func newTestLinks(t testing.TB, fc Config, store auth.UniquifierLookup, clock *testClock) *Links {
	t.Helper()
	if fc.SecretKey == nil {
		fc.SecretKey = []byte(linksSecret)
	}
	fc.Now = clock.now
	l, err := NewLinks(fc, store)
	if err != nil {
		t.Fatal(err)
	}
	l.hash.writer.Rounds = cheapRounds
	return l
}

// user returns a store's user, or fails.
func user(t testing.TB, store auth.UserStore, id string) *auth.User {
	t.Helper()
	u, err := store.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// makeLink makes a token, or fails.
func makeLink(t testing.TB, l *Links, purpose string, u *auth.User) string {
	t.Helper()
	tok, err := l.MakeLinkToken(context.Background(), purpose, u, newEmailFor(purpose))
	if err != nil {
		t.Fatalf("MakeLinkToken(%s, user %s): %v", purpose, u.ID, err)
	}
	return tok
}

// payloadOf returns the JSON payload of a token, unverified.
func payloadOf(t testing.TB, tok string) []any {
	t.Helper()
	raw, _, err := itsdangerous.Inspect(tok)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", tok, err)
	}
	var v []any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("payload %s: %v", raw, err)
	}
	return v
}

// checkRead checks what ReadLinkToken returned: user wantID and, for
// change-email, linksNewEmail with no error ("" wantID: an error
// matching ErrInvalidToken and nothing else).
func checkRead(t testing.TB, purpose string, u *auth.User, email string, err error, wantID string) {
	t.Helper()
	if wantID == "" {
		if u != nil || email != "" || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpiredToken) || errors.Is(err, auth.ErrStoreUnavailable) {
			t.Fatalf("ReadLinkToken(%s) = %v, %q, %v; want ErrInvalidToken only", purpose, u, email, err)
		}
		return
	}
	if err != nil || u == nil || u.ID != wantID || email != newEmailFor(purpose) {
		t.Fatalf("ReadLinkToken(%s) = %v, %q, %v; want user %s, %q", purpose, u, email, err, wantID, newEmailFor(purpose))
	}
}

// TestLinksRoundTrip makes a token for each purpose and reads it back,
// and checks the payloads are Flask-Security's.
func TestLinksRoundTrip(t *testing.T) {
	store := newLinksStore(t)
	clock := newTestClock(linksNow)
	l := newTestLinks(t, Config{}, store, clock)
	ctx := context.Background()
	for _, p := range linkPurposes {
		for _, id := range []string{"1", "2"} {
			t.Run(p+"/user "+id, func(t *testing.T) {
				u := user(t, store, id)
				tok := makeLink(t, l, p, u)
				got, email, err := l.ReadLinkToken(ctx, p, tok, time.Hour)
				checkRead(t, p, got, email, err, id)

				v := payloadOf(t, tok)
				wantLen := 2
				if p == purposeChangeEmail {
					wantLen = 3
				}
				if len(v) != wantLen || v[0] != u.Uniquifier {
					t.Fatalf("payload %v, want %d elements, the first %q", v, wantLen, u.Uniquifier)
				}
				hashed, _ := v[1].(string)
				switch {
				case p == purposeReset && id == "2":
					if v[1] != nil {
						t.Errorf("reset payload for a user without password: %v, want null", v)
					}
				case !strings.HasPrefix(hashed, "$5$rounds=1000$"):
					t.Errorf("payload hash %v, want sha256_crypt", v[1])
				case p == purposeReset && passhash.Verify(hashed, u.PasswordHash) != nil,
					p != purposeReset && passhash.Verify(hashed, u.Email) != nil:
					t.Errorf("payload hash %q is not of the %s state", hashed, p)
				}
				if p == purposeChangeEmail && v[2] != linksNewEmail {
					t.Errorf("change-email payload %v, want the new email last", v)
				}
			})
		}
	}
}

// TestLinksDefaultRounds checks the hashes links carry have passlib's
// default rounds for sha256_crypt, 535000, as hash_data writes them.
func TestLinksDefaultRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("a hash at 535000 rounds")
	}
	store := newLinksStore(t)
	l, err := NewLinks(Config{SecretKey: []byte(linksSecret)}, store)
	if err != nil {
		t.Fatal(err)
	}
	tok := makeLink(t, l, purposeConfirm, user(t, store, "1"))
	if h, _ := payloadOf(t, tok)[1].(string); !strings.HasPrefix(h, "$5$rounds=535000$") {
		t.Errorf("hash %q, want sha256_crypt at 535000 rounds", h)
	}
	if _, _, err := l.ReadLinkToken(context.Background(), purposeConfirm, tok, time.Hour); err != nil {
		t.Errorf("ReadLinkToken = %v", err)
	}
}

// TestLinksWrongPurpose checks that no token is accepted for another
// purpose, that auth tokens (Flask-Security's and the Manager's own,
// signed with the same key) are accepted for none, and that link tokens
// are not accepted as auth tokens.
func TestLinksWrongPurpose(t *testing.T) {
	store := newLinksStore(t)
	clock := newTestClock(time.Now().Unix())
	l := newTestLinks(t, Config{}, store, clock)
	tokens, err := NewTokens(Config{SecretKey: []byte(linksSecret), Now: clock.now}, store)
	if err != nil {
		t.Fatal(err)
	}
	u := user(t, store, "1")
	login, err := tokens.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	native := newTokenManager(t, store, tokens, false, auth.TokenConfig{})
	shared, err := auth.New(store, []byte(linksSecret), auth.Config{
		Token:    auth.TokenConfig{Salt: "remember-salt", Digest: itsdangerous.SHA1},
		Password: auth.PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	sharedTok, err := shared.IssueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	links := map[string]string{}
	for _, p := range linkPurposes {
		links[p] = makeLink(t, l, p, u)
	}
	for made, tok := range links {
		for _, p := range linkPurposes {
			if p == made {
				continue
			}
			got, email, err := l.ReadLinkToken(ctx, p, tok, time.Hour)
			t.Run(made+" as "+p, func(t *testing.T) { checkRead(t, p, got, email, err, "") })
		}
		t.Run(made+" as auth token", func(t *testing.T) {
			if got, err := tokens.VerifyToken(ctx, tok); got != nil || !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Tokens.VerifyToken = %v, %v; want ErrInvalidToken", got, err)
			}
			if got, err := native.VerifyToken(ctx, tok); got != nil || !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Manager.VerifyToken = %v, %v; want ErrInvalidToken", got, err)
			}
		})
	}
	for name, tok := range map[string]string{"Flask auth token": login, "Manager token under SECRET_KEY": sharedTok} {
		for _, p := range linkPurposes {
			got, email, err := l.ReadLinkToken(ctx, p, tok, time.Hour)
			t.Run(name+" as "+p, func(t *testing.T) { checkRead(t, p, got, email, err, "") })
		}
	}
	for _, p := range []string{"", "login", "Confirm", "remember"} {
		got, email, err := l.ReadLinkToken(ctx, p, links[purposeConfirm], time.Hour)
		t.Run("purpose "+p, func(t *testing.T) { checkRead(t, p, got, email, err, "") })
	}
}

// TestLinksRefused checks tokens that are bad in every other way:
// signature, keys, payload shapes, users.
func TestLinksRefused(t *testing.T) {
	store := newLinksStore(t)
	clock := newTestClock(linksNow)
	l := newTestLinks(t, Config{SecretKeyFallbacks: [][]byte{[]byte("old-links-secret")}}, store, clock)
	sign := func(salt string) func(string) string {
		return flaskSigner(t, linksSecret, itsdangerous.Config{Salt: salt}, linksNow)
	}
	confirm, reset, change := sign("confirm-salt"), sign("reset-salt"), sign("change-email-salt")
	md5Email := hexMD5("flask@example.com")
	md5Hash := hexMD5(linksHash)
	good := `["` + flaskUniq + `","` + md5Email + `"]`
	tests := []struct {
		name, purpose, token string
		want                 string // user ID, "" for ErrInvalidToken
		payload              bool   // also ErrTokenPayload
		notFound             bool   // also ErrUserNotFound
	}{
		// Hand-made tokens in hex_md5, which the default schemes read.
		{name: "confirm by hand", purpose: purposeConfirm, token: confirm(good), want: "1"},
		{name: "confirm, upper-case hex", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + strings.ToUpper(md5Email) + `"]`), want: "1"},
		{name: "reset by hand", purpose: purposeReset, token: reset(`["` + flaskUniq + `","` + md5Hash + `"]`), want: "1"},
		{name: "reset null, no password", purpose: purposeReset, token: reset(`["nopass-uniquifier",null]`), want: "2"},
		{name: "change-email by hand", purpose: purposeChangeEmail, token: change(`["` + flaskUniq + `","` + md5Email + `","` + linksNewEmail + `"]`), want: "1"},
		{name: "signed with the fallback", purpose: purposeConfirm, token: flaskSigner(t, "old-links-secret", itsdangerous.Config{Salt: "confirm-salt"}, linksNow)(good), want: "1"},

		// Signature.
		{name: "wrong secret", purpose: purposeConfirm, token: flaskSigner(t, "another-secret", itsdangerous.Config{Salt: "confirm-salt"}, linksNow)(good)},
		{name: "itsdangerous default salt", purpose: purposeConfirm, token: sign("itsdangerous")(good)},
		{name: "wrong digest", purpose: purposeConfirm, token: flaskSigner(t, linksSecret, itsdangerous.Config{Salt: "confirm-salt", Digest: itsdangerous.SHA256}, linksNow)(good)},
		{name: "wrong key derivation", purpose: purposeConfirm, token: flaskSigner(t, linksSecret, itsdangerous.Config{Salt: "confirm-salt", KeyDerivation: itsdangerous.HMAC}, linksNow)(good)},
		{name: "tampered payload", purpose: purposeConfirm, token: tamperPayload(confirm(good), `["nopass-uniquifier","`+hexMD5("nopass@example.com")+`"]`)},
		{name: "tampered signature", purpose: purposeConfirm, token: confirm(good)[:len(confirm(good))-4] + "AAAA"},
		{name: "garbage", purpose: purposeConfirm, token: "not a token"},
		{name: "empty", purpose: purposeReset, token: ""},

		// Shapes.
		{name: "confirm of one element", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `"]`), payload: true},
		{name: "confirm of three", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + md5Email + `","x"]`), payload: true},
		{name: "change-email of two", purpose: purposeChangeEmail, token: change(good), payload: true},
		{name: "change-email without new email", purpose: purposeChangeEmail, token: change(`["` + flaskUniq + `","` + md5Email + `",""]`), payload: true},
		{name: "change-email new email null", purpose: purposeChangeEmail, token: change(`["` + flaskUniq + `","` + md5Email + `",null]`), payload: true},
		{name: "confirm hash null", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `",null]`), payload: true},
		{name: "uniquifier null", purpose: purposeReset, token: reset(`[null,null]`), payload: true},
		{name: "uniquifier number", purpose: purposeConfirm, token: confirm(`[1,"` + md5Email + `"]`), payload: true},
		{name: "empty uniquifier", purpose: purposeConfirm, token: confirm(`["","` + md5Email + `"]`), payload: true},
		{name: "hash number", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `",5]`), payload: true},
		{name: "object", purpose: purposeConfirm, token: confirm(`{"uid":"` + flaskUniq + `"}`), payload: true},
		{name: "string", purpose: purposeConfirm, token: confirm(`"` + flaskUniq + `"`), payload: true},
		{name: "null", purpose: purposeConfirm, token: confirm(`null`), payload: true},

		// Hashes.
		{name: "hash of another email", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + hexMD5("other@example.com") + `"]`)},
		{name: "hash of the email in another case", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + hexMD5("Flask@example.com") + `"]`)},
		{name: "confirm hashing the password hash", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + md5Hash + `"]`)},
		{name: "reset hashing the email", purpose: purposeReset, token: reset(`["` + flaskUniq + `","` + md5Email + `"]`)},
		{name: "reset null, with password", purpose: purposeReset, token: reset(`["` + flaskUniq + `",null]`)},
		{name: "reset hash, no password", purpose: purposeReset, token: reset(`["nopass-uniquifier","` + hexMD5("") + `"]`)},
		{name: "hash of no scheme", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","flask@example.com"]`)},
		{name: "hex_md5 with a space", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","` + md5Email + ` "]`)},
		{name: "bcrypt hash", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","$2b$04$abcdefghijklmnopqrstuu5Zq0bQwYQ8R1n0vJ8rKQm0Qy6cPZ1Vu"]`)},
		{name: "malformed sha256_crypt", purpose: purposeConfirm, token: confirm(`["` + flaskUniq + `","$5$rounds=999$abc$xyz"]`)},

		// Users.
		{name: "unknown uniquifier", purpose: purposeConfirm, token: confirm(`["no-such-uniquifier","` + md5Email + `"]`), notFound: true},
		{name: "uniquifier in another case", purpose: purposeConfirm, token: confirm(`["` + strings.ToUpper(flaskUniq) + `","` + md5Email + `"]`), notFound: true},
	}
	ctx := context.Background()
	t.Run("compressed", func(t *testing.T) {
		long := strings.Repeat("n", 300) + "@example.com"
		tok := change(`["` + flaskUniq + `","` + md5Email + `","` + long + `"]`)
		if u, email, err := l.ReadLinkToken(ctx, purposeChangeEmail, tok, time.Hour); !strings.HasPrefix(tok, ".") || err != nil || u.ID != "1" || email != long {
			t.Fatalf("ReadLinkToken(%q) = %v, %q, %v; want user 1 and the long email", tok, u, email, err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, email, err := l.ReadLinkToken(ctx, tt.purpose, tt.token, time.Hour)
			checkRead(t, tt.purpose, u, email, err, tt.want)
			if errors.Is(err, auth.ErrTokenPayload) != tt.payload {
				t.Errorf("error %v: matches ErrTokenPayload: %v, want %v", err, !tt.payload, tt.payload)
			}
			if errors.Is(err, auth.ErrUserNotFound) != tt.notFound {
				t.Errorf("error %v: matches ErrUserNotFound: %v, want %v", err, !tt.notFound, tt.notFound)
			}
		})
	}
}

// TestLinksExpired checks the age rule, itsdangerous' in whole seconds,
// and that an expired token gives the user (and new email) with
// ErrExpiredToken, unless it no longer matches the user.
func TestLinksExpired(t *testing.T) {
	tests := []struct {
		name    string
		age     int64 // seconds between making and reading; negative: made in the future
		maxAge  time.Duration
		expired bool
	}{
		{name: "fresh", age: 0, maxAge: time.Hour},
		{name: "exactly max age", age: 3600, maxAge: time.Hour},
		{name: "a second over", age: 3601, maxAge: time.Hour, expired: true},
		{name: "days", age: 6 * 86400, maxAge: 5 * 24 * time.Hour, expired: true},
		{name: "fraction, under", age: 1, maxAge: 1500 * time.Millisecond},
		{name: "fraction, over", age: 2, maxAge: 1500 * time.Millisecond, expired: true},
		{name: "zero max age, same second", age: 0, maxAge: 0},
		{name: "zero max age, a second on", age: 1, maxAge: 0, expired: true},
		{name: "negative max age", age: 0, maxAge: -time.Second, expired: true},
		{name: "made in the future", age: -1, maxAge: time.Hour, expired: true},
	}
	store := newLinksStore(t)
	clock := newTestClock(linksNow)
	l := newTestLinks(t, Config{}, store, clock)
	ctx := context.Background()
	u := user(t, store, "1")
	links := map[string]string{}
	for _, p := range linkPurposes {
		links[p] = makeLink(t, l, p, u)
	}
	for _, tt := range tests {
		for _, p := range linkPurposes {
			t.Run(tt.name+"/"+p, func(t *testing.T) {
				clock.Store(linksNow + tt.age)
				got, email, err := l.ReadLinkToken(ctx, p, links[p], tt.maxAge)
				if !tt.expired {
					checkRead(t, p, got, email, err, "1")
					return
				}
				if !errors.Is(err, auth.ErrExpiredToken) || errors.Is(err, auth.ErrInvalidToken) || got == nil || got.ID != "1" || email != newEmailFor(p) {
					t.Fatalf("ReadLinkToken = %v, %q, %v; want user 1, %q and ErrExpiredToken only", got, email, err, newEmailFor(p))
				}
			})
		}
	}
	clock.Store(linksNow + 7200)
	if err := store.UpdateUser(ctx, "1", func(u *auth.User) error {
		u.Email, u.PasswordHash = "changed@example.com", "$2b$04$changed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range linkPurposes {
		t.Run("expired and stale/"+p, func(t *testing.T) {
			got, email, err := l.ReadLinkToken(ctx, p, links[p], time.Hour)
			checkRead(t, p, got, email, err, "")
		})
	}
}

// TestLinksStateChanged checks that a link stops working once the state
// it was made for changes, and only then.
func TestLinksStateChanged(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		id     string
		change func(*auth.User)
		valid  map[string]bool // purposes whose links still work
	}{
		{name: "email changed", id: "1", change: func(u *auth.User) { u.Email = "changed@example.com" }, valid: map[string]bool{purposeReset: true}},
		{name: "email case changed", id: "1", change: func(u *auth.User) { u.Email = "Flask@example.com" }, valid: map[string]bool{purposeReset: true}},
		{name: "password changed", id: "1", change: func(u *auth.User) { u.PasswordHash = "$2b$04$another" }, valid: map[string]bool{purposeConfirm: true, purposeChangeEmail: true}},
		{name: "password removed", id: "1", change: func(u *auth.User) { u.PasswordHash = "" }, valid: map[string]bool{purposeConfirm: true, purposeChangeEmail: true}},
		{name: "password set", id: "2", change: func(u *auth.User) { u.PasswordHash = "$2b$04$first" }, valid: map[string]bool{purposeConfirm: true, purposeChangeEmail: true}},
		{name: "confirmed, roles, inactive", id: "1", change: func(u *auth.User) { u.Confirmed, u.Roles, u.Active = true, []string{"admin"}, false },
			valid: map[string]bool{purposeConfirm: true, purposeReset: true, purposeChangeEmail: true}},
		{name: "uniquifier rotated", id: "1", change: func(u *auth.User) { u.Uniquifier = auth.NewUniquifier() }, valid: map[string]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newLinksStore(t)
			l := newTestLinks(t, Config{}, store, newTestClock(linksNow))
			links := map[string]string{}
			for _, p := range linkPurposes {
				links[p] = makeLink(t, l, p, user(t, store, tt.id))
			}
			if err := store.UpdateUser(ctx, tt.id, func(u *auth.User) error { tt.change(u); return nil }); err != nil {
				t.Fatal(err)
			}
			for _, p := range linkPurposes {
				got, email, err := l.ReadLinkToken(ctx, p, links[p], time.Hour)
				want := ""
				if tt.valid[p] {
					want = tt.id
				}
				t.Run(p, func(t *testing.T) { checkRead(t, p, got, email, err, want) })
			}
		})
	}
}

// fsStore is a store over a Flask-Security table with
// fs_token_uniquifier: Uniquifier is that column, and fs holds each
// user's fs_uniquifier. fail, when set, is what every FsUniquifierLookup
// call returns.
type fsStore struct {
	*auth.MemoryStore
	fs   map[string]string // ID -> fs_uniquifier
	fail error
}

func (s *fsStore) UserByFsUniquifier(ctx context.Context, uniq string) (*auth.User, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	for id, fs := range s.fs {
		if fs == uniq && uniq != "" {
			return s.UserByID(ctx, id)
		}
	}
	return nil, fmt.Errorf("no fs_uniquifier %q: %w", uniq, auth.ErrUserNotFound)
}

func (s *fsStore) FsUniquifier(ctx context.Context, id string) (string, error) {
	if s.fail != nil {
		return "", s.fail
	}
	if fs, ok := s.fs[id]; ok {
		return fs, nil
	}
	return "", fmt.Errorf("user %q: %w", id, auth.ErrUserNotFound)
}

// TestLinksFsUniquifier checks links over a store with
// FsUniquifierLookup: they name users by fs_uniquifier, never by
// Uniquifier.
func TestLinksFsUniquifier(t *testing.T) {
	store := &fsStore{MemoryStore: newLinksStore(t), fs: map[string]string{"1": "fs-uniquifier-of-1"}}
	clock := newTestClock(linksNow)
	l := newTestLinks(t, Config{}, store, clock)
	ctx := context.Background()
	u := user(t, store, "1")
	for _, p := range linkPurposes {
		t.Run(p, func(t *testing.T) {
			tok := makeLink(t, l, p, u)
			if v := payloadOf(t, tok); v[0] != "fs-uniquifier-of-1" {
				t.Fatalf("payload %v, want the fs_uniquifier first", v)
			}
			got, email, err := l.ReadLinkToken(ctx, p, tok, time.Hour)
			checkRead(t, p, got, email, err, "1")
		})
	}
	// A link naming the user by Uniquifier (fs_token_uniquifier) is one
	// the application would refuse.
	byUniq := flaskSigner(t, linksSecret, itsdangerous.Config{Salt: "confirm-salt"}, linksNow)(`["` + flaskUniq + `","` + hexMD5("flask@example.com") + `"]`)
	got, email, err := l.ReadLinkToken(ctx, purposeConfirm, byUniq, time.Hour)
	checkRead(t, purposeConfirm, got, email, err, "")
	if !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("error %v, want ErrUserNotFound too", err)
	}
	// User 2 has no fs_uniquifier in this store.
	if _, err := l.MakeLinkToken(context.Background(), purposeConfirm, user(t, store, "2"), ""); !errors.Is(err, auth.ErrUserNotFound) || errors.Is(err, auth.ErrStoreUnavailable) {
		t.Errorf("MakeLinkToken(user without fs_uniquifier) = %v, want ErrUserNotFound", err)
	}
}

// TestLinksStoreFailure checks that a failing store gives
// ErrStoreUnavailable, never ErrInvalidToken, when reading and making.
func TestLinksStoreFailure(t *testing.T) {
	ctx := context.Background()
	good := newLinksStore(t)
	clock := newTestClock(linksNow)
	maker := newTestLinks(t, Config{}, good, clock)
	u := user(t, good, "1")
	tok := makeLink(t, maker, purposeConfirm, u)
	down := errors.New("database down")
	for name, store := range map[string]auth.UniquifierLookup{
		"UserByUniquifier":   flaskFailingStore{good},
		"UserByFsUniquifier": &fsStore{MemoryStore: good, fail: down},
	} {
		t.Run(name, func(t *testing.T) {
			l := newTestLinks(t, Config{}, store, clock)
			got, email, err := l.ReadLinkToken(ctx, purposeConfirm, tok, time.Hour)
			if got != nil || email != "" || !errors.Is(err, auth.ErrStoreUnavailable) || errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpiredToken) {
				t.Errorf("ReadLinkToken = %v, %q, %v; want ErrStoreUnavailable only", got, email, err)
			}
		})
	}
	l := newTestLinks(t, Config{}, &fsStore{MemoryStore: good, fail: down}, clock)
	if tok, err := l.MakeLinkToken(context.Background(), purposeConfirm, u, ""); tok != "" || !errors.Is(err, auth.ErrStoreUnavailable) || !errors.Is(err, down) {
		t.Errorf("MakeLinkToken = %q, %v; want ErrStoreUnavailable", tok, err)
	}
}

// TestLinksHashingSchemes checks each scheme Config.HashingSchemes takes:
// what is written, and that only the schemes listed are read.
func TestLinksHashingSchemes(t *testing.T) {
	tests := []struct {
		schemes []string
		prefix  string // of the hashes written
	}{
		{schemes: []string{"sha256_crypt"}, prefix: "$5$rounds=1000$"},
		{schemes: []string{"sha512_crypt", "hex_md5"}, prefix: "$6$rounds=1000$"},
		{schemes: []string{"hex_md5", "pbkdf2_sha512"}, prefix: "$pbkdf2-sha512$1000$"},
		{schemes: []string{"pbkdf2_sha256"}, prefix: "$pbkdf2-sha256$1000$"},
		{schemes: []string{"pbkdf2_sha1"}, prefix: "$pbkdf2$1000$"},
		{schemes: []string{"hex_md5"}, prefix: hexMD5("flask@example.com")},
	}
	store := newLinksStore(t)
	clock := newTestClock(linksNow)
	ctx := context.Background()
	u := user(t, store, "1")
	made := map[string]string{} // scheme written -> confirm token
	for _, tt := range tests {
		l := newTestLinks(t, Config{HashingSchemes: tt.schemes}, store, clock)
		t.Run(strings.Join(tt.schemes, ","), func(t *testing.T) {
			for _, p := range linkPurposes {
				tok := makeLink(t, l, p, u)
				if h, _ := payloadOf(t, tok)[1].(string); p != purposeReset && !strings.HasPrefix(h, tt.prefix) {
					t.Errorf("%s hash %q, want prefix %q", p, h, tt.prefix)
				}
				got, email, err := l.ReadLinkToken(ctx, p, tok, time.Hour)
				checkRead(t, p, got, email, err, "1")
				if p == purposeConfirm {
					made[l.hash.write] = tok
				}
			}
		})
	}
	if len(made) != len(tests) {
		t.Fatalf("%d schemes written, want %d", len(made), len(tests))
	}
	for _, tt := range tests {
		l := newTestLinks(t, Config{HashingSchemes: tt.schemes}, store, clock)
		for writer, tok := range made {
			want := ""
			if slices.Contains(tt.schemes, writer) {
				want = "1"
			}
			got, email, err := l.ReadLinkToken(ctx, purposeConfirm, tok, time.Hour)
			t.Run(writer+" read by "+strings.Join(tt.schemes, ","), func(t *testing.T) { checkRead(t, purposeConfirm, got, email, err, want) })
		}
	}
}

// TestNewLinksErrors checks the settings NewLinks refuses.
func TestNewLinksErrors(t *testing.T) {
	store := auth.NewMemoryStore()
	key := []byte("k")
	tests := []struct {
		name    string
		noStore bool
		cfg     Config
		want    string // in the error
	}{
		{name: "no secret", cfg: Config{}, want: "SecretKey"},
		{name: "no store", noStore: true, cfg: Config{SecretKey: key}, want: "UniquifierLookup"},
		{name: "confirm salt is reset's", cfg: Config{SecretKey: key, ConfirmSalt: "reset-salt"}, want: "Config.ConfirmSalt and Config.ResetSalt"},
		{name: "reset salt is confirm's", cfg: Config{SecretKey: key, ResetSalt: "s", ConfirmSalt: "s"}, want: `both "s"`},
		{name: "change-email salt is remember's", cfg: Config{SecretKey: key, ChangeEmailSalt: "remember-salt"}, want: "Config.ChangeEmailSalt and Config.RememberSalt"},
		{name: "remember salt is confirm's", cfg: Config{SecretKey: key, RememberSalt: "confirm-salt"}, want: "SECURITY_REMEMBER_SALT"},
		{name: "bcrypt", cfg: Config{SecretKey: key, HashingSchemes: []string{"bcrypt"}}, want: `"bcrypt" is not one of`},
		{name: "plaintext", cfg: Config{SecretKey: key, HashingSchemes: []string{"sha256_crypt", "plaintext"}}, want: `"plaintext"`},
		{name: "argon2", cfg: Config{SecretKey: key, HashingSchemes: []string{"argon2"}}, want: `"argon2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s auth.UniquifierLookup = store
			if tt.noStore {
				s = nil
			}
			l, err := NewLinks(tt.cfg, s)
			if l != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewLinks = %v, %v; want an error about %q", l, err, tt.want)
			}
		})
	}
	if _, err := NewLinks(Config{SecretKey: key, HashingSchemes: []string{}}, store); err != nil {
		t.Errorf("NewLinks with empty HashingSchemes (the default) = %v", err)
	}
}

// TestMakeLinkTokenErrors checks what MakeLinkToken refuses.
func TestMakeLinkTokenErrors(t *testing.T) {
	store := newLinksStore(t)
	l := newTestLinks(t, Config{}, store, newTestClock(linksNow))
	u := user(t, store, "1")
	noUniq := u.Clone()
	noUniq.Uniquifier = ""
	tests := []struct {
		name, purpose string
		u             *auth.User
		email, want   string
	}{
		{name: "unknown purpose", purpose: "login", u: u, want: `unknown link purpose "login"`},
		{name: "nil user", purpose: purposeConfirm, want: "nil user"},
		{name: "confirm with email", purpose: purposeConfirm, u: u, email: "x@example.com", want: "takes no email"},
		{name: "reset with email", purpose: purposeReset, u: u, email: "x@example.com", want: "takes no email"},
		{name: "change-email without", purpose: purposeChangeEmail, u: u, want: "needs the new email"},
		{name: "change-email not UTF-8", purpose: purposeChangeEmail, u: u, email: "\xff@example.com", want: "not valid UTF-8"},
		{name: "no uniquifier", purpose: purposeConfirm, u: noUniq, want: "no fs_uniquifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := l.MakeLinkToken(context.Background(), tt.purpose, tt.u, tt.email)
			if tok != "" || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("MakeLinkToken = %q, %v; want an error about %q", tok, err, tt.want)
			}
		})
	}
}

// TestNewLinksCopiesConfig checks that changing the Config after
// NewLinks changes nothing.
func TestNewLinksCopiesConfig(t *testing.T) {
	store := newLinksStore(t)
	secret, fallback := []byte(linksSecret), []byte("old-links-secret")
	schemes := []string{"hex_md5"}
	l := newTestLinks(t, Config{SecretKey: secret, SecretKeyFallbacks: [][]byte{fallback}, HashingSchemes: schemes}, store, newTestClock(linksNow))
	good := `["` + flaskUniq + `","` + hexMD5("flask@example.com") + `"]`
	tok := flaskSigner(t, linksSecret, itsdangerous.Config{Salt: "confirm-salt"}, linksNow)(good)
	old := flaskSigner(t, "old-links-secret", itsdangerous.Config{Salt: "confirm-salt"}, linksNow)(good)
	secret[0], fallback[0], schemes[0] = 'X', 'X', "sha256_crypt"
	for _, tok := range []string{tok, old} {
		if _, _, err := l.ReadLinkToken(context.Background(), purposeConfirm, tok, time.Hour); err != nil {
			t.Errorf("ReadLinkToken after the Config changed = %v", err)
		}
	}
}

// linksRead is a token for links.py to read, and what Flask-Security
// should say of it.
type linksRead struct {
	Purpose string `json:"purpose"`
	Token   string `json:"token"`
	name    string
	expired bool
	invalid bool
	user    bool // a user comes back
}

// linksResult is what links.py says of a token.
type linksResult struct {
	Expired  bool    `json:"expired"`
	Invalid  bool    `json:"invalid"`
	User     *string `json:"user"`
	NewEmail *string `json:"new_email"`
}

// linksOutput is what links.py prints.
type linksOutput struct {
	Version      string        `json:"flask_security"`
	FsUniquifier string        `json:"fs_uniquifier"`
	Confirm      string        `json:"confirm"`
	Reset        string        `json:"reset"`
	ChangeEmail  string        `json:"change-email"`
	Read         []linksResult `json:"read"`
}

// runLinksScript runs testdata/links.py with req on stdin.
func runLinksScript(t *testing.T, py string, req map[string]any) linksOutput {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	// #nosec G204 -- tests only: the interpreter testpython found, a script of the package's
	cmd := exec.Command(py, "-B", "links.py")
	cmd.Dir = "testdata"
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("links.py: %v\n%s", err, stderr.String())
	}
	var out linksOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("links.py printed %q: %v", raw, err)
	}
	if len(out.Read) != len(req["read"].([]linksRead)) {
		t.Fatalf("links.py read %d tokens, sent %d", len(out.Read), len(req["read"].([]linksRead)))
	}
	return out
}

// TestFlaskSecurityLinksInterop has the real Flask-Security 5.1.2 read
// the links Links makes, and Links read those Flask-Security makes, under
// its default settings and others.
func TestFlaskSecurityLinksInterop(t *testing.T) {
	t.Parallel()
	py := pythonWithFlaskSecurity(t)
	tests := []struct {
		name     string
		fc       Config
		py       map[string]any // the same settings for the app
		tokUniq  bool           // the model has fs_token_uniquifier
		password bool           // the user has a password
	}{
		{name: "defaults", password: true},
		{name: "no password"},
		{
			name: "custom salts, pbkdf2_sha512",
			fc: Config{ConfirmSalt: "my-confirm", ResetSalt: "my-reset", ChangeEmailSalt: "my-change-email",
				HashingSchemes: []string{"pbkdf2_sha512", "sha512_crypt"}},
			py: map[string]any{"SECURITY_CONFIRM_SALT": "my-confirm", "SECURITY_RESET_SALT": "my-reset", "SECURITY_CHANGE_EMAIL_SALT": "my-change-email",
				"SECURITY_HASHING_SCHEMES": []string{"pbkdf2_sha512", "sha512_crypt"}, "SECURITY_DEPRECATED_HASHING_SCHEMES": []string{}},
			password: true,
		},
		{
			name:     "hex_md5",
			fc:       Config{HashingSchemes: []string{"hex_md5"}},
			py:       map[string]any{"SECURITY_HASHING_SCHEMES": []string{"hex_md5"}, "SECURITY_DEPRECATED_HASHING_SCHEMES": []string{}},
			password: true,
		},
		{name: "fs_token_uniquifier", tokUniq: true, password: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := "links-interop-" + auth.NewUniquifier()
			fsUniq, tokUniq := auth.NewUniquifier(), auth.NewUniquifier()
			u := &auth.User{ID: "7", Email: "py@example.com", Active: true, Uniquifier: fsUniq}
			if tt.password {
				u.PasswordHash = "$pbkdf2-sha512$25000$" + auth.NewUniquifier() + "$stored"
			}
			mem := auth.NewMemoryStore()
			var store auth.UniquifierLookup = mem
			if tt.tokUniq {
				u.Uniquifier = tokUniq
				store = &fsStore{MemoryStore: mem, fs: map[string]string{"7": fsUniq}}
			}
			if err := mem.CreateUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			fc := tt.fc
			fc.SecretKey = []byte(secret)
			l, err := NewLinks(fc, store) // passlib's default rounds
			if err != nil {
				t.Fatal(err)
			}
			past := fc
			past.Now = func() time.Time { return time.Now().Add(-6 * 24 * time.Hour) }
			old, err := NewLinks(past, store)
			if err != nil {
				t.Fatal(err)
			}
			past.Now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
			oldChange, err := NewLinks(past, store)
			if err != nil {
				t.Fatal(err)
			}
			tokens, err := NewTokens(Config{SecretKey: []byte(secret)}, store)
			if err != nil {
				t.Fatal(err)
			}
			login, _ := tokens.IssueToken(u)
			stale := u.Clone()
			stale.Email, stale.PasswordHash = "old@example.com", "$2b$04$the-old-password-hash"
			mk := func(l *Links, purpose string, u *auth.User) string { return makeLink(t, l, purpose, u) }
			confirm, reset, change := mk(l, purposeConfirm, u), mk(l, purposeReset, u), mk(l, purposeChangeEmail, u)
			reads := []linksRead{
				{name: "confirm", Purpose: purposeConfirm, Token: confirm, user: true},
				{name: "reset", Purpose: purposeReset, Token: reset, user: true},
				{name: "change-email", Purpose: purposeChangeEmail, Token: change, user: true},
				{name: "confirm as reset", Purpose: purposeReset, Token: confirm, invalid: true},
				{name: "reset as confirm", Purpose: purposeConfirm, Token: reset, invalid: true},
				{name: "change-email as confirm", Purpose: purposeConfirm, Token: change, invalid: true},
				{name: "confirm as change-email", Purpose: purposeChangeEmail, Token: confirm, invalid: true},
				{name: "expired confirm", Purpose: purposeConfirm, Token: mk(old, purposeConfirm, u), expired: true, user: true},
				{name: "expired reset", Purpose: purposeReset, Token: mk(old, purposeReset, u), expired: true, user: true},
				// Later versions give no user with an expired change-email token.
				{name: "expired change-email", Purpose: purposeChangeEmail, Token: mk(oldChange, purposeChangeEmail, u), expired: true},
				{name: "confirm for the old email", Purpose: purposeConfirm, Token: mk(l, purposeConfirm, stale), invalid: true, user: true},
				{name: "change-email for the old email", Purpose: purposeChangeEmail, Token: mk(l, purposeChangeEmail, stale), invalid: true},
				{name: "tampered", Purpose: purposeConfirm, Token: tamperPayload(confirm, `["`+auth.NewUniquifier()+`",null]`), invalid: true},
				{name: "auth token as confirm", Purpose: purposeConfirm, Token: login, invalid: true},
				{name: "auth token as reset", Purpose: purposeReset, Token: login, invalid: true},
			}
			if tt.password {
				reads = append(reads, linksRead{name: "reset for the old password", Purpose: purposeReset, Token: mk(l, purposeReset, stale), invalid: true, user: true})
			}
			spec := map[string]any{"email": u.Email, "fs_uniquifier": fsUniq}
			if tt.password {
				spec["password"] = u.PasswordHash
			}
			if tt.tokUniq {
				spec["fs_token_uniquifier"] = tokUniq
			}
			out := runLinksScript(t, py, map[string]any{
				"secret_key": secret, "config": tt.py, "token_uniquifier": tt.tokUniq,
				"user": spec, "new_email": linksNewEmail, "read": reads,
			})
			t.Logf("Flask-Security %s", out.Version)
			if out.FsUniquifier != fsUniq {
				t.Fatalf("the app's user has fs_uniquifier %q, want %q", out.FsUniquifier, fsUniq)
			}

			// Flask-Security reads the Go side's links.
			for i, r := range reads {
				got := out.Read[i]
				if got.Expired != r.expired || got.Invalid != r.invalid || (got.User != nil) != r.user || got.User != nil && *got.User != fsUniq {
					t.Errorf("Flask-Security on %s: expired %v, invalid %v, user %v; want %v, %v, user %v",
						r.name, got.Expired, got.Invalid, ptrString(got.User), r.expired, r.invalid, r.user)
				}
				if want := r.Purpose == purposeChangeEmail && !r.expired && !r.invalid; want != (got.NewEmail != nil && *got.NewEmail == linksNewEmail) {
					t.Errorf("Flask-Security on %s: new email %v", r.name, ptrString(got.NewEmail))
				}
			}

			// The Go side reads Flask-Security's.
			ctx := context.Background()
			flaskLinks := map[string]string{purposeConfirm: out.Confirm, purposeReset: out.Reset, purposeChangeEmail: out.ChangeEmail}
			for made, tok := range flaskLinks {
				if v := payloadOf(t, tok); v[0] != fsUniq {
					t.Errorf("Flask-Security's %s payload %v does not start with the fs_uniquifier", made, v)
				}
				for _, p := range linkPurposes {
					want := ""
					if p == made {
						want = "7"
					}
					got, email, err := l.ReadLinkToken(ctx, p, tok, 5*24*time.Hour)
					t.Run("Flask "+made+" as "+p, func(t *testing.T) { checkRead(t, p, got, email, err, want) })
				}
				if got, err := tokens.VerifyToken(ctx, tok); got != nil || !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("Flask-Security's %s link as an auth token: %v, %v", made, got, err)
				}
			}
			if !tt.password {
				if v := payloadOf(t, out.Reset); v[1] != nil {
					t.Errorf("Flask-Security's reset payload for a user without password %v, want null", v)
				}
			}
		})
	}
}

func ptrString(p *string) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *p)
}

// fuzzLink is a token FuzzReadLinkToken's Links made.
type fuzzLink struct {
	purpose, id, email string
	expired            bool
}

// fuzzLinks returns the Links FuzzReadLinkToken reads with, and the
// tokens it and an older Links (whose tokens are expired) made, for every
// purpose and user. With hex_md5 and fixed clocks the tokens are the same
// on every run, so the corpus's stay valid.
func fuzzLinks(t testing.TB) (*Links, *auth.MemoryStore, map[string]fuzzLink) {
	store := newLinksStore(t)
	l := newTestLinks(t, Config{HashingSchemes: []string{"hex_md5"}}, store, newTestClock(linksNow))
	old := newTestLinks(t, Config{HashingSchemes: []string{"hex_md5"}}, store, newTestClock(linksNow-fuzzMaxAge-1))
	made := map[string]fuzzLink{}
	for _, p := range linkPurposes {
		for _, id := range []string{"1", "2"} {
			for _, m := range []*Links{l, old} {
				made[makeLink(t, m, p, user(t, store, id))] = fuzzLink{purpose: p, id: id, email: newEmailFor(p), expired: m == old}
			}
		}
	}
	return l, store, made
}

// fuzzMaxAge is the max age FuzzReadLinkToken reads with, in seconds.
const fuzzMaxAge = 600

// wantLink says whether a payload signed for purpose must be accepted,
// and for which user and new email, by the rules the package documents,
// read independently of parseLinkClaims: a list of two strings (three
// for change-email), the first a user's uniquifier, the second the
// hex_md5 of that user's email (or password hash, for reset; null when
// the user has none), the third a non-empty email.
func wantLink(t *testing.T, store *auth.MemoryStore, purpose string, payload []byte) (id, email string, ok bool) {
	var v []any
	if !utf8.Valid(payload) || json.Unmarshal(payload, &v) != nil { // Python's json.loads refuses bad UTF-8
		return "", "", false
	}
	n := 2
	if purpose == purposeChangeEmail {
		n = 3
	}
	if len(v) != n {
		return "", "", false
	}
	uniq, _ := v[0].(string)
	var u *auth.User
	for _, id := range []string{"1", "2"} {
		if c := user(t, store, id); uniq == c.Uniquifier {
			u = c
		}
	}
	if u == nil {
		return "", "", false
	}
	state := u.Email
	if purpose == purposeReset {
		state = u.PasswordHash
		if v[1] == nil {
			return u.ID, "", state == ""
		}
	}
	h, isString := v[1].(string)
	if !isString || state == "" && purpose == purposeReset || !strings.EqualFold(h, hexMD5(state)) {
		return "", "", false
	}
	if purpose == purposeChangeEmail {
		email, _ = v[2].(string)
		if email == "" {
			return "", "", false
		}
	}
	return u.ID, email, true
}

// FuzzReadLinkToken feeds arbitrary tokens to ReadLinkToken for every
// purpose, and arbitrary payloads signed as each purpose's. It must never
// panic; it accepts (or calls expired) exactly the tokens the Links made
// for that purpose, and a signed payload only when wantLink does; every
// refusal is ErrInvalidToken alone, with no user.
func FuzzReadLinkToken(f *testing.F) {
	l, store, made := fuzzLinks(f)
	var some string
	for tok := range made {
		f.Add(tok, []byte(nil))
		some = tok
	}
	other := newTestLinks(f, Config{SecretKey: []byte("another secret"), HashingSchemes: []string{"hex_md5"}}, store, newTestClock(linksNow))
	tokens, err := NewTokens(Config{SecretKey: []byte(linksSecret), Now: newTestClock(linksNow).now}, store)
	if err != nil {
		f.Fatal(err)
	}
	login, _ := tokens.IssueToken(user(f, store, "1"))
	for _, tok := range []string{
		"", ".", "..", "...", "a.b.c", some[:len(some)-1], some + "A", some[1:], strings.ToUpper(some), login,
		makeLink(f, other, purposeConfirm, user(f, store, "1")),
		tamperPayload(some, `["`+flaskUniq+`","`+hexMD5("flask@example.com")+`"]`),
	} {
		f.Add(tok, []byte(nil))
	}
	md5Email, md5Hash := hexMD5("flask@example.com"), hexMD5(linksHash)
	for _, p := range []string{
		`["` + flaskUniq + `","` + md5Email + `"]`,
		`["` + flaskUniq + `","` + strings.ToUpper(md5Hash) + `"]`,
		`["` + flaskUniq + `","` + md5Email + `","` + linksNewEmail + `"]`,
		`["nopass-uniquifier",null]`, `["nopass-uniquifier","` + hexMD5("") + `"]`,
		`["` + flaskUniq + `",null]`, `["` + flaskUniq + `","` + md5Email + `",""]`,
		`[]`, `null`, `{}`, `"x"`, `[1,2]`, `["` + flaskUniq + `"]`, ` [ "` + flaskUniq + `" , "` + md5Email + `" ] `,
		`["` + flaskUniq + `","$5$rounds=1000$abcdefghijklmnop$` + strings.Repeat("a", 43) + `"]`,
		"[\"\xff\",\"" + md5Email + "\"]", `["` + flaskUniq + `","` + md5Email + `"] []`,
	} {
		f.Add("", []byte(p))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string, payload []byte) {
		m, isMade := made[token]
		for _, p := range linkPurposes {
			u, email, err := l.ReadLinkToken(ctx, p, token, fuzzMaxAge*time.Second)
			switch {
			case isMade && m.purpose == p && !m.expired:
				if err != nil || u == nil || u.ID != m.id || email != m.email {
					t.Fatalf("ReadLinkToken(%s, its own %q) = %v, %q, %v; want user %s", p, token, u, email, err, m.id)
				}
			case isMade && m.purpose == p:
				if !errors.Is(err, auth.ErrExpiredToken) || errors.Is(err, auth.ErrInvalidToken) || u == nil || u.ID != m.id || email != m.email {
					t.Fatalf("ReadLinkToken(%s, its own old %q) = %v, %q, %v; want user %s and ErrExpiredToken", p, token, u, email, err, m.id)
				}
			case u != nil || email != "" || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpiredToken) || errors.Is(err, auth.ErrStoreUnavailable):
				t.Fatalf("ReadLinkToken(%s, %q) = %v, %q, %v; want ErrInvalidToken only", p, token, u, email, err)
			}
		}
		for _, signer := range linkPurposes {
			tok := l.serializer(signer).Sign(payload)
			if len(tok) > 4096 { // refused before its payload is read
				continue
			}
			for _, p := range linkPurposes {
				u, email, err := l.ReadLinkToken(ctx, p, tok, fuzzMaxAge*time.Second)
				id, wantEmail, ok := wantLink(t, store, p, payload)
				if ok && p == signer {
					if err != nil || u == nil || u.ID != id || email != wantEmail {
						t.Fatalf("ReadLinkToken(%s, payload %q) = %v, %q, %v; want user %s, %q", p, payload, u, email, err, id, wantEmail)
					}
					continue
				}
				if u != nil || email != "" || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpiredToken) {
					t.Fatalf("ReadLinkToken(%s, payload %q signed for %s) = %v, %q, %v; want ErrInvalidToken only", p, payload, signer, u, email, err)
				}
			}
		}
	})
}
