package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) *Run {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestParse(t *testing.T) {
	run := parseFile(t, "testdata/sample.txt")
	if got, want := run.Groups(), []string{"Verify", "Issue", "Middleware", "Basic"}; !slices.Equal(got, want) {
		t.Errorf("Groups() = %q, want %q", got, want)
	}
	if got := run.Samples(); got != 6 {
		t.Errorf("Samples() = %d, want 6", got)
	}
	tests := []struct {
		group, name   string
		median        float64
		rangeText     string
		bytes, allocs float64
	}{
		{group: "Verify", name: "floor-hmac-sha256", median: 300, rangeText: "3%", bytes: 0, allocs: 0},
		{group: "Verify", name: "jwt-hs256", median: 6000, rangeText: "2%", bytes: 2704, allocs: 47},
		{group: "Verify", name: "a<b&c", median: 1500, rangeText: "7%", bytes: 10, allocs: 1},
		{group: "Middleware", name: "auth-require-token", median: 1280, rangeText: "1%", bytes: 608, allocs: 4},
		{group: "Basic", name: "go-http-auth", median: 50e6, rangeText: "2%", bytes: 6136, allocs: 21},
	}
	for _, tt := range tests {
		t.Run(tt.group+"/"+tt.name, func(t *testing.T) {
			row, ok := run.Find(tt.group, tt.name)
			if !ok {
				t.Fatal("row missing")
			}
			if row.Time.Median != tt.median || row.Time.Range() != tt.rangeText || row.Time.N != 6 {
				t.Errorf("time = %v ± %s (n=%d), want %v ± %s (n=6)", row.Time.Median, row.Time.Range(), row.Time.N, tt.median, tt.rangeText)
			}
			if !row.HasMem || row.Bytes.Median != tt.bytes || row.Allocs.Median != tt.allocs {
				t.Errorf("mem = %v B, %v allocs (reported %v), want %v, %v", row.Bytes.Median, row.Allocs.Median, row.HasMem, tt.bytes, tt.allocs)
			}
		})
	}
	m := MachineFromConfig(run.Config)
	want := Machine{CPU: "Test CPU 9000 @ 3.00GHz", Cores: 2, GoVersion: "go1.26.8 linux/amd64", Date: "2026-01-02", Command: "go run ./cmd/report -count 6", Load: "0.50 before, 1.20 after"}
	if m != want {
		t.Errorf("machine = %+v, want %+v", m, want)
	}
	if len(run.Warnings) != 0 {
		t.Errorf("warnings %q, want none", run.Warnings)
	}
}

func TestParseFewSamples(t *testing.T) {
	in := "BenchmarkVerify/x-2 100 50 ns/op\nBenchmarkVerify/x-2 100 70 ns/op\n"
	run, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	row := run.Rows[0]
	if row.Time.Median != 60 || row.Time.Range() != "∞" || row.HasMem {
		t.Errorf("row = %+v (range %s), want median 60, range ∞, no memory", row, row.Time.Range())
	}
	if len(run.Warnings) == 0 || !strings.Contains(run.Warnings[0], "samples") {
		t.Errorf("warnings = %q, want one about the number of samples", run.Warnings)
	}
	// go test's own cpu line stands in for the model name.
	if got := MachineFromConfig(map[string]string{"cpu": "AMD EPYC"}).CPU; got != "AMD EPYC" {
		t.Errorf("CPU from go test's line = %q", got)
	}
}

func TestParseNoResults(t *testing.T) {
	for _, in := range []string{"", "PASS\nok  \tx\t0.1s\n", "goos: linux\n"} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	run := parseFile(t, "testdata/sample.txt")
	md, _, err := render(run, "| requests/s |\n| 100 |\n")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, want := range []string{
		"| CPU | Test CPU 9000 @ 3.00GHz |",
		"| cores | 2 |",
		"| Go | go1.26.8 linux/amd64 |",
		"| date | 2026-01-02 |",
		"| load average (1 min) | 0.50 before, 1.20 after |",
		"| samples | 6 per benchmark, go test's default -benchtime (1s) |",
		"This file was made with `go run ./cmd/report -count 6`.",
		"cd bench && go run ./cmd/report",
		"| BenchmarkVerify | ns/op | ± | × floor | B/op | allocs/op |",
		"| `floor-hmac-sha256` | 300.0 | 3% | 1.0× | 0 | 0 |",
		"| `auth-payload` | 600.0 | 3% | 2.0× | 0 | 0 |",
		"| `jwt-hs256` | 6,000 | 2% | 20× | 2,704 | 47 |",
		"| `auth` | 1,000 | 1% | 2.5× | 344 | 6 |",
		"| BenchmarkMiddleware | ns/op | ± | × bare-handler | B/op | allocs/op |",
		"| `bare-handler` | 80.00 | 1% | 1.0× | 48 | 1 |",
		"RequireToken adds 1,200 ns, 560 B and 3 allocations per request over the bare handler.",
		"| `auth-require-basic` | 60,000,000 | 2% | 1.2× | 6,592 | 28 |",
		"RequireBasic takes 60.00 ms per request, go-http-auth 50.00 ms: 1.2× the time",
		"| `a<b&c` | 1,500 | 7% | 5.0× | 10 | 1 |",
		"![Verification medians, ns/op, log scale](chart.svg)",
		"## HTTP throughput (wrk, loopback)\n\n| requests/s |\n| 100 |\n",
		"- `floor-hmac-sha256`: a pre-keyed, reused HMAC-SHA256",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Sections come in the fixed order.
	last := -1
	for _, h := range []string{"## Machine", "## Token verification", "## Token issue", "## Token middleware", "## HTTP Basic", "## HTTP throughput"} {
		i := strings.Index(text, h)
		if i <= last {
			t.Errorf("section %q missing or out of order", h)
		}
		last = i
	}
	if strings.Contains(text, "## Warnings") {
		t.Error("report has warnings for a clean run")
	}

	md, _, err = render(run, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Not measured yet: run `bash wrk.sh`") {
		t.Error("report without wrk.md does not say how to make it")
	}
}

func TestChartIsSVG(t *testing.T) {
	run := parseFile(t, "testdata/sample.txt")
	_, svg, err := render(run, "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(svg, []byte("NaN")) || bytes.Contains(svg, []byte("Inf")) {
		t.Error("chart holds NaN or Inf")
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var (
		root         *xml.StartElement
		texts        []string
		bars, inText int
		depth        int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if root == nil {
				e := el.Copy()
				root = &e
			}
			switch el.Name.Local {
			case "text":
				inText++
				texts = append(texts, "")
			case "rect":
				for _, a := range el.Attr {
					if a.Name.Local == "fill" && (a.Value == colourAuth || a.Value == colourPeer || a.Value == colourFloor) {
						bars++
					}
				}
			}
		case xml.EndElement:
			depth--
			if el.Name.Local == "text" {
				inText--
			}
		case xml.CharData:
			if inText > 0 {
				texts[len(texts)-1] += string(el)
			}
		}
	}
	if root == nil || root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v, want svg in the SVG namespace", root)
	}
	attrs := map[string]string{}
	for _, a := range root.Attr {
		attrs[a.Name.Local] = a.Value
	}
	for _, name := range []string{"width", "height", "viewBox"} {
		if attrs[name] == "" {
			t.Errorf("svg has no %s", name)
		}
	}
	if want := "0 0 " + attrs["width"] + " " + attrs["height"]; attrs["viewBox"] != want {
		t.Errorf("viewBox %q, want %q", attrs["viewBox"], want)
	}
	// Four Verify rows, plus the three legend swatches.
	if bars != 4+3 {
		t.Errorf("%d coloured rects, want 7", bars)
	}
	for _, want := range []string{"floor-hmac-sha256", "auth-payload", "jwt-hs256", "a<b&c", "6,000 ns (20×)", "300.0 ns (1.0×)", "100 ns", "1 µs", "10 µs"} {
		if !slices.Contains(texts, want) {
			t.Errorf("chart has no text %q; texts: %q", want, texts)
		}
	}
}

func TestChartNoRows(t *testing.T) {
	run := parseFile(t, "testdata/sample.txt")
	if _, err := Chart(run, "Nothing", Machine{}); err == nil {
		t.Error("chart of an empty group: no error")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{v: 0, want: "0.000"},
		{v: 7, want: "7.000"},
		{v: 80, want: "80.00"},
		{v: 1.2345, want: "1.234"},
		{v: 83.77, want: "83.77"},
		{v: 339.25, want: "339.2"},
		{v: 1046.4, want: "1,046"},
		{v: 55123456, want: "55,123,456"},
		{v: -1200, want: "-1,200"},
	}
	for _, tt := range tests {
		if got := fmtNum(tt.v); got != tt.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for v, want := range map[float64]string{0: "0", 47: "47", 2704: "2,704", 2704.5: "2,704.5", 0.5: "0.5", -560: "-560"} {
		if got := fmtCount(v); got != want {
			t.Errorf("fmtCount(%v) = %q, want %q", v, got, want)
		}
	}
	ratios := []struct {
		r    float64
		want string
	}{
		{r: 0.5712, want: "0.57×"},
		{r: 1, want: "1.0×"},
		{r: 2.06, want: "2.1×"},
		{r: 77.8, want: "78×"},
	}
	for _, tt := range ratios {
		if got := fmtRatio(tt.r); got != tt.want {
			t.Errorf("fmtRatio(%v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13  64-Core Processor\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13  64-Core Processor\n"
	model, n := cpuModel(strings.NewReader(cpuinfo))
	if model != "AMD EPYC 7B13 64-Core Processor" || n != 2 {
		t.Errorf("cpuModel = %q, %d; want the model with single spaces, 2", model, n)
	}
}

func TestMachineRoundTrip(t *testing.T) {
	m := Machine{CPU: "X: Y", Cores: 4, GoVersion: "go1.26.8 linux/amd64", Kernel: "linux 6.1", Date: "2026-01-02", Command: "go run ./cmd/report -benchtime 200ms", Benchtime: "200ms", Load: "0.50 before, 1.20 after"}
	run, err := Parse(strings.NewReader(m.ConfigLines() + "BenchmarkA 1 1 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := MachineFromConfig(run.Config); got != m {
		t.Errorf("round trip = %+v, want %+v", got, m)
	}
}

func TestRunFromSavedOutput(t *testing.T) {
	dir := t.TempDir()
	md, svg := filepath.Join(dir, "sub", "BENCHMARKS.md"), filepath.Join(dir, "c.svg")
	var stderr bytes.Buffer
	err := run([]string{"-in", "testdata/sample.txt", "-out", filepath.Join(dir, "sub"), "-svg", svg, "-wrk", filepath.Join(dir, "absent.md")}, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	for _, p := range []string{md, svg} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	if err := run([]string{"-count", "0"}, io.Discard); err == nil {
		t.Error("-count 0 accepted")
	}
}

func TestCommandLine(t *testing.T) {
	var stderr bytes.Buffer
	fl, _ := newFlags(&stderr)
	if err := fl.Parse([]string{"-count", "6", "-bench", "Verify$|Issue"}); err != nil {
		t.Fatal(err)
	}
	if got, want := commandLine(fl), "go run ./cmd/report -bench 'Verify$|Issue' -count 6"; got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}
