package pwned

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// SHA-1("password") is 5BAA6 1E4C9B93F3F0682250B6CF8331B7EE68FD8.
const (
	pwSuffix = "1E4C9B93F3F0682250B6CF8331B7EE68FD8"
	other    = "0018A45C4D1DEF81644B54AB7F969B88D65"
)

func TestHashParts(t *testing.T) {
	tests := []struct {
		password       string
		prefix, suffix string
	}{
		{password: "password", prefix: "5BAA6", suffix: pwSuffix},
		{password: "123456", prefix: "7C4A8", suffix: "D09CA3762AF61E59520943DC26494F8941B"},
		{password: "", prefix: "DA39A", suffix: "3EE5E6B4B0D3255BFEF95601890AFD80709"},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.password), func(t *testing.T) {
			prefix, suffix := hashParts(tc.password)
			if prefix != tc.prefix || suffix != tc.suffix {
				t.Errorf("hashParts = %s, %s; want %s, %s", prefix, suffix, tc.prefix, tc.suffix)
			}
		})
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	if defaultHTTPClient.Timeout != defaultTimeout || defaultTimeout.Seconds() != 5 {
		t.Errorf("default HTTP client timeout %v, want 5s", defaultHTTPClient.Timeout)
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr string // a substring of the error; "" for none
	}{
		{name: "listed", body: other + ":3\r\n" + pwSuffix + ":52256179\r\n", want: 52256179},
		{name: "listed, LF", body: other + ":3\n" + pwSuffix + ":52256179\n", want: 52256179},
		{name: "listed, no final newline", body: other + ":3\r\n" + pwSuffix + ":7", want: 7},
		{name: "absent", body: other + ":3\r\n", want: 0},
		{name: "padding", body: other + ":3\r\n" + pwSuffix + ":0\r\n", want: 0},
		{name: "listed twice takes the largest", body: pwSuffix + ":0\r\n" + pwSuffix + ":9\r\n" + pwSuffix + ":4\r\n", want: 9},
		{name: "leading zeros", body: pwSuffix + ":007\r\n", want: 7},
		{name: "empty lines skipped", body: "\r\n\n" + pwSuffix + ":2\r\n\r\n", want: 2},
		{name: "empty body", body: "", wantErr: "pwned: range response has no entries"},
		{name: "only newlines", body: "\r\n\r\n", wantErr: "no entries"},
		{name: "no colon", body: pwSuffix + "\r\n", wantErr: "pwned: range line 1: no colon"},
		{name: "error names its line", body: other + ":1\r\n\r\n" + other + "\r\n", wantErr: "range line 3: no colon"},
		{name: "short suffix", body: pwSuffix[1:] + ":1\r\n", wantErr: "suffix has 34 characters, want 35"},
		{name: "full hash as suffix", body: "5BAA6" + pwSuffix + ":1\r\n", wantErr: "suffix has 40 characters, want 35"},
		{name: "lowercase hex", body: strings.ToLower(pwSuffix) + ":1\r\n", wantErr: "suffix is not uppercase hex"},
		{name: "non-hex", body: "Z" + pwSuffix[1:] + ":1\r\n", wantErr: "suffix is not uppercase hex"},
		{name: "non-number count", body: pwSuffix + ":12a\r\n", wantErr: "count is not a decimal number"},
		{name: "signed count", body: pwSuffix + ":+1\r\n", wantErr: "count is not a decimal number"},
		{name: "second colon", body: pwSuffix + ":1:2\r\n", wantErr: "count is not a decimal number"},
		{name: "space in count", body: pwSuffix + ": 1\r\n", wantErr: "count is not a decimal number"},
		{name: "CR inside a line", body: pwSuffix + ":1\r\r\n", wantErr: "count is not a decimal number"},
		{name: "empty count", body: pwSuffix + ":\r\n", wantErr: "empty count"},
		{name: "count overflows", body: pwSuffix + ":" + strings.Repeat("9", 30) + "\r\n", wantErr: "count out of range"},
		{name: "malformed after the match", body: pwSuffix + ":1\r\nx\r\n", wantErr: "line 2: no colon"},
		{name: "at the size limit", body: bodyOfSize(maxRangeSize), want: 0},
		{name: "over the size limit", body: bodyOfSize(maxRangeSize + 1), wantErr: "pwned: range response exceeds 1048576 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRange(strings.NewReader(tc.body), pwSuffix)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("parseRange = %d, %v; want %d, nil", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("parseRange = %d, %v; want an error containing %q", got, err, tc.wantErr)
			}
			if got != 0 {
				t.Errorf("parseRange = %d with an error", got)
			}
		})
	}
}

// bodyOfSize is a valid range of exactly n bytes (n >= 38).
func bodyOfSize(n int) string {
	line := other + ":0\n"
	return strings.Repeat(line, n/len(line)) + strings.Repeat("\n", n%len(line))
}

func TestParseRangeReadError(t *testing.T) {
	errBoom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(pwSuffix+":1\r\n"), iotest.ErrReader(errBoom))
	if _, err := parseRange(r, pwSuffix); !errors.Is(err, errBoom) || !strings.HasPrefix(err.Error(), "pwned: reading range: ") {
		t.Fatalf("parseRange: %v; want a read error wrapping %v", err, errBoom)
	}
}

// FuzzParseRange checks parseRange against a plain reading of the
// protocol: never a panic; an error exactly when some non-empty line is
// not "SUFFIX:COUNT"; and otherwise the count returned is one that a line
// of the body gives for suffix (the largest), or 0 when no line lists it.
// Seeds: testdata/fuzz/FuzzParseRange.
func FuzzParseRange(f *testing.F) {
	f.Add([]byte(other+":3\r\n"+pwSuffix+":52256179\r\n"), pwSuffix)
	f.Add([]byte(pwSuffix+":0\n"), pwSuffix)
	f.Add([]byte(pwSuffix+":12a\r\n"), pwSuffix)
	f.Add([]byte("\r\n"), pwSuffix)
	f.Fuzz(func(t *testing.T, body []byte, suffix string) {
		got, err := parseRange(bytes.NewReader(body), suffix)
		if got < 0 {
			t.Fatalf("parseRange = %d", got)
		}
		if err != nil && got != 0 {
			t.Fatalf("parseRange = %d with error %v", got, err)
		}
		if !strings.HasPrefix(errString(err), "pwned: ") && err != nil {
			t.Fatalf("error %q lacks the package prefix", err)
		}

		want, valid, entries := 0, true, 0
		for _, line := range strings.Split(string(body), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line == "" {
				continue
			}
			s, c, ok := strings.Cut(line, ":")
			n, nerr := strconv.ParseUint(c, 10, 63)
			if !ok || len(s) != 35 || strings.Trim(s, "0123456789ABCDEF") != "" || nerr != nil ||
				strings.Trim(c, "0123456789") != "" || n > uint64(^uint(0)>>1) {
				valid = false
				break
			}
			entries++
			if s == suffix && int(n) > want {
				want = int(n)
			}
		}
		valid = valid && entries > 0 && len(body) <= maxRangeSize
		if valid != (err == nil) {
			t.Fatalf("parseRange error %v; the body is valid: %v", err, valid)
		}
		if err != nil {
			return
		}
		if got != want {
			t.Fatalf("parseRange = %d, want %d", got, want)
		}
		if got > 0 && !containsLine(body, suffix, got) {
			t.Fatalf("parseRange = %d, but no line lists %q with that count", got, suffix)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// containsLine reports whether body has a line listing suffix with count,
// written with any number of leading zeros.
func containsLine(body []byte, suffix string, count int) bool {
	for _, line := range bytes.Split(body, []byte("\n")) {
		s, c, ok := bytes.Cut(bytes.TrimSuffix(line, []byte("\r")), []byte(":"))
		if ok && string(s) == suffix {
			if c = bytes.TrimLeft(c, "0"); string(c) == strconv.Itoa(count) {
				return true
			}
		}
	}
	return false
}

// BenchmarkParseRange reads a range of a real response's size, about 800
// padded entries.
func BenchmarkParseRange(b *testing.B) {
	var body []byte
	for i := range 800 {
		body = append(body, strings.Repeat(strconv.Itoa(i%10), 35)...)
		body = append(body, ":"+strconv.Itoa(i)+"\r\n"...)
	}
	body = append(body, pwSuffix+":52256179\r\n"...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := parseRange(bytes.NewReader(body), pwSuffix); err != nil || n != 52256179 {
			b.Fatalf("parseRange = %d, %v", n, err)
		}
	}
}
