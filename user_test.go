package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

func TestUserHasRole(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		role  string
		want  bool
	}{
		{name: "held", roles: []string{"admin", "editor"}, role: "editor", want: true},
		{name: "not held", roles: []string{"admin"}, role: "editor", want: false},
		{name: "case matters", roles: []string{"admin"}, role: "Admin", want: false},
		{name: "no roles", roles: nil, role: "admin", want: false},
		{name: "empty role name", roles: []string{"admin"}, role: "", want: false},
		{name: "empty role held", roles: []string{""}, role: "", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &User{Roles: tt.roles}
			if got := u.HasRole(tt.role); got != tt.want {
				t.Errorf("HasRole(%q) with %q = %v, want %v", tt.role, tt.roles, got, tt.want)
			}
		})
	}
}

func TestUserClone(t *testing.T) {
	tests := []struct {
		name string
		user User
	}{
		{name: "zero", user: User{}},
		{name: "no roles", user: User{ID: "1", Email: "a@example.com"}},
		{
			name: "every field",
			user: User{
				ID: "1", Email: "a@example.com", PasswordHash: "$2a$04$x", Active: true, Confirmed: true,
				Roles: []string{"admin", "editor"}, Uniquifier: "u",
				LastLoginAt: seedClock, CurrentLoginAt: seedClock.Add(time.Hour),
				LastLoginIP: "192.0.2.1", CurrentLoginIP: "192.0.2.2", LoginCount: 3,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.user
			c := orig.Clone()
			if c == &orig || !reflect.DeepEqual(*c, orig) {
				t.Fatalf("Clone() = %+v, want an equal copy of %+v", c, orig)
			}
			if len(c.Roles) > 0 {
				c.Roles[0] = "changed"
				if orig.Roles[0] == "changed" {
					t.Error("the clone shares the Roles array")
				}
			}
			c.Email = "changed"
			if orig.Email == "changed" {
				t.Error("the clone is not a copy")
			}
		})
	}
}

func TestNewUniquifier(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		u := NewUniquifier()
		if b, err := hex.DecodeString(u); err != nil || len(u) != 32 || len(b) != 16 {
			t.Fatalf("NewUniquifier() = %q, want 32 hex characters", u)
		}
		if seen[u] {
			t.Fatalf("NewUniquifier() repeated %q", u)
		}
		seen[u] = true
	}
}

// ctxKeyString is a key another package could use; it must not be mistaken
// for the user.
type ctxKeyString string

func TestContext(t *testing.T) {
	alice := &User{ID: "1"}
	bob := &User{ID: "2"}
	tests := []struct {
		name   string
		ctx    context.Context
		want   *User
		wantOK bool
	}{
		{name: "background", ctx: context.Background(), want: nil, wantOK: false},
		{name: "TODO", ctx: context.TODO(), want: nil, wantOK: false},
		{name: "cancelled", ctx: cancelled(), want: nil, wantOK: false},
		{name: "round trip", ctx: NewContext(context.Background(), alice), want: alice, wantOK: true},
		{name: "inner wins", ctx: NewContext(NewContext(context.Background(), alice), bob), want: bob, wantOK: true},
		{name: "survives derived contexts", ctx: context.WithValue(NewContext(context.Background(), alice), ctxKeyString("x"), 1), want: alice, wantOK: true},
		{name: "nil user", ctx: NewContext(context.Background(), nil), want: nil, wantOK: false},
		{name: "string key user", ctx: context.WithValue(context.Background(), ctxKeyString("user"), alice), want: nil, wantOK: false},
		//lint:ignore SA1029 the test checks that a plain string key cannot impersonate the package's own key
		{name: "plain string key", ctx: context.WithValue(context.Background(), any("user"), alice), want: nil, wantOK: false},
		{name: "wrong value type", ctx: context.WithValue(context.Background(), userKey{}, "alice"), want: nil, wantOK: false},
		{name: "WithValue under the package's key", ctx: context.WithValue(context.Background(), userKey{}, alice), want: alice, wantOK: true},
		{name: "under a cancelled context", ctx: NewContext(cancelled(), alice), want: alice, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromContext(tt.ctx)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("FromContext = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestContextPassesThrough checks that a context carrying a user is still
// its parent for everything else: values, cancellation, deadline, cause.
func TestContextPassesThrough(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKeyString("k"), "v"), deadline)
	u := &User{ID: "1"}
	ctx := NewContext(parent, u)
	if got := ctx.Value(ctxKeyString("k")); got != "v" {
		t.Errorf("Value(k) = %v, want v", got)
	}
	if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want %v, true", d, ok, deadline)
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	if got, ok := FromContext(child); got != u || !ok {
		t.Errorf("FromContext(child) = %v, %v; want the user", got, ok)
	}
	cancel()
	<-child.Done()
	if ctx.Err() != context.Canceled || child.Err() != context.Canceled || context.Cause(child) != context.Canceled {
		t.Errorf("after the parent's cancel: Err = %v, child's %v, cause %v", ctx.Err(), child.Err(), context.Cause(child))
	}
	if s := fmt.Sprint(ctx); !strings.HasSuffix(s, ".WithUser") || strings.Contains(s, "0x") {
		t.Errorf("String = %q", s)
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestNewUserEmail checks that NewUser takes plain addresses only.
func TestNewUserEmail(t *testing.T) {
	m, err := New(NewMemoryStore(), []byte("new-user-email-test-secret-0123"), Config{Password: PasswordConfig{Scheme: passhash.Bcrypt, BcryptCost: 4}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, email string
		ok          bool
	}{
		{name: "valid", email: "alice@example.com", ok: true},
		{name: "mixed case", email: "Alice.B+tag@Example.COM", ok: true},
		{name: "unicode local part", email: "jörg@example.com", ok: true},
		{name: "display name", email: "Alice <alice@example.com>"},
		{name: "angle brackets", email: "<alice@example.com>"},
		{name: "comment", email: "alice@example.com (Alice)"},
		{name: "no @", email: "not-an-email"},
		{name: "empty", email: ""},
		{name: "surrounding spaces", email: " alice@example.com "},
		{name: "inner space", email: "alice smith@example.com"},
		{name: "quoted local part", email: `"alice smith"@example.com`},
		{name: "two addresses", email: "a@example.com, b@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := m.NewUser(tt.email, "a good long password")
			if tt.ok {
				if err != nil || u.Email != tt.email {
					t.Errorf("NewUser(%q) = %v, %v; want a user with that email", tt.email, u, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEmail) {
				t.Errorf("NewUser(%q) = %v, %v; want an error matching ErrInvalidEmail", tt.email, u, err)
			}
		})
	}
}
