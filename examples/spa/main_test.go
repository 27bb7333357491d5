package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-api", "http://127.0.0.1:9"}, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `content="http://127.0.0.1:9"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src http://127.0.0.1:9;") {
		t.Errorf("GET /: %s, CSP %q\n%s", resp.Status, resp.Header.Get("Content-Security-Policy"), body)
	}
	_, port, _ := strings.Cut(addr, ":")
	if want := "-cors-origin http://localhost:" + port; !strings.Contains(stderr.String(), want) {
		t.Errorf("the log %q does not say %q", stderr.String(), want)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // "" for none
	}{
		{args: []string{"-h"}},
		{args: []string{"-api", "http://127.0.0.1:8080/"}, wantErr: "write it as a browser sends it, http://127.0.0.1:8080"},
		{args: []string{"-api", "*"}, wantErr: "wildcard"},
		{args: []string{"-no-such-flag"}, wantErr: "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr syncBuffer
			err := run(context.Background(), tt.args, &stderr, nil)
			if tt.wantErr == "" {
				if err != nil || !strings.Contains(stderr.String(), "-api") {
					t.Errorf("run = %v, usage %q; want no error and the usage", err, stderr.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("run = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}
