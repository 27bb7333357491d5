package sqlstore

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		dialect Dialect
		query   string
		want    string
	}{
		{dialect: SQLite, query: "SELECT ? WHERE a = ?", want: "SELECT ? WHERE a = ?"},
		{dialect: Postgres, query: "SELECT ? WHERE a = ?", want: "SELECT $1 WHERE a = $2"},
		{dialect: Postgres, query: "SELECT 'ä' || ?", want: "SELECT 'ä' || $1"},
		{dialect: Postgres, query: "SELECT 1", want: "SELECT 1"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect.String()+" "+tt.query, func(t *testing.T) {
			if got := tt.dialect.rebind(tt.query); got != tt.want {
				t.Errorf("rebind(%q) = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestDialectString(t *testing.T) {
	tests := []struct {
		dialect Dialect
		want    string
	}{
		{dialect: SQLite, want: "sqlite"},
		{dialect: Postgres, want: "postgres"},
		{dialect: 0, want: "Dialect(0)"},
		{dialect: 7, want: "Dialect(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.dialect.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTimes checks that times are written in UTC at microsecond precision,
// zero as NULL, and read back from every form a driver may hand over.
func TestTimes(t *testing.T) {
	zone := time.FixedZone("x", -7*3600)
	local := time.Date(2025, 1, 2, 3, 4, 5, 678901234, zone)
	utc := time.Date(2025, 1, 2, 10, 4, 5, 678901000, time.UTC)
	tests := []struct {
		name    string
		dialect Dialect
		in      time.Time
		stored  any
	}{
		{name: "SQLite", dialect: SQLite, in: local, stored: "2025-01-02T10:04:05.678901Z"},
		{name: "Postgres", dialect: Postgres, in: local, stored: utc},
		{name: "SQLite zero", dialect: SQLite, in: time.Time{}, stored: nil},
		{name: "Postgres zero", dialect: Postgres, in: time.Time{}, stored: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.dialect.timeArg(tt.in)
			if gt, ok := got.(time.Time); ok {
				if st, _ := tt.stored.(time.Time); !gt.Equal(st) || gt.Location() != time.UTC {
					t.Errorf("timeArg = %v, want %v in UTC", gt, st)
				}
			} else if got != tt.stored {
				t.Errorf("timeArg = %#v, want %#v", got, tt.stored)
			}
			var n nullTime
			if err := n.Scan(got); err != nil {
				t.Fatalf("Scan(%#v): %v", got, err)
			}
			want := tt.in.UTC().Truncate(time.Microsecond)
			if !n.t.Equal(want) || n.t.Location() != time.UTC {
				t.Errorf("read back %v, want %v in UTC", n.t, want)
			}
		})
	}
}

func TestNullTimeScanErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{name: "not a time", in: "yesterday"},
		{name: "bytes", in: []byte("2025-13-01T00:00:00Z")},
		{name: "integer", in: int64(1700000000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n nullTime
			err := n.Scan(tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), "sqlstore: ") {
				t.Errorf("Scan(%#v) error = %v, want an sqlstore error", tt.in, err)
			}
		})
	}
}

func TestUniqueRoles(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{name: "none", in: nil, want: nil},
		{name: "empty", in: []string{}, want: nil},
		{name: "order kept", in: []string{"b", "a"}, want: []string{"b", "a"}},
		{name: "repeats dropped", in: []string{"b", "a", "b", "a", "c"}, want: []string{"b", "a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uniqueRoles(tt.in)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || (got == nil) != (tt.want == nil) {
				t.Errorf("uniqueRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSQLiteDSN checks that paths with URI metacharacters open the file of
// that very name. The driver is registered by the external test files of
// the package, which are compiled into the same test binary.
func TestSQLiteDSN(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{name: "plain", file: "auth.db"},
		{name: "space", file: "my auth.db"},
		{name: "question mark", file: "a?b.db"},
		{name: "hash", file: "a#b.db"},
		{name: "percent", file: "100%.db"},
		{name: "ampersand and equals", file: "a&mode=ro.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			db, err := sql.Open("sqlite", SQLiteDSN(path))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := Open(t.Context(), db, SQLite); err != nil {
				t.Fatalf("Open(%q): %v", SQLiteDSN(path), err)
			}
			var mode string
			if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
			if _, err := os.Stat(path); err != nil {
				entries, _ := os.ReadDir(dir)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("no file %q after Open (the directory holds %q): %v", tt.file, names, err)
			}
		})
	}
}

func TestDecodeRoles(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "empty array", in: "[]", want: nil},
		{name: "empty with spaces", in: " [ ] ", want: nil},
		{name: "two", in: `["admin","editor"]`, want: []string{"admin", "editor"}},
		{name: "PostgreSQL's spacing", in: `["admin", "editor"]`, want: []string{"admin", "editor"}},
		{name: "empty name", in: `[""]`, want: []string{""}},
		{name: "escapes", in: `["a\"b","c\\d","\u00fc\n"]`, want: []string{`a"b`, `c\d`, "ü\n"}},
		{name: "HTML escapes", in: `["\u0026\u003c"]`, want: []string{"&<"}},
		{name: "separator inside", in: `["a,b","[c]"]`, want: []string{"a,b", "[c]"}},
		{name: "not JSON", in: "admin", wantErr: true},
		{name: "empty column", in: "", wantErr: true},
		{name: "unterminated", in: `["admin"`, wantErr: true},
		{name: "trailing comma", in: `["admin",]`, wantErr: true},
		{name: "trailing text", in: `["admin"]x`, wantErr: true},
		{name: "not strings", in: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRoles(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeRoles(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("decodeRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzDecodeRoles checks decodeRoles against encoding/json: its fast path
// accepts only what encoding/json reads the same way, and whatever
// encodeRoles writes reads back as it was.
func FuzzDecodeRoles(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b"]`, `[ "a" , "b" ]`, `["a\"b"]`, `["ü","\u00fc"]`, "[\"\xff\"]", `["a",]`, `[`, `""`, `null`, `[0]`, `["a",1]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := decodeRoles(s)
		var want []string
		wantErr := json.Unmarshal([]byte(s), &want) != nil
		if len(want) == 0 {
			want = nil
		}
		// On an error only the verdict counts: encoding/json leaves
		// whatever it had decoded so far.
		if (err != nil) != wantErr || !wantErr && !slices.Equal(got, want) {
			t.Fatalf("decodeRoles(%q) = %q, %v; encoding/json reads %q (error %v)", s, got, err, want, wantErr)
		}
		if !utf8.ValidString(s) {
			return
		}
		enc, err := encodeRoles([]string{s, "x"})
		if err != nil {
			t.Fatal(err)
		}
		if back, err := decodeRoles(enc); err != nil || !slices.Equal(back, []string{s, "x"}) {
			t.Fatalf("decodeRoles(encodeRoles(%q)) = %q, %v", s, back, err)
		}
	})
}
