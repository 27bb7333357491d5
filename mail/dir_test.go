package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/authkit/auth/internal/smtptest"
	authmail "github.com/authkit/auth/mail"
)

// emlName is the form of the files Dir writes.
var emlName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[A-Z2-7]{10}\.eml$`)

// readDir returns the names of all files in dir, sorted, failing t if any
// is not an .eml file named as Dir names them or is not mode 0600.
func readDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !emlName.MatchString(e.Name()) {
			t.Errorf("unexpected file %q in %s", e.Name(), dir)
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), perm)
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox", "mail")
	d := authmail.Dir{Path: dir, From: "app@example.com"}
	msgs := []authmail.Message{
		{To: "alice@example.org", Subject: "First", Text: "one https://example.com/confirm/1"},
		{From: "other@example.net", To: "bob@example.org", Subject: "Deuxième é", Text: "two", HTML: "<b>two</b>"},
		{To: "carol@example.org", Subject: "Third", Text: "three\n"},
	}
	for i := range msgs {
		if err := d.Send(context.Background(), &msgs[i]); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %v, want 0700", perm)
	}
	names := readDir(t, dir)
	if len(names) != len(msgs) {
		t.Fatalf("%d files, want %d: %v", len(names), len(msgs), names)
	}
	for i, name := range names {
		want := msgs[i]
		if want.From == "" {
			want.From = d.From
		}
		raw, err := fs.ReadFile(os.DirFS(dir), name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: net/mail: %v", name, err)
		}
		if got := m.Header.Get("From"); got != want.From {
			t.Errorf("%s: From = %q, want %q", name, got, want.From)
		}
		if got := m.Header.Get("To"); got != want.To {
			t.Errorf("%s: To = %q, want %q", name, got, want.To)
		}

		got, err := smtptest.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Subject != want.Subject || got.Text != want.Text || got.HTML != want.HTML {
			t.Errorf("%s (file %d) holds %q %q %q, want %q %q %q", name, i,
				got.Subject, got.Text, got.HTML, want.Subject, want.Text, want.HTML)
		}
	}
}

func TestDirConcurrent(t *testing.T) {
	dir := t.TempDir()
	d := authmail.Dir{Path: dir, From: "app@example.com"}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- d.Send(context.Background(), &authmail.Message{To: "bob@example.org", Subject: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if names := readDir(t, dir); len(names) != n {
		t.Errorf("%d files, want %d", len(names), n)
	}
}

func TestDirRefuses(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	valid := authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "s", Text: "t"}
	tests := []struct {
		name string
		ctx  context.Context
		dir  authmail.Dir
		msg  *authmail.Message
		want error // nil: any error
	}{
		{name: "canceled context", ctx: canceled, msg: &valid, want: context.Canceled},
		{name: "header injection", msg: &authmail.Message{From: "app@example.com", To: "bob@example.org", Subject: "s\r\nBcc: eve@example.net"}, want: authmail.ErrHeaderInjection},
		{name: "no sender", msg: &authmail.Message{To: "bob@example.org"}, want: authmail.ErrInvalidAddress},
		{name: "bad default sender", dir: authmail.Dir{From: "App <app@example.com>"}, msg: &authmail.Message{To: "bob@example.org"}, want: authmail.ErrInvalidAddress},
		{name: "nil message", msg: nil, want: authmail.ErrNilMessage},
		{name: "empty path", dir: authmail.Dir{Path: "-"}, msg: &valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "mail")
			d := tt.dir
			switch d.Path {
			case "":
				d.Path = dir
			case "-":
				d.Path = ""
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := d.Send(ctx, tt.msg)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Send error = %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Send created %s (%v) for a message it refused", dir, err)
			}
		})
	}
}
