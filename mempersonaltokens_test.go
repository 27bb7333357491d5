package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authkit/auth"
	"github.com/authkit/auth/storetest"
)

// TestMemoryStorePersonalTokens runs storetest's personal token checks
// against MemoryStore's auth.PersonalTokenStore.
func TestMemoryStorePersonalTokens(t *testing.T) {
	storetest.RunPersonalTokens(t, func(*testing.T) auth.PersonalTokenStore { return auth.NewMemoryStore() })
}

// TestMemoryStorePersonalTokenRefusals: a nil token, an empty ID or an
// empty hash is refused, as is a cancelled context, and nothing is stored.
func TestMemoryStorePersonalTokenRefusals(t *testing.T) {
	s := auth.NewMemoryStore()
	ctx := t.Context()
	if err := s.CreateUser(ctx, &auth.User{ID: "u", Email: "u@example.com"}); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		tok  *auth.PersonalToken
		want string
	}{
		{name: "nil", ctx: ctx, tok: nil, want: "auth: CreatePersonalToken: nil token"},
		{name: "empty ID", ctx: ctx, tok: &auth.PersonalToken{UserID: "u", Hash: []byte("h")}, want: "auth: CreatePersonalToken: empty token ID"},
		{name: "nil hash", ctx: ctx, tok: &auth.PersonalToken{ID: "t", UserID: "u"}, want: "auth: CreatePersonalToken: empty token hash"},
		{name: "empty hash", ctx: ctx, tok: &auth.PersonalToken{ID: "t", UserID: "u", Hash: []byte{}}, want: "auth: CreatePersonalToken: empty token hash"},
		{name: "cancelled", ctx: cancelled, tok: &auth.PersonalToken{ID: "t", UserID: "u", Hash: []byte("h")}, want: context.Canceled.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreatePersonalToken(tt.ctx, tt.tok)
			if err == nil || err.Error() != tt.want {
				t.Errorf("CreatePersonalToken error = %v, want %q", err, tt.want)
			}
		})
	}
	if list, err := s.UserPersonalTokens(ctx, "u"); err != nil || len(list) != 0 {
		t.Errorf("UserPersonalTokens(u) after refusals = %v, %v; want none", list, err)
	}
	if _, err := s.PersonalTokenByHash(ctx, []byte("h")); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("PersonalTokenByHash after refusals: error = %v, want auth.ErrTokenNotFound", err)
	}
	// The reads and writes of a cancelled context do nothing either.
	if err := s.CreatePersonalToken(ctx, &auth.PersonalToken{ID: "t", UserID: "u", Hash: []byte("h")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PersonalTokenByHash(cancelled, []byte("h")); !errors.Is(err, context.Canceled) {
		t.Errorf("PersonalTokenByHash with a cancelled context: error = %v", err)
	}
	if err := s.DeletePersonalToken(cancelled, "t"); !errors.Is(err, context.Canceled) {
		t.Errorf("DeletePersonalToken with a cancelled context: error = %v", err)
	}
	if n, err := s.DeleteUserPersonalTokens(cancelled, "u"); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("DeleteUserPersonalTokens with a cancelled context = %d, %v", n, err)
	}
	if list, err := s.UserPersonalTokens(ctx, "u"); err != nil || len(list) != 1 {
		t.Errorf("UserPersonalTokens(u) = %v, %v; want the token, kept", list, err)
	}
}
