package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// Received is a message as the server received it, its MIME structure
// decoded.
type Received struct {
	// From is the envelope sender, the address of MAIL FROM.
	From string
	// To holds the envelope recipients, the addresses of RCPT TO.
	To []string
	// Header holds the message's header fields, as they arrived.
	Header mail.Header
	// Subject is the Subject field, its encoded words decoded.
	Subject string
	// Text is the first text/plain part (or the whole body of a message
	// with no Content-Type), its transfer encoding decoded and its line
	// breaks turned into LF.
	Text string
	// HTML is the first text/html part, decoded as Text is.
	HTML string
	// Raw holds the message exactly as it arrived after DATA.
	Raw []byte
}

// Parse parses a message in RFC 5322 form as the server does: the header,
// then the body's MIME parts (nested multipart included), quoted-printable
// and base64 decoded. It accepts UTF-8 and US-ASCII text only. From and To
// are left empty: they come from the SMTP envelope.
func Parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("smtptest: %w", err)
	}
	r := Received{Header: msg.Header, Raw: raw}
	if r.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("smtptest: Subject: %w", err)
	}
	if err := r.walk(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		return Received{}, err
	}
	return r, nil
}

// maxDepth bounds the nesting of multipart bodies.
const maxDepth = 10

// walk decodes one MIME entity into r.
func (r *Received) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("smtptest: Content-Type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth {
			return errors.New("smtptest: multipart nested too deep")
		}
		if params["boundary"] == "" {
			return fmt.Errorf("smtptest: %s without boundary", mediaType)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("smtptest: %w", err)
			}
			if err := r.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return fmt.Errorf("smtptest: unsupported charset %q", cs)
	}
	switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &stripSpace{r: body})
	case "", "7bit", "8bit":
	default:
		return fmt.Errorf("smtptest: unsupported Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("smtptest: %s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && r.Text == "":
		r.Text = text
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = text
	}
	return nil
}

// stripSpace drops the line breaks and spaces of base64 text.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// LinkIn returns the first URL in body that starts with prefix: the text
// from prefix up to the first space, control character, quote or angle
// bracket, less any trailing sentence punctuation (".,;:!?)"). It fails
// the test when body holds no such URL. It reads text bodies; in HTML,
// entities such as &amp; are left as they are.
func LinkIn(t testing.TB, body, prefix string) string {
	t.Helper()
	i := strings.Index(body, prefix)
	if prefix == "" || i < 0 {
		t.Fatalf("smtptest: no link starting with %q in body:\n%s", prefix, body)
		return ""
	}
	link := body[i:]
	if end := strings.IndexFunc(link, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("\"'<>`", r)
	}); end >= 0 {
		link = link[:end]
	}
	if trimmed := strings.TrimRight(link, ".,;:!?)"); len(trimmed) >= len(prefix) {
		link = trimmed
	}
	return link
}
