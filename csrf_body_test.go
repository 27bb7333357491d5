package auth

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// countingBody is a request body of size bytes of filler after a given
// prefix, made as it is read, which counts the bytes read from it.
type countingBody struct {
	prefix []byte
	size   int64 // filler bytes after the prefix
	read   atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	off := b.read.Load()
	total := int64(len(b.prefix)) + b.size
	if off >= total {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, total-off)
	for i := range n {
		if o := off + i; o < int64(len(b.prefix)) {
			p[i] = b.prefix[o]
		} else {
			p[i] = 'x'
		}
	}
	b.read.Add(n)
	return int(n), nil
}

func (b *countingBody) Close() error { return nil }

// multipartBody returns a multipart form with the given fields, in order,
// then a file part whose content is the next bytes a reader supplies, and
// its content type. The closing boundary is left to the caller.
func multipartHead(fields [][2]string, file string) (head []byte, tail []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = w.WriteField(f[0], f[1])
	}
	if file != "" {
		_, _ = w.CreateFormFile(file, file+".bin")
	}
	head = append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	_ = w.Close()
	return head, append([]byte(nil), buf.Bytes()...), w.FormDataContentType()
}

// TestCSRFFormBodyBounded: the CSRF check reads at most MaxBodyBytes of a
// form body, never the whole of a large one, answers 413 when the token is
// not within them, and leaves the body whole for the handler when it is.
func TestCSRFFormBodyBounded(t *testing.T) {
	const site = "http://app.example"
	const max = 16 << 10
	const huge = 200 << 20 // never read: the test would take seconds and 200 MiB if it were
	f := newSessFixture(t, sessKey, Config{MaxBodyBytes: max})
	cookies := f.sessionCookies(t, false)
	tok := sessCSRF(t, f.m, cookies...)

	type result struct {
		status   int
		read     int64  // bytes the check and handler read from the body
		received string // the handler's digest of the body, "" if not reached
	}
	send := func(body *countingBody, contentType string, handlerReads bool) result {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, site+"/upload", nil)
		r.Body = body
		r.ContentLength = int64(len(body.prefix)) + body.size
		r.Header.Set("Content-Type", contentType)
		var received string
		h := f.m.Require(Session)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if handlerReads {
				sum := sha256.New()
				n, _ := io.Copy(sum, r.Body)
				received = fmt.Sprintf("%d:%x", n, sum.Sum(nil))
			} else {
				received = "reached"
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		resp := sessDo(h, r, cookies...)
		return result{resp.StatusCode, body.read.Load(), received}
	}
	digest := func(prefix []byte, size int64) string {
		sum := sha256.New()
		sum.Write(prefix)
		_, _ = io.CopyN(sum, strings.NewReader(strings.Repeat("x", int(size))), size)
		return fmt.Sprintf("%d:%x", int64(len(prefix))+size, sum.Sum(nil))
	}

	t.Run("multipart without a token", func(t *testing.T) {
		head, _, ct := multipartHead([][2]string{{"title", "big"}}, "upload")
		got := send(&countingBody{prefix: head, size: huge}, ct, false)
		if got.status != http.StatusRequestEntityTooLarge || got.received != "" {
			t.Fatalf("status %d, handler %q; want 413 before the handler", got.status, got.received)
		}
		if got.read > max+1 {
			t.Fatalf("read %d bytes of the body; want at most %d", got.read, max+1)
		}
	})
	t.Run("multipart with the token first, then a large file", func(t *testing.T) {
		head, _, ct := multipartHead([][2]string{{CSRFField, tok}}, "upload")
		const size = 1 << 20
		got := send(&countingBody{prefix: head, size: size}, ct, true)
		if got.status != http.StatusNoContent || got.received != digest(head, size) {
			t.Fatalf("status %d, handler got %q; want 204 and the whole body %q", got.status, got.received, digest(head, size))
		}
	})
	t.Run("multipart with a wrong token", func(t *testing.T) {
		head, tail, ct := multipartHead([][2]string{{CSRFField, "wrong"}}, "")
		got := send(&countingBody{prefix: append(head, tail...)}, ct, false)
		if got.status != http.StatusForbidden {
			t.Fatalf("status %d; want 403", got.status)
		}
	})
	t.Run("multipart without a boundary", func(t *testing.T) {
		// Not a form that can carry the token: refused unread.
		got := send(&countingBody{prefix: []byte("--x\r\n"), size: huge}, "multipart/form-data", false)
		if got.status != http.StatusForbidden || got.read != 0 {
			t.Fatalf("status %d after reading %d bytes; want 403 unread", got.status, got.read)
		}
	})
	t.Run("url-encoded without a token", func(t *testing.T) {
		got := send(&countingBody{prefix: []byte("title="), size: huge}, "application/x-www-form-urlencoded", false)
		if got.status != http.StatusRequestEntityTooLarge || got.read > max+1 {
			t.Fatalf("status %d after reading %d bytes; want 413 within %d", got.status, got.read, max+1)
		}
	})
	t.Run("url-encoded with the token first, then a long field", func(t *testing.T) {
		prefix := []byte(CSRFField + "=" + url.QueryEscape(tok) + "&text=")
		const size = 100 << 10
		got := send(&countingBody{prefix: prefix, size: size}, "application/x-www-form-urlencoded", true)
		if got.status != http.StatusNoContent || got.received != digest(prefix, size) {
			t.Fatalf("status %d, handler got %q; want 204 and the whole body", got.status, got.received)
		}
	})
	t.Run("url-encoded token cut by the limit", func(t *testing.T) {
		// The token's pair straddles the limit: it is not taken half-read.
		prefix := []byte("a=" + strings.Repeat("y", max-10) + "&" + CSRFField + "=" + url.QueryEscape(tok))
		got := send(&countingBody{prefix: prefix}, "application/x-www-form-urlencoded", false)
		if got.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d; want 413", got.status)
		}
	})
	t.Run("small url-encoded form, token last", func(t *testing.T) {
		prefix := []byte("title=a+b&" + CSRFField + "=" + url.QueryEscape(tok))
		got := send(&countingBody{prefix: prefix}, "application/x-www-form-urlencoded", true)
		if got.status != http.StatusNoContent || got.received != digest(prefix, 0) {
			t.Fatalf("status %d, handler got %q", got.status, got.received)
		}
	})
}

// TestURLEncodedField covers the url-encoded reader on its own.
func TestURLEncodedField(t *testing.T) {
	for _, tc := range []struct {
		body      string
		truncated bool
		want      string
	}{
		{"csrf_token=abc", false, "abc"},
		{"csrf_token=abc", true, ""},
		{"csrf_token=abc&x", true, "abc"},
		{"a=1&csrf_token=a%2Bb+c&csrf_token=second", false, "a+b c"},
		{"a=%zz&csrf_token=ok", false, "ok"},
		{"csrf_token=%zz&csrf_token=ok", false, "ok"},
		{"csrf%5Ftoken=escaped-name", false, "escaped-name"},
		{"", false, ""},
		{"&&&", false, ""},
	} {
		if got := urlencodedField([]byte(tc.body), tc.truncated, CSRFField); got != tc.want {
			t.Errorf("urlencodedField(%q, %v) = %q; want %q", tc.body, tc.truncated, got, tc.want)
		}
	}
}

// FuzzFormToken: reading the CSRF field of any body under any content type
// never panics, reads at most max+1 bytes before deciding, always leaves
// the handler the whole body unchanged, and answers 413 only for a body
// longer than max whose field it did not find.
func FuzzFormToken(f *testing.F) {
	head, tail, ct := multipartHead([][2]string{{CSRFField, "tok"}, {"a", "b"}}, "file")
	f.Add(ct, append(head, tail...))
	f.Add("application/x-www-form-urlencoded", []byte("a=1&csrf_token=abc%2B+d&b"))
	f.Add("application/x-www-form-urlencoded; charset=utf-8", []byte("csrf_token=%zz&csrf_token=ok"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nv\r\n--x--\r\n"))
	f.Add("multipart/form-data", []byte("--x\r\n"))
	f.Add("text/plain", []byte("csrf_token=x"))
	const max = 64
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		src := &countingBody{prefix: body}
		r := httptest.NewRequest(http.MethodPost, "http://app.example/", nil)
		r.Body = src
		r.Header.Set("Content-Type", contentType)
		token, err := formToken(r, max)
		if read := src.read.Load(); read > max+1 && read > int64(len(body)) {
			t.Fatalf("read %d bytes of a %d-byte body with max %d", read, len(body), max)
		}
		switch {
		case err == nil:
		case err == errBodyTooLarge && len(body) > max && token == "":
		default:
			t.Fatalf("formToken = %q, %v for a %d-byte body", token, err, len(body))
		}
		if len(token) > max {
			t.Fatalf("token of %d bytes from a read of at most %d", len(token), max+1)
		}
		rest, rerr := io.ReadAll(r.Body)
		if rerr != nil || !bytes.Equal(rest, body) {
			t.Fatalf("the handler reads %q (%v); want the body %q", rest, rerr, body)
		}
	})
}
