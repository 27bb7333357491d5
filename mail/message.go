package mail

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// maxLine is the length past which a header field is folded at a space
// (RFC 5322 section 2.1.1 recommends 78 characters).
const maxLine = 78

// WriteTo writes m to w as an RFC 5322 message, implementing [io.WriterTo]:
// the header fields Date, Message-ID (random, at the domain of From),
// From, To, Subject (Q-encoded when not plain ASCII), MIME-Version and
// Content-Type, then the body. A message without HTML is a single
// text/plain part; one with HTML is multipart/alternative, Text first then
// HTML. Bodies are UTF-8, quoted-printable encoded; every line ends in
// CRLF.
//
// WriteTo validates m first and writes nothing when it is invalid: From
// and To must be plain addresses (see [ValidateAddress]) and From, To and
// Subject must not contain CR or LF. The error then wraps
// [ErrInvalidAddress] or [ErrHeaderInjection]. Mailers with a default
// sender fill in an empty From before calling WriteTo.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	if m == nil {
		return 0, ErrNilMessage
	}
	var b bytes.Buffer
	if err := m.render(&b, time.Now()); err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

// ValidateAddress reports whether addr is a plain address as [Message]
// requires in From and To: it parses with [net/mail.ParseAddress] to
// itself, with no display name, angle brackets, comments or surrounding
// space, and it is ASCII. The error wraps [ErrInvalidAddress], or
// [ErrHeaderInjection] when addr contains CR or LF.
func ValidateAddress(addr string) error {
	return checkAddress("address", addr)
}

// validate checks the header fields of m. From may be empty unless
// requireFrom is set.
func (m *Message) validate(requireFrom bool) error {
	if m == nil {
		return ErrNilMessage
	}
	if err := checkLine("Subject", m.Subject); err != nil {
		return err
	}
	if m.From != "" || requireFrom {
		if err := checkAddress("From", m.From); err != nil {
			return err
		}
	}
	return checkAddress("To", m.To)
}

// checkLine refuses a header field value that contains CR or LF.
func checkLine(field, value string) error {
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("%w: %s", ErrHeaderInjection, field)
	}
	return nil
}

// checkAddress refuses a value that is not a plain ASCII address.
func checkAddress(field, addr string) error {
	if err := checkLine(field, addr); err != nil {
		return err
	}
	if addr == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidAddress, field)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidAddress, field, addr, err)
	}
	if a.Name != "" || a.Address != addr {
		return fmt.Errorf("%w: %s %q is not a plain address", ErrInvalidAddress, field, addr)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: %s %q is not printable ASCII", ErrInvalidAddress, field, addr)
		}
	}
	return nil
}

// render validates m and writes it to b, dated now.
func (m *Message) render(b *bytes.Buffer, now time.Time) error {
	if err := m.validate(true); err != nil {
		return err
	}
	domain := m.From[strings.LastIndexByte(m.From, '@')+1:]
	writeField(b, "Date", now.Format(time.RFC1123Z))
	writeField(b, "Message-ID", "<"+rand.Text()+"@"+domain+">")
	writeField(b, "From", m.From)
	writeField(b, "To", m.To)
	writeField(b, "Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	writeField(b, "MIME-Version", "1.0")

	if m.HTML == "" {
		writeField(b, "Content-Type", "text/plain; charset=utf-8")
		writeField(b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		return writeBody(b, m.Text, true)
	}

	mw := multipart.NewWriter(b)
	writeField(b, "Content-Type", mime.FormatMediaType("multipart/alternative",
		map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range [...]struct{ mediaType, body string }{
		{"text/plain", m.Text},
		{"text/html", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.mediaType + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return fmt.Errorf("mail: %w", err)
		}
		// The CRLF that opens the next boundary ends the part.
		if err := writeBody(w, part.body, false); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// writeField writes one header field, folded before a space wherever the
// line would pass maxLine.
func writeField(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	if value == "" {
		b.WriteString("\r\n")
		return
	}
	n, hasWord := len(name)+1, false
	for _, word := range strings.Split(value, " ") {
		if word != "" && hasWord && n+1+len(word) > maxLine {
			b.WriteString("\r\n")
			n, hasWord = 0, false
		}
		b.WriteString(" ")
		b.WriteString(word)
		n += 1 + len(word)
		hasWord = hasWord || word != ""
	}
	b.WriteString("\r\n")
}

// writeBody writes body quoted-printable encoded. Every line break in body
// (LF, CRLF or CR) becomes CRLF. With terminate, the output ends in a line
// break: a soft one ("=" CRLF, which decodes to nothing) when body does
// not end in one, so that decoding gives back exactly body's text.
func writeBody(w io.Writer, body string, terminate bool) error {
	qw := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qw, body); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := qw.Close(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if terminate && body != "" && !strings.HasSuffix(body, "\n") && !strings.HasSuffix(body, "\r") {
		if _, err := io.WriteString(w, "=\r\n"); err != nil {
			return fmt.Errorf("mail: %w", err)
		}
	}
	return nil
}
