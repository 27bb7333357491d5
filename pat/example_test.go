package pat_test

import (
	"fmt"

	"github.com/authkit/auth/pat"
)

func Example() {
	tok, err := pat.New(pat.DefaultPrefix)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(tok), pat.Check(pat.DefaultPrefix, tok))

	// A token found in a log or a repository is checked without a lookup.
	fmt.Println(pat.Check(pat.DefaultPrefix, "akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0szZ9K"))
	fmt.Println(pat.Check(pat.DefaultPrefix, "akpat_xnho9t1bYZUgvYrffMthZSFiYhlt6p0szZ9k"))
	// Output:
	// 42 <nil>
	// <nil>
	// pat: personal access token checksum does not match
}
