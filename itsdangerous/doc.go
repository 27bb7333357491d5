// Package itsdangerous reads and writes the tokens of Python itsdangerous'
// URLSafeTimedSerializer, so that a Go service can share signed,
// timestamped tokens with a Python one (Flask, Flask-Security,
// Flask-HTTPAuth) that knows the same secret and salt.
//
// It depends on the standard library only.
//
// # Use
//
// A [Serializer] plays the part of a Python URLSafeTimedSerializer:
//
//	s, err := itsdangerous.New(secret, itsdangerous.Config{Salt: "my-salt"})
//	token, err := s.Encode(map[string]any{"id": 42}) // s.dumps({"id": 42})
//	issued, err := s.Decode(token, &v)               // s.loads(token)
//
// [Config] holds the keyword arguments: its zero value is itsdangerous'
// defaults (HMAC-SHA1, django-concat key derivation, salt "itsdangerous",
// no max_age). [Serializer.EncodeJSON] and [Serializer.DecodeJSON] work on
// the JSON text itself. Codecs that write and read their own payload use
// the low-level steps: [Serializer.Sign] signs a payload as given,
// [Serializer.Unsign] checks a token and returns its still-encoded
// payload segment, and [Serializer.AppendPayload] decodes that segment
// into a caller's buffer. Verifying that way allocates nothing. [Inspect]
// decodes a token without any key, for debugging.
//
// # Token layout
//
//	token     = payload "." timestamp "." signature
//	payload   = b64(json)
//	          | "." b64(zlib(json))    when that is more than one byte shorter
//	timestamp = b64(Unix seconds, big-endian, leading zero bytes dropped)
//	signature = b64(HMAC(key, payload "." timestamp))
//	key       = digest(salt + "signer" + secret)    (DjangoConcat; see KeyDerivation)
//
// where b64 is URL-safe base64 without "=" padding. Verification follows
// itsdangerous' order: the signature, in constant time, against every
// key; then the timestamp and, if Config.MaxAge is set, the age; only then
// the payload. Each failure has its sentinel error: [ErrBadSignature] (and
// [ErrInvalid] for other malformed tokens), [ErrExpired], [ErrBadPayload].
//
// # Differences from Python
//
// Base64 is decoded strictly: padding, characters outside the URL-safe
// alphabet and non-zero unused bits are rejected, where Python's lenient
// decoder ignores them. Every token itsdangerous writes is accepted; some
// altered copies of them that Python would still accept are not.
//
// Keys rotate differently: the key given to [New] signs, and
// Config.OldKeys only verify, newest first. (Python takes a list of
// secret keys, oldest first, and signs with the last.)
//
// Sizes are bounded: tokens by Config.MaxTokenBytes, payloads, also once
// decompressed, by Config.MaxPayloadBytes.
//
// [Serializer.Encode] marshals with encoding/json, which sorts map keys and
// differs from json.dumps in some escapes; the payload reads the same, but
// to reproduce Python's exact bytes pass the JSON text to
// [Serializer.EncodeJSON].
//
// # Compatibility
//
// The package reproduces the test vectors made with itsdangerous 2.1.2
// (testdata/itsdangerous_vectors.json), apart from the strict base64, and
// its tests have the real Python library verify its tokens and make tokens
// for it when python3-itsdangerous is installed. Flask-Security-Too's
// auth tokens are these tokens with SHA1, DjangoConcat and its remember
// salt. Compressed
// tokens verify in both directions, but zlib implementations may produce
// different bytes, so compare them by decoding, not by re-encoding.
package itsdangerous
