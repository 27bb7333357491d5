package auth

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memoryStoreWith returns a MemoryStore holding users with the given IDs
// and emails, in order.
func memoryStoreWith(t *testing.T, idEmails ...string) *MemoryStore {
	t.Helper()
	s := NewMemoryStore()
	for i := 0; i+1 < len(idEmails); i += 2 {
		u := &User{ID: idEmails[i], Email: idEmails[i+1], Active: true, Roles: []string{"r"}, Uniquifier: "u" + idEmails[i]}
		if err := s.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestMemoryStoreUserByEmail(t *testing.T) {
	tests := []struct {
		name   string
		stored string
		query  string
		found  bool
	}{
		{name: "exact", stored: "alice@example.com", query: "alice@example.com", found: true},
		{name: "upper", stored: "alice@example.com", query: "ALICE@EXAMPLE.COM", found: true},
		{name: "mixed stored", stored: "Alice@Example.COM", query: "alice@example.com", found: true},
		{name: "non-ASCII", stored: "ärger@exämple.com", query: "ÄRGER@EXÄMPLE.COM", found: true},
		{name: "Greek final sigma", stored: "σ@example.com", query: "ς@example.com", found: true},
		{name: "Kelvin sign", stored: "k@example.com", query: "\u212a@example.com", found: true},
		{name: "long s", stored: "s@example.com", query: "\u017f@example.com", found: true},
		{name: "dotless i is not i", stored: "i@example.com", query: "ı@example.com", found: false},
		{name: "dotted capital I is not i", stored: "i@example.com", query: "İ@example.com", found: false},
		{name: "dotless i is not I", stored: "I@example.com", query: "ı@example.com", found: false},
		{name: "other address", stored: "alice@example.com", query: "bob@example.com", found: false},
		{name: "prefix", stored: "alice@example.com", query: "alice@example.co", found: false},
		{name: "empty", stored: "alice@example.com", query: "", found: false},
		{name: "surrounding space is significant", stored: "alice@example.com", query: " alice@example.com", found: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := tt.found; strings.EqualFold(tt.stored, tt.query) != want {
				t.Fatalf("bad test: EqualFold(%q, %q) != %v", tt.stored, tt.query, want)
			}
			s := memoryStoreWith(t, "1", tt.stored)
			u, err := s.UserByEmail(context.Background(), tt.query)
			if !tt.found {
				if u != nil || !errors.Is(err, ErrUserNotFound) {
					t.Errorf("UserByEmail(%q) = %v, %v; want ErrUserNotFound", tt.query, u, err)
				}
				return
			}
			if err != nil || u.ID != "1" || u.Email != tt.stored {
				t.Errorf("UserByEmail(%q) = %v, %v; want user 1 with the email as stored", tt.query, u, err)
			}
		})
	}
}

func TestMemoryStoreUserByID(t *testing.T) {
	s := memoryStoreWith(t, "1", "a@example.com", "abc", "b@example.com")
	tests := []struct {
		name, id string
		found    bool
	}{
		{name: "numeric", id: "1", found: true},
		{name: "string", id: "abc", found: true},
		{name: "case matters", id: "ABC", found: false},
		{name: "unknown", id: "2", found: false},
		{name: "empty", id: "", found: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.UserByID(context.Background(), tt.id)
			if tt.found != (err == nil) || (tt.found && u.ID != tt.id) || (!tt.found && (u != nil || !errors.Is(err, ErrUserNotFound))) {
				t.Errorf("UserByID(%q) = %v, %v", tt.id, u, err)
			}
		})
	}
}

func TestMemoryStoreCreateUser(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		existing []string // id, email pairs
		user     User
		wantErr  error
		wantID   string
	}{
		{name: "assigns 1", user: User{Email: "a@example.com"}, wantID: "1"},
		{name: "assigns next", existing: []string{"", "x@example.com"}, user: User{Email: "a@example.com"}, wantID: "2"},
		{name: "skips taken", existing: []string{"1", "x@example.com", "2", "y@example.com"}, user: User{Email: "a@example.com"}, wantID: "3"},
		{name: "keeps given ID", user: User{ID: "alice", Email: "a@example.com"}, wantID: "alice"},
		{name: "duplicate email", existing: []string{"1", "a@example.com"}, user: User{Email: "a@example.com"}, wantErr: ErrDuplicateEmail},
		{name: "duplicate email in other case", existing: []string{"1", "A@Example.com"}, user: User{ID: "2", Email: "a@EXAMPLE.com"}, wantErr: ErrDuplicateEmail},
		{name: "duplicate ID", existing: []string{"7", "x@example.com"}, user: User{ID: "7", Email: "a@example.com"}, wantErr: ErrDuplicateID},
		{name: "distinct under EqualFold", existing: []string{"1", "i@example.com"}, user: User{Email: "ı@example.com"}, wantID: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewMemoryStore()
			for i := 0; i < len(tt.existing); i += 2 {
				if err := s.CreateUser(ctx, &User{ID: tt.existing[i], Email: tt.existing[i+1]}); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := s.ListUsers(ctx)
			u := tt.user
			err := s.CreateUser(ctx, &u)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateUser error %v, want %v", err, tt.wantErr)
			}
			after, _ := s.ListUsers(ctx)
			if err != nil {
				if !reflect.DeepEqual(before, after) {
					t.Errorf("a failed CreateUser changed the store: %v, then %v", before, after)
				}
				return
			}
			if u.ID != tt.wantID {
				t.Errorf("ID %q, want %q", u.ID, tt.wantID)
			}
			got, err := s.UserByID(ctx, tt.wantID)
			if err != nil || got.Email != tt.user.Email {
				t.Errorf("UserByID(%q) = %v, %v", tt.wantID, got, err)
			}
			if len(after) != len(before)+1 {
				t.Errorf("%d users, want %d", len(after), len(before)+1)
			}
		})
	}
}

func TestMemoryStoreUpdateUser(t *testing.T) {
	ctx := context.Background()
	errVeto := errors.New("veto")
	tests := []struct {
		name      string
		id        string
		update    func(u *User) error
		wantErr   error
		wantEmail string // the user's email afterwards; "" if unchanged
	}{
		{name: "change fields", id: "1", update: func(u *User) error { u.Active = false; u.LoginCount = 9; u.Roles = append(u.Roles, "x"); return nil }},
		{name: "change email", id: "1", update: func(u *User) error { u.Email = "new@example.com"; return nil }, wantEmail: "new@example.com"},
		{name: "change case of email", id: "1", update: func(u *User) error { u.Email = "A@EXAMPLE.COM"; return nil }, wantEmail: "A@EXAMPLE.COM"},
		{name: "update fails", id: "1", update: func(u *User) error { u.Email = "new@example.com"; u.Active = false; return errVeto }, wantErr: errVeto},
		{name: "ID changed", id: "1", update: func(u *User) error { u.ID = "9"; u.Active = false; return nil }, wantErr: ErrIDChanged},
		{name: "email taken", id: "1", update: func(u *User) error { u.Email = "B@example.com"; u.Active = false; return nil }, wantErr: ErrDuplicateEmail},
		{name: "unknown user", id: "404", update: func(u *User) error { return errors.New("update called for an unknown user") }, wantErr: ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memoryStoreWith(t, "1", "a@example.com", "2", "b@example.com")
			before, _ := s.ListUsers(ctx)
			var seen *User
			err := s.UpdateUser(ctx, tt.id, func(u *User) error { seen = u; return tt.update(u) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("UpdateUser error %v, want %v", err, tt.wantErr)
			}
			after, _ := s.ListUsers(ctx)
			if err != nil {
				if !reflect.DeepEqual(before, after) {
					t.Errorf("a failed update changed the store:\n%v\n%v", before, after)
				}
				if _, err := s.UserByEmail(ctx, "a@example.com"); err != nil {
					t.Errorf("old email lost after a failed update: %v", err)
				}
				return
			}
			got, _ := s.UserByID(ctx, "1")
			if !reflect.DeepEqual(got, seen) {
				t.Errorf("stored %+v, update left %+v", got, seen)
			}
			if tt.wantEmail != "" {
				if u, err := s.UserByEmail(ctx, tt.wantEmail); err != nil || u.ID != "1" {
					t.Errorf("UserByEmail(new) = %v, %v", u, err)
				}
				if !strings.EqualFold(tt.wantEmail, "a@example.com") {
					if _, err := s.UserByEmail(ctx, "a@example.com"); !errors.Is(err, ErrUserNotFound) {
						t.Errorf("the old email still finds the user: %v", err)
					}
				}
			}
			if u, _ := s.UserByID(ctx, "2"); u.Email != "b@example.com" {
				t.Errorf("the other user changed: %+v", u)
			}
		})
	}
}

// TestMemoryStoreCopiesWhatItIsHanded changes every user the store was
// handed, and expects the store not to see it.
func TestMemoryStoreCopiesWhatItIsHanded(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(t *testing.T, s *MemoryStore)
	}{
		{name: "UpdateUser argument kept", mutate: func(t *testing.T, s *MemoryStore) {
			var kept *User
			if err := s.UpdateUser(ctx, "1", func(u *User) error { kept = u; return nil }); err != nil {
				t.Fatal(err)
			}
			kept.Active, kept.Roles[0] = false, "admin"
		}},
		{name: "UpdateUser argument after failure", mutate: func(t *testing.T, s *MemoryStore) {
			_ = s.UpdateUser(ctx, "1", func(u *User) error {
				u.Active, u.Roles[0] = false, "admin"
				return errors.New("no")
			})
		}},
		{name: "UpdateUser argument is not the user handed out", mutate: func(t *testing.T, s *MemoryStore) {
			out, _ := s.UserByID(ctx, "1")
			_ = s.UpdateUser(ctx, "1", func(u *User) error {
				if u == out || &u.Roles[0] == &out.Roles[0] {
					t.Error("update was called with the user the store hands out")
				}
				return errors.New("no")
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memoryStoreWith(t, "1", "a@example.com")
			tt.mutate(t, s)
			u, _ := s.UserByID(ctx, "1")
			if !u.Active || !slices.Equal(u.Roles, []string{"r"}) {
				t.Errorf("the store's user changed: %+v", u)
			}
		})
	}

	t.Run("CreateUser argument", func(t *testing.T) {
		s := NewMemoryStore()
		u := &User{Email: "a@example.com", Active: true, Roles: []string{"r"}}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.Active, u.Roles[0], u.Email = false, "admin", "z@example.com"
		got, err := s.UserByEmail(ctx, "a@example.com")
		if err != nil || !got.Active || got.Roles[0] != "r" {
			t.Errorf("the store's user changed with the caller's: %+v, %v", got, err)
		}
	})
}

// TestMemoryStoreUsersStayAsReturned documents the read-only rule of
// UserStore: lookups hand out the stored user itself, without a copy, and a
// later write stores a new value, so a user once returned never changes.
func TestMemoryStoreUsersStayAsReturned(t *testing.T) {
	ctx := context.Background()
	s := memoryStoreWith(t, "1", "a@example.com")
	byID, _ := s.UserByID(ctx, "1")
	if again, _ := s.UserByID(ctx, "1"); again != byID {
		t.Error("UserByID returned a new copy; want the stored user, shared")
	}
	byEmail, _ := s.UserByEmail(ctx, "a@example.com")
	byUniq, _ := s.UserByUniquifier(ctx, byID.Uniquifier)
	listed, _ := s.ListUsers(ctx)
	want := byID.Clone()

	err := s.UpdateUser(ctx, "1", func(u *User) error {
		u.Active, u.Roles[0], u.Email, u.LoginCount = false, "admin", "z@example.com", 9
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]*User{"UserByID": byID, "UserByEmail": byEmail, "UserByUniquifier": byUniq, "ListUsers": listed[0]} {
		if u.Active != want.Active || !slices.Equal(u.Roles, want.Roles) || u.Email != want.Email || u.LoginCount != want.LoginCount {
			t.Errorf("%s: the user returned before the update changed: %+v", name, u)
		}
	}
	if u, _ := s.UserByID(ctx, "1"); u == byID || u.Email != "z@example.com" || u.Roles[0] != "admin" {
		t.Errorf("after the update UserByID = %+v; want the new value", u)
	}
}

func TestMemoryStoreListUsers(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{name: "empty", ids: nil, want: []string{}},
		{name: "numeric order", ids: []string{"10", "2", "1"}, want: []string{"1", "2", "10"}},
		{name: "numbers first", ids: []string{"b", "10", "a", "9"}, want: []string{"9", "10", "a", "b"}},
		{name: "bytewise", ids: []string{"b", "B", "a-1", "a"}, want: []string{"B", "a", "a-1", "b"}},
		{name: "leading zeros", ids: []string{"010", "9"}, want: []string{"9", "010"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewMemoryStore()
			for i, id := range tt.ids {
				if err := s.CreateUser(context.Background(), &User{ID: id, Email: fmt.Sprintf("%d@example.com", i)}); err != nil {
					t.Fatal(err)
				}
			}
			users, err := s.ListUsers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, u := range users {
				got = append(got, u.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("IDs %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMemoryStoreConcurrentUpdates runs with -race: concurrent updates of
// one user lose nothing, while readers read.
func TestMemoryStoreConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := memoryStoreWith(t, "1", "a@example.com", "2", "b@example.com")
	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range perWorker {
				err := s.UpdateUser(ctx, "1", func(u *User) error {
					u.LoginCount++
					u.Roles = append(u.Roles, fmt.Sprint(w))
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range perWorker {
				u, err := s.UserByEmail(ctx, "A@example.com")
				if err != nil {
					t.Error(err)
					return
				}
				// Shared and read-only: reading it must not race with
				// the updates.
				if u.LoginCount < 0 || len(u.Roles) < 1 || u.Roles[len(u.Roles)-1] == "" {
					t.Errorf("read %+v", u)
					return
				}
				if _, err := s.ListUsers(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	u, _ := s.UserByID(ctx, "1")
	if u.LoginCount != workers*perWorker || len(u.Roles) != 1+workers*perWorker {
		t.Errorf("LoginCount %d, %d roles; want %d and %d", u.LoginCount, len(u.Roles), workers*perWorker, 1+workers*perWorker)
	}
}

// TestConcurrentLogins runs with -race: logins of one user through a
// Manager all count.
func TestConcurrentLogins(t *testing.T) {
	m, store := newSeeded(t, Config{})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Login(context.Background(), "user@example.com", "user-password", fmt.Sprintf("192.0.2.%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	u, _ := store.UserByID(context.Background(), idUser)
	if u.LoginCount != n {
		t.Errorf("LoginCount %d, want %d", u.LoginCount, n)
	}
}

// TestMemoryStoreUserByUniquifier checks the lookup Tokens relies on, in
// the store the tests use.
func TestMemoryStoreUserByUniquifier(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	for _, u := range []*User{
		{ID: "1", Email: "a@example.com", Uniquifier: "u1"},
		{ID: "2", Email: "b@example.com", Uniquifier: "u2"},
		{ID: "3", Email: "c@example.com"},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	want := func(uniq, id string) {
		t.Helper()
		u, err := s.UserByUniquifier(ctx, uniq)
		if id == "" {
			if !errors.Is(err, ErrUserNotFound) {
				t.Errorf("UserByUniquifier(%q) = %v, %v; want ErrUserNotFound", uniq, u, err)
			}
			return
		}
		if err != nil || u.ID != id {
			t.Errorf("UserByUniquifier(%q) = %v, %v; want user %s", uniq, u, err, id)
		}
	}
	want("u1", "1")
	want("u2", "2")
	want("", "")
	want("U1", "")
	want("nope", "")

	// Rotation moves the index; a failed update leaves it alone.
	s.UpdateUser(ctx, "1", func(u *User) error { u.Uniquifier = "u1b"; return nil })
	want("u1", "")
	want("u1b", "1")
	s.UpdateUser(ctx, "1", func(u *User) error { u.Uniquifier = "u1c"; return errors.New("no") })
	want("u1b", "1")
	want("u1c", "")
	s.UpdateUser(ctx, "2", func(u *User) error { u.Email = "a@example.com"; u.Uniquifier = "u2b"; return nil }) // duplicate email: refused
	want("u2", "2")
	want("u2b", "")

	// A uniquifier two users hold names neither of them.
	s.UpdateUser(ctx, "3", func(u *User) error { u.Uniquifier = "u2"; return nil })
	if u, err := s.UserByUniquifier(ctx, "u2"); err == nil || errors.Is(err, ErrUserNotFound) {
		t.Errorf("UserByUniquifier(shared) = %v, %v; want an error other than ErrUserNotFound", u, err)
	}
	s.UpdateUser(ctx, "3", func(u *User) error { u.Uniquifier = ""; return nil })
	want("u2", "2")

	// The stored user, shared (see TestMemoryStoreUsersStayAsReturned).
	u, _ := s.UserByUniquifier(ctx, "u2")
	if v, _ := s.UserByID(ctx, "2"); v != u {
		t.Error("UserByUniquifier returned a copy; want the stored user")
	}
}
