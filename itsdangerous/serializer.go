package itsdangerous

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits used when Config leaves them zero.
const (
	defaultMaxTokenBytes   = 4096
	defaultMaxPayloadBytes = 16 << 10
)

// Config holds the optional settings of a [Serializer], the keyword
// arguments of itsdangerous' URLSafeTimedSerializer and of its loads. The
// zero value gives itsdangerous' own defaults: SHA-1, django-concat, salt
// "itsdangerous", no maximum age.
type Config struct {
	// Salt namespaces the derived key, so that a token made for one
	// purpose does not verify for another. Default "itsdangerous", as in
	// Python. To use an empty salt, set EmptySalt.
	Salt string
	// EmptySalt makes an empty Salt mean the empty salt rather than the
	// default. Default false.
	EmptySalt bool
	// Digest is the hash function of the key derivation and the HMAC.
	// Default SHA1.
	Digest Digest
	// KeyDerivation is how the HMAC key is derived from the secret and the
	// salt. Default DjangoConcat.
	KeyDerivation KeyDerivation
	// OldKeys are retired secrets that still verify tokens but never sign
	// them, newest first. The key given to New is always tried first.
	// Default none.
	OldKeys [][]byte
	// MaxAge rejects tokens older than this with [ErrExpired], and tokens
	// stamped in the future. Ages are counted in whole seconds, as
	// itsdangerous does: a token exactly MaxAge old is still valid, and a
	// MaxAge under a second acts as Python's max_age=0. Default 0: no age
	// check at all (itsdangerous' loads without max_age).
	MaxAge time.Duration
	// MaxTokenBytes rejects longer tokens before any other work is done.
	// Default 4096.
	MaxTokenBytes int
	// MaxPayloadBytes bounds the payload a Serializer signs, and the
	// decoded (and decompressed) payload it accepts. Default 16 KiB.
	MaxPayloadBytes int
	// Now is the clock that stamps new tokens and measures ages, as an
	// override of itsdangerous' get_timestamp would. Default time.Now.
	Now func() time.Time
}

// Serializer signs and verifies tokens in the format of Python
// itsdangerous' URLSafeTimedSerializer; see the package documentation.
// A Serializer is immutable and safe for concurrent use.
type Serializer struct {
	signers     []*signer // signers[0] signs; all verify, in order
	maxAge      int64     // seconds; < 0 means no check
	maxToken    int
	maxPayload  int
	sigLen      int // encoded length of a signature
	now         func() time.Time
	zlibWriters sync.Pool
}

var b64 = base64.RawURLEncoding.Strict()

// New returns a Serializer that signs with key and verifies with key and
// cfg.OldKeys. It copies what it keeps of key and cfg. It rejects an
// unknown Digest or KeyDerivation and a negative MaxAge.
func New(key []byte, cfg Config) (*Serializer, error) {
	newHash, err := digestFunc(cfg.Digest)
	if err != nil {
		return nil, err
	}
	salt := cfg.Salt
	if salt == "" && !cfg.EmptySalt {
		salt = "itsdangerous"
	}
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("itsdangerous: negative MaxAge %v", cfg.MaxAge)
	}
	s := &Serializer{
		maxAge:     -1,
		maxToken:   orDefault(cfg.MaxTokenBytes, defaultMaxTokenBytes),
		maxPayload: orDefault(cfg.MaxPayloadBytes, defaultMaxPayloadBytes),
		sigLen:     b64.EncodedLen(newHash().Size()),
		now:        cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
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

// Encode marshals v as compact JSON (encoding/json, without HTML escaping)
// and returns a token for it stamped with the current time: Python's
// dumps(v). Map keys are sorted, as encoding/json does; to reproduce
// Python's key order use [Serializer.EncodeJSON].
func (s *Serializer) Encode(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("itsdangerous: encoding token payload: %w", err)
	}
	return s.EncodeJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// EncodeJSON returns a token for the given JSON text, byte for byte,
// stamped with the current time. Like itsdangerous it compresses the
// payload with zlib when that makes it more than one byte shorter. Use it
// to reproduce a payload exactly as Python's json.dumps wrote it (key
// order, escapes). It refuses text that is not JSON or is longer than
// Config.MaxPayloadBytes.
func (s *Serializer) EncodeJSON(payload []byte) (string, error) {
	if !json.Valid(payload) {
		return "", errors.New("itsdangerous: token payload is not valid JSON")
	}
	if len(payload) > s.maxPayload {
		return "", fmt.Errorf("itsdangerous: token payload of %d bytes exceeds the limit of %d", len(payload), s.maxPayload)
	}
	return s.encode(payload, s.now().Unix(), true), nil
}

// Sign returns a token for payload exactly as given, stamped with the
// current time: never compressed, not checked to be JSON or within
// Config.MaxPayloadBytes. It is for codecs that write their own payload;
// with the pooled scratch space it allocates only the returned string.
func (s *Serializer) Sign(payload []byte) string {
	return s.signAt(payload, false, s.now().Unix())
}

// encode builds the token. With tryCompress it compresses as itsdangerous
// does.
func (s *Serializer) encode(payload []byte, unix int64, tryCompress bool) string {
	body, compressed := payload, false
	if tryCompress {
		if z := s.deflate(payload); len(z) < len(payload)-1 {
			body, compressed = z, true
		}
	}
	return s.signAt(body, compressed, unix)
}

// signAt signs body with the signing key's pooled state. body does not
// escape, so that Sign's caller may keep its payload on the stack.
func (s *Serializer) signAt(body []byte, compressed bool, unix int64) string {
	st := s.signers[0].pool.Get().(*macState)
	defer s.signers[0].pool.Put(st)
	return st.sign(body, compressed, unix)
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

// Decode verifies token and unmarshals its JSON payload into v with
// encoding/json: Python's loads. It returns the time the token was issued.
// Errors are those of [Serializer.DecodeJSON], and [ErrBadPayload] when
// the JSON does not fit v.
func (s *Serializer) Decode(token string, v any) (time.Time, error) {
	payload, issued, err := s.DecodeJSON(token)
	if err != nil {
		return issued, err
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return issued, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return issued, nil
}

// DecodeJSON verifies token and returns its JSON payload and the time it
// was issued. The checks run in itsdangerous' order: the signature first,
// in constant time, against every key; then the timestamp and age; only
// then is the payload decoded. A bad signature gives [ErrBadSignature],
// other malformed tokens [ErrInvalid], an old token [ErrExpired], a bad
// payload [ErrBadPayload] (with the issue time).
func (s *Serializer) DecodeJSON(token string) ([]byte, time.Time, error) {
	seg, issued, err := s.Unsign(token)
	if err != nil {
		return nil, time.Time{}, err
	}
	payload, err := s.AppendPayload(nil, seg)
	if err != nil {
		return nil, issued, err
	}
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return nil, issued, fmt.Errorf("%w: not valid JSON", ErrBadPayload)
	}
	return payload, issued, nil
}

// Verify checks token's signature and age without decoding its payload,
// and returns the time it was issued. Like [Serializer.Unsign] it
// allocates nothing for a good token or a bad signature.
func (s *Serializer) Verify(token string) (time.Time, error) {
	_, issued, err := s.Unsign(token)
	return issued, err
}

// Unsign checks token's signature, in constant time against every key,
// and then its timestamp and age, as itsdangerous' TimestampSigner.unsign
// does. It returns the payload segment still encoded, for
// [Serializer.AppendPayload], and the time the token was issued. It
// allocates nothing, unless it reports an error other than a bad
// signature, which is [ErrBadSignature] itself.
func (s *Serializer) Unsign(token string) (segment string, issued time.Time, err error) {
	if len(token) > s.maxToken {
		return "", time.Time{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, s.maxToken)
	}
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return "", time.Time{}, ErrBadSignature
	}
	signed, sig := token[:dot], token[dot+1:]
	if !s.checkSignature(signed, sig) {
		return "", time.Time{}, ErrBadSignature
	}
	dot = strings.LastIndexByte(signed, '.')
	if dot < 0 {
		return "", time.Time{}, fmt.Errorf("%w: timestamp missing", ErrInvalid)
	}
	segment, tsSeg := signed[:dot], signed[dot+1:]
	unix, ok := decodeTimestamp(tsSeg)
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: malformed timestamp", ErrInvalid)
	}
	if s.maxAge >= 0 {
		age := s.now().Unix() - unix
		if age < 0 {
			return "", time.Time{}, futureError{}
		}
		if age > s.maxAge {
			return "", time.Time{}, fmt.Errorf("%w: %d s old, max age %d s", ErrExpired, age, s.maxAge)
		}
	}
	return segment, time.Unix(unix, 0), nil
}

// checkSignature reports whether sig is a valid signature of signed under
// any of the keys. The comparison is constant-time.
//
// It compares encoded signatures rather than decoding sig: a string of
// sigLen characters that strict base64 decodes to a MAC is the one encoding
// of that MAC, so the encoding of the computed MAC equals sig exactly when
// decoding sig would give the computed MAC, and encoding is the cheaper.
func (s *Serializer) checkSignature(signed, sig string) bool {
	if len(sig) != s.sigLen {
		return false
	}
	for _, sg := range s.signers {
		st := sg.pool.Get().(*macState)
		st.sigIn = append(st.sigIn[:0], sig...)
		ok := hmac.Equal(b64.AppendEncode(st.enc[:0], st.mac(signed)), st.sigIn)
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
