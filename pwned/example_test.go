package pwned_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/authkit/auth/pwned"
)

func Example() {
	// A stand-in for api.pwnedpasswords.com. SHA-1("password") is
	// 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8: the client asks for the
	// range 5BAA6 and looks for the other 35 digits in the answer, where
	// the entries with a count of 0 are padding.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/range/5BAA6" {
			_, _ = io.WriteString(w, "1E4C9B93F3F0682250B6CF8331B7EE68FD8:52256179\r\n")
		}
		_, _ = io.WriteString(w, "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n")
	}))
	defer srv.Close()

	// The zero Client asks the real API; here BaseURL points at the
	// stand-in.
	c := &pwned.Client{BaseURL: srv.URL}
	for _, pw := range []string{"password", "a long and unusual passphrase"} {
		breached, err := c.Breached(context.Background(), pw)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q breached: %v\n", pw, breached)
	}
	// Output:
	// "password" breached: true
	// "a long and unusual passphrase" breached: false
}
