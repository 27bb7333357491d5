package weborigin

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // "" for valid; else a part of the message
	}{
		{in: "http://localhost:5173"},
		{in: "https://app.example.com"},
		{in: "http://127.0.0.1:8080"},
		{in: "http://[::1]:3000"},
		{in: "https://[2001:db8::1]"},
		{in: "http://localhost:5173/", wantErr: "write it as a browser sends it, http://localhost:5173"},
		{in: "http://Localhost:5173", wantErr: "http://localhost:5173"},
		{in: "HTTP://localhost", wantErr: "http://localhost"},
		{in: "http://example.com:80", wantErr: "http://example.com"},
		{in: "https://example.com:443", wantErr: "https://example.com"},
		{in: "http://localhost:5173/app", wantErr: "without a path"},
		{in: "http://localhost:5173?x=1", wantErr: "without a path"},
		{in: "http://localhost:5173#top", wantErr: "without a path"},
		{in: "http://user@localhost:5173", wantErr: "without a path, query or user"},
		{in: "*", wantErr: "wildcard"},
		{in: "https://*.example.com", wantErr: "wildcard"},
		{in: "null", wantErr: "want http:// or https://"},
		{in: "", wantErr: "want http:// or https://"},
		{in: "localhost:5173", wantErr: "want http:// or https://"},
		{in: "ftp://example.com", wantErr: "want http:// or https://"},
		{in: "http://", wantErr: "want http:// or https://"},
		{in: "http://:8080", wantErr: "no host"},
		{in: "http://localhost:0", wantErr: "port"},
		{in: "http://localhost:65536", wantErr: "port"},
		{in: "http://localhost:08080", wantErr: "port"},
		{in: "http://localhost:http", wantErr: "want http:// or https://"},
		{in: `http://x"onload="y`, wantErr: "the host must be"},
		{in: "http://exa mple.com", wantErr: "want http:// or https://"},
		{in: "http://bücher.example", wantErr: "the host must be"},
		{in: "http://xn--bcher-kva.example"},
		{in: "http://[fe80::1%25eth0]:80", wantErr: "the host must be"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.in {
					t.Fatalf("Parse(%q) = %q, %v; want it back", tt.in, got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrNotOrigin) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q): %v, want ErrNotOrigin saying %q", tt.in, err, tt.wantErr)
			}
		})
	}
}
