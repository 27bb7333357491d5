// Command report runs this module's benchmarks and writes BENCHMARKS.md (the
// medians as benchstat computes them, with ratios to the floor, and the
// machine) and chart.svg (the verification medians as a bar chart).
//
// Run it from bench/:
//
//	go run ./cmd/report                              # -count 10, about 10 minutes
//	go run ./cmd/report -count 2 -benchtime 200ms -out /tmp/report   # a quick check
//	go run ./cmd/report -in results.txt              # re-render, no benchmarks
//
// The raw go test output, headed by lines naming the machine, is saved to
// results.txt; benchstat reads it too. If wrk.md exists (bash wrk.sh writes
// it) it becomes the report's throughput section.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const modulePath = "github.com/authkit/auth/bench"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	count                      int
	benchtime, bench           string
	in, out, raw, md, svg, wrk string
}

func newFlags(stderr io.Writer) (*flag.FlagSet, *options) {
	o := &options{}
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.IntVar(&o.count, "count", 10, "samples per benchmark (go test -count)")
	fl.StringVar(&o.benchtime, "benchtime", "", "go test -benchtime of each sample (default go test's, 1s)")
	fl.StringVar(&o.bench, "bench", ".", "go test -bench pattern")
	fl.StringVar(&o.in, "in", "", "render from this saved output instead of running the benchmarks")
	fl.StringVar(&o.out, "out", ".", "directory of the files written (-raw, -md and -svg, unless absolute)")
	fl.StringVar(&o.raw, "raw", "results.txt", "where to save the raw benchmark output")
	fl.StringVar(&o.md, "md", "BENCHMARKS.md", "markdown report to write")
	fl.StringVar(&o.svg, "svg", "chart.svg", "chart to write")
	fl.StringVar(&o.wrk, "wrk", "wrk.md", "markdown of a wrk run to include, if the file exists")
	return fl, o
}

func run(args []string, stderr io.Writer) error {
	fl, o := newFlags(stderr)
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if o.count < 1 {
		return errors.New("-count must be at least 1")
	}
	for _, p := range []*string{&o.raw, &o.md, &o.svg} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(o.out, *p)
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}

	var output []byte
	if o.in != "" {
		b, err := os.ReadFile(o.in)
		if err != nil {
			return err
		}
		output = b
	} else {
		if err := checkModuleDir(); err != nil {
			return err
		}
		m := ThisMachine(".")
		m.Command = commandLine(fl)
		m.Benchtime = o.benchtime
		start := loadAverage()
		out, err := runBenchmarks(o.bench, o.count, o.benchtime, stderr)
		if err != nil {
			return err
		}
		m.Load = start + " before, " + loadAverage() + " after"
		output = append([]byte(m.ConfigLines()+"\n"), out...)
		if err := os.WriteFile(o.raw, output, 0o644); err != nil {
			return err
		}
	}

	parsed, err := Parse(bytes.NewReader(output))
	if err != nil {
		return err
	}
	wrk, err := os.ReadFile(o.wrk)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	md, svg, err := render(parsed, string(wrk))
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.md, md, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(o.svg, svg, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: wrote %s and %s\n", o.md, o.svg)
	return nil
}

// render makes the report and the chart of a parsed run.
func render(run *Run, wrk string) (md, svg []byte, err error) {
	m := MachineFromConfig(run.Config)
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, Report{Run: run, Machine: m, Wrk: wrk}); err != nil {
		return nil, nil, err
	}
	svg, err = Chart(run, "Verify", m)
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), svg, nil
}

// runBenchmarks runs go test in the current directory, echoing its output
// to progress as it comes, and returns the output.
func runBenchmarks(bench string, count int, benchtime string, progress io.Writer) ([]byte, error) {
	args := []string{"test", "-run", "^$", "-bench", bench, "-benchmem", "-count", fmt.Sprint(count)}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	fmt.Fprintf(progress, "report: go %s\n", strings.Join(args, " "))
	var out bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Stdout = io.MultiWriter(&out, progress)
	cmd.Stderr = progress
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test: %w", err)
	}
	return out.Bytes(), nil
}

// checkModuleDir makes sure the program runs in bench/, where go test
// finds the benchmarks.
func checkModuleDir() error {
	b, err := os.ReadFile("go.mod")
	if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
		return nil
	}
	return fmt.Errorf("run me from the directory of module %s (bench/)", modulePath)
}

// commandLine is the command that repeats this run, flags as given.
func commandLine(fl *flag.FlagSet) string {
	parts := []string{"go run ./cmd/report"}
	fl.Visit(func(f *flag.Flag) {
		parts = append(parts, "-"+f.Name, shellQuote(f.Value.String()))
	})
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
