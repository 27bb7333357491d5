package userkey

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCompareIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{a: "1", b: "2", want: -1},
		{a: "2", b: "10", want: -1},
		{a: "10", b: "2", want: 1},
		{a: "10", b: "9", want: 1},
		{a: "7", b: "7", want: 0},
		{a: "9", b: "a", want: -1},
		{a: "10", b: "a", want: -1},
		{a: "a", b: "9", want: 1},
		{a: "a", b: "b", want: -1},
		{a: "-1", b: "1", want: 1},
		{a: "18446744073709551615", b: "18446744073709551616", want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := CompareIDs(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareIDs(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{a: "Alice@Example.com", b: "alice@example.COM", same: true},
		{a: "K", b: "\u212a", same: true},
		{a: "ſ", b: "S", same: true},
		{a: "ı@x", b: "i@x", same: false},
		{a: "İ@x", b: "i@x", same: false},
		{a: "a@x", b: "b@x", same: false},
	}
	for _, tt := range tests {
		if got := Email(tt.a) == Email(tt.b); got != tt.same {
			t.Errorf("Email(%q) == Email(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// FuzzEmail checks that email keys are equal exactly when
// strings.EqualFold says the emails are.
func FuzzEmail(f *testing.F) {
	seeds := [][2]string{
		{"Alice@Example.com", "alice@example.COM"},
		{"ı@x", "i@x"},
		{"İ@x", "i@x"},
		{"ſ", "S"},
		{"K", "\u212a"},
		{"ß", "ẞ"},
		{"σ", "ς"},
		{"a\xffb", "A\xfeB"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // invalid bytes all become U+FFFD in the key
		}
		if got, want := Email(a) == Email(b), strings.EqualFold(a, b); got != want {
			t.Errorf("Email(%q) == Email(%q) is %v, strings.EqualFold is %v", a, b, got, want)
		}
	})
}
