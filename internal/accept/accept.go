// Package accept reads the Accept header as the module's handlers and its
// example server need: whether a client is a browser navigating, which
// gets HTML and redirects, or an API client, which gets JSON.
package accept

import (
	"net/http"
	"strconv"
	"strings"
)

// PrefersHTML reports whether the client is a browser navigating: its
// Accept header rates text/html above application/json (RFC 9110 §12.5.1,
// the most specific matching range deciding). Without Accept, or with
// "*/*" alone, it is an API client.
func PrefersHTML(r *http.Request) bool {
	return Quality(r, "text", "html") > Quality(r, "application", "json")
}

// Quality returns the quality r's Accept header gives the media type
// typ/sub, 1 if there is no Accept header.
func Quality(r *http.Request, typ, sub string) float64 {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return 1
	}
	q, best := 0.0, 0 // best: specificity of the range q came from
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			rng, params, _ := strings.Cut(part, ";")
			t, s, ok := strings.Cut(strings.TrimSpace(rng), "/")
			if !ok {
				continue
			}
			spec := 0
			switch {
			case t == "*" && s == "*":
				spec = 1
			case strings.EqualFold(t, typ) && s == "*":
				spec = 2
			case strings.EqualFold(t, typ) && strings.EqualFold(s, sub):
				spec = 3
			}
			if spec == 0 || spec < best {
				continue
			}
			w := 1.0
			for p := range strings.SplitSeq(params, ";") {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(name), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && f >= 0 && f <= 1 {
						w = f
					} else {
						w = 0
					}
				}
			}
			if spec > best || w > q {
				q, best = w, spec
			}
		}
	}
	return q
}
