package auth

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authkit/auth/passhash"
)

// BenchmarkAccountEnumeration measures, for each endpoint that takes an
// email from anyone, the median time of a request for a registered email
// and for an unknown one, alternately, with the default password scheme
// (argon2id, 19 MiB), and reports both and their ratio. Run it with
// -benchtime 40x or so: each register request hashes a password.
func BenchmarkAccountEnumeration(b *testing.B) {
	for _, c := range []struct {
		name, path string
		known      func(i int) string
		unknown    func(i int) string
	}{
		{"register", "/register",
			func(int) string { return jsonBody("email", "user@example.com", "password", "a long password") },
			func(i int) string {
				return jsonBody("email", fmt.Sprintf("new-%d-%d@example.com", i, time.Now().UnixNano()), "password", "a long password")
			}},
		{"confirm", "/confirm",
			func(int) string { return jsonBody("email", "unconfirmed@example.com") },
			func(int) string { return jsonBody("email", "nobody@example.com") }},
		{"reset", "/reset",
			func(int) string { return jsonBody("email", "user@example.com") },
			func(int) string { return jsonBody("email", "nobody@example.com") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := newAccountFixture(b, func(cfg *Config) {
				cfg.Password = PasswordConfig{Scheme: passhash.Argon2id, Argon2: passhash.Argon2Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}}
			})
			client := &http.Client{}
			send := func(body string) time.Duration {
				start := time.Now()
				resp, err := client.Post(f.base+c.path, "application/json", strings.NewReader(body))
				took := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", c.path, resp.StatusCode)
				}
				return took
			}
			send(c.known(0)) // warm up
			send(c.unknown(0))
			var known, unknown []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					known = append(known, send(c.known(i)))
					unknown = append(unknown, send(c.unknown(i)))
				} else {
					unknown = append(unknown, send(c.unknown(i)))
					known = append(known, send(c.known(i)))
				}
			}
			b.StopTimer()
			mk, mu := medianDuration(known), medianDuration(unknown)
			b.ReportMetric(float64(mk.Microseconds()), "known-µs")
			b.ReportMetric(float64(mu.Microseconds()), "unknown-µs")
			b.ReportMetric(float64(mk)/float64(mu), "known/unknown")
		})
	}
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
