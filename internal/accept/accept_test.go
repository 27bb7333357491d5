package accept

import (
	"net/http/httptest"
	"testing"
)

func TestQuality(t *testing.T) {
	tests := []struct {
		accept   []string // nil for no header
		typ, sub string
		want     float64
	}{
		{accept: nil, typ: "text", sub: "html", want: 1},
		{accept: []string{"*/*"}, typ: "application", sub: "json", want: 1},
		{accept: []string{"text/html;q=0.9, */*;q=0.1"}, typ: "text", sub: "html", want: 0.9},
		{accept: []string{"text/html;q=0.9, */*;q=0.1"}, typ: "application", sub: "json", want: 0.1},
		{accept: []string{"text/*;q=0.5", "text/html;q=0.2"}, typ: "text", sub: "html", want: 0.2},
		{accept: []string{"application/json;q=bad"}, typ: "application", sub: "json", want: 0},
		{accept: []string{"image/png"}, typ: "text", sub: "html", want: 0},
		{accept: []string{"TEXT/HTML"}, typ: "text", sub: "html", want: 1},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		for _, v := range tt.accept {
			r.Header.Add("Accept", v)
		}
		if got := Quality(r, tt.typ, tt.sub); got != tt.want {
			t.Errorf("Quality(Accept %q, %s/%s) = %v, want %v", tt.accept, tt.typ, tt.sub, got, tt.want)
		}
	}
}

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{accept: "", want: false},
		{accept: "*/*", want: false},
		{accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", want: true},
		{accept: "application/json", want: false},
		{accept: "application/json;q=0.5, text/html", want: true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := PrefersHTML(r); got != tt.want {
			t.Errorf("PrefersHTML(Accept %q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}
