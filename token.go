package auth

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- itsdangerous and Flask-Security sign with HMAC-SHA1, which remains sound as a MAC; the default is SHA-256
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Digest names the hash function a [Serializer] uses for key derivation and
// for the HMAC.
type Digest string

// The digests itsdangerous offers.
const (
	SHA1   Digest = "sha1" // itsdangerous' default; what Flask-Security uses
	SHA256 Digest = "sha256"
	SHA512 Digest = "sha512"
)

// KeyDerivation names how a [Serializer] turns a secret and a salt into the
// HMAC key, as itsdangerous' Signer does.
type KeyDerivation string

// The key derivations itsdangerous offers.
const (
	DjangoConcat KeyDerivation = "django-concat" // digest(salt + "signer" + secret); the default
	Concat       KeyDerivation = "concat"        // digest(salt + secret)
	HMACKey      KeyDerivation = "hmac"          // HMAC(secret, salt)
	NoDerivation KeyDerivation = "none"          // the secret itself
)

// Default limits of a [Serializer].
const (
	DefaultMaxTokenBytes   = 4096
	DefaultMaxPayloadBytes = 16 << 10
)

// SerializerConfig holds the optional settings of a [Serializer]. The zero
// value gives itsdangerous' own defaults: SHA-1, django-concat, salt
// "itsdangerous", no maximum age.
type SerializerConfig struct {
	// Salt namespaces the derived key, so a token made for one purpose
	// does not verify for another. Default "itsdangerous". To use an empty
	// salt, set EmptySalt.
	Salt string
	// EmptySalt makes an empty Salt mean the empty salt rather than the default.
	EmptySalt bool
	// Digest is the hash function. Default SHA1.
	Digest Digest
	// KeyDerivation is how the HMAC key is derived. Default DjangoConcat.
	KeyDerivation KeyDerivation
	// OldKeys are retired secrets that still verify tokens but never sign
	// them, newest first. The signing key is always tried first.
	OldKeys [][]byte
	// MaxAge rejects tokens older than this with [ErrExpiredToken], and
	// tokens stamped in the future. Ages are counted in whole seconds, as
	// itsdangerous does: a token exactly MaxAge old is still valid. Zero
	// means no age check at all (itsdangerous' loads without max_age).
	MaxAge time.Duration
	// MaxTokenBytes rejects longer tokens before any work is done.
	// Default DefaultMaxTokenBytes.
	MaxTokenBytes int
	// MaxPayloadBytes bounds the decoded (and decompressed) payload.
	// Default DefaultMaxPayloadBytes.
	MaxPayloadBytes int
}

// Serializer signs and verifies timestamped tokens in the format of Python
// itsdangerous' URLSafeTimedSerializer:
//
//	base64url(json) "." base64url(unix seconds, big-endian) "." base64url(HMAC)
//
// with no base64 padding, and the JSON zlib-compressed (and the token
// prefixed with ".") when that makes it more than one byte shorter. A
// Serializer is immutable and safe for concurrent use.
//
// Unlike itsdangerous, base64 is decoded strictly: padding, characters
// outside the URL-safe alphabet and non-zero unused bits are rejected.
type Serializer struct {
	signers     []*signer // signers[0] signs; all verify, in order
	maxAge      int64     // seconds; < 0 means no check
	maxToken    int
	maxPayload  int
	sigLen      int // encoded length of a signature
	now         func() time.Time
	zlibWriters sync.Pool
}

// signer holds the pre-keyed HMAC states of one secret.
type signer struct {
	pool sync.Pool // of *macState
}

// macState is a keyed HMAC reused across tokens, with scratch space so that
// verifying allocates nothing.
type macState struct {
	h      hash.Hash
	buf    []byte   // the signed bytes, copied so the string need not be converted
	claims []byte   // a Manager payload being issued
	sigIn  []byte   // the encoded signature from the token, copied likewise
	sum    [64]byte // the computed MAC
	sig    [64]byte // the decoded signature from the token
}

var b64 = base64.RawURLEncoding.Strict()

// NewSerializer returns a Serializer that signs with key and verifies with
// key and cfg.OldKeys.
func NewSerializer(key []byte, cfg SerializerConfig) (*Serializer, error) {
	newHash, err := digestFunc(cfg.Digest)
	if err != nil {
		return nil, err
	}
	salt := cfg.Salt
	if salt == "" && !cfg.EmptySalt {
		salt = "itsdangerous"
	}
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("auth: negative MaxAge %v", cfg.MaxAge)
	}
	s := &Serializer{
		maxAge:     -1,
		maxToken:   orDefault(cfg.MaxTokenBytes, DefaultMaxTokenBytes),
		maxPayload: orDefault(cfg.MaxPayloadBytes, DefaultMaxPayloadBytes),
		sigLen:     b64.EncodedLen(newHash().Size()),
		now:        time.Now,
	}
	if cfg.MaxAge > 0 {
		s.maxAge = int64(cfg.MaxAge / time.Second)
	}
	for _, secret := range append([][]byte{key}, cfg.OldKeys...) {
		derived, err := deriveKey(newHash, cfg.KeyDerivation, secret, []byte(salt))
		if err != nil {
			return nil, err
		}
		s.signers = append(s.signers, newSigner(newHash, derived))
	}
	return s, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func digestFunc(d Digest) (func() hash.Hash, error) {
	switch d {
	case SHA1, "":
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("auth: unknown digest %q (want sha1, sha256 or sha512)", string(d))
}

func deriveKey(newHash func() hash.Hash, kd KeyDerivation, secret, salt []byte) ([]byte, error) {
	switch kd {
	case DjangoConcat, "":
		h := newHash()
		h.Write(salt)
		h.Write([]byte("signer"))
		h.Write(secret)
		return h.Sum(nil), nil
	case Concat:
		h := newHash()
		h.Write(salt)
		h.Write(secret)
		return h.Sum(nil), nil
	case HMACKey:
		h := hmac.New(newHash, secret)
		h.Write(salt)
		return h.Sum(nil), nil
	case NoDerivation:
		return bytes.Clone(secret), nil
	}
	return nil, fmt.Errorf("auth: unknown key derivation %q (want django-concat, concat, hmac or none)", string(kd))
}

func newSigner(newHash func() hash.Hash, key []byte) *signer {
	sg := &signer{}
	sg.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	return sg
}

// mac computes the MAC of signed into st.sum and returns it.
func (st *macState) mac(signed string) []byte {
	st.buf = append(st.buf[:0], signed...)
	st.h.Reset()
	st.h.Write(st.buf)
	return st.h.Sum(st.sum[:0])
}

// Encode marshals v as compact JSON (encoding/json, without HTML escaping)
// and returns a token for it stamped with the current time.
func (s *Serializer) Encode(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("auth: encoding token payload: %w", err)
	}
	return s.EncodeJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// EncodeJSON returns a token for the given JSON text, byte for byte, stamped
// with the current time. Use it to reproduce a payload exactly as Python's
// json.dumps wrote it (key order, escapes).
func (s *Serializer) EncodeJSON(payload []byte) (string, error) {
	if !json.Valid(payload) {
		return "", errors.New("auth: token payload is not valid JSON")
	}
	if len(payload) > s.maxPayload {
		return "", fmt.Errorf("auth: token payload of %d bytes exceeds the limit of %d", len(payload), s.maxPayload)
	}
	return s.encode(payload, s.now().Unix(), true), nil
}

// encode builds the token. With tryCompress it compresses as itsdangerous
// does; the Manager skips that for its own short, random payloads.
func (s *Serializer) encode(payload []byte, unix int64, tryCompress bool) string {
	body, compressed := payload, false
	if tryCompress {
		if z := s.deflate(payload); len(z) < len(payload)-1 {
			body, compressed = z, true
		}
	}
	st := s.signers[0].pool.Get().(*macState)
	defer s.signers[0].pool.Put(st)
	return st.sign(body, compressed, unix)
}

// encodeClaims is encode for the Manager's own [id, uniquifier] payload,
// built in the pooled scratch space: issuing allocates only the token.
func (s *Serializer) encodeClaims(id, uniq string, unix int64) string {
	st := s.signers[0].pool.Get().(*macState)
	defer s.signers[0].pool.Put(st)
	st.claims = appendClaims(st.claims[:0], id, uniq)
	return st.sign(st.claims, false, unix)
}

// sign builds the token of an (already compressed, if marked) payload in
// st's scratch space, signs it, and returns it as a new string.
func (st *macState) sign(body []byte, compressed bool, unix int64) string {
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(unix)) // #nosec G115 -- the bit pattern is what is encoded; decodeTimestamp rejects values above MaxInt64
	tsBytes := bytes.TrimLeft(ts[:], "\x00")
	out := st.buf[:0]
	if compressed {
		out = append(out, '.')
	}
	out = b64.AppendEncode(out, body)
	out = append(out, '.')
	out = b64.AppendEncode(out, tsBytes)
	st.h.Reset()
	st.h.Write(out)
	sum := st.h.Sum(st.sum[:0])
	out = append(out, '.')
	out = b64.AppendEncode(out, sum)
	st.buf = out
	return string(out)
}

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

// Decode verifies token and unmarshals its JSON payload into v with
// encoding/json. It returns the time the token was issued.
func (s *Serializer) Decode(token string, v any) (time.Time, error) {
	payload, issued, err := s.DecodeJSON(token)
	if err != nil {
		return issued, err
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return issued, fmt.Errorf("%w: %v", ErrTokenPayload, err)
	}
	return issued, nil
}

// DecodeJSON verifies token and returns its JSON payload and the time it was
// issued. The checks run in itsdangerous' order: the signature first, in
// constant time, against every key; then the timestamp and age; only then
// is the payload decoded. A bad signature wraps [ErrInvalidToken], an old
// token [ErrExpiredToken], a bad payload [ErrTokenPayload].
func (s *Serializer) DecodeJSON(token string) ([]byte, time.Time, error) {
	payloadSeg, unix, err := s.verify(token)
	if err != nil {
		return nil, time.Time{}, err
	}
	issued := time.Unix(unix, 0)
	payload, err := s.decodePayload(payloadSeg)
	if err != nil {
		return nil, issued, err
	}
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return nil, issued, fmt.Errorf("%w: not valid JSON", ErrTokenPayload)
	}
	return payload, issued, nil
}

// errBadSignature is preallocated: rejecting a forged token should cost
// no more than checking a good one.
var errBadSignature = &wrapError{msg: "auth: invalid token: signature does not match", parent: ErrInvalidToken}

// Verify checks token's signature and age without decoding its payload,
// and returns the time it was issued. It allocates nothing.
func (s *Serializer) Verify(token string) (time.Time, error) {
	_, unix, err := s.verify(token)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(unix, 0), nil
}

// verify checks the token's signature and age and returns its payload
// segment (still encoded) and timestamp. It allocates nothing.
func (s *Serializer) verify(token string) (string, int64, error) {
	if len(token) > s.maxToken {
		return "", 0, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, s.maxToken)
	}
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return "", 0, errBadSignature
	}
	signed, sig := token[:dot], token[dot+1:]
	if !s.checkSignature(signed, sig) {
		return "", 0, errBadSignature
	}
	dot = strings.LastIndexByte(signed, '.')
	if dot < 0 {
		return "", 0, fmt.Errorf("%w: timestamp missing", ErrInvalidToken)
	}
	payloadSeg, tsSeg := signed[:dot], signed[dot+1:]
	unix, ok := decodeTimestamp(tsSeg)
	if !ok {
		return "", 0, fmt.Errorf("%w: malformed timestamp", ErrInvalidToken)
	}
	if s.maxAge >= 0 {
		age := s.now().Unix() - unix
		if age < 0 {
			return "", 0, futureTokenError{}
		}
		if age > s.maxAge {
			return "", 0, fmt.Errorf("%w: %d s old, max age %d s", ErrExpiredToken, age, s.maxAge)
		}
	}
	return payloadSeg, unix, nil
}

// checkSignature reports whether sig is a valid signature of signed under
// any of the keys. The comparison is constant-time.
func (s *Serializer) checkSignature(signed, sig string) bool {
	if len(sig) != s.sigLen {
		return false
	}
	for _, sg := range s.signers {
		st := sg.pool.Get().(*macState)
		st.sigIn = append(st.sigIn[:0], sig...)
		n, err := b64.Decode(st.sig[:], st.sigIn)
		ok := err == nil && hmac.Equal(st.mac(signed), st.sig[:n])
		sg.pool.Put(st)
		if ok {
			return true
		}
	}
	return false
}

// decodeTimestamp decodes an itsdangerous timestamp: a big-endian unsigned
// integer of at most 8 bytes, leading zero bytes stripped. Values that do
// not fit an int64 are rejected.
func decodeTimestamp(seg string) (int64, bool) {
	if len(seg) > 11 { // 8 bytes encode to 11 characters
		return 0, false
	}
	var raw [9]byte
	n, err := b64.Decode(raw[:], []byte(seg))
	if err != nil || n > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range raw[:n] {
		v = v<<8 | uint64(c)
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// decodePayload base64-decodes the payload segment and inflates it when it
// is marked as compressed, within the payload size limit.
func (s *Serializer) decodePayload(seg string) ([]byte, error) {
	compressed := strings.HasPrefix(seg, ".")
	if compressed {
		seg = seg[1:]
	}
	if b64.DecodedLen(len(seg)) > s.maxPayload && !compressed {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrTokenPayload, s.maxPayload)
	}
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", ErrTokenPayload)
	}
	if !compressed {
		return raw, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zlib data", ErrTokenPayload)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(s.maxPayload)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zlib data", ErrTokenPayload)
	}
	if len(out) > s.maxPayload {
		return nil, fmt.Errorf("%w: inflates past %d bytes", ErrTokenPayload, s.maxPayload)
	}
	return out, nil
}
