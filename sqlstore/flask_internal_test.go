package sqlstore

import (
	"testing"
	"time"
)

// TestFlaskTimeScan checks the forms of stored times the FlaskStore reads:
// SQLAlchemy's text on SQLite, with and without a fraction, what drivers
// hand over, and NULL.
func TestFlaskTimeScan(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 30, 45, 123456000, time.UTC)
	tests := []struct {
		name    string
		v       any
		want    time.Time
		wantErr bool
	}{
		{name: "SQLAlchemy text", v: "2024-05-01 12:30:45.123456", want: want},
		{name: "no fraction", v: "2024-05-01 12:30:45", want: want.Truncate(time.Second)},
		{name: "T separator", v: []byte("2024-05-01T12:30:45.123456"), want: want},
		{name: "with zone", v: "2024-05-01T14:30:45.123456+02:00", want: want},
		{name: "driver time in another zone", v: want.In(time.FixedZone("x", 3600)), want: want},
		{name: "NULL", v: nil, want: time.Time{}},
		{name: "garbage", v: "yesterday", wantErr: true},
		{name: "number", v: int64(5), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f flaskTime
			err := f.Scan(tt.v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Scan(%v) error = %v, want error %v", tt.v, err, tt.wantErr)
			}
			if err == nil && (!f.t.Equal(tt.want) || f.t.Location() != time.UTC) {
				t.Errorf("Scan(%v) = %v, want %v in UTC", tt.v, f.t, tt.want)
			}
		})
	}
}

func TestFlaskID(t *testing.T) {
	tests := []struct {
		id   string
		want int64
		ok   bool
	}{
		{id: "7", want: 7, ok: true},
		{id: "2147483647", want: 2147483647, ok: true},
		{id: "07"}, {id: "+7"}, {id: " 7"}, {id: "7a"}, {id: ""}, {id: "99999999999999999999"},
	}
	for _, tt := range tests {
		if n, ok := flaskID(tt.id); n != tt.want && tt.ok || ok != tt.ok {
			t.Errorf("flaskID(%q) = %d, %v; want %d, %v", tt.id, n, ok, tt.want, tt.ok)
		}
	}
}

func TestFlaskSchemaDefaults(t *testing.T) {
	s := FlaskSchema{UserTable: "account", Email: "mail"}.withDefaults()
	if s.UserTable != "account" || s.Email != "mail" || s.RoleTable != "role" || s.RolesUsersTable != "roles_users" ||
		s.FsTokenUniquifier != "fs_token_uniquifier" || s.RoleName != "name" || s.RolesUsersRoleID != "role_id" {
		t.Errorf("withDefaults = %+v", s)
	}
	if got := quoteIdent(`we"ird`); got != `"we""ird"` {
		t.Errorf("quoteIdent = %s", got)
	}
}
