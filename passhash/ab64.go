package passhash

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ab64Decode decodes passlib's "adapted base64": the standard alphabet
// with '.' for '+', without padding.
func ab64Decode(s string) ([]byte, error) {
	if !allHash64(s) {
		return nil, errors.New("character outside ./0-9A-Za-z")
	}
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

// ab64Encode is the inverse of ab64Decode.
func ab64Encode(b []byte) string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
}

// hash64Alphabet is the alphabet of crypt(3)'s base 64, in its order.
const hash64Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// isHash64Char reports whether c is in the alphabet "./0-9A-Za-z" of
// crypt(3) and passlib's encodings.
func isHash64Char(c byte) bool {
	return c == '.' || c == '/' || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}

func allHash64(s string) bool {
	for _, c := range []byte(s) {
		if !isHash64Char(c) {
			return false
		}
	}
	return true
}

// parseRounds parses a decimal rounds count in [lo, hi] as passlib
// writes it: digits only, no sign, no leading zero.
func parseRounds(s string, lo, hi int) (int, error) {
	if s == "" || len(s) > 10 || (s[0] == '0' && s != "0") {
		return 0, errors.New("rounds")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errors.New("rounds")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.New("rounds out of range " + strconv.Itoa(lo) + ".." + strconv.Itoa(hi))
	}
	return n, nil
}
