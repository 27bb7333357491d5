// Package userkey holds the two rules every store of the module shares:
// how emails are compared and how user IDs are ordered, so that the
// in-memory store and the SQL stores agree without depending on a
// database's collation.
package userkey

import (
	"cmp"
	"strconv"
	"strings"
	"unicode"
)

// Email returns the key under which emails are compared: two emails have
// the same key exactly when strings.EqualFold reports them equal. Each rune
// becomes the smallest rune of its simple-folding orbit;
// ToLower(ToUpper(s)) would also merge orbits EqualFold keeps apart (İ, ı
// and i). A store keeps it in an indexed column and looks emails up by it.
func Email(email string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, email)
}

// CompareIDs orders user IDs as every store lists them: decimal numbers
// numerically and before every other ID, the others bytewise.
func CompareIDs(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}
