package itsdangerous

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"slices"
	"strings"
)

// AppendPayload decodes a payload segment, as [Serializer.Unsign] returns
// it, and appends the payload to dst: base64 and, when the segment starts
// with "." (itsdangerous' mark of a compressed payload), zlib. The payload
// may be at most Config.MaxPayloadBytes long; anything else gives
// [ErrBadPayload] and dst unchanged. It does not check that the payload is
// JSON. When dst has room and the segment is not compressed, it allocates
// nothing.
func (s *Serializer) AppendPayload(dst []byte, segment string) ([]byte, error) {
	if rest, compressed := strings.CutPrefix(segment, "."); compressed {
		return s.inflate(dst, rest)
	}
	n := b64.DecodedLen(len(segment))
	if n > s.maxPayload {
		return dst, fmt.Errorf("%w: larger than %d bytes", ErrBadPayload, s.maxPayload)
	}
	out := slices.Grow(dst, n)
	m, err := b64.Decode(out[len(dst):len(dst)+n], []byte(segment))
	if err != nil {
		return dst, fmt.Errorf("%w: bad base64", ErrBadPayload)
	}
	return out[:len(dst)+m], nil
}

// inflate base64-decodes and decompresses a compressed payload segment
// (without its leading ".") and appends the result to dst.
func (s *Serializer) inflate(dst []byte, segment string) ([]byte, error) {
	raw, err := b64.DecodeString(segment)
	if err != nil {
		return dst, fmt.Errorf("%w: bad base64", ErrBadPayload)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return dst, fmt.Errorf("%w: bad zlib data", ErrBadPayload)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(s.maxPayload)+1))
	if err != nil {
		return dst, fmt.Errorf("%w: bad zlib data", ErrBadPayload)
	}
	if len(out) > s.maxPayload {
		return dst, fmt.Errorf("%w: inflates past %d bytes", ErrBadPayload, s.maxPayload)
	}
	if dst == nil {
		return out, nil
	}
	return append(dst, out...), nil
}

// deflate compresses p with zlib at the default level, as Python's
// zlib.compress does; the bytes may still differ from CPython's.
func (s *Serializer) deflate(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := s.zlibWriters.Get().(*zlib.Writer)
	if w == nil {
		w = zlib.NewWriter(&buf)
	} else {
		w.Reset(&buf)
	}
	_, _ = w.Write(p) // writes to a bytes.Buffer cannot fail
	_ = w.Close()
	s.zlibWriters.Put(w)
	return buf.Bytes()
}
