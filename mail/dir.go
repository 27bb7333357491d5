package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Dir is a [Mailer] that writes each message, as [Message.WriteTo]
// renders it, to a file of its own in a directory: for development, and
// for tests that read back what was sent. It is safe for concurrent use.
//
// A file is named after the time it was written, in UTC to the
// nanosecond, and a random suffix, as in
// 20261202T004512.123456789Z-Q4MZ7XK2PA.eml, so that the names sort in
// the order the messages were sent. It has mode 0600; the directory is
// created with mode 0700 if it is missing. Each file is written under a
// temporary name starting with a dot and then renamed, so a reader of
// *.eml never sees part of a message.
type Dir struct {
	// Path is the directory. Required.
	Path string
	// From is the sender of messages whose From is empty.
	From string
}

var _ Mailer = Dir{}

// dirTimeFormat names the files; fixed width, so names sort by time.
const dirTimeFormat = "20060102T150405.000000000Z"

// Send writes msg to a new file in d.Path. It returns an error wrapping
// ctx.Err() without writing when ctx is done.
func (d Dir) Send(ctx context.Context, msg *Message) error {
	if msg == nil {
		return ErrNilMessage
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if d.Path == "" {
		return errors.New("mail: Dir.Path is empty")
	}
	m := *msg
	if m.From == "" {
		m.From = d.From
	}
	now := time.Now()
	var b bytes.Buffer
	if err := m.render(&b, now); err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	tmp, err := writeTemp(d.Path, b.Bytes())
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("mail: %w", err)
	}
	name := now.UTC().Format(dirTimeFormat) + "-" + rand.Text()[:10] + ".eml"
	if err := os.Rename(tmp, filepath.Join(d.Path, name)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file of mode 0600 in dir, named with a
// leading dot and no .eml extension, and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".mail-*.tmp")
	if err != nil {
		return "", fmt.Errorf("mail: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("mail: %w", err)
	}
	return f.Name(), nil
}
