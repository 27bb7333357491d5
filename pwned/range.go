package pwned

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

const (
	// prefixLen and suffixLen split the 40 hex digits of a SHA-1 hash.
	prefixLen = 5
	suffixLen = 40 - prefixLen
	// maxRangeSize bounds a range response. Real ones, padded, are
	// around 30 KiB.
	maxRangeSize = 1 << 20
)

// parseRange reads a range response, lines "SUFFIX:COUNT" separated by
// CRLF or LF, and returns the count listed for suffix, 0 if it is not
// listed. Every line is checked: SUFFIX must be 35 uppercase hex digits
// and COUNT a decimal number; empty lines are skipped. A suffix listed
// more than once takes its largest count. A body of more than
// maxRangeSize bytes, a malformed line or a body without any entry is an
// error, which names the line's number and what is wrong with it but not
// its content.
func parseRange(body io.Reader, suffix string) (count int, err error) {
	data, err := io.ReadAll(io.LimitReader(body, maxRangeSize+1))
	if err != nil {
		return 0, fmt.Errorf("pwned: reading range: %w", err)
	}
	if len(data) > maxRangeSize {
		return 0, fmt.Errorf("pwned: range response exceeds %d bytes", maxRangeSize)
	}
	entries := 0
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		s, n, err := parseEntry(line)
		if err != nil {
			return 0, fmt.Errorf("pwned: range line %d: %w", lineNo, err)
		}
		entries++
		if string(s) == suffix && n > count {
			count = n
		}
	}
	if entries == 0 {
		return 0, errors.New("pwned: range response has no entries")
	}
	return count, nil
}

// parseEntry splits one "SUFFIX:COUNT" line and checks both parts.
func parseEntry(line []byte) (suffix []byte, count int, err error) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return nil, 0, errors.New("no colon")
	}
	suffix, digits := line[:i], line[i+1:]
	if len(suffix) != suffixLen {
		return nil, 0, fmt.Errorf("suffix has %d characters, want %d", len(suffix), suffixLen)
	}
	for _, c := range suffix {
		if ('0' > c || c > '9') && ('A' > c || c > 'F') {
			return nil, 0, errors.New("suffix is not uppercase hex")
		}
	}
	if len(digits) == 0 {
		return nil, 0, errors.New("empty count")
	}
	for _, c := range digits {
		if '0' > c || c > '9' {
			return nil, 0, errors.New("count is not a decimal number")
		}
		d := int(c - '0')
		if count > (math.MaxInt-d)/10 {
			return nil, 0, errors.New("count out of range")
		}
		count = count*10 + d
	}
	return suffix, count, nil
}
