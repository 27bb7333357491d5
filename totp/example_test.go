package totp_test

import (
	"fmt"
	"time"

	"github.com/authkit/auth/totp"
)

func Example() {
	key := []byte("12345678901234567890") // use totp.NewKey()
	var c totp.Config                     // SHA1, 6 digits, 30 s, ±1 period

	uri, _ := c.URI("Example", "alice@example.com", key)
	fmt.Println(uri) // for the QR code the app scans

	at := time.Unix(1111111109, 0)
	code, _ := c.Code(key, at)
	fmt.Println(code)

	// The server, 20 s later, in the next period: still accepted. The
	// counter is kept so that the code cannot be used again.
	counter, ok, _ := c.Validate(key, code, at.Add(20*time.Second))
	fmt.Println(counter, ok)
	// Output:
	// otpauth://totp/Example:alice@example.com?issuer=Example&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
	// 081804
	// 37037036 true
}
